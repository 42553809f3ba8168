"""Files named on the command line: checked before anything else happens, and
written so that a failure leaves nothing behind.

An output path (`--out`, `--chart`) must be a regular file or not exist yet, in
a folder that exists. A directory, a device such as /dev/full, a pipe or a
socket is refused: writing hdops' usual way (a temporary file renamed over the
target) would silently *replace* the device node or pipe with a regular file.
An input path (a spec, an items file) must be a regular file: reading /dev/zero
or a pipe nobody writes to would never end.

Each refusal is an `InvalidInput` with one line naming the path, checked before
the database is opened, so a bad path changes nothing in the store.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hdops.errors import InvalidInput


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output_file(path: Path, option: str = "--out") -> Path:
    """`path` may be written: a regular file or nothing yet, in an existing folder."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # e.g. a path through a regular file: /etc/passwd/x
        raise InvalidInput(f"cannot write {option} {path}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise InvalidInput(f"{option} {path} is {_kind(mode)}; give the name of a file to write")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise InvalidInput(f"cannot write {option} {path}: the folder {parent} does not exist")
    return path


def check_input_file(path: Path, what: str = "file") -> Path:
    """`path` exists and is a regular file that can be read to its end."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InvalidInput(f"{what} not found: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise InvalidInput(f"cannot read {what} {path}: it is {_kind(mode)}, not a regular file")
    return path


@contextmanager
def replacing(path: Path, option: str = "--out") -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds it replaces
    `path` in one step, otherwise it is removed. `path` is checked first (see
    `check_output_file`), and any OSError becomes one line naming `path`."""
    check_output_file(path, option)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield partial
        check_output_file(path, option)  # it may have become something else meanwhile
        os.replace(partial, path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, option: str = "--out") -> Path:
    """Write `data` to `path` through `replacing`."""
    with replacing(path, option) as partial:
        partial.write_bytes(data)
    return path
