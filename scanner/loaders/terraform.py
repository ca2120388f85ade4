"""Terraform configuration (HCL, ``*.tf.json``, ``*.tofu``) -> one :class:`Resource` per instance.

Loaders know syntax, not policy: this module evaluates what Terraform would evaluate before talking
to a cloud (variables and their precedence, locals, provider wiring through module calls,
``count``/``for_each``, ``dynamic`` blocks, references between resources, module outputs) and says
``Unknown(reason)`` for everything else. It never decides whether a region is allowed.

Evaluation is lazy and memoised per module instance: a resource argument, a local or a module output
is evaluated the first time something needs it, once. Files are parsed once per load (or through an
injected ``options.parse`` that can cache by content hash or run in worker processes).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import ResidencyError
from scanner.loaders.azapi import translate_azapi
from scanner.loaders.hcl_eval import EvalError, Lazy, Named, Partial, Scope, evaluate, materialise, to_string
from scanner.loaders.hcl_parse import (
    Attr,
    Block,
    ParsedFile,
    ParseError,
    parse_expression,
    parse_file,
    static_ref,
)
from scanner.loaders.policy_docs import aws_policy_document, document_lines, google_policy_data, self_value
from scanner.model import (
    DESTINATION_SETTINGS,
    Category,
    LoadResult,
    Note,
    Problem,
    ProviderContext,
    Ref,
    Resource,
    Unknown,
)
from scanner.regions.elb import elb_log_account
from scanner.roots import RootContext, rel_name

_META_ARGS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner",
                        "connection"})
_MODULE_META = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})
_COMPLEX_TYPES = ("list", "set", "map", "object", "tuple")
_REGION_FROM_ENV = {
    "aws": "it would come from AWS_REGION or the profile",
    "google": "it would come from GOOGLE_REGION or the gcloud configuration",
    "google-beta": "it would come from GOOGLE_REGION or the gcloud configuration",
}
_ZONE_FROM_ENV = "it would come from GOOGLE_ZONE or the gcloud configuration"
_TERRAGRUNT = "terragrunt configuration: scan the rendered plan (`terragrunt show -json`) instead"
_TERRAGRUNT_FIX = "run `terragrunt plan -out=plan.bin && terragrunt show -json plan.bin` and scan the JSON"


def _reason(v: Any, what: str) -> str:
    return v.reason if isinstance(v, Unknown) else f"{what} depends on {v}, known only after apply"


@dataclass
class TerraformOptions:
    """Inputs Terraform would get from the command line or the environment."""

    var_files: list[Path] = field(default_factory=list)  # --var-file, in order
    variables: dict[str, str] = field(default_factory=dict)  # --var k=v, last wins
    env: Mapping[str, str] | None = None  # TF_VAR_* only when --env-vars was given
    root_context: Callable[[str], RootContext | None] | None = None  # rel root dir -> policy context
    max_instances: int = 10000
    parse: Callable[[Path], ParsedFile] | None = None  # injectable: cache / process pool
    # Injectable too, for finding callers only: may return None for a file with no module call.
    discovery_parse: Callable[[Path], ParsedFile | None] | None = None
    # Resource types whose argument lines the caller needs (extra["attribute_lines"]): kept to
    # those types because a line map for every resource would cost memory on large trees.
    attribute_lines: frozenset[str] = frozenset()


@dataclass
class ModuleGraph:
    """Which module directories call which (local sources only), and which are roots."""

    dirs: list[Path]
    callers: dict[Path, set[Path]]
    calls: dict[Path, set[Path]]
    roots: list[Path]

    def roots_for(self, d: Path, standalone: Callable[[Path], bool] | None = None) -> list[Path]:
        """The roots whose module tree reaches ``d`` (``d`` itself when nobody calls it).

        A root is a caller nobody calls, or (``standalone``) one that can be applied on its own even
        though something calls it (provider blocks): both evaluate ``d`` when applied.
        """
        d = d.resolve()
        if not self.callers.get(d):
            return [d]
        seen = {d}
        todo = [d]
        found: list[Path] = []
        while todo:
            cur = todo.pop()
            ups = self.callers.get(cur, set()) - {cur}
            if cur != d and (not ups or (standalone is not None and standalone(cur))):
                found.append(cur)
            for up in sorted(ups):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        return sorted(found) or [d]  # a pure cycle: evaluate the dir itself, the cycle is reported


@dataclass
class RootPlan:
    """The evaluation roots of a load, in order, each with the module dirs to keep (None = all);
    ``full``: the roots evaluated in full (a dir among them that another root calls is marked there)."""

    units: list[tuple[Path, frozenset[Path] | None]]
    full: frozenset[Path]


@dataclass
class _Record:
    """What one root's evaluation read: files parsed, directories listed, problems met."""

    files: dict[Path, None] = field(default_factory=dict)
    dirs: dict[Path, None] = field(default_factory=dict)
    unparsed: dict[Path, None] = field(default_factory=dict)  # read (or looked for) without parsing
    problems: list[Problem] = field(default_factory=list)
    problem_keys: set[tuple] = field(default_factory=set)


@dataclass
class RootResult:
    """One evaluation root's share of a load, with the inputs that shaped it (a result cache's key).

    ``problems`` are every problem met while evaluating this root, also those another root of the
    same run met first (the run's own list has each once); ``files`` every file it parsed,
    ``unparsed`` files read or looked for otherwise (``.terraform/modules/modules.json``, absent or
    not), ``dirs`` every directory whose file list it used (a module source dir that does not exist
    included).
    """

    root: Path
    keep: frozenset[Path] | None
    resources: list[Resource]
    problems: list[Problem]
    files: list[Path]
    dirs: list[Path]
    unparsed: list[Path] = field(default_factory=list)


class TerraformLoad:
    """A load taken one root at a time: plan the roots, evaluate each, release what is done.

    ``load_terraform`` is plan + evaluate every root. A caller that caches results per root
    evaluates only the roots it has no result for, and releases the parse trees of finished roots.
    """

    def __init__(self, scan_root: Path, options: TerraformOptions) -> None:
        self._run = _Run(scan_root, options)
        self.plan = self._run.plan
        self.graph = self._run.graph
        self.requested = self._run.requested
        self.evaluate = self._run.evaluate
        self.release = self._run.release

    @property
    def result(self) -> LoadResult:
        """Problems (terragrunt dirs), notes (modules evaluated through roots) and files of the plan step."""
        return self._run.result

    @property
    def unparsed_files(self) -> int:
        """Files counted without a parse (terragrunt.hcl): ``result.files`` less the files parsed so far."""
        return self._run.result.files - len(self._run.parsed)

    @property
    def standalone_memo(self) -> dict[Path, bool]:
        """Which module dirs can be applied on their own (filled while planning; a graph cache keeps it)."""
        return self._run.standalone_memo


# --------------------------------------------------------------------------------------------
# files and module configuration
# --------------------------------------------------------------------------------------------

def _default_parse(path: Path, name: str) -> ParsedFile:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    return parse_file(text, name)


def _config_files(d: Path) -> list[Path]:
    """The module's configuration files; ``x.tofu`` hides ``x.tf`` (OpenTofu's rule)."""
    try:
        names = sorted(p.name for p in d.iterdir() if p.is_file())
    except OSError:
        return []
    chosen: dict[str, str] = {}
    for n in names:
        for ext in (".tf", ".tf.json", ".tofu", ".tofu.json"):
            if n.endswith(ext) and not n.startswith("."):
                stem = n[: -len(ext)] + ("#json" if ext.endswith(".json") else "")
                if ext.startswith(".tofu") or stem not in chosen:
                    chosen[stem] = n
    return [d / n for n in sorted(chosen.values())]


def _is_override(name: str) -> bool:
    base = name.split(".", 1)[0]
    return base == "override" or base.endswith("_override")


def _block_key(b: Block) -> tuple:
    if b.type == "provider":
        alias = b.attrs.get("alias")
        return ("provider", b.labels[:1], static_ref(alias.expr) if alias else None)
    return (b.type, b.labels)


def _merge_override(base: Block, over: Block) -> Block:
    """Terraform override: attributes replace, nested blocks of a type replace all of that type."""
    attrs = dict(base.attrs)
    attrs.update(over.attrs)
    over_types = {b.type for b in over.blocks}
    blocks = [b for b in base.blocks if b.type not in over_types] + list(over.blocks)
    return Block(base.type, base.labels, base.line, base.end_line, attrs, blocks)


