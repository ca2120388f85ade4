"""Every bound the scanner puts on untrusted input, in one place.

The scanner runs on pull requests from strangers, so each file it reads is hostile until parsed.
Work must stay bounded whatever a file holds: a file over its size limit, a document nested past
the depth limit, or a ``count`` past the instance limit becomes a finding that names the limit
(fail closed: nothing in it is judged, so it cannot pass by being skipped), never a crash, a hang
or an out-of-memory kill. docs/security.md lists these limits and what they protect.

Defaults are far beyond real configurations; ``--max-file-size`` and ``--max-plan-size`` raise or
lower the size limits for one scan (engine and CLI options, not policy: the policy is repository
content, and a repository should not be able to lift the bounds that protect the runner).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

MB = 1 << 20

#: YAML files larger than this are not parsed (a 200,000-line manifest, 3.3 MB, scans in about 2 s
#: of CPU and 113 MB: bench/bench_limits.py).
MAX_SOURCE_BYTES = 5 * MB
#: Terraform files (``.tf``, ``.tf.json``, ``.tofu``, ``.tfvars``) larger than this are not parsed.
#: HCL parsing (python-hcl2's lark grammar) and evaluation cost grow faster than the file: a 512 KB
#: ``.tf`` of 4,000 buckets takes about 10 s of CPU, 512 KB of list items 17 s and 385 MB, where
#: 256 KB stays under 10 s and 300 MB whatever it holds (bench/bench_limits.py). Real files are far
#: smaller: of 3,520 .tf files in 44 public module repositories the median is 1 KB, the 99th
#: percentile 16.5 KB and the largest 237 KB (Azure/terraform-azurerm-naming main.tf).
MAX_TERRAFORM_BYTES = 256 << 10
#: Plan JSON (``terraform show -json``) can be large for big estates; it is decoded in C.
MAX_PLAN_BYTES = 512 * MB
#: Collections nested deeper than this (YAML) are refused before libyaml composes them: its
#: composer recurses in C and overflows the process stack (a segmentation fault) near 20,000 levels.
MAX_YAML_DEPTH = 256
#: ``count``/``for_each`` instances per resource or module call; beyond it an ``unresolved`` finding.
MAX_INSTANCES = 10_000
#: YAML nodes one file may expand to through aliases (at least this, or the file's length in characters).
MIN_YAML_NODE_BUDGET = 100_000


@dataclass(frozen=True)
class Limits:
    """The size limits one scan applies (``ScanOptions.limits``)."""

    max_source_bytes: int = MAX_SOURCE_BYTES
    max_plan_bytes: int = MAX_PLAN_BYTES
    max_terraform_bytes: int = MAX_TERRAFORM_BYTES

    def for_path(self, path: Path | str) -> int:
        """The byte limit for one file, by kind: plans are JSON that is not Terraform syntax."""
        name = str(path)
        if name.endswith(_TERRAFORM_SUFFIXES):
            return self.max_terraform_bytes
        if name.endswith(".json"):
            return self.max_plan_bytes
        return self.max_source_bytes


_TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json", ".hcl")


def human_size(size: int) -> str:
    """``5242880`` -> ``5 MB``; exact byte counts below 1 KB."""
    for unit, factor in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": MB, "g": 1 << 30}


def parse_size(text: str) -> int:
    """``5MB``, ``512m``, ``100k``, ``1048576`` -> bytes (binary units); ValueError when malformed."""
    m = _SIZE_RE.match(text)
    if m is None:
        raise ValueError(f"not a size: {text!r} (write e.g. 5MB, 512MB, 100KB or a number of bytes)")
    unit = (m.group(2) or "").lower()[:1]
    size = int(float(m.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"a size limit must be positive, got {text!r}")
    return size


def too_big_message(kind: str, size: int, limit: int) -> str:
    """The parse finding's message for a file over its limit (names the limit and the option)."""
    option = {"plan": "--max-plan-size", "Terraform": "--max-terraform-size"}.get(kind, "--max-file-size")
    shown = human_size(size) + ("" if size < 1024 else f" ({size} bytes)")
    return (f"{kind} file is {shown}, over the {human_size(limit)} limit for "
            f"{kind} files; not scanned (raise it with {option} if the file is genuine)")


