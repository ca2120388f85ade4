"""Parse files once: through the content-hash cache, and across processes when many are cold.

The loaders take an injectable ``parse(path)``; this module builds that callable. Results come
back in a stable order whatever the worker count, and a file that fails to parse caches its
``ParseError`` too, so a broken file is not re-parsed on every run either.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.cache import ParseCache


@dataclass(frozen=True)
class Failed:
    """A parse failure in a picklable shape (exceptions with custom constructors do not round-trip)."""

    file: str
    line: int
    message: str

    def error(self) -> Exception:
        from scanner.loaders.hcl_parse import ParseError

        return ParseError(self.file, self.line, self.message)

# Below this much cold work a pool costs more (fork, pickling results back) than it saves.
_MIN_POOL_BYTES = 256 * 1024
_MIN_POOL_FILES = 8


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _decode(data: bytes) -> str:
    from scanner.loaders.hcl_parse import ParseError

    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError("", 1, f"invalid UTF-16: {exc.reason}") from None
    if b"\x00" in data[:8192]:
        raise ParseError("", 1, "binary file (NUL bytes), not Terraform source")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError("", line, f"invalid UTF-8 at byte {exc.start}") from None


def parse_terraform_bytes(data: bytes, name: str) -> Any:
    """Parse one Terraform file's bytes; returns a ParsedFile or the ParseError (cacheable either way)."""
    from scanner.loaders.hcl_parse import ParseError, parse_file

    try:
        return parse_file(_decode(data), name)
    except ParseError as exc:
        return Failed(exc.file or name, exc.line, exc.message)
    except RecursionError:
        return Failed(name, 1, "nesting too deep to parse")


def _worker(args: tuple[str, str, str | None]) -> tuple[str, Any]:
    path, name, cache_dir = args
    cache = ParseCache(Path(cache_dir) if cache_dir else None)
    try:
        data = Path(path).read_bytes()
    except OSError:
        return path, None
    key = cache.key("hcl:" + name, data)
    result = parse_terraform_bytes(data, name)
    cache.put(key, result)
    return path, result


class TerraformParser:
    """The ``parse(path)`` callable handed to the Terraform loader."""

    def __init__(self, scan_root: Path, cache: ParseCache, jobs: int = 1) -> None:
        self.scan_root = scan_root
        self.cache = cache
        self.jobs = max(1, jobs)
        self.results: dict[Path, Any] = {}

    def _name(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.scan_root).replace(os.sep, "/")
        except ValueError:
            return path.as_posix()

    def warm(self, paths: Iterable[Path]) -> None:
        """Parse every cold file up front, in worker processes when it pays off."""
        cold: list[tuple[Path, str]] = []
        cold_bytes = 0
        for path in paths:
            if path in self.results:
                continue
            name = self._name(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # the loader reports unreadable files when it reaches them
            cached = self.cache.get(self.cache.key("hcl:" + name, data))
            if cached is not None:
                self.cache.hits += 1
                self.results[path] = cached
            else:
                cold.append((path, name))
                cold_bytes += len(data)
        if not cold:
            return
        self.cache.misses += len(cold)
        if self.jobs > 1 and len(cold) >= _MIN_POOL_FILES and cold_bytes >= _MIN_POOL_BYTES:
            cache_dir = str(self.cache.directory) if self.cache.directory else None
            jobs = [(str(p), n, cache_dir) for p, n in cold]
            chunk = max(1, len(jobs) // (self.jobs * 4))
            with ProcessPoolExecutor(max_workers=self.jobs) as pool:
                for path, result in pool.map(_worker, jobs, chunksize=chunk):
                    if result is not None:
                        self.results[Path(path)] = result
            return
        for path, name in cold:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            result = parse_terraform_bytes(data, name)
            self.cache.put(self.cache.key("hcl:" + name, data), result)
            self.results[path] = result

    def __call__(self, path: Path) -> Any:
        """ParsedFile for ``path``; raises the stored ParseError or the OSError, as a direct parse would."""
        result = self.results.get(path)
        if result is None:
            self.warm([path])
            result = self.results.get(path)
            if result is None:
                path.read_bytes()  # raises the OSError the loader reports
        if isinstance(result, Failed):
            raise result.error()
        return result


def terraform_parser(scan_root: Path, cache: ParseCache, jobs: int) -> Callable[[Path], Any]:
    return TerraformParser(scan_root, cache, jobs)


def _yaml_worker(args: tuple[str, bytes, str, str | None]) -> Any:
    from scanner.loaders.kubernetes import parse_yaml_file

    rel_path, data, key, cache_dir = args
    result = parse_yaml_file(rel_path, data)
    ParseCache(Path(cache_dir) if cache_dir else None).put(key, result)
    return result


class YamlParser:
    """The batch ``parse(files)`` handed to the Kubernetes loader: cached by content, cold files in workers.

    Outcomes come back in the order of ``files`` whatever the worker count. The key holds the file's
    name as well as its bytes, because a parse problem names the file.
    """

    def __init__(self, cache: ParseCache, jobs: int = 1) -> None:
        self.cache = cache
        self.jobs = max(1, jobs)

    def __call__(self, files: list[tuple[str, bytes]]) -> list[Any]:
        from scanner.loaders.kubernetes import parse_yaml_file

        results: list[Any] = [None] * len(files)
        cold: list[tuple[int, str, bytes, str]] = []
        for i, (rel_path, data) in enumerate(files):
            key = self.cache.key("yaml:" + rel_path, data)
            cached = self.cache.get(key)
            if cached is not None:
                self.cache.hits += 1
                results[i] = cached
            else:
                cold.append((i, rel_path, data, key))
        self.cache.misses += len(cold)
        cold_bytes = sum(len(c[2]) for c in cold)
        if self.jobs > 1 and len(cold) >= _MIN_POOL_FILES and cold_bytes >= _MIN_POOL_BYTES:
            cache_dir = str(self.cache.directory) if self.cache.directory else None
            jobs = [(rel_path, data, key, cache_dir) for _, rel_path, data, key in cold]
            chunk = max(1, len(jobs) // (self.jobs * 4))
            with ProcessPoolExecutor(max_workers=self.jobs) as pool:
                for (i, *_), result in zip(cold, pool.map(_yaml_worker, jobs, chunksize=chunk), strict=True):
                    results[i] = result
            return results
        for i, rel_path, data, key in cold:
            results[i] = parse_yaml_file(rel_path, data)
            self.cache.put(key, results[i])
        return results
