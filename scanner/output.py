"""Writing reports and generated files: whole or not at all, and a one-line error when it cannot be done.

A report a CI job reads must never be half written: an empty or truncated SARIF or JSON file reads
as "no findings" to whatever consumes it. So the text goes to a temporary file beside the target,
is flushed to disk, and is renamed over the target; if anything fails (missing directory, no
permission, disk full) the temporary file is removed, the target is left as it was, and the user
gets a :class:`ResidencyError` (exit 2) naming the file and the reason.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from scanner.errors import ResidencyError


def write_atomic(path: Path | str, text: str, what: str = "output") -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; ResidencyError when it cannot be written."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
    except OSError:
        mode = 0o644
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise ResidencyError(f"cannot write {what} {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp's 0600 would hide a report from the rest of the job
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ResidencyError(f"cannot write {what} {path}: {_reason(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such directory (create it first)"
    return exc.strerror or str(exc)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