def oversize(path: Path, limit: int) -> int | None:
    """The file's size when it is over ``limit`` (checked with stat, before reading), else None."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # unreadable files are reported by whoever reads them
    return size if size > limit else None


def is_within(path: Path, root: Path) -> bool:
    """``path == root or root in path.parents`` for absolute, normalised paths, by string prefix (cheaper)."""
    if path == root:
        return True
    if not (root.is_absolute() and path.is_absolute()) or os.sep != "/":
        return root in path.parents
    base = str(root)
    return str(path).startswith(base if base.endswith("/") else base + "/")


def _real(path: Path) -> Path | None:
    """``path`` with every symbolic link resolved, or None for a link loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def confined(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symbolic link resolved, is inside the (resolved) scan root."""
    real = _real(path)
    return real is not None and is_within(real, root)


class RealPaths:
    """:func:`_real` for the many files of one load, each directory resolved once.

    ``Path.resolve`` walks every component of every file with lstat, and a cold scan asks for each Terraform
    file more than once (admission while finding roots and loading, confinement before each parse). A file
    that is not itself a symbolic link resolves to its directory's real path plus its name, so only
    directories are resolved, once each; a link, a name that is not a plain entry (``..``), or a file lstat
    cannot see takes :func:`_real` itself.
    """

    def __init__(self) -> None:
        self._dirs: dict[Path, Path | None] = {}

    def __call__(self, path: Path) -> Path | None:
        name = path.name
        if path.is_absolute() and name not in ("", ".", ".."):
            try:
                is_link = stat.S_ISLNK(os.lstat(path).st_mode)
            except OSError:
                is_link = True  # not seen: let resolve() answer as it does for any path
            if not is_link:
                parent = path.parent
                if parent not in self._dirs:
                    self._dirs[parent] = _real(parent)
                real_dir = self._dirs[parent]
                if real_dir is not None:
                    return real_dir / name
        return _real(path)


class Admission:
    """Which files the scanner may read: confined to the scan root (or, resolved, one of ``allow``: the
    ``--var-file`` arguments, which may live anywhere) and not over ``limit`` bytes. One instance serves one
    load, so its :class:`RealPaths` resolves each directory once."""

    def __init__(self, root: Path, limit: int, allow: frozenset[Path] = frozenset()) -> None:
        self.real_root, self.limit, self.allow = root.resolve(), limit, allow
        self._real = RealPaths()

    def __call__(self, path: Path) -> bool:
        if oversize(path, self.limit) is not None:
            return False
        real = self._real(path)
        return (real is not None and is_within(real, self.real_root)) or (bool(self.allow) and real in self.allow)


def admissible(path: Path, root: Path, limit: int, allow: frozenset[Path] = frozenset()) -> bool:
    """One file's :class:`Admission` (a load of many files keeps one instance instead)."""
    return Admission(root, limit, allow)(path)


def size_guarded(parse: Callable[[Path], Any], root: Path, limit: int,
                 allow: Iterable[Path] = (), *,
                 error: Callable[[str, int, str], Exception]) -> Callable[[Path], Any]:
    """Wrap a Terraform ``parse(path)``: refuse files outside the root or over ``limit`` bytes.

    Each refusal raises ``error(file, line, message)`` (the loader's ParseError, passed in so this
    neutral module does not import a loader) that the loader turns into a ``parse`` finding, before the file is
    read: a ``terraform.tfvars`` or ``main.tf`` that links to /etc/passwd, or a policy ``var_files``
    entry that climbs out of the repository, is never opened. ``allow`` lists files the user named
    on the command line (``--var-file``), which may live anywhere.
    """
    real_root = root.resolve()
    allowed = {p.resolve() for p in allow}
    real_paths = RealPaths()

    def guarded(path: Path) -> Any:
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.as_posix()
        real = real_paths(path)  # resolved once: it decides both the --var-file exception and confinement
        if real is None or (real not in allowed and not is_within(real, real_root)):
            raise error(name, 1, f"links outside the scan root ({root}); not followed")
        size = oversize(path, limit)
        if size is not None:
            raise error(name, 1, too_big_message("Terraform", size, limit))
        return parse(path)

    return guarded


# --- YAML nesting -------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _flow_depth_bound(text: str) -> int:
    """An upper bound of flow nesting: the running bracket depth (quoted brackets only add noise)."""
    brackets = _BRACKETS.sub("", text)
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets))))


