"""Files uploaded with a message, as Discord takes them (Reference: "Uploading Files").

A multipart/form-data body: the JSON in a `payload_json` part, each file in a
`files[n]` part, and `attachments` in the JSON listing `{"id": n, "filename": …}` for
the files. An embed shows an uploaded image through `attachment://<filename>`; Discord
shows nothing where no such file came with the message, so the fake counts that as the
bot's mistake (400 here, with a violation). At most 10 files, each within the
interaction's `attachment_size_limit` (10 MiB in the fake).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from typing import Any

from .limits import FormError

FILES_MAX = 10
FILE_SIZE_MAX = 10 * 1024 * 1024
_FILE_PART = re.compile(r"^files\[([0-9]+)\]$")
_ATTACHMENT_URL = re.compile(r"^attachment://(.+)$")


class BadUpload(Exception):
    """A multipart body Discord refuses: `code` and `message` as Discord answers."""

    def __init__(self, code: int, message: str, errors: list[FormError] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors or []


class Uploaded(dict[str, Any]):
    """A message body that came with files: the JSON, plus `files` by index."""

    files: dict[int, tuple[str, bytes]]


def read_multipart(content_type: str, raw: bytes) -> Uploaded:
    """The `payload_json` body and the `files[n]` parts of a multipart request."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not parsed.is_multipart():
        raise BadUpload(50035, "Invalid Form Body")
    body: Uploaded | None = None
    files: dict[int, tuple[str, bytes]] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        if name == "payload_json":
            try:
                body = Uploaded(json.loads(data))
            except ValueError as exc:
                raise BadUpload(50109, "The request body contains invalid JSON.") from exc
        elif isinstance(name, str) and _FILE_PART.match(name):
            index = int(_FILE_PART.match(name).group(1))  # type: ignore[union-attr]
            files[index] = (str(part.get_filename() or name), data)
    if body is None:
        missing = FormError(("payload_json",), "BASE_TYPE_REQUIRED", "This field is required")
        raise BadUpload(50035, "Invalid Form Body", [missing])
    problems = _check(body, files)
    if problems:
        raise BadUpload(50035, "Invalid Form Body", problems)
    body.files = files
    return body


def _check(body: dict[str, Any], files: dict[int, tuple[str, bytes]]) -> list[FormError]:
    errors: list[FormError] = []
    if len(files) > FILES_MAX:
        errors.append(FormError(("files",), "BASE_TYPE_MAX_LENGTH", "at most 10 files"))
    for index, (_, data) in files.items():
        if len(data) > FILE_SIZE_MAX:
            errors.append(FormError((f"files[{index}]",), "FILE_TOO_LARGE", "Request too large"))
    for k, listed in enumerate(body.get("attachments") or []):
        if int(listed.get("id", -1)) not in files:
            errors.append(
                FormError(("attachments", k, "id"), "ATTACHMENT_NOT_FOUND", "no such file")
            )
    names = {name for name, _ in files.values()}
    for k, embed in enumerate(body.get("embeds") or []):
        for key in ("image", "thumbnail"):
            url = str((embed.get(key) or {}).get("url") or "")
            found = _ATTACHMENT_URL.match(url)
            if found and found.group(1) not in names:
                errors.append(
                    FormError(
                        ("embeds", k, key, "url"),
                        "ATTACHMENT_NOT_FOUND",
                        f"{url} names no file uploaded with the message",
                    )
                )
    return errors


def attached(body: Any, before: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The attachments a created or edited message has: the uploaded files; on an
    edit without files, those `attachments` keeps (absent: all of them stay)."""
    files = getattr(body, "files", None)
    if files:
        return [
            {"id": str(i), "filename": name, "size": len(data), "data": data}
            for i, (name, data) in sorted(files.items())
        ]
    if before is None:
        return []
    keep = body.get("attachments") if isinstance(body, dict) else None
    if keep is None:
        return before
    kept = {str(a.get("id")) for a in keep}
    return [a for a in before if a["id"] in kept]


def dangling(body: Any) -> list[FormError]:
    """Embeds of a JSON body (no files) that point at files it did not upload."""
    if getattr(body, "files", None) or not isinstance(body, dict):
        return []
    return [p for p in _check(body, {}) if p.path[0] == "embeds"]