@dataclass
class _ModuleConfig:
    dir: Path
    rel: str
    variables: dict[str, tuple[Block, str]] = field(default_factory=dict)
    locals: dict[str, tuple[Attr, str]] = field(default_factory=dict)
    providers: list[tuple[Block, str]] = field(default_factory=list)
    modules: dict[str, tuple[Block, str]] = field(default_factory=dict)
    resources: dict[tuple[str, str], tuple[Block, str]] = field(default_factory=dict)
    data: dict[tuple[str, str], tuple[Block, str]] = field(default_factory=dict)
    outputs: dict[str, tuple[Block, str]] = field(default_factory=dict)
    comments: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    resource_types: set[str] = field(default_factory=set)
    backend: bool = False  # a terraform { backend / cloud } block: a root configuration
    files: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# discovery of roots and callers
# --------------------------------------------------------------------------------------------

def _local_source(src: Any) -> bool:
    return isinstance(src, str) and (src.startswith("./") or src.startswith("../") or src in (".", ".."))


def _module_sources(pf: ParsedFile) -> Iterator[tuple[Block, str | None]]:
    for b in pf.blocks:
        if b.type == "module":
            a = b.attrs.get("source")
            yield b, (a.expr[1] if a and a.expr[0] == "lit" and isinstance(a.expr[1], str) else None)


def discover_modules(dirs: Iterable[Path], scan_root: Path,
                     parse: Callable[[Path], ParsedFile | None] | None = None) -> ModuleGraph:
    """Build the caller graph among module dirs (local ``source`` only): a dir nobody calls is a root.

    Pure function of the parsed files so a cache can key it by their hashes. Files that do not
    mention ``module`` are not parsed here at all.
    """
    root = scan_root.resolve()
    all_dirs = sorted({Path(d).resolve() for d in dirs})
    callers: dict[Path, set[Path]] = {d: set() for d in all_dirs}
    calls: dict[Path, set[Path]] = {d: set() for d in all_dirs}
    for d in all_dirs:
        for f in _config_files(d):
            try:
                if parse is not None:
                    pf = parse(f)
                else:
                    text = f.read_text(encoding="utf-8-sig", errors="replace")
                    if "module" not in text:
                        continue
                    pf = parse_file(text, rel_name(f, root))
            except (ParseError, OSError):
                continue
            if pf is None:
                continue
            for _, src in _module_sources(pf):
                if src is None or not _local_source(src):
                    continue
                child = (d / src).resolve()
                if child == d or not child.is_relative_to(root):
                    continue
                calls[d].add(child)
                callers.setdefault(child, set()).add(d)
                calls.setdefault(child, set())
    roots = [d for d in all_dirs if not (callers.get(d, set()) - {d})]
    return ModuleGraph(all_dirs, callers, calls, roots)


def _walk_module_dirs(scan_root: Path) -> list[Path]:
    """Every directory under the scan root holding Terraform files (skipping .terraform, hidden dirs)."""
    out: list[Path] = []
    for cur, subdirs, files in os.walk(scan_root):
        subdirs[:] = sorted(s for s in subdirs if not s.startswith(".") and s != "node_modules")
        if any(f.endswith((".tf", ".tf.json", ".tofu", ".tofu.json")) for f in files):
            out.append(Path(cur).resolve())
    return out


# --------------------------------------------------------------------------------------------
# the load
# --------------------------------------------------------------------------------------------

def load_terraform(module_dirs: Iterable[Path], scan_root: Path, options: TerraformOptions) -> LoadResult:
    """Evaluate the given module directories (through their callers when they are child modules)."""
    run = _Run(scan_root, options)
    return run.load([Path(d) for d in module_dirs])


