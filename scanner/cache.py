"""Parse results cached by content hash, so an unchanged file is never parsed twice.

The key is the file's bytes plus everything that could change the parse: the kind of parse, the
tool version, the parser versions (python-hcl2, PyYAML and whether libyaml is used) and a hash of
the scanner's own source files. Entries
are named by the key's hex digest only, so no scanned path can steer a write outside the cache
directory. Writes go to a temporary file renamed into place (safe under concurrent runs).

An entry is trusted only when it carries a keyed digest (HMAC-SHA256 over its own key and payload)
made with this cache's random secret, stored beside the entries in ``key``, and when its value has
the shape the reader expects. So an entry copied from another cache or another key, a corrupt or
truncated one, or one of the wrong shape is a miss and is rebuilt, never a result or a crash;
entries are unpickled with an allow-list of classes, so a tampered entry cannot run code. The cache
is trusted as far as its directory is: whoever can write there can read the secret too.

The directory is bounded: a hit marks its entry used (its mtime), and ``prune`` (run at the end of
every scan) removes the least recently used entries once the entries' total passes the size cap
($RESIDENCY_CACHE_MAX_SIZE, default 256 MB), down to 80 % of it, so a pruned cache is not pruned
again on the next scan. Every entry, whoever wrote it, lives at ``_path(key)`` and obeys the cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.errors import ResidencyError
from scanner.limits import parse_size

_MAGIC = b"RGC2"
_DIGEST = 32  # HMAC-SHA256
_SECRET_NAME = "key"
_SECRET_BYTES = 32
_SUFFIX = ".pickle"
_TMP_PREFIX = ".tmp-"
#: Default cap on the entries' total size; about 150 edit-and-scan rounds of a 2,000-file tree.
DEFAULT_MAX_BYTES = 256 << 20
#: A prune that has to run frees down to this share of the cap.
_PRUNE_TO = 0.8
#: Temporary files older than this are left over from a killed run (a write takes milliseconds).
_STALE_TMP_SECONDS = 3600
_ALLOWED_MODULE_PREFIXES = ("scanner.",)
_ALLOWED_BUILTINS = {
    ("builtins", name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "bytes", "NoneType",
                 "complex", "slice")
}


def default_cache_dir() -> Path:
    """$RESIDENCY_CACHE_DIR, else $XDG_CACHE_HOME/residency-guardrail, else ~/.cache/residency-guardrail."""
    explicit = os.environ.get("RESIDENCY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "residency-guardrail"


def max_cache_bytes() -> int:
    """$RESIDENCY_CACHE_MAX_SIZE (``500MB``, ``1G``, bytes), else DEFAULT_MAX_BYTES.

    A malformed value is a usage error (ResidencyError, exit 2), not a silently unbounded cache.
    """
    text = os.environ.get("RESIDENCY_CACHE_MAX_SIZE")
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ResidencyError(f"RESIDENCY_CACHE_MAX_SIZE: {exc}") from None


@cache
def parser_fingerprint() -> str:
    """Versions that change what a parse returns; part of every key."""
    parts = [__version__]
    for dist in ("python-hcl2", "lark", "PyYAML"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=none")
    try:
        import yaml

        parts.append(f"libyaml={getattr(yaml, '__with_libyaml__', False)}")
    except ImportError:  # pragma: no cover - pyyaml is a dependency
        parts.append("libyaml=none")
    parts.append(f"code={_code_fingerprint()}")
    return ";".join(parts)


def _code_fingerprint() -> str:
    """Hash of the scanner's own sources: an edited parser or loader never reuses what the old one made."""
    h = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
    return h.hexdigest()


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_BUILTINS or module.startswith(_ALLOWED_MODULE_PREFIXES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"class {module}.{name} is not allowed in the parse cache")


