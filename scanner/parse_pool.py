"""Parse files once: through the content-hash cache, and across processes when many are cold.

The loaders take an injectable ``parse(path)``; this module builds that callable. Results come
back in a stable order whatever the worker count, and a file that fails to parse caches its
``ParseError`` too, so a broken file is not re-parsed on every run either.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.cache import ParseCache
from scanner.model import Problem
from scanner.roots import rel_name


@dataclass(frozen=True)
class Failed:
    """A parse failure in a picklable shape (exceptions with custom constructors do not round-trip)."""

    file: str
    line: int
    message: str

    def error(self) -> Exception:
        from scanner.loaders.hcl_parse import ParseError  # lazy: start-up (hcl2, lark)

        return ParseError(self.file, self.line, self.message)

def parsed_shape(value: Any) -> bool:
    """Whether a cache entry has the shape of a Terraform parse (a ParsedFile or a Failed)."""
    from scanner.loaders.hcl_parse import Attr, Block, ParsedFile  # lazy: start-up (hcl2, lark)

    if isinstance(value, Failed):
        return isinstance(value.file, str) and isinstance(value.line, int) and isinstance(value.message, str)
    return (isinstance(value, ParsedFile) and isinstance(value.filename, str) and isinstance(value.blocks, list)
            and isinstance(value.attrs, dict) and isinstance(value.comments, list)
            and all(isinstance(b, Block) for b in value.blocks)
            and all(isinstance(a, Attr) for a in value.attrs.values()))


def yaml_shape(value: Any) -> bool:
    """Whether a cache entry has the shape :func:`parse_yaml_file` returns."""
    if not isinstance(value, tuple) or not value:
        return False
    tag = value[0]
    if tag == "ok":
        return len(value) == 4 and isinstance(value[1], list) and isinstance(value[2], bool)
    if tag == "error":
        return len(value) == 3 and isinstance(value[1], Problem) and isinstance(value[2], bool)
    return tag == "undecodable" and len(value) == 2 and isinstance(value[1], Problem)


# Below this much cold work a pool costs more (fork, pickling results back) than it saves.
_MIN_POOL_BYTES = 256 * 1024
_MIN_POOL_FILES = 8
# Cold files go to the workers in small chunks (few files, few bytes each): the main process can use
# the first results (evaluate Terraform) while the workers parse the rest.
_CHUNK_FILES = 8
_CHUNK_BYTES = 48 * 1024


class ParsePool:
    """One pool of worker processes for every cold parse of a scan, Terraform and YAML alike.

    Forked on the first submit (so a scan with a warm cache never starts it) and shut down with
    :meth:`close` as soon as the scan has every parse back, before the rest of the scan runs:
    idle workers would only hold memory. Work is taken first in, first out, so Terraform files
    submitted before the YAML files are parsed first, and YAML parsing overlaps the evaluation
    of Terraform in the main process.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.jobs, initializer=die_with_parent,
                                                 initargs=(os.getpid(),))
        return self._executor.submit(fn, *args)

    @property
    def started(self) -> bool:
        """Whether the workers are forked already (then a small batch no longer pays the fork)."""
        return self._executor is not None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the scan that forked it dies (SIGKILL included).

    Linux delivers SIGTERM to the worker when its parent exits (``PR_SET_PDEATHSIG``); the parent
    may have died between the fork and this call, so the parent's pid is checked once after it.
    Elsewhere nothing is set: the executor's own pipes end idle workers when the parent goes.
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)


def _chunks(items: list, size_of: Callable[[Any], int]) -> Iterator[list]:
    chunk: list = []
    size = 0
    for item in items:
        chunk.append(item)
        size += size_of(item)
        if len(chunk) >= _CHUNK_FILES or size >= _CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes) -> str:
    from scanner.loaders.hcl_parse import ParseError  # lazy: start-up (hcl2, lark)

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
    from scanner.loaders.hcl_parse import ParseError, parse_file  # lazy: start-up (hcl2, lark)

    try:
        return parse_file(_decode(data), name)
    except ParseError as exc:
        return Failed(exc.file or name, exc.line, exc.message)
    except RecursionError:
        return Failed(name, 1, "nesting too deep to parse")