def yaml_nesting_error(text: str, limit: int = MAX_YAML_DEPTH) -> tuple[int, str] | None:
    """``(line, message)`` when a YAML text nests collections deeper than ``limit``, else None.

    Must run before ``yaml.compose``: libyaml's composer recurses in C, so a document of
    ``[[[[...`` 30,000 levels deep kills the process with a segmentation fault that no
    ``except`` can catch. A cheap upper bound (bracket depth, indentation and indicator runs)
    clears ordinary files at C speed; only a file that might be too deep is checked exactly with
    libyaml's event parser, which is iterative and stops at the first level over the limit.
    """
    indent = re.compile(rf"^[ \t?:-]{{{max(1, limit // 2)}}}", re.M)
    if _flow_depth_bound(text) <= limit and indent.search(text) is None:
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    line = event.start_mark.line + 1 if event.start_mark is not None else 1
                    return line, (f"YAML nests collections deeper than {limit} levels (line {line}); "
                                  "refusing to read it")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        # Newer libyaml (PyYAML >= 6.0.4 wheels) stops deep nesting itself: same verdict, our wording.
        if "nesting depth" in str(exc):
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            return line, (f"YAML nests collections deeper than {limit} levels (line {line}); refusing to read it")
        return None  # not YAML at all: the real parse reports the syntax error where it is
    return None


# --- Terraform evaluation ---------------------------------------------------------------------

#: Longest string the evaluator builds (templates, format(), replace(), join()); beyond: Unknown.
MAX_STRING = 1 << 20
#: Elements (plus string characters / 16) one value may expand to when materialised: locals that
#: each list the previous one twice share memory until something walks them, then double per level.
MAX_VALUE_UNITS = 1_000_000
#: Worst-case backtracking steps allowed for one regex()/regexall()/replace() call (see below).
MAX_REGEX_STEPS = 10**8


def regex_cost_error(pattern: str, text_len: int, max_steps: int = MAX_REGEX_STEPS) -> str | None:
    """Why a Terraform regular expression is refused on an input of ``text_len`` characters, or None.

    Terraform uses RE2 (linear time); Python's ``re`` backtracks, so ``(a+)+$`` on 50 characters
    runs for ages and nothing can interrupt it. Refused: nested or alternated repetition (the
    exponential cases), back-references and look-arounds (which RE2 rejects anyway), and patterns
    whose polynomial worst case (input length to the power of repetitions + 1) exceeds ``max_steps``.
    A refused pattern makes the value Unknown: fail closed, never a hang.
    """
    try:
        from re import _parser as sre_parse
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_parse
    try:
        parsed = sre_parse.parse(pattern)
    except Exception as exc:  # re.error, OverflowError, RecursionError on absurd patterns
        return f"invalid regular expression: {exc}"
    try:
        repeats = _repeats(parsed, sre_parse, inside=False)
    except ValueError as exc:
        return f"regular expression not evaluated statically: {exc}"
    # a search retries at every start position: one more factor of the input length
    if repeats and max(text_len, 2) ** (repeats + 1) > max_steps:
        return (f"regular expression with {repeats} repetitions on {text_len} characters is too costly "
                "to evaluate statically")
    return None


def _repeats(parsed: Any, sre: Any, inside: bool) -> int:
    consts = sre._constants if hasattr(sre, "_constants") else sre
    repeat_ops = {consts.MAX_REPEAT, consts.MIN_REPEAT}
    if hasattr(consts, "POSSESSIVE_REPEAT"):
        repeat_ops.add(consts.POSSESSIVE_REPEAT)
    refused = {consts.GROUPREF, consts.GROUPREF_EXISTS, consts.ASSERT, consts.ASSERT_NOT}
    count = 0
    for op, av in parsed:
        if op in refused:
            raise ValueError("back-references and look-arounds are not RE2 syntax")
        if op in repeat_ops:
            lo, hi, sub = av
            if hi > 1 and hi != lo:
                if inside:
                    raise ValueError("nested repetition")
                count += 1 + _repeats(sub, sre, inside=True)
            else:
                count += _repeats(sub, sre, inside)
        elif op is consts.SUBPATTERN:
            count += _repeats(av[-1], sre, inside)
        elif op is consts.BRANCH:
            if inside:
                raise ValueError("alternation inside a repetition")
            count += max((_repeats(b, sre, inside) for b in av[1]), default=0)
        elif getattr(consts, "ATOMIC_GROUP", None) is op:
            count += _repeats(av, sre, inside)
    return count


__all__ = [
    "MAX_INSTANCES",
    "MAX_PLAN_BYTES",
    "MAX_REGEX_STEPS",
    "MAX_SOURCE_BYTES",
    "MAX_STRING",
    "MAX_TERRAFORM_BYTES",
    "MAX_VALUE_UNITS",
    "MAX_YAML_DEPTH",
    "MB",
    "MIN_YAML_NODE_BUDGET",
    "Limits",
    "admissible",
    "confined",
    "human_size",
    "oversize",
    "parse_size",
    "regex_cost_error",
    "size_guarded",
    "too_big_message",
    "yaml_nesting_error",
]