class ParseCache:
    """A directory of pickled parse results; ``None`` directory means caching is off."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._secret_key: bytes | None = None  # b"" once known to be unavailable

    def key(self, kind: str, data: bytes) -> str:
        h = hashlib.sha256()
        h.update(kind.encode())
        h.update(b"\0")
        h.update(parser_fingerprint().encode())
        h.update(b"\0")
        h.update(data)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}{_SUFFIX}"

    def _secret(self) -> bytes | None:
        """This cache's HMAC key, created on first use; None when it can be neither read nor made."""
        if self._secret_key is None:
            assert self.directory is not None
            self._secret_key = _load_or_create_secret(self.directory) or b""
        return self._secret_key or None

    def _mac(self, secret: bytes, key: str, payload: bytes) -> bytes:
        return hmac.new(secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()

    def get(self, key: str, valid: Callable[[Any], bool] | None = None) -> Any | None:
        """The cached value, or None when absent, unreadable, corrupt, not ours or not ``valid``.

        ``valid`` checks the value's shape (a ParsedFile where a ParsedFile is expected): an entry
        that fails it, or makes it raise, is a miss like any other bad entry.
        """
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + _DIGEST:
            return None
        secret = self._secret()
        if secret is None:
            return None
        digest, payload = raw[len(_MAGIC):len(_MAGIC) + _DIGEST], raw[len(_MAGIC) + _DIGEST:]
        if not hmac.compare_digest(self._mac(secret, key, payload), digest):
            return None  # truncated, tampered, copied from another key or another cache: rebuild
        try:
            value = _SafeUnpickler(io.BytesIO(payload)).load()
        except Exception:  # any corrupt entry is a miss, never an error
            return None
        if valid is not None:
            try:
                if not valid(value):
                    return None
            except Exception:
                return None
        with contextlib.suppress(OSError):  # recency for the LRU prune; a read-only cache only loses that
            os.utime(path)
        return value

    def put(self, key: str, value: Any) -> None:
        """Store atomically; a cache that cannot be written only costs speed."""
        if self.directory is None:
            return
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return
        self.put_payload(key, payload)

    def put_payload(self, key: str, payload: bytes) -> bool:
        """Store an already pickled value (a worker pickles once, for the cache and for the trip back).

        True when the entry was written."""
        if self.directory is None:
            return False
        secret = self._secret()
        if secret is None:
            return False
        try:
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_TMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_MAGIC + self._mac(secret, key, payload) + payload)
                os.replace(tmp, target)
                global _WRITES
                _WRITES += 1
                return True
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return False

    def get_or_compute(self, kind: str, data: bytes, compute: Callable[[bytes], Any],
                       valid: Callable[[Any], bool] | None = None) -> Any:
        key = self.key(kind, data)
        value = self.get(key, valid)
        if value is not None:
            self.hits += 1
            return value
        self.misses += 1
        value = compute(data)
        self.put(key, value)
        return value


@dataclass(frozen=True)
class CacheInfo:
    """What ``residency cache info`` shows: the directory, its entries and the cap."""

    directory: Path
    entries: int
    bytes: int
    max_bytes: int
    oldest: float | None  # mtime (last use) of the least recently used entry
    newest: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "entries": self.entries, "bytes": self.bytes,
                "max_bytes": self.max_bytes, "oldest_use": self.oldest, "newest_use": self.newest}


def _entries(directory: Path) -> Iterator[tuple[Path, float, int]]:
    """(path, last use, size) of every entry; files that vanish meanwhile (another run pruned) are skipped."""
    try:
        shards = list(os.scandir(directory))
    except OSError:
        return
    for shard in shards:
        if len(shard.name) != 2 or not shard.is_dir(follow_symlinks=False):
            continue
        try:
            names = list(os.scandir(shard.path))
        except OSError:
            continue
        for entry in names:
            if not entry.name.endswith(_SUFFIX) and not entry.name.startswith(_TMP_PREFIX):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield Path(entry.path), st.st_mtime, st.st_size