def _terraform_chunk(items: list[tuple[str, str]], cache_dir: str | None) -> list[bytes | None]:
    """Worker: parse a few Terraform files, store each in the cache, send back the pickled results.

    The result is pickled once, for the cache entry and for the trip back (the executor then only
    copies bytes); None for a file that cannot be read (the main process reports it).
    """
    cache = ParseCache(Path(cache_dir) if cache_dir else None)
    out: list[bytes | None] = []
    for path, name in items:
        try:
            data = Path(path).read_bytes()
        except OSError:
            out.append(None)
            continue
        try:
            payload = _dumps(parse_terraform_bytes(data, name))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            out.append(b"")  # cannot travel back: the main process parses this one itself
            continue
        cache.put_payload(cache.key("hcl:" + name, data), payload)
        out.append(payload)
    return out


class _Pending:
    """A result still in a worker: chunk future and index in it."""

    __slots__ = ("future", "index")

    def __init__(self, future: Future, index: int) -> None:
        self.future = future
        self.index = index

    def get(self) -> Any:
        """The result; None for an unreadable file, ``_LOCAL`` for one to parse in this process."""
        payload = self.future.result()[self.index]
        if payload is None:
            return None
        if payload == _IN_CACHE:
            return _CACHED
        return pickle.loads(payload) if payload else _LOCAL  # our own worker's bytes, not the disk's


_LOCAL = object()
_CACHED = object()  # the worker stored the outcome in the cache: read it from there


