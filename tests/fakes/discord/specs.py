"""Discord's official OpenAPI spec (vendored in tests/specs/discord/), as request checks.

Every HTTP request the bot sends is matched to the spec's operation (verb + path
template) and its JSON body and query string are validated against the operation's
schemas with jsonschema (draft 2020-12, as OpenAPI 3.1 uses). What the spec cannot say
is added here, each with its reason:

- The spec's schemas never forbid unknown fields; Discord ignores them, so a misspelt
  field (`ephermeral`) silently does nothing. An unknown top-level body field is a
  problem here.
- Snowflakes are strings in the spec, but Discord accepts them as JSON integers too (and
  discord.py sends `recipient_id` and friends as ints): both are accepted.
- Query values arrive as strings; integers and booleans are read the way Discord reads
  them ("1"/"true", "0"/"false") before validation.

Where the spec disagrees with Discord's documentation (content 4000 vs 2000; modal
components), the documentation wins: those limits live in `limits.py`.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_PATH = Path(__file__).resolve().parents[2] / "specs" / "discord" / "openapi.json"
API_PREFIX = "/api/v10"

_TRUE = frozenset({"true", "1", "True"})
_FALSE = frozenset({"false", "0", "False"})


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: `verb` + `template` (e.g. /channels/{channel_id}/messages)."""

    verb: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    body_schema: Mapping[str, Any] | None
    query: Mapping[str, Mapping[str, Any]]  # name -> schema
    takes_files: bool = False  # the spec accepts multipart/form-data (uploads)

    def path_params(self, path: str) -> dict[str, str]:
        match = self.pattern.fullmatch(path)
        return dict(match.groupdict()) if match else {}


@functools.cache
def spec() -> dict[str, Any]:
    """The vendored spec, with snowflakes also accepted as integers (see the docstring)."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    schemas = document["components"]["schemas"]
    snowflake = copy.deepcopy(schemas["SnowflakeType"])
    schemas["SnowflakeType"] = {
        "anyOf": [snowflake, {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}]
    }
    return document


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation; literal templates first, so `/users/@me` wins over `/users/{id}`."""
    found: list[Operation] = []
    for template, item in spec()["paths"].items():
        shared = item.get("parameters", [])
        for verb, op in item.items():
            if verb == "parameters":
                continue
            params = [*shared, *op.get("parameters", [])]
            query = {p["name"]: p.get("schema", {}) for p in params if p.get("in") == "query"}
            content = (op.get("requestBody") or {}).get("content") or {}
            body = (content.get("application/json") or {}).get("schema")
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            found.append(
                Operation(
                    verb.upper(),
                    template,
                    op.get("operationId", ""),
                    re.compile(regex),
                    body,
                    query,
                    "multipart/form-data" in content,
                )
            )
    found.sort(key=lambda o: o.template.count("{"))
    return tuple(found)


def find_operation(verb: str, path: str) -> Operation | None:
    """The operation for `verb path` (path without the /api/v10 prefix), if the spec has it."""
    for op in operations():
        if op.verb == verb and op.pattern.fullmatch(path):
            return op
    return None


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    schema = {"components": spec()["components"], **json.loads(schema_json)}
    return Draft202012Validator(schema)


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = spec()["components"]["schemas"][name]
    return schema


def _known_fields(schema: Mapping[str, Any]) -> set[str] | None:
    """Top-level field names the body schema declares (None: it declares no object shape)."""
    schema = _resolve(schema)
    names: set[str] = set()
    alternatives = [*schema.get("anyOf", []), *schema.get("oneOf", [])]
    if alternatives:
        for alternative in alternatives:
            known = _known_fields(alternative)
            if known is None:
                return None
            names |= known
        return names
    if "properties" not in schema:
        return None
    return set(schema["properties"])


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path) or "body"


def check_body(op: Operation, body: Any) -> list[str]:
    """Problems with a JSON body: schema errors (best match first) and unknown fields."""
    if op.body_schema is None:
        return [] if body is None else [f"{op.verb} {op.template} takes no body"]
    if body is None:
        return [f"{op.verb} {op.template} needs a JSON body"]
    problems: list[str] = []
    validator = _validator(json.dumps(op.body_schema, sort_keys=True))
    errors = sorted(validator.iter_errors(body), key=lambda e: len(list(e.absolute_path)))
    for error in errors[:5]:
        problems.append(f"{_where(error.absolute_path)}: {error.message[:300]}")
    known = _known_fields(op.body_schema)
    if known is not None and isinstance(body, Mapping):
        for name in sorted(set(body) - known):
            problems.append(f"unknown field {name!r} for {op.operation_id}")
    return problems


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kinds = _resolve(schema).get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "boolean" in kinds:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    if "integer" in kinds and value.lstrip("-").isdigit():
        return int(value)
    return value


def check_query(op: Operation, query: Mapping[str, str]) -> list[str]:
    """Problems with the query string: undeclared parameters and badly typed values."""
    problems: list[str] = []
    for name, raw in query.items():
        schema = op.query.get(name)
        if schema is None:
            problems.append(f"query parameter {name!r} is not declared for {op.operation_id}")
            continue
        value = _coerce(raw, schema)
        validator = _validator(json.dumps(schema, sort_keys=True))
        for error in validator.iter_errors(value):
            problems.append(f"query {name}={raw!r}: {error.message[:200]}")
    return problems