class _Run:
    """State of one ``load_terraform`` call: parse cache, configs, problems, the active-eval stack."""

    def __init__(self, scan_root: Path, options: TerraformOptions) -> None:
        self.scan_root = scan_root.resolve()
        self.options = options
        self.parsed: dict[Path, ParsedFile | ParseError] = {}
        self.configs: dict[Path, _ModuleConfig] = {}
        self.result = LoadResult()
        self.problem_keys: set[tuple] = set()
        self.active: list[tuple] = []
        self.active_labels: list[str] = []
        self.manifests: dict[Path, dict[str, str] | None] = {}
        # (root dir, module call address) -> its registry/git source, for calls not on disk
        self.missing_modules: dict[tuple[Path, str], str] = {}
        # count/for_each are capped per block; nested expansion (a module with count = 10000 holding a
        # resource with count = 10000) multiplies, so each root also has a budget of instances (per
        # root, not per run: a root's result must not depend on which other roots were evaluated).
        self.instance_budget = options.max_instances * 10
        self.record: _Record | None = None  # the inputs of the root being evaluated
        self.parse_problems: dict[Path, tuple[Any, ...]] = {}
        self.standalone_memo: dict[Path, bool] = {}

    def spend(self, n: int, rel: str, line: int, address: str, rtype: str) -> bool:
        """Take ``n`` instances from the run's budget; False once it is exhausted (one problem per block)."""
        self.instance_budget -= n
        if self.instance_budget >= 0:
            return True
        self.budget_exhausted(rel, line, address, rtype)
        return False

    def budget_exhausted(self, rel: str, line: int, address: str, rtype: str) -> None:
        self.problem(Category.UNRESOLVED, rel, line,
                     f"{_block_address(address)} is not fully expanded: nested count/for_each exceed "
                     f"{self.options.max_instances * 10} instances in total",
                     "lower the counts or scan the plan", _block_address(address), rtype)

    # ---- bookkeeping -----------------------------------------------------------------
    def rel(self, p: Path) -> str:
        return rel_name(p, self.scan_root)

    def problem(self, category: Category, file: str, line: int, message: str, remediation: str,
                resource: str = "", resource_type: str = "", module_source: str = "") -> None:
        key = (category, file, line, message)
        problem = Problem(category, file, line, message, remediation, resource, resource_type, module_source)
        if self.record is not None and key not in self.record.problem_keys:
            self.record.problem_keys.add(key)
            self.record.problems.append(problem)  # a root's own share, even if another root met it first
        if key in self.problem_keys:
            return
        self.problem_keys.add(key)
        self.result.problems.append(problem)

    def parse(self, path: Path) -> ParsedFile | None:
        if self.record is not None:
            self.record.files.setdefault(path, None)
        if path not in self.parsed:
            try:
                if self.options.parse is not None:
                    pf = self.options.parse(path)
                else:
                    pf = _default_parse(path, self.rel(path))
                self.parsed[path] = pf
            except ParseError as exc:
                self.parsed[path] = exc
                self.parse_problems[path] = (Category.PARSE, self.rel(path), exc.line, f"cannot parse: {exc.message}",
                                             "fix the syntax error (terraform validate shows it)")
            except OSError as exc:
                self.parsed[path] = ParseError(self.rel(path), 1, str(exc))
                self.parse_problems[path] = (Category.PARSE, self.rel(path), 1, f"cannot read: {exc}",
                                             "check the file")
            self.result.files += 1
        if path in self.parse_problems:
            self.problem(*self.parse_problems[path])  # once in the run; once in each root's record
        got = self.parsed[path]
        return None if isinstance(got, ParseError) else got

    def guarded(self, key: tuple, label: str, cache: dict, compute: Callable[[], Any]) -> Any:
        """Memoise ``compute`` under ``key``; a re-entry is a reference cycle -> Unknown naming it."""
        if key in cache:
            return cache[key]
        if key in self.active:
            i = self.active.index(key)
            return Unknown("cycle: " + " -> ".join([*self.active_labels[i:], label]))
        if len(self.active) > 200:
            return Unknown(f"{label}: references nested too deeply")
        self.active.append(key)
        self.active_labels.append(label)
        try:
            value = compute()
        except EvalError as exc:
            value = Unknown(f"{label}: {exc}")
        finally:
            self.active.pop()
            self.active_labels.pop()
        cache[key] = value
        return value

    # ---- configuration ---------------------------------------------------------------
    def config(self, d: Path) -> _ModuleConfig:
        d = d.resolve()
        if self.record is not None:
            self.record.dirs.setdefault(d, None)
            if d in self.configs:
                for f in self.configs[d].files:
                    self.parse(f)  # memoised: records the file (and its parse problem) for this root too
        if d in self.configs:
            return self.configs[d]
        cfg = _ModuleConfig(d, self.rel(d))
        files = _config_files(d)
        cfg.files = files
        blocks: list[tuple[Block, str]] = []
        index: dict[tuple, int] = {}
        # Normal files first, then override files (Terraform's order): an override replaces the
        # attributes of the block it names, and its locals replace the local of the same name.
        for override in (False, True):
            for f in (f for f in files if _is_override(f.name) is override):
                pf = self.parse(f)
                if pf is None:
                    continue
                rel = self.rel(f)
                cfg.comments[rel] = pf.comments
                for b in pf.blocks:
                    if b.type == "locals":
                        for name, a in b.attrs.items():
                            origin = cfg.locals[name][1] if override and name in cfg.locals else rel
                            cfg.locals[name] = (a, origin)
                    elif not override:
                        index.setdefault(_block_key(b), len(blocks))
                        blocks.append((b, rel))
                    elif (i := index.get(_block_key(b))) is not None:  # an override must override something
                        base, brel = blocks[i]
                        blocks[i] = (_merge_override(base, b), brel)
        for b, rel in blocks:
            t = b.type
            if t == "variable" and b.labels:
                cfg.variables[b.labels[0]] = (b, rel)
            elif t == "provider" and b.labels:
                cfg.providers.append((b, rel))
            elif t == "terraform" and any(n.type in ("backend", "cloud") for n in b.blocks):
                cfg.backend = True
            elif t == "module" and b.labels:
                cfg.modules[b.labels[0]] = (b, rel)
            elif t == "resource" and len(b.labels) == 2:
                cfg.resources[(b.labels[0], b.labels[1])] = (b, rel)
                cfg.resource_types.add(b.labels[0])
            elif t == "data" and len(b.labels) == 2:
                cfg.data[(b.labels[0], b.labels[1])] = (b, rel)
            elif t == "output" and b.labels:
                cfg.outputs[b.labels[0]] = (b, rel)
        self.configs[d] = cfg
        return cfg

    # ---- entry ---------------------------------------------------------------------
    def load(self, module_dirs: list[Path]) -> LoadResult:
        plan = self.plan(module_dirs)
        for root, keep in plan.units:
            self.result.resources.extend(self.evaluate(root, keep, plan.full - {root}).resources)
        return self.result

    def graph(self, requested: list[Path]) -> ModuleGraph:
        """Who calls whom among every module dir under the scan root (and the requested ones)."""
        return discover_modules(set(_walk_module_dirs(self.scan_root)) | set(requested), self.scan_root,
                                parse=self._parse_for_discovery)

    def requested(self, module_dirs: list[Path]) -> list[Path]:
        """The dirs to evaluate, resolved; a terragrunt dir is a problem (and skipped without .tf files)."""
        requested: dict[Path, None] = {}  # ordered, and a set (a monorepo asks for thousands)
        for d in module_dirs:
            d = (d if d.is_absolute() else Path.cwd() / d).resolve()
            if (d / "terragrunt.hcl").is_file():
                tg = self.rel(d / "terragrunt.hcl")
                self.problem(Category.UNRESOLVED, tg, 1, _TERRAGRUNT, _TERRAGRUNT_FIX)
                self.result.files += 1
                if not _config_files(d):
                    continue
            requested.setdefault(d, None)
        return list(requested)

    def plan(self, module_dirs: list[Path],
             graph: Callable[[list[Path]], ModuleGraph] | None = None) -> RootPlan:
        """Which roots to evaluate (and, for a child module asked for alone, which of its dirs to keep).

        ``graph(requested)`` may supply the module graph (a cache of it); by default it is built."""
        requested = self.requested(module_dirs)
        if not requested:
            return RootPlan([], frozenset())
        modules = (graph or self.graph)(requested)
        # A requested dir nobody calls is a root. A called one is evaluated through every root that calls
        # it (its resources and all its children's), and in full as a root too when it can be applied on
        # its own (provider blocks, a backend or cloud block): an example that a test fixture calls.
        plan: dict[Path, set[Path] | None] = {}  # root -> requested dirs to keep (None = everything)
        asked = set(requested)
        for d in requested:
            roots = modules.roots_for(d, self.standalone)
            if roots == [d] or self.standalone(d):
                plan[d] = None
            for r in roots:
                if r == d or r in asked:
                    continue  # evaluated in full as a requested root
                keep = plan.setdefault(r, set())
                if keep is not None:
                    keep.add(d)
                msg = f"module {self.rel(d)} evaluated through root {self.rel(r)}"
                self.result.notes.append(Note(self.rel(d), msg))
        return RootPlan([(r, None if keep is None else frozenset(keep)) for r, keep in plan.items()],
                        frozenset(r for r, keep in plan.items() if keep is None))

    def evaluate(self, root: Path, keep: frozenset[Path] | None = None,
                 also_roots: frozenset[Path] = frozenset()) -> RootResult:
        """One root's resources (under instances of the ``keep`` dirs when given) and every input it read.

        Resources under an instance of a dir in ``also_roots`` (a root of its own in this load) carry
        ``extra["also_root"]`` (see :meth:`_RootEval.resources`)."""
        self.record = _Record()
        self.instance_budget = self.options.max_instances * 10
        try:
            resources = _RootEval(self, root).resources(None if keep is None else set(keep), also_roots)
            record = self.record
        finally:
            self.record = None
        return RootResult(root, keep, resources, record.problems, list(record.files), list(record.dirs),
                          list(record.unparsed))

    def release(self, dirs: Iterable[Path]) -> list[Path]:
        """Forget the parsed files and configurations of ``dirs`` (no root still to evaluate needs them).

        Returns the files forgotten, so a parse cache in front of the loader can drop them too."""
        dropped: list[Path] = []
        for d in dirs:
            cfg = self.configs.pop(d, None)
            for f in cfg.files if cfg is not None else ():
                self.parsed.pop(f, None)
                dropped.append(f)
        return dropped

    def standalone(self, d: Path) -> bool:
        """Whether ``d`` can be applied on its own: it configures a provider, a backend or HCP Terraform.

        Memoised (``standalone_memo``, which a cache of the module graph may fill: it depends on the
        dir's files only, and the graph's key hashes every Terraform file)."""
        known = self.standalone_memo.get(d)
        if known is None:
            cfg = self.config(d)
            known = self.standalone_memo[d] = bool(cfg.providers) or cfg.backend
        return known

    def _parse_for_discovery(self, path: Path) -> ParsedFile | None:
        if path in self.parsed:
            pf = self.parsed[path]
            return None if isinstance(pf, ParseError) else pf
        if self.options.parse is None:
            try:
                text = path.read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                return None
            if "module" not in text:
                return None  # cheap: no module calls, nothing to learn (parsed later if evaluated)
        try:
            if self.options.discovery_parse is not None:
                return self.options.discovery_parse(path)
            if self.options.parse is not None:
                return self.options.parse(path)
            return parse_file(text, self.rel(path))
        except ParseError:
            return None

    # ---- manifest ------------------------------------------------------------------
    def manifest(self, root: Path) -> dict[str, str] | None:
        mf = root / ".terraform" / "modules" / "modules.json"
        if self.record is not None:
            self.record.unparsed.setdefault(mf, None)  # absent is an input too: `terraform init` makes it
        if root not in self.manifests:
            data: dict[str, str] | None = None
            if mf.is_file():
                try:
                    raw = json.loads(mf.read_text(encoding="utf-8"))
                    data = {m.get("Key", ""): m.get("Dir", "")
                            for m in raw.get("Modules", []) if isinstance(m, dict)}
                except (OSError, ValueError, AttributeError):
                    data = None
            self.manifests[root] = data
        return self.manifests[root]


# --------------------------------------------------------------------------------------------
# evaluation per module instance
# --------------------------------------------------------------------------------------------

class _NS(Lazy):
    """A namespace (``var``, ``local``, ``path``...) resolving attribute names through a function."""

    def __init__(self, label: str, fn: Callable[[str], Any]) -> None:
        self.label = label
        self.fn = fn

    def attr(self, name: str) -> Any:
        return self.fn(name)

    def materialise(self) -> Any:
        return Unknown(f"{self.label} cannot be used as a whole value")

    def collection(self) -> Any:
        raise EvalError(f"{self.label} cannot be used as a whole value")


def _instance_key(key: Any) -> str:
    return f"[{key}]" if isinstance(key, int) else "[" + json.dumps(key, ensure_ascii=False) + "]"


class _Expansion:
    """Result of evaluating count/for_each: keyed instances, or unknown, or too many."""

    def __init__(self, mode: str, items: list[tuple[Any, dict[str, Any]]] | None = None,
                 unknown: str | None = None, too_many: int = 0) -> None:
        self.mode = mode  # single | count | for_each
        self.items = items or []
        self.unknown = unknown
        self.too_many = too_many


def _block_address(address: str) -> str:
    """``module.m[3].aws_s3_bucket.b`` -> ``module.m.aws_s3_bucket.b``: the block, whatever the instance."""
    return re.sub(r"\[[^\]]*\]", "", address)