class TerraformParser:
    """The ``parse(path)`` callable handed to the Terraform loader.

    With a shared :class:`ParsePool`, :meth:`warm` only submits the cold files and returns: each
    result is waited for when the loader first asks for it. Without one (``jobs`` > 1), warm
    parses in its own pool and waits for all of it.
    """

    def __init__(self, scan_root: Path, cache: ParseCache, jobs: int = 1, pool: ParsePool | None = None) -> None:
        self.scan_root = scan_root
        self.cache = cache
        self.jobs = pool.jobs if pool is not None else max(1, jobs)
        self.pool = pool
        self.results: dict[Path, Any] = {}
        self._no_module: set[Path] = set()  # pending files whose bytes never spell "module"

    def _name(self, path: Path) -> str:
        # The loader's own naming: a cached ParsedFile carries this name, so the two must agree.
        return rel_name(path, self.scan_root)

    def warm(self, paths: Iterable[Path], callers_only: bool = False) -> None:
        """Parse every cold file up front, in worker processes when it pays off.

        ``callers_only``: only the files whose bytes can hold a module call (what finding roots needs)."""
        cold: list[tuple[Path, str, int]] = []
        cold_bytes = 0
        calls: set[Path] = set()
        for path in paths:
            if path in self.results:
                continue
            name = self._name(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # the loader reports unreadable files when it reaches them
            if callers_only and not _may_call_modules(data):
                continue
            cached = self.cache.get(self.cache.key("hcl:" + name, data), parsed_shape)
            if cached is not None:
                self.cache.hits += 1
                self.results[path] = cached
            else:
                cold.append((path, name, len(data)))
                cold_bytes += len(data)
                if _may_call_modules(data):
                    calls.add(path)
        if not cold:
            return
        self.cache.misses += len(cold)
        # A shared pool already forked (finding roots used it) takes a window of small files too: this
        # process evaluates the roots before them meanwhile, instead of parsing while the workers idle.
        forked = self.pool is not None and self.pool.started
        if self.jobs > 1 and len(cold) >= _MIN_POOL_FILES and (cold_bytes >= _MIN_POOL_BYTES or forked):
            # Files that can hold a module call first: finding roots and callers needs them all
            # before anything is evaluated; the rest in the loader's order.
            cold.sort(key=lambda c: c[0] not in calls)
            cache_dir = str(self.cache.directory) if self.cache.directory else None
            own = self.pool is None
            pool = ParsePool(self.jobs) if own else self.pool
            assert pool is not None
            try:
                for chunk in _chunks(cold, lambda c: c[2]):
                    future = pool.submit(_terraform_chunk, [(str(p), n) for p, n, _ in chunk], cache_dir)
                    for i, (p, _, _) in enumerate(chunk):
                        self.results[p] = _Pending(future, i)
                        if p not in calls:
                            self._no_module.add(p)
                if own:
                    for p, _, _ in cold:
                        self._resolve(p)
            finally:
                if own:
                    pool.close()
            return
        for path, name, _ in cold:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            result = parse_terraform_bytes(data, name)
            self.cache.put(self.cache.key("hcl:" + name, data), result)
            self.results[path] = result

    def _resolve(self, path: Path) -> Any:
        result = self.results.get(path)
        if isinstance(result, _Pending):
            result = result.get()
            if result is _LOCAL:
                try:
                    result = parse_terraform_bytes(path.read_bytes(), self._name(path))
                except OSError:
                    result = None
            if result is None:
                del self.results[path]
            else:
                self.results[path] = result
            self._no_module.discard(path)
        return result

    def forget(self, paths: Iterable[Path]) -> None:
        """Drop the parse trees of ``paths`` (their roots are evaluated): memory for one root, not all."""
        for path in paths:
            self.results.pop(path, None)
            self._no_module.discard(path)

    def discovery(self, path: Path) -> Any:
        """For finding module callers only: None for a file that cannot hold a module call.

        A file whose bytes never spell ``module`` has no ``module`` block (UTF-16 files, which would
        not show it, are parsed); the rest are parsed, or read from the cache, as usual.
        """
        if path in self._no_module:
            return None  # still in a worker, and it cannot call a module: do not wait for it
        if path not in self.results:
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if not _may_call_modules(data):
                return None
        result = self(path)
        if self.cache.directory is not None:
            # Finding roots needs each caller's module blocks once; its tree is read again (from the
            # cache) when its root is evaluated: a monorepo's trees are not all held at once.
            self.results.pop(path, None)
        return result

    def __call__(self, path: Path) -> Any:
        """ParsedFile for ``path``; raises the stored ParseError or the OSError, as a direct parse would."""
        result = self._resolve(path)
        if result is None:
            self.warm([path])
            result = self._resolve(path)
            if result is None:
                path.read_bytes()  # raises the OSError the loader reports
        if isinstance(result, Failed):
            raise result.error()
        return result


def _may_call_modules(data: bytes) -> bool:
    return b"module" in data or data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _yaml_chunk(items: list[tuple[str, bytes, str]], cache_dir: str | None) -> list[bytes]:
    """Worker: parse a few YAML files, store each in the cache, send back the pickled outcomes."""
    from scanner.loaders.kubernetes import parse_yaml_file  # lazy: start-up (YAML loader only for manifests)

    cache = ParseCache(Path(cache_dir) if cache_dir else None)
    out: list[bytes] = []
    for rel_path, data, key in items:
        try:
            payload = _dumps(parse_yaml_file(rel_path, data))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            out.append(b"")  # cannot travel back: the main process parses this one itself
            continue
        # In the cache: the main process reads it from there when it loads this file's unit, so parse
        # trees waiting for their unit are not all held in memory at once (a monorepo has 50 MB of YAML).
        out.append(_IN_CACHE if cache.put_payload(key, payload) else payload)
    return out


_IN_CACHE = b"="  # a worker's answer: the outcome is in the cache (never a pickle: those start with 0x80)


class YamlParser:
    """The batch ``parse(files)`` handed to the Kubernetes loader: cached by content, cold files in workers.

    Outcomes come back in the order of ``files`` whatever the worker count. The key holds the file's
    name as well as its bytes, because a parse problem names the file. With a shared
    :class:`ParsePool`, :meth:`prefetch` submits the cold files early (to overlap the Terraform
    evaluation); the call then collects them and closes the pool (``close_pool``).
    """

    def __init__(self, cache: ParseCache, jobs: int = 1, pool: ParsePool | None = None,
                 close_pool: bool = False) -> None:
        self.cache = cache
        self.jobs = pool.jobs if pool is not None else max(1, jobs)
        self.pool = pool
        self.close_pool = close_pool
        self._prefetched: dict[str, Any] = {}  # key -> outcome or _Pending

    def _lookup(self, files: list[tuple[str, bytes]]) -> tuple[list[Any], list[tuple[int, str, bytes, str]]]:
        """Outcomes known already (prefetched, or in the cache: counted as hits) and the cold rest."""
        results: list[Any] = [None] * len(files)
        cold: list[tuple[int, str, bytes, str]] = []
        for i, (rel_path, data) in enumerate(files):
            key = self.cache.key("yaml:" + rel_path, data)
            known = self._prefetched.get(key)
            if known is not None:
                results[i] = known
                continue
            cached = self.cache.get(key, yaml_shape)
            if cached is not None:
                self.cache.hits += 1
                results[i] = cached
            else:
                cold.append((i, rel_path, data, key))
        return results, cold

    def _pays_off(self, cold: list[tuple[int, str, bytes, str]]) -> bool:
        return (self.jobs > 1 and len(cold) >= _MIN_POOL_FILES
                and sum(len(c[2]) for c in cold) >= _MIN_POOL_BYTES)

    def _submit(self, pool: ParsePool, cold: list[tuple[int, str, bytes, str]]) -> list[_Pending]:
        cache_dir = str(self.cache.directory) if self.cache.directory else None
        pending: list[_Pending] = []
        for chunk in _chunks(cold, lambda c: len(c[2])):
            future = pool.submit(_yaml_chunk, [(rel_path, data, key) for _, rel_path, data, key in chunk], cache_dir)
            pending.extend(_Pending(future, i) for i in range(len(chunk)))
        return pending

    def _collect(self, files: list[tuple[str, bytes]], results: list[Any]) -> list[Any]:
        from scanner.loaders.kubernetes import parse_yaml_file  # lazy: start-up (YAML loader only for manifests)

        out = []
        for (rel_path, data), r in zip(files, results, strict=True):
            if isinstance(r, _Pending):
                r = r.get()
                if r is _CACHED:
                    r = self.cache.get(self.cache.key("yaml:" + rel_path, data), yaml_shape)
                if r is _LOCAL or r is None:
                    r = parse_yaml_file(rel_path, data)
            out.append(r)
        return out

    def prefetch(self, files: list[tuple[str, bytes]]) -> None:
        """Look ``files`` up in the cache and send the cold ones to the shared pool, without waiting."""
        if self.pool is None:
            return
        results, cold = self._lookup(files)
        for (rel_path, data), result in zip(files, results, strict=True):
            if result is not None:
                self._prefetched[self.cache.key("yaml:" + rel_path, data)] = result
        if not self._pays_off(cold):
            return
        self.cache.misses += len(cold)
        for (_, _, _, key), pending in zip(cold, self._submit(self.pool, cold), strict=True):
            self._prefetched[key] = pending

    def some(self, files: list[tuple[str, bytes]]) -> list[Any]:
        """Outcomes of some of the prefetched files, in order; the others stay prefetched and the pool open.

        For a caller that loads the manifests a unit at a time: each unit's parse trees are held only
        while it is judged (a monorepo's 50 MB of YAML makes ten times that in trees). :meth:`close`
        when done."""
        from scanner.loaders.kubernetes import parse_yaml_file  # lazy: start-up (YAML loader only for manifests)

        results, cold = self._lookup(files)
        results = self._collect(files, results)
        self.cache.misses += len(cold)
        for i, rel_path, data, key in cold:
            results[i] = parse_yaml_file(rel_path, data)
            self.cache.put(key, results[i])
        for rel_path, data in files:
            self._prefetched.pop(self.cache.key("yaml:" + rel_path, data), None)
        return results

    def close(self) -> None:
        """Forget what is still prefetched and, with ``close_pool``, let the workers go."""
        self._prefetched.clear()
        if self.close_pool and self.pool is not None:
            self.pool.close()

    def __call__(self, files: list[tuple[str, bytes]]) -> list[Any]:
        from scanner.loaders.kubernetes import parse_yaml_file  # lazy: start-up (YAML loader only for manifests)

        try:
            results, cold = self._lookup(files)
            if self.close_pool and self.pool is not None:
                # Every parse is submitted: wait for the workers, let them go, then unpickle (the
                # outcomes take memory; the idle workers should not hold theirs meanwhile).
                wait({r.future for r in results if isinstance(r, _Pending)})
                if not (cold and self._pays_off(cold)):
                    self.pool.close()
            self.cache.misses += len(cold)
            if cold and self._pays_off(cold):
                pool = self.pool if self.pool is not None else ParsePool(self.jobs)
                try:
                    for (i, *_), pending in zip(cold, self._submit(pool, cold), strict=True):
                        results[i] = pending
                    results = self._collect(files, results)
                finally:
                    if self.pool is None:
                        pool.close()
                return results
            results = self._collect(files, results)
            for i, rel_path, data, key in cold:
                results[i] = parse_yaml_file(rel_path, data)
                self.cache.put(key, results[i])
            return results
        finally:
            self._prefetched.clear()
            if self.close_pool and self.pool is not None:
                self.pool.close()


# --------------------------------------------------------------------------------------------
# What a Terraform load can read, hashed (the result cache per root, scanner/results.py, keys on it)
# --------------------------------------------------------------------------------------------

_TF_CONFIG = (".tf", ".tf.json", ".tofu", ".tofu.json")
_TF_INPUTS = (*_TF_CONFIG, ".tfvars", ".tfvars.json")
_AUTO_VARS = (".auto.tfvars", ".auto.tfvars.json")


def _digest(path: Path, accept: Callable[[Path], bool]) -> str:
    """Content hash of one input; a file the size limit refuses is named by its size, never read."""
    import hashlib

    try:
        if not accept(path):
            return f"refused:{path.stat().st_size}"
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _tree_state(scan_root: Path, accept: Callable[[Path], bool]) -> list[tuple[str, tuple]]:
    """Every directory the Terraform loader's walk visits, with each Terraform file's name and hash.

    The same pruning as the loader's own walk (hidden directories, node_modules, links to
    directories not followed), so a file added, removed or edited anywhere the loader could look
    changes the state. A regular file found this way is inside the root: only links and files over
    the size limit need ``accept`` (which resolves paths), the rest are simply read and hashed.
    """
    import hashlib

    state: list[tuple[str, tuple]] = []
    top = str(scan_root)
    todo = [top]  # strings, not Paths: a warm scan walks every directory of the tree
    while todo:
        here = todo.pop()
        entries: list[tuple[str, str]] = []
        subdirs: list[str] = []
        try:
            with os.scandir(here) as it:
                found = sorted(it, key=lambda e: e.name)
        except OSError:
            found = []
        for e in found:
            name = e.name
            try:
                if e.is_dir(follow_symlinks=False):
                    if not name.startswith(".") and name != "node_modules":
                        subdirs.append(e.path)
                    continue
                if not (name.endswith(_TF_INPUTS) or name == "terragrunt.hcl"):
                    continue
                if e.is_symlink() or e.stat().st_size > _PLAIN_HASH_MAX:
                    entries.append((name, _digest(Path(e.path), accept)))
                else:
                    with open(e.path, "rb") as fh:
                        entries.append((name, hashlib.blake2b(fh.read(), digest_size=16).hexdigest()))
            except OSError as exc:
                entries.append((name, f"unreadable:{exc.errno}"))
        manifest = os.path.join(here, ".terraform", "modules", "modules.json")
        if entries and os.path.isfile(manifest):
            entries.append((".terraform/modules/modules.json", _digest(Path(manifest), accept)))
        state.append((os.path.relpath(here, top), tuple(entries)))
        todo.extend(reversed(subdirs))
    return state


# Files up to this size are hashed without asking ``accept``; bigger ones go through the size limit.
_PLAIN_HASH_MAX = 1 << 20


def _listing(d: Path) -> tuple[str, ...]:
    try:
        return tuple(sorted(p.name for p in d.iterdir() if p.name.endswith(_TF_INPUTS)))
    except OSError:
        return ()


def _sorted_files(d: Path) -> list[Path]:
    try:
        return sorted(f for f in d.iterdir() if f.is_file())
    except OSError:
        return []