def cache_info(directory: Path, max_bytes: int | None = None) -> CacheInfo:
    """Entries and bytes in ``directory`` (no secret, no temporary files); an absent directory is empty."""
    used = [(mtime, size) for path, mtime, size in _entries(directory) if path.name.endswith(_SUFFIX)]
    times = [m for m, _s in used]
    return CacheInfo(directory, len(used), sum(s for _m, s in used),
                     max_cache_bytes() if max_bytes is None else max_bytes,
                     min(times) if times else None, max(times) if times else None)


_WRITES = 0  # entries this process stored


def wrote_entries() -> bool:
    """Whether this process stored any entry: a scan that only read (a warm one) cannot have grown the
    cache past its cap, so it skips :func:`prune`'s walk of every entry (0.3 s on 4,000 entries)."""
    return _WRITES > 0


def prune(directory: Path | None, max_bytes: int | None = None, now: float | None = None) -> int:
    """Evict least recently used entries while their total is over ``max_bytes``; returns bytes freed.

    Below the cap nothing is removed; above it, entries go oldest use first until 80 % of the cap.
    Leftover temporary files of killed runs (older than an hour) go too. Never raises: a cache that
    cannot be pruned only costs disk. Concurrent prunes and scans are safe: an entry removed under a
    reader is a miss.
    """
    if directory is None:
        return 0
    limit = max_cache_bytes() if max_bytes is None else max_bytes
    now = time.time() if now is None else now
    freed = 0
    entries: list[tuple[float, int, Path]] = []
    for path, mtime, size in _entries(directory):
        if path.name.startswith(_TMP_PREFIX):
            if now - mtime > _STALE_TMP_SECONDS and _unlink(path):
                freed += size
        else:
            entries.append((mtime, size, path))
    total = sum(size for _m, size, _p in entries)
    if total <= limit:
        return freed
    target = int(limit * _PRUNE_TO)
    for _mtime, size, path in sorted(entries, key=lambda e: (e[0], e[2].name)):
        if total <= target:
            break
        if _unlink(path):
            freed += size
        total -= size
    return freed


def clear(directory: Path) -> tuple[int, int]:
    """Remove every entry, leftover temporary file and the secret (a fresh one is made on next use):
    (entries removed, bytes freed). Files of other programs in the directory are left alone."""
    removed = freed = 0
    for path, _mtime, size in _entries(directory):
        if _unlink(path):
            removed += path.name.endswith(_SUFFIX)
            freed += size
    with contextlib.suppress(OSError):
        (directory / _SECRET_NAME).unlink()
    with contextlib.suppress(OSError):
        for shard in os.scandir(directory):
            if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.rmdir(shard.path)  # only when empty: others' files stay
    return removed, freed


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except OSError:
        return False
    return True


def _load_or_create_secret(directory: Path) -> bytes | None:
    """The secret in ``directory/key``; made (random, mode 0600, atomically) when absent or malformed.

    Two runs starting together both try to create it; ``os.link`` lets exactly one win and the other
    reads the winner's. A read-only cache without a secret is simply not used.
    """
    path = directory / _SECRET_NAME
    try:
        secret = path.read_bytes()
        if len(secret) == _SECRET_BYTES:
            return secret
        malformed = True
    except FileNotFoundError:
        malformed = False
    except OSError:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-key-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(_SECRET_BYTES))
            if malformed:
                os.replace(tmp, path)
            else:
                with contextlib.suppress(FileExistsError):  # another run made it first: use theirs
                    os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        secret = path.read_bytes()
    except OSError:
        return None
    return secret if len(secret) == _SECRET_BYTES else None


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """Content hash of a file read in chunks (bounded memory whatever its size); OSError propagates."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def usable_cpus() -> int:
    """CPUs this process may really use: affinity and the cgroup v2/v1 quota, not the host's count."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        count = max(1, min(count, quota))
    return max(1, count)


def _cgroup_quota() -> int | None:
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            return max(1, int(int(text[0]) / int(text[1]) + 0.999))
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if quota > 0 and period > 0:
            return max(1, int(quota / period + 0.999))
    except (OSError, ValueError):
        pass
    return None