def _expand(block: Block, scope: Scope, limit: int) -> _Expansion:
    if "count" in block.attrs:
        try:
            v = materialise(evaluate(block.attrs["count"].expr, scope))
        except EvalError as exc:
            return _Expansion("count", unknown=f"count: {exc}")
        if isinstance(v, (Unknown, Ref)):
            return _Expansion("count", unknown=_reason(v, "count"))
        try:
            n = int(float(v)) if not isinstance(v, bool) else None
        except (TypeError, ValueError):
            n = None
        if n is None or n < 0:
            return _Expansion("count", unknown=f"count is not a whole number: {v!r}")
        if n > limit:
            return _Expansion("count", too_many=n)
        return _Expansion("count", [(i, {"count": {"index": i}}) for i in range(n)])
    if "for_each" in block.attrs:
        try:
            v = materialise(evaluate(block.attrs["for_each"].expr, scope))
        except EvalError as exc:
            return _Expansion("for_each", unknown=f"for_each: {exc}")
        if isinstance(v, (Unknown, Ref)):
            return _Expansion("for_each", unknown=_reason(v, "for_each"))
        pairs: list[tuple[str, Any]] = []
        if isinstance(v, dict):
            pairs = [(k, v[k]) for k in sorted(v)]
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, (Unknown, Ref)):
                    return _Expansion("for_each", unknown=f"a for_each key is unknown: {x}")
                if not isinstance(x, str):
                    return _Expansion("for_each", unknown=f"for_each over a set needs strings, got {x!r}")
            pairs = [(x, x) for x in sorted(set(v))]
        else:
            return _Expansion("for_each", unknown=f"for_each needs a map or a set of strings, got {v!r}")
        if len(pairs) > limit:
            return _Expansion("for_each", too_many=len(pairs))
        return _Expansion("for_each", [(k, {"each": {"key": k, "value": val}}) for k, val in pairs])
    return _Expansion("single", [(None, {})])


def _has_optional(texpr: Any) -> bool:
    if not isinstance(texpr, tuple):
        return False
    if texpr and texpr[0] == "call" and texpr[1] == "optional":
        return True
    return any(_has_optional(x) for x in texpr if isinstance(x, tuple))


def _type_defaults(texpr: Any, value: Any) -> Any:
    """Apply a variable type's ``optional(type, default)`` attribute defaults, as Terraform does.

    ``object({create = optional(bool, false)})`` given ``{}`` is ``{create = false}``; an omitted
    optional attribute without a default is null. Only plain maps and lists are walked (a Lazy or
    Unknown value passes through unchanged).
    """
    if texpr is None or value is None or not _has_optional(texpr):
        return value
    if texpr[0] != "call" or not texpr[2]:
        return value
    kind, args = texpr[1], texpr[2]
    if kind == "object" and args[0][0] == "obj" and isinstance(value, dict):
        out = dict(value)
        for kexpr, aexpr in args[0][1]:
            key = kexpr[1] if kexpr[0] in ("lit", "name") and isinstance(kexpr[1], str) else None
            if key is None:
                continue
            inner, default = aexpr, None
            if aexpr[0] == "call" and aexpr[1] == "optional":
                inner = aexpr[2][0] if aexpr[2] else ("name", "any")
                if len(aexpr[2]) > 1:
                    try:
                        default = materialise(evaluate(aexpr[2][1], _LITERAL_SCOPE))
                    except EvalError:
                        default = None
                if out.get(key) is None:
                    out[key] = _type_defaults(inner, default)
                    continue
            if key in out:
                out[key] = _type_defaults(inner, out[key])
        return out
    if kind == "map" and isinstance(value, dict):
        return {k: _type_defaults(args[0], v) for k, v in value.items()}
    if kind in ("list", "set") and isinstance(value, list):
        return [_type_defaults(args[0], v) for v in value]
    if kind == "tuple" and args[0][0] == "tuple" and isinstance(value, list):
        return [_type_defaults(t, v) for t, v in zip(args[0][1], value, strict=False)] + value[len(args[0][1]):]
    return value


def _unknown_names(exp: _Expansion) -> dict[str, Any]:
    u = Unknown(exp.unknown or "unknown")
    if exp.mode == "count":
        return {"count": {"index": u}}
    return {"each": {"key": u, "value": u}}


class _RootEval:
    """Evaluates one root module and every module it calls."""

    def __init__(self, run: _Run, root: Path) -> None:
        self.run = run
        self.root = root
        self.root_rel = run.rel(root)
        ctx_fn = run.options.root_context
        self.context = ctx_fn(self.root_rel) if ctx_fn else None
        if self.context is not None:
            self._check_var_files(self.context)

    def _check_var_files(self, context: RootContext) -> None:
        """A var file the policy names for this root must be readable: a typo there, like one in
        ``--var-file``, is a usage error (exit 2), never a finding that hides what the file would set."""
        for p in context.var_files:
            full = p if p.is_absolute() else self.run.scan_root / p
            reason = ("no such file" if not full.exists() else "not a regular file" if not full.is_file()
                      else "not readable" if not os.access(full, os.R_OK) else None)
            if reason:
                raise ResidencyError(f"{context.source}: var_files {self.run.rel(full)} of root {self.root_rel}: "
                                     f"{reason}")

    def resources(self, keep: set[Path] | None = None, also_roots: frozenset[Path] = frozenset()) -> list[Resource]:
        """Every resource of the tree, or (``keep``) those of the instances of ``keep``'s dirs and below.

        A resource under an instance of a dir in ``also_roots`` (evaluated as a root of its own in this
        load) carries ``extra["also_root"] = (that dir, its instance's address prefix)``: the engine
        reports such a copy once when it is the same as the one the dir's own evaluation made.
        """
        inst = _Instance(self, self.run.config(self.root), None, "", (), {}, None, chain=(self.root,))
        out: list[Resource] = []
        inst.collect(out, keep, also_roots)
        translate_azapi(out)  # azapi_resource -> the azurerm type the catalog knows
        return out


