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

    def discovery(self, path: Path) -> Any:
        """For finding module callers only: None for a file that cannot hold a module call.

        A file whose bytes never spell ``module`` has no ``module`` block (UTF-16 files, which would
        not show it, are parsed); the rest are parsed, or read from the cache, as usual.
        """
        if path not in self.results:
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if b"module" not in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                return None
        return self(path)

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


# --------------------------------------------------------------------------------------------
# The whole Terraform load, cached by the content of everything it can read
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
    todo = [scan_root]
    while todo:
        here = todo.pop()
        entries: list[tuple[str, str]] = []
        subdirs: list[Path] = []
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
                        subdirs.append(Path(e.path))
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
        manifest = here / ".terraform" / "modules" / "modules.json"
        if entries and manifest.is_file():
            entries.append((".terraform/modules/modules.json", _digest(manifest, accept)))
        state.append((os.path.relpath(here, scan_root), tuple(entries)))
        todo.extend(reversed(subdirs))
    return state


# Files up to this size are hashed without asking ``accept``; bigger ones go through the size limit.
_PLAIN_HASH_MAX = 1 << 20


def _listing(d: Path) -> tuple[str, ...]:
    try:
        return tuple(sorted(p.name for p in d.iterdir() if p.name.endswith(_TF_INPUTS)))
    except OSError:
        return ()


class _Recorder:
    """Wraps the loader's ``parse`` to note files read outside the walked tree (.terraform/modules, var files)."""

    def __init__(self, parse: Callable[[Path], Any], scan_root: Path, walked: set[str]) -> None:
        self.parse = parse
        self.scan_root = scan_root
        self.walked = walked
        self.outside: set[Path] = set()

    def __call__(self, path: Path) -> Any:
        try:
            rel_dir = os.path.relpath(path.parent, self.scan_root)
        except ValueError:
            rel_dir = None
        if rel_dir not in self.walked:
            self.outside.add(path)
        return self.parse(path)


def load_terraform_cached(dirs: list[Path], scan_root: Path, options: Any, parser: TerraformParser,
                          accept: Callable[[Path], bool] = lambda p: True) -> Any:
    """``load_terraform(dirs, scan_root, options)``, reused while none of its inputs changed.

    The key holds the requested directories, the hash of every Terraform file the loader's walk can
    reach (callers, modules, tfvars, terragrunt.hcl, modules.json), the policy's root contexts, the
    command-line variables and var files, TF_VAR_* when read, the working directory and the code's
    fingerprint. Files read from outside the walk (``.terraform/modules``, var files elsewhere) are
    recorded on a miss and re-hashed before a hit is trusted. On a miss the files of the requested
    directories are parsed first (in worker processes when cold), then the loader runs as usual.
    """
    from dataclasses import replace

    from scanner.loaders.terraform import load_terraform

    cache = parser.cache
    root = scan_root.resolve()
    requested = sorted({str((d if d.is_absolute() else Path.cwd() / d).resolve()) for d in dirs})
    key = None
    if cache.directory is not None:
        state = _tree_state(root, accept)
        contexts = []
        if options.root_context is not None:
            for rel_dir, entries in state:
                if any(name.endswith(_TF_CONFIG) for name, _ in entries):
                    ctx = options.root_context("." if rel_dir == "." else rel_dir.replace(os.sep, "/"))
                    var_files = [(str(p), _digest(p, accept)) for p in (ctx.var_files if ctx else [])]
                    contexts.append((rel_dir, repr(ctx), var_files))
        var_files = [(str(p), _digest(p if p.is_absolute() else Path.cwd() / p, accept)) for p in options.var_files]
        env = None if options.env is None else sorted(
            (k, v) for k, v in options.env.items() if k.startswith("TF_VAR_"))
        material = (str(root), str(Path.cwd()), requested, state, contexts, var_files,
                    sorted(options.variables.items()), env, options.max_instances)
        key = cache.key("tfload", repr(material).encode())
        entry = cache.get(key)
        if entry is not None and _still_valid(entry[0], accept):
            cache.hits += 1
            return entry[1]
        walked = {rel_dir for rel_dir, _ in state}
    parser.warm(f for d in (Path(p) for p in requested) for f in _sorted_files(d)
                if (f.name.endswith(_TF_CONFIG) or f.name in ("terraform.tfvars", "terraform.tfvars.json")
                    or f.name.endswith(_AUTO_VARS)) and accept(f))
    if key is None:
        return load_terraform(dirs, scan_root, options)
    recorder = _Recorder(options.parse, root, walked)
    result = load_terraform(dirs, scan_root, replace(options, parse=recorder))
    outside = sorted(recorder.outside)
    extras = ([(str(p), _digest(p, accept)) for p in outside],
              [(str(d), _listing(d)) for d in sorted({p.parent for p in outside})])
    cache.put(key, (extras, result))
    return result


def _sorted_files(d: Path) -> list[Path]:
    try:
        return sorted(f for f in d.iterdir() if f.is_file())
    except OSError:
        return []


def _still_valid(extras: tuple, accept: Callable[[Path], bool]) -> bool:
    files, listings = extras
    return (all(_digest(Path(p), accept) == h for p, h in files)
            and all(_listing(Path(d)) == names for d, names in listings))