class _Instance:
    """One instance of a module (the root, or ``module.a["x"]``) with its own variables and providers."""

    def __init__(self, root: _RootEval, cfg: _ModuleConfig, parent: _Instance | None, prefix: str,
                 key_path: tuple[str, ...], inputs: dict[str, Callable[[], Any]],
                 providers: dict[str, ProviderContext] | None, chain: tuple[Path, ...]) -> None:
        self.root = root
        self.run = root.run
        self.cfg = cfg
        self.parent = parent
        self.prefix = prefix
        self.key_path = key_path
        self.inputs = inputs
        self.chain = chain
        self.cache: dict[tuple, Any] = {}
        self.scope = Scope(self.lookup)
        self.root_vars = self._root_variables() if parent is None else None
        self.providers = self._own_providers(providers or {})
        self._children: dict[str, list[tuple[Any, _Instance]] | _Expansion] | None = None
        self._namespaces = {
            "var": _NS("var", self.var),
            "local": _NS("local", self.local),
            "module": _NS("module", self.module_value),
            "data": _NS("data", lambda t: _NS(f"data.{t}", lambda n: self.data_value(t, n))),
            "path": _NS("path", self.path_value),
            "terraform": _NS("terraform", self.terraform_value),
        }

    # ---- names -----------------------------------------------------------------------
    def lookup(self, name: str) -> Any:
        ns = self._namespaces.get(name)
        if ns is not None:
            return ns
        if name in self.cfg.resource_types:
            return _NS(name, lambda n: self.resource_value(name, n))
        if name in ("count", "each"):
            return Unknown(f"{name} is not available here")
        if name == "self":
            return Unknown("self is only known during provisioning")
        raise EvalError(f"reference to undeclared {name!r}")

    def path_value(self, name: str) -> Any:
        if name == "module":
            r = os.path.relpath(self.cfg.dir, self.root.root)
            return "." if r == "." else r.replace(os.sep, "/")
        if name == "root":
            return "."
        return Unknown(f"path.{name} depends on where Terraform runs")

    def terraform_value(self, name: str) -> Any:
        if name == "workspace":
            # Deliberately not "default": workspaces are how many teams pick a region per
            # environment, so assuming "default" would evaluate a branch real deploys never use.
            return Unknown("terraform.workspace depends on the selected workspace")
        return Unknown(f"terraform.{name} is not known statically")

    # ---- variables ---------------------------------------------------------------------
    def _var_type(self, name: str) -> str:
        decl = self.cfg.variables.get(name)
        if decl is None or "type" not in decl[0].attrs:
            return "any"
        t = decl[0].attrs["type"].expr
        if t[0] == "lit" and isinstance(t[1], str):
            return t[1].split("(", 1)[0].strip()
        if t[0] == "call":
            return t[1]
        if t[0] == "name":
            return t[1]
        return "any"

    def _convert(self, name: str, value: Any, from_string: bool, origin: str) -> Any:
        """Apply a variable's type to a value; strings from -var/env of complex types are HCL."""
        vtype = self._var_type(name)
        if from_string and isinstance(value, str) and vtype in _COMPLEX_TYPES:
            try:
                value = materialise(evaluate(parse_expression(value, origin), _LITERAL_SCOPE))
            except (ParseError, EvalError) as exc:
                return Unknown(f"var.{name} from {origin} is not valid HCL: {exc}")
        if isinstance(value, (Unknown, Ref)) or value is None:
            return value
        try:
            if vtype == "number" and isinstance(value, str):
                n = float(value)
                return int(n) if n.is_integer() else n
            if vtype == "bool" and isinstance(value, str):
                return {"true": True, "false": False}[value]
            if vtype == "string" and isinstance(value, (int, float, bool)):
                return to_string(value)
        except (ValueError, KeyError):
            return Unknown(f"var.{name} from {origin}: {value!r} is not a {vtype}")
        return value

    def _root_variables(self) -> dict[str, Any]:
        """Root variable values by Terraform's precedence (later sources win)."""
        run, d = self.run, self.cfg.dir
        values: dict[str, Any] = {}
        declared = self.cfg.variables
        env = run.options.env
        if env is not None:
            for k, raw in env.items():
                if k.startswith("TF_VAR_") and k[7:] in declared:
                    values[k[7:]] = self._convert(k[7:], raw, True, f"environment {k}")
        auto = [d / "terraform.tfvars", d / "terraform.tfvars.json"]
        with contextlib.suppress(OSError):
            auto += sorted((p for p in d.iterdir()
                            if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")) and p.is_file()),
                           key=lambda p: p.name)
        files = [p for p in auto if p.is_file()]
        ctx = self.root.context
        if ctx is not None:
            for p in ctx.var_files:
                files.append(p if p.is_absolute() else run.scan_root / p)
        for p in run.options.var_files:
            files.append(p if p.is_absolute() else Path.cwd() / p)
        for p in files:
            if not p.is_file():
                run.problem(Category.UNRESOLVED, run.rel(p), 1, f"variable file {run.rel(p)} does not exist",
                            "fix the --var-file path or the policy's terraform.roots var_files")
                continue
            pf = run.parse(p)
            if pf is None:
                continue
            for name, a in pf.attrs.items():
                if name in declared:
                    try:
                        v = materialise(evaluate(a.expr, _LITERAL_SCOPE))
                    except EvalError as exc:
                        v = Unknown(f"var.{name} in {run.rel(p)}: {exc}")
                    values[name] = self._convert(name, v, False, run.rel(p))
        for k, v in run.options.variables.items():
            if k in declared:
                values[k] = self._convert(k, v, True, "--var")
        return values

    def var(self, name: str) -> Any:
        def compute() -> Any:
            decl = self.cfg.variables.get(name)
            if decl is None:
                raise EvalError(f"var.{name} is not declared in {self.cfg.rel}")
            block = decl[0]
            have = False
            value: Any = None
            if self.root_vars is not None:
                if name in self.root_vars:
                    have, value = True, self.root_vars[name]
            elif name in self.inputs:
                have, value = True, self.inputs[name]()
            nullable = True
            if "nullable" in block.attrs:
                nullable = block.attrs["nullable"].expr != ("lit", False)
            texpr = block.attrs["type"].expr if "type" in block.attrs else None
            if have and not (value is None and not nullable and "default" in block.attrs):
                if self.root_vars is None:
                    value = self._convert(name, value, False, "module call")
                return _type_defaults(texpr, value)
            if "default" in block.attrs:
                return _type_defaults(texpr, evaluate(block.attrs["default"].expr, _LITERAL_SCOPE))
            where = f" ({self.prefix.rstrip('.')})" if self.prefix else ""
            return Unknown(f"var.{name} has no value{where}")

        return self.run.guarded((id(self), "var", name), f"{self.prefix}var.{name}", self.cache, compute)

    def local(self, name: str) -> Any:
        def compute() -> Any:
            if name not in self.cfg.locals:
                raise EvalError(f"local.{name} is not defined in {self.cfg.rel}")
            return evaluate(self.cfg.locals[name][0].expr, self.scope)

        return self.run.guarded((id(self), "local", name), f"local.{name}", self.cache, compute)

    # ---- providers ---------------------------------------------------------------------
    def _provider_context(self, block: Block, rel: str) -> ProviderContext:
        name = block.labels[0]
        alias_attr = block.attrs.get("alias")
        alias = static_ref(alias_attr.expr) if alias_attr else None
        key = f"{name}.{alias}" if alias else name
        source = f"provider {key} ({rel}:{block.line})"

        def ev(attr: str) -> Any:
            if attr not in block.attrs:
                return None
            try:
                return materialise(evaluate(block.attrs[attr].expr, self.scope))
            except EvalError as exc:
                return Unknown(f"provider {key} {attr}: {exc}")

        region = ev("region")
        zone = ev("zone")
        if name in _REGION_FROM_ENV and region is None:
            ctx = self.root.context
            if ctx is not None and ctx.region:
                region, source = ctx.region, ctx.source
            else:
                region = Unknown(f"provider {key} ({rel}:{block.line}) has no region argument "
                                 f"({_REGION_FROM_ENV[name]})")
        if name.startswith("google") and zone is None:
            zone = Unknown(f"provider {key} ({rel}:{block.line}) has no zone argument ({_ZONE_FROM_ENV})")
        tags: Any = None
        for nb in block.blocks:
            if nb.type == "default_tags" and "tags" in nb.attrs:
                try:
                    tags = materialise(evaluate(nb.attrs["tags"].expr, self.scope))
                except EvalError as exc:
                    tags = Unknown(f"provider {key} default_tags: {exc}")
        # Only the providers whose own argument says where data goes (DESTINATION_SETTINGS): evaluating every
        # provider's arguments (kubernetes host/exec, helm, aws assume_role) costs time and reads module outputs
        # that Terraform would order per resource (a cycle while the module calls are instantiated).
        settings = ({attr: ev(attr) for attr in block.attrs if attr not in ("alias", "region", "zone")}
                    if name in DESTINATION_SETTINGS else {})
        return ProviderContext(name=name, alias=alias, region=region, zone=zone, source=source,
                               default_tags=tags, settings=settings)

    def _own_providers(self, passed: dict[str, ProviderContext]) -> dict[str, ProviderContext]:
        provs = dict(passed)
        self._provider_blocks: dict[str, tuple[Block, str]] = {}
        for block, rel in self.cfg.providers:
            alias_attr = block.attrs.get("alias")
            alias = static_ref(alias_attr.expr) if alias_attr else None
            key = f"{block.labels[0]}.{alias}" if alias else block.labels[0]
            self._provider_blocks[key] = (block, rel)
            provs.pop(key, None)  # a provider block in the module itself wins (legacy modules)
        return provs

    def provider(self, key: str) -> ProviderContext:
        """The configuration ``key`` (``aws`` / ``aws.us``) as seen from this module instance."""
        if key in self.providers:
            return self.providers[key]

        def compute() -> ProviderContext:
            if key in self._provider_blocks:
                block, rel = self._provider_blocks[key]
                return self._provider_context(block, rel)
            name, _, alias = key.partition(".")
            if self.parent is not None and self.passed_explicitly:
                reason = f"provider {key} is not passed to {self.prefix.rstrip('.')} (its providers map)"
                return ProviderContext(name, alias or None, Unknown(reason), None, "")
            if alias and self.parent is not None:
                reason = (f"provider {key} is not passed to {self.prefix.rstrip('.')} "
                          "(aliased configurations are never inherited)")
                return ProviderContext(name, alias, Unknown(reason), None, "")
            if alias:
                return ProviderContext(name, alias, Unknown(f"provider {key} is not configured"), None, "")
            if name in _REGION_FROM_ENV:
                ctx = self.root.context
                if ctx is not None and ctx.region:
                    return ProviderContext(name, None, ctx.region, None, ctx.source)
                reason = f"no provider block for {name} ({_REGION_FROM_ENV[name]})"
                zone = None
                if name.startswith("google"):
                    zone = Unknown(f"no provider block for {name} ({_ZONE_FROM_ENV})")
                return ProviderContext(name, None, Unknown(reason), zone, "")
            return ProviderContext(name, None, None, None, "")

        ctx = self.run.guarded((id(self), "provider", key), f"provider {key}", self.cache, compute)
        if isinstance(ctx, Unknown):
            # A cycle: the configuration reads a module that inherits it (region = module.x.region, passed
            # to module x itself). That module's view of the provider is unknown; the outer read goes on.
            name, _, alias = key.partition(".")
            return ProviderContext(name, alias or None, ctx, None, "")
        self.providers[key] = ctx
        return ctx

    passed_explicitly = False

    def _provider_key_for(self, block: Block, rtype: str) -> str:
        if "provider" in block.attrs:
            ref = static_ref(block.attrs["provider"].expr)
            if ref:
                return ref
        return rtype.split("_", 1)[0]

    # ---- resources -------------------------------------------------------------------
    def expansion(self, kind: str, key: tuple, block: Block) -> _Expansion:
        return self.run.guarded((id(self), kind, "expansion", key), f"{kind} expansion", self.cache,
                                lambda: _expand(block, self.scope,
                                                min(self.run.options.max_instances,
                                                    max(self.run.instance_budget, 0))))

    def resource_value(self, rtype: str, name: str) -> Any:
        entry = self.cfg.resources.get((rtype, name))
        if entry is None:
            raise EvalError(f"reference to undeclared resource {rtype}.{name}")
        block = entry[0]
        base = f"{self.prefix}{rtype}.{name}"
        exp = self.expansion("resource", (rtype, name), block)
        return _ResourceValue(self, block, base, exp)

    def instance_attrs(self, block: Block, address: str, names: dict[str, Any]) -> dict[str, Any]:
        """All evaluated arguments of one resource instance (memoised: references reuse them)."""
        return self.run.guarded((id(self), "attrs", address), address, self.cache,
                                lambda: self._eval_body(block, self.scope.child(names), top=True))

    def instance_arg(self, block: Block, address: str, names: dict[str, Any], arg: str) -> Any:
        if arg in block.attrs and arg not in _META_ARGS:
            scope = self.scope.child(names)
            return self.run.guarded((id(self), "arg", address, arg), f"{address}.{arg}", self.cache,
                                    lambda: evaluate(block.attrs[arg].expr, scope))
        if any(b.type == arg or (b.type == "dynamic" and b.labels[:1] == (arg,)) for b in block.blocks):
            return self.instance_attrs(block, address, names).get(arg, [])
        default = self._provider_default(block, address, names, arg)
        return default if default is not None else Ref(address, arg)

    def _provider_default(self, block: Block, address: str, names: dict[str, Any], arg: str) -> Any:
        """An unset location argument read from another resource is its provider's (Optional+Computed).

        AWS v6 ``region`` (and ``aws_s3_bucket.bucket_region``) and Google ``region``/``zone`` default to
        the provider configuration's; Terraform shows them in state so ``aws_s3_bucket.src.region`` is
        the provider region, not a value known only after apply. None when nothing is defaulted.
        """
        rtype = block.labels[0] if block.labels else ""
        family = rtype.split("_", 1)[0]
        if family == "aws" and arg in ("region", "bucket_region"):
            if arg == "bucket_region" and "region" in block.attrs:
                return self.instance_arg(block, address, names, "region")
            prov = self.provider(self._provider_key_for(block, rtype))
            return prov.region if prov.region is not None else None
        if family == "google" and arg in ("region", "zone"):
            prov = self.provider(self._provider_key_for(block, rtype))
            value = prov.region if arg == "region" else prov.zone
            return value if value is not None else None
        return None

    def _eval_body(self, block: Block, scope: Scope, top: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, a in block.attrs.items():
            if top and name in _META_ARGS:
                continue
            try:
                out[name] = materialise(evaluate(a.expr, scope))
            except EvalError as exc:
                out[name] = Unknown(f"{name}: {exc}")
        for nb in block.blocks:
            if top and nb.type in _META_ARGS:
                continue
            if nb.type == "dynamic" and nb.labels:
                label = nb.labels[0]
                existing = out.get(label)
                lst = existing if isinstance(existing, list) else []
                dyn = self._eval_dynamic(nb, scope)
                if isinstance(dyn, Unknown):
                    out[label] = dyn
                    continue
                lst.extend(dyn)
                out[label] = lst
                continue
            existing = out.get(nb.type)
            if isinstance(existing, Unknown):
                continue
            out.setdefault(nb.type, []).append(self._eval_body(nb, scope))
        return out

    def _eval_dynamic(self, nb: Block, scope: Scope) -> list[dict[str, Any]] | Unknown:
        label = nb.labels[0]
        it_attr = nb.attrs.get("iterator")
        iterator = static_ref(it_attr.expr) if it_attr else label
        if "for_each" not in nb.attrs:
            return Unknown(f"dynamic {label} has no for_each")
        try:
            coll = materialise(evaluate(nb.attrs["for_each"].expr, scope))
        except EvalError as exc:
            return Unknown(f"dynamic {label} for_each: {exc}")
        if isinstance(coll, (Unknown, Ref)):
            return Unknown(_reason(coll, f"dynamic {label} for_each"))
        if isinstance(coll, dict):
            pairs = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            return Unknown(f"dynamic {label} for_each is not a collection")
        content = next((b for b in nb.blocks if b.type == "content"), None)
        if content is None:
            return []
        return [self._eval_body(content, scope.child({iterator or label: {"key": k, "value": v}}))
                for k, v in pairs]

    # ---- data sources ----------------------------------------------------------------
    def data_value(self, dtype: str, name: str) -> Any:
        entry = self.cfg.data.get((dtype, name))
        address = f"{self.prefix}data.{dtype}.{name}"
        if entry is None:
            raise EvalError(f"reference to undeclared data source data.{dtype}.{name}")
        return _DataValue(self, entry[0], address, dtype)

    # ---- modules -----------------------------------------------------------------------
    def children(self) -> dict[str, list[tuple[Any, _Instance]] | _Expansion]:
        """Every module call's instances, in declaration order."""
        return {name: self.child(name) for name in self.cfg.modules}

    def child(self, name: str) -> list[tuple[Any, _Instance]] | _Expansion:
        """One module call's instances, made on first use.

        Per call, not all at once: instantiating a call evaluates its count/for_each and the providers it
        inherits, which may read another call's outputs (``provider "kubernetes" { host =
        module.eks.cluster_endpoint }``, ``region = module.config.region``); a call made on demand answers
        that read instead of a half-built table (a KeyError, exit 3, on terraform-aws-eks's tests).
        """
        if self._children is None:
            self._children = {}
        got = self._children.get(name)
        if got is None:
            block, rel = self.cfg.modules[name]
            got = self._children[name] = self._instantiate(name, block, rel)
        return got

    def _resolve_source(self, name: str, block: Block, rel: str) -> Path | None:
        run = self.run
        src_attr = block.attrs.get("source")
        src = src_attr.expr[1] if src_attr and src_attr.expr[0] == "lit" else None
        addr = f"{self.prefix}module.{name}"
        if not isinstance(src, str):
            run.problem(Category.UNRESOLVED, rel, block.line, f"module {addr} has no literal source",
                        "give the module block a literal source", addr, "module")
            return None
        if _local_source(src):
            target = (self.cfg.dir / src).resolve()
            if run.record is not None:
                run.record.dirs.setdefault(target, None)  # a missing module dir that appears changes the root
        else:
            manifest = run.manifest(self.root.root)
            key = ".".join((*self.key_path, name))
            if manifest is None or key not in manifest:
                run.missing_modules[(self.root.root, addr)] = src
                version = block.attrs.get("version")
                pinned = (f" (version {version.expr[1]})" if version is not None and version.expr[0] == "lit"
                          and isinstance(version.expr[1], str) else "")
                where = run.rel(self.root.root) or "."
                why = ("no .terraform/modules/modules.json" if manifest is None
                       else f"modules.json has no entry {key!r}")
                run.problem(Category.UNRESOLVED, rel, block.line,
                            f"module source {src}{pinned} is not on disk ({why}): what it declares and outputs is "
                            f"unknown; run `terraform init -backend=false` in {where}, or scan the plan",
                            f"run `terraform init -backend=false` (or `terraform get`: modules only) in {where} "
                            "before scanning (no backend, no credentials), or scan `terraform show -json` output; "
                            "a module holding no data store can be listed in the policy's "
                            "terraform.no_data_modules, and terraform.registry_modules: warn shows such calls "
                            "without blocking (pre-commit)",
                            addr, "module", module_source=src)
                return None
            target = (self.root.root / manifest[key]).resolve()
        if not target.is_relative_to(run.scan_root):
            run.problem(Category.UNRESOLVED, rel, block.line,
                        f"module source {src} resolves outside the scan root; refused",
                        "scan from a directory that contains the module, or scan the plan", addr, "module")
            return None
        if not target.is_dir():
            run.problem(Category.UNRESOLVED, rel, block.line, f"module source {src} does not exist",
                        "fix the module source path", addr, "module")
            return None
        if target in self.chain:
            cycle = " -> ".join(run.rel(p) for p in (*self.chain, target))
            run.problem(Category.UNRESOLVED, rel, block.line, f"module cycle: {cycle}",
                        "break the cycle of module calls", addr, "module")
            return None
        return target

    def _instantiate(self, name: str, block: Block, rel: str) -> list[tuple[Any, _Instance]] | _Expansion:
        exp = self.expansion("module", (name,), block)
        if exp.unknown is None and not exp.too_many and not exp.items:
            return []  # count = 0 / empty for_each (a create_* switch that is off): nothing to load
        target = self._resolve_source(name, block, rel)
        if target is None:
            return []
        cfg = self.run.config(target)
        base = f"{self.prefix}module.{name}"
        if exp.too_many and self.run.instance_budget < exp.too_many <= self.run.options.max_instances:
            self.run.budget_exhausted(rel, block.line, base, "module")
            return []
        if exp.too_many:
            self.run.problem(Category.UNRESOLVED, rel, block.line,
                             f"{base} expands to {exp.too_many} instances "
                             f"(limit {self.run.options.max_instances})",
                             "lower the count or raise the instance limit", base, "module")
            return []
        items = exp.items if exp.unknown is None else [(None, _unknown_names(exp))]
        if not self.run.spend(len(items), rel, block.line, base, "module"):
            return []
        passed, explicit = self._passed_providers(block)
        out: list[tuple[Any, _Instance]] = []
        for key, names in items:
            addr = base + (_instance_key(key) if key is not None else "")
            scope = self.scope.child(names)
            inputs = {arg: self._input_thunk(a, scope, f"{addr}.{arg}")
                      for arg, a in block.attrs.items() if arg not in _MODULE_META}
            child = _Instance(self.root, cfg, self, addr + ".", (*self.key_path, name), inputs, dict(passed),
                              (*self.chain, target))
            child.passed_explicitly = explicit
            if exp.unknown is not None:
                child.expansion_unknown = exp.unknown
            out.append((key, child))
        return out

    def _input_thunk(self, a: Attr, scope: Scope, label: str) -> Callable[[], Any]:
        cache: dict[tuple, Any] = {}
        return lambda: self.run.guarded((id(cache),), label, cache, lambda: evaluate(a.expr, scope))

    def _passed_providers(self, block: Block) -> tuple[dict[str, ProviderContext], bool]:
        if "providers" in block.attrs:
            expr = block.attrs["providers"].expr
            out: dict[str, ProviderContext] = {}
            if expr[0] == "obj":
                for kexpr, vexpr in expr[1]:
                    k, v = static_ref(kexpr), static_ref(vexpr)
                    if k and v:
                        out[k] = self.provider(v)  # the parent's configuration, with its provenance
            return out, True
        out = {}
        for key in list(self._provider_blocks) + list(self.providers):
            if "." not in key:
                out[key] = self.provider(key)
        return out, False

    def module_value(self, name: str) -> Any:
        if name not in self.cfg.modules:
            raise EvalError(f"reference to undeclared module module.{name}")
        kids = self.child(name)
        block = self.cfg.modules[name][0]
        mode = "count" if "count" in block.attrs else "for_each" if "for_each" in block.attrs else "single"
        value = _ModuleValue(self, name, kids, mode)
        exp = self.expansion("module", (name,), block)
        value.empty = exp.unknown is None and not exp.too_many and not exp.items
        return value

    def output(self, name: str) -> Any:
        def compute() -> Any:
            entry = self.cfg.outputs.get(name)
            if entry is None:
                raise EvalError(f"{self.prefix}module has no output {name!r}")
            if "value" not in entry[0].attrs:
                return None
            return evaluate(entry[0].attrs["value"].expr, self.scope)

        label = f"{self.prefix}output.{name}"
        return self.run.guarded((id(self), "output", name), label, self.cache, compute)

    expansion_unknown: str | None = None

    # ---- producing Resources ------------------------------------------------------------
    def collect(self, out: list[Resource], keep: set[Path] | None = None,
                also_roots: frozenset[Path] = frozenset(), marker: tuple[str, str] | None = None) -> None:
        """This instance's resources and its children's; with ``keep``, only under instances of those dirs."""
        if keep is not None and self.cfg.dir in keep:
            keep = None  # inside a kept instance: everything below it counts
        if self.parent is not None and self.cfg.dir in also_roots:
            marker = (self.cfg.rel, self.prefix)
        if keep is None:
            self._collect_own(out, marker)
        for _name, kids in self.children().items():
            if isinstance(kids, _Expansion):
                continue
            for _key, child in kids:
                child.collect(out, keep, also_roots, marker)

    def _collect_own(self, out: list[Resource], marker: tuple[str, str] | None) -> None:
        run = self.run
        limit = run.options.max_instances
        for (rtype, name), (block, rel) in self.cfg.resources.items():
            base = f"{self.prefix}{rtype}.{name}"
            exp = self.expansion("resource", (rtype, name), block)
            if exp.too_many and run.instance_budget < exp.too_many <= run.options.max_instances:
                run.budget_exhausted(rel, block.line, base, rtype)
                continue
            if exp.too_many:
                run.problem(Category.UNRESOLVED, rel, block.line,
                            f"{base} expands to {exp.too_many} instances (limit {limit})",
                            "lower the count or raise the instance limit", base, rtype)
                continue
            provider = self.provider(self._provider_key_for(block, rtype))
            comments = _comments_for(self.cfg.comments.get(rel, []), block.line, block.end_line)
            items = exp.items if exp.unknown is None else [(None, _unknown_names(exp))]
            if not run.spend(len(items), rel, block.line, base, rtype):
                continue
            lines = attribute_lines(block) if rtype in run.options.attribute_lines else None
            for key, names in items:
                address = base + (_instance_key(key) if key is not None else "")
                attrs = self.instance_attrs(block, address, names)
                if isinstance(attrs, Unknown):
                    attrs = {"__unknown__": attrs}
                extra: dict[str, Any] = {"comments": comments}
                documents = document_lines(block, attrs)  # where a policy argument's statements are written
                if documents:
                    extra["document_lines"] = documents
                if lines is not None:
                    extra["attribute_lines"] = lines  # shared by every instance of the block
                if marker is not None:
                    extra["also_root"] = marker
                reason = exp.unknown or self._expansion_chain_unknown()
                if reason:
                    extra["expansion_unknown"] = reason
                out.append(Resource(type=rtype, address=address, file=rel, line=block.line, attributes=attrs,
                                    source="terraform", provider=provider, module_dir=self.cfg.rel,
                                    root_dir=self.root.root_rel, end_line=block.end_line, extra=extra))

    def _expansion_chain_unknown(self) -> str | None:
        inst: _Instance | None = self
        while inst is not None:
            if inst.expansion_unknown:
                return inst.expansion_unknown
            inst = inst.parent
        return None


def attribute_lines(block: Block) -> dict[str, int]:
    """Where each argument and nested block of a resource block is written, by path.

    Keys are ``name`` for an argument, ``block[i]`` for the i-th nested block of a type and
    ``block[i].name`` inside it (``http_endpoint_configuration[0].url``). ``dynamic`` blocks are
    left out: their instances are not written anywhere one line could name.
    """
    out: dict[str, int] = {}

    def walk(b: Block, prefix: str) -> None:
        for name, attr in b.attrs.items():
            out[prefix + name] = attr.line
        seen: dict[str, int] = {}
        for child in b.blocks:
            if child.type == "dynamic":
                continue
            i = seen[child.type] = seen.get(child.type, -1) + 1
            key = f"{prefix}{child.type}[{i}]"
            out[key] = child.line
            walk(child, key + ".")

    walk(block, "")
    return out


def _comments_for(comments: list[tuple[int, str]], line: int, end_line: int) -> list[tuple[int, str]]:
    """Comments on the contiguous lines directly above a block, plus those inside it."""
    if not comments:
        return []
    by_end: dict[int, tuple[int, str]] = {}
    for c_line, text in comments:
        by_end[c_line + text.count("\n")] = (c_line, text)
    above: list[tuple[int, str]] = []
    expect = line - 1
    while expect in by_end:
        c = by_end[expect]
        above.append(c)
        expect = c[0] - 1
    inside = [c for c in comments if line <= c[0] <= end_line]
    return sorted(above) + inside


class _ResourceValue(Lazy):
    """``aws_s3_bucket.b``: one instance, or a list/map of instances with count/for_each."""

    def __init__(self, inst: _Instance, block: Block, base: str, exp: _Expansion) -> None:
        self.inst, self.block, self.base, self.exp = inst, block, base, exp

    def _one(self) -> _ResourceInstance:
        names = _unknown_names(self.exp) if self.exp.unknown else {}
        return _ResourceInstance(self.inst, self.block, self.base, names)

    def attr(self, name: str) -> Any:
        if self.exp.mode == "single" or self.exp.unknown:
            return self._one().attr(name)
        raise EvalError(f"{self.base} has {self.exp.mode}: refer to one instance, e.g. {self.base}[0].{name}")

    def index(self, key: Any) -> Any:
        if self.exp.unknown:
            return Unknown(self.exp.unknown)
        if self.exp.mode == "single":
            raise EvalError(f"{self.base} has no count or for_each")
        for k, names in self.exp.items:
            if k == key or (self.exp.mode == "count" and isinstance(key, (int, float)) and k == int(key)):
                return _ResourceInstance(self.inst, self.block, self.base + _instance_key(k), names)
        raise EvalError(f"{self.base} has no instance {key!r}")

    def collection(self) -> Any:
        if self.exp.unknown:
            return Unknown(self.exp.unknown)
        if self.exp.too_many:
            return Unknown(f"{self.base} has too many instances to evaluate")
        if self.exp.mode == "single":
            return self._one().collection()
        made = [(k, _ResourceInstance(self.inst, self.block, self.base + _instance_key(k), n))
                for k, n in self.exp.items]
        if self.exp.mode == "count":
            return [r for _, r in made]
        return {k: r for k, r in made}

    def materialise(self) -> Any:
        if self.exp.mode == "single" and not self.exp.unknown:
            return Ref(self.base)
        c = self.collection()
        return materialise(c) if not isinstance(c, Unknown) else c


class _ResourceInstance(Lazy):
    def __init__(self, inst: _Instance, block: Block, address: str, names: dict[str, Any]) -> None:
        self.inst, self.block, self.address, self.names = inst, block, address, names

    def attr(self, name: str) -> Any:
        v = self.inst.instance_arg(self.block, self.address, self.names, name)
        if type(v) is Unknown:
            # the value is unknown, but the reference names this resource (a Cosmos account whose name has a
            # random suffix still is the account its databases' account_name refers to)
            return Named(v.reason, self.address)
        return v

    def collection(self) -> Any:
        return self.inst.instance_attrs(self.block, self.address, self.names)

    def materialise(self) -> Any:
        return Ref(self.address)


#: data sources the provider computes from their own blocks: type -> (attributes, builder)
_POLICY_DOCUMENTS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any], Block, str], Any]]] = {
    "aws_iam_policy_document": (("json", "minified_json"), aws_policy_document),
    "google_iam_policy": (("policy_data",), google_policy_data),
}


def _aws_partition(region: str) -> str:
    """The AWS partition a Region belongs to (``data.aws_partition``, ARNs the provider builds)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class _DataValue(Lazy):
    """A data source: the few that only echo provider configuration resolve, the rest are Unknown."""

    def __init__(self, inst: _Instance, block: Block, address: str, dtype: str) -> None:
        self.inst, self.block, self.address, self.dtype = inst, block, address, dtype
        self._key = (dtype, block.labels[1])  # cfg.data key: the file the block is written in

    def _unknown(self) -> Unknown:
        return Unknown(f"data source {self.address} is not evaluated statically")

    def _provider(self) -> ProviderContext:
        return self.inst.provider(self.inst._provider_key_for(self.block, self.dtype))

    def _own(self, arg: str) -> Any:
        if arg in self.block.attrs:
            return evaluate(self.block.attrs[arg].expr, self.inst.scope)
        return None

    def attr(self, name: str) -> Any:
        if self.dtype == "aws_region" and name in ("name", "region", "id"):
            own = self._own("region") if "region" in self.block.attrs else self._own("name")
            return own if own is not None else self._provider().region
        if self.dtype == "aws_partition" and name in ("partition", "id", "dns_suffix"):
            region = self._provider().region
            if not isinstance(region, str):
                return region if isinstance(region, Unknown) else self._unknown()
            if name == "dns_suffix":  # the partition's service domain (``dnssec-route53.${dns_suffix}``)
                return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
            return _aws_partition(region)
        if self.dtype == "aws_elb_service_account" and name in ("arn", "id"):
            return self._elb_service_account(name)
        if self.dtype == "aws_kms_alias" and name in ("arn", "id", "name"):
            alias = self._own("name")
            if isinstance(alias, str) and alias.startswith("alias/aws/"):
                # an AWS-managed key's alias: the account is unknown, the alias (what matters) is not
                if name == "name":
                    return alias
                region = self._provider().region
                shown = region if isinstance(region, str) else "${region}"
                return Partial(f"data source {self.address}.{name} is not evaluated statically",
                               f"arn:aws:kms:{shown}:${{account}}:{alias}")
        if self.dtype == "google_client_config" and name in ("region", "zone"):
            prov = self._provider()
            return prov.region if name == "region" else prov.zone
        if self.dtype in _POLICY_DOCUMENTS and name in _POLICY_DOCUMENTS[self.dtype][0]:
            return self.inst.run.guarded((id(self.inst), "data", self.address), self.address, self.inst.cache,
                                         lambda: _POLICY_DOCUMENTS[self.dtype][1](
                                             self.inst._eval_body(self.block, self.inst.scope, top=True),
                                             self.block, self.inst.cfg.data[self._key][1]))
        if self.dtype == "google_project" and "project_id" in self.block.attrs:
            if name in ("project_id", "name"):
                return self._own("project_id")
            return self._unknown()
        own_self = self_value(self.dtype, name, self.address)  # the identity Terraform runs as
        if own_self is not None:
            return own_self
        return self._unknown()

    def _elb_service_account(self, name: str) -> Any:
        """``arn``/``id`` of ``data "aws_elb_service_account"``, as the provider computes them, offline.

        The provider looks its own table up (the ``region`` argument, else the provider's region) and builds
        ``arn:<provider partition>:iam::<account>:root``; a Region without an account is an error there
        ("unsupported AWS Region"), so here it stays Unknown with that reason: RES006 fails closed on it.
        """
        region = self._own("region") if "region" in self.block.attrs else None
        if region is None:
            region = self._provider().region
        if isinstance(region, Unknown):
            return Unknown(f"data source {self.address}: region unknown ({region.reason})")
        if not isinstance(region, str):
            return Unknown(f"data source {self.address}: no region (neither its region argument nor its provider's)")
        account = elb_log_account(region)
        if account is None:
            return Unknown(f"data source {self.address}: no Elastic Load Balancing log-delivery account for region "
                           f"{region!r} (Regions opened since August 2022 use the service principal "
                           "logdelivery.elasticloadbalancing.amazonaws.com)")
        if name == "id":
            return account
        provider_region = self._provider().region
        partition = _aws_partition(provider_region if isinstance(provider_region, str) else region)
        return f"arn:{partition}:iam::{account}:root"

    def index(self, key: Any) -> Any:
        return _DataValue(self.inst, self.block, self.address + _instance_key(key), self.dtype)

    def collection(self) -> Any:
        return self._unknown()

    def materialise(self) -> Any:
        return self._unknown()


class _ModuleValue(Lazy):
    """``module.m``: the outputs of one child instance, or a list/map of them."""

    empty = False  # count = 0 or an empty for_each: no instances, which is a known value

    def __init__(self, inst: _Instance, name: str, kids: Any, mode: str) -> None:
        self.inst, self.name, self.kids, self.mode = inst, name, kids, mode

    def _unresolved(self) -> Any:
        if self.empty:
            raise EvalError(f"module.{self.name} has no instances")
        addr = f"{self.inst.prefix}module.{self.name}"
        src = self.inst.run.missing_modules.get((self.inst.root.root, addr))
        if src is not None:
            return Unknown(f"module {addr} could not be loaded: its source {src} is not on disk "
                           "(run `terraform init -backend=false`)")
        return Unknown(f"module {addr} could not be loaded")

    def attr(self, name: str) -> Any:
        if not self.kids:
            return self._unresolved()
        if self.mode == "single" or self.kids[0][1].expansion_unknown:
            return self.kids[0][1].output(name)
        raise EvalError(f"module.{self.name} has {self.mode}: refer to one instance")

    def index(self, key: Any) -> Any:
        if not self.kids:
            return self._unresolved()
        if self.kids[0][1].expansion_unknown:
            return Unknown(self.kids[0][1].expansion_unknown)
        for k, child in self.kids:
            if k == key or (isinstance(key, float) and k == int(key)):
                return _NS(f"module.{self.name}", child.output)
        raise EvalError(f"module.{self.name} has no instance {key!r}")

    def collection(self) -> Any:
        if not self.kids:
            if self.empty:
                return [] if self.mode == "count" else {}
            return self._unresolved()
        if self.mode == "single":
            child = self.kids[0][1]
            return {n: child.output(n) for n in child.cfg.outputs}
        if self.kids[0][1].expansion_unknown:
            return Unknown(self.kids[0][1].expansion_unknown)
        made = [(k, {n: c.output(n) for n in c.cfg.outputs}) for k, c in self.kids]
        return [m for _, m in made] if self.mode == "count" else {k: m for k, m in made}

    def materialise(self) -> Any:
        c = self.collection()
        return c if isinstance(c, Unknown) else materialise(c)


def _no_reference(name: str) -> Any:
    raise EvalError(f"{name} cannot be referenced here (only literal values)")


_LITERAL_SCOPE = Scope(_no_reference)


__all__ = ["ModuleGraph", "RootContext", "TerraformOptions", "discover_modules", "load_terraform"]
