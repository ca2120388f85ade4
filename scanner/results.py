"""Judged results per unit (a Terraform root, the Kubernetes manifests), reused while no input changed.

A warm scan should cost discovery plus a look-up per unit, not a parse, an evaluation and a judgement
of every file. So the engine judges each unit on its own (:class:`UnitResult`: findings with waivers
applied, notes, counts) and this module keeps those results in the parse cache's directory, under
the cache's rules (scanner/cache.py): keyed digest per entry, shape check on read, a forged, copied,
truncated or wrong-shaped entry is a miss, never a result; the same size cap and eviction.

The key of a unit holds everything that shapes its result and is known before evaluating it: the
scanner's and the rules' code (:func:`code_fingerprint`), the policy's digest, the options (limits,
``--fail-on``, variables, var files by content, TF_VAR_* when read, the working directory), the
unit's identity (root dir and the module dirs kept) and, for the Kubernetes unit, the content of
every manifest. What is only known after evaluating a Terraform root (the files it parsed, the
directories whose listings it used, ``modules.json``) is stored in the entry and re-hashed before a
hit is trusted: content hashes, never mtimes. The Terraform module graph (which dirs are roots) is
cached by the hash of every Terraform file the loader's walk can see, so a new caller anywhere
changes the plan of roots. Waiver expiry dates the result depends on are stored too: an entry made
before a waiver expired is not reused after.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import checks
import scanner
from scanner.cache import ParseCache
from scanner.model import Finding, LoadResult, Note, Problem
from scanner.parse_pool import _AUTO_VARS, _TF_CONFIG, _TF_INPUTS, _digest, _listing, _sorted_files, _tree_state
from scanner.roots import rel_name

_CODE_SUFFIXES = (".py", ".yaml", ".yml", ".json")


@dataclass
class UnitResult:
    """One unit's judged share of a scan: what the Report is made of, without the baseline.

    ``findings`` have waivers applied; ``keyed`` findings are kept once across units by their key
    (a loader problem or an inline waiver seen by several roots through a shared module). Notes are
    kept in three lists so the report orders them as a whole-scan run did: loader notes, then
    unknown-type notes, then the rules' notes. ``file_names`` (Terraform) are counted as a union
    across units (a shared module file counts once). ``root_dir`` names a Terraform root (a plan that
    ``covers`` it wins over it); ``dates`` are the waiver expiry dates the result depends on and
    ``made_on`` the day it was judged (a cached result is valid on another day only when no expiry
    falls between). ``facts`` are kept only when asked (inventory), never cached.
    """

    kind: str
    findings: list[Finding] = field(default_factory=list)
    keyed: list[tuple[tuple, Finding]] = field(default_factory=list)
    loader_notes: list[Note] = field(default_factory=list)
    unknown_notes: list[Note] = field(default_factory=list)
    eval_notes: list[Note] = field(default_factory=list)
    files: int = 0
    file_names: tuple[str, ...] = ()
    resources: int = 0
    unknown: int = 0
    stores: int = 0
    root_dir: str | None = None
    covers: dict[str, str] = field(default_factory=dict)
    made_on: str = ""
    dates: tuple[str, ...] = ()
    idents: frozenset[str] = frozenset()  # a root's own resources (resource_ident), for a caller's dedupe
    collapsed: list[tuple[str, str]] = field(default_factory=list)  # (caller, dir) reported once from dir
    facts: list[Any] = field(default_factory=list)

    def valid_on(self, today: date) -> bool:
        """Whether every waiver expiry it depends on is on the same side of ``today`` as of ``made_on``."""
        try:
            made = date.fromisoformat(self.made_on)
            return all((made > x) == (today > x) for x in map(date.fromisoformat, self.dates))
        except ValueError:
            return False


def _notes_ok(notes: Any) -> bool:
    return isinstance(notes, list) and all(isinstance(n, Note) for n in notes)


def unit_shape(value: Any) -> bool:
    """Whether a cache entry has the shape of a unit result: (inputs, listings, UnitResult)."""
    if not (isinstance(value, tuple) and len(value) == 3):
        return False
    inputs, listings, r = value
    return (isinstance(inputs, list) and all(isinstance(i, tuple) and len(i) == 2 for i in inputs)
            and isinstance(listings, list) and all(isinstance(d, tuple) and len(d) == 2 for d in listings)
            and isinstance(r, UnitResult) and isinstance(r.kind, str)
            and isinstance(r.findings, list) and all(isinstance(f, Finding) for f in r.findings)
            and isinstance(r.keyed, list)
            and all(isinstance(k, tuple) and len(k) == 2 and isinstance(k[1], Finding) for k in r.keyed)
            and _notes_ok(r.loader_notes) and _notes_ok(r.unknown_notes) and _notes_ok(r.eval_notes)
            and all(isinstance(n, int) for n in (r.files, r.resources, r.unknown, r.stores))
            and isinstance(r.file_names, tuple) and all(isinstance(n, str) for n in r.file_names)
            and isinstance(r.covers, dict) and isinstance(r.made_on, str) and isinstance(r.dates, tuple)
            and isinstance(r.idents, frozenset) and all(isinstance(i, str) for i in r.idents)
            and isinstance(r.collapsed, list) and all(isinstance(c, tuple) and len(c) == 2 for c in r.collapsed)
            and not r.facts)


@cache
def code_fingerprint() -> str:
    """Hash of the scanner's and the rules' sources and data (catalog, type classes, tables).

    The parse cache's fingerprint covers the scanner package only; a judged result also depends on
    ``checks/`` (rules, catalog, datastores.yaml), so both are hashed here.
    """
    h = hashlib.blake2b(digest_size=16)
    for package in (Path(scanner.__file__).resolve().parent, Path(checks.__file__).resolve().parent):
        for path in sorted(package.rglob("*")):
            if path.suffix not in _CODE_SUFFIXES or "__pycache__" in path.parts:
                continue
            h.update(path.relative_to(package.parent).as_posix().encode())
            try:
                h.update(path.read_bytes())
            except OSError:
                h.update(b"?")
    return h.hexdigest()


class ResultCache:
    """Unit results in a :class:`ParseCache`'s directory; ``salt`` is what every unit's key holds."""

    def __init__(self, cache: ParseCache, salt: str, today: date) -> None:
        self.cache = cache
        self.salt = salt
        self.today = today
        self.hits = 0
        self.misses = 0

    def key(self, kind: str, material: Any) -> str:
        return self.cache.key("result:" + kind, repr((code_fingerprint(), self.salt, material)).encode())

    def get(self, key: str, verify: Callable[[list, list], bool] = lambda i, d: True) -> UnitResult | None:
        """The unit's result when the entry is ours, well-shaped, still true of the inputs and of today."""
        entry = self.cache.get(key, unit_shape)
        if entry is not None:
            inputs, listings, result = entry
            if result.valid_on(self.today) and verify(inputs, listings):
                self.hits += 1
                return result
        self.misses += 1
        return None

    def put(self, key: str, result: UnitResult, inputs: list[tuple[str, str]] = (),  # type: ignore[assignment]
            listings: list[tuple[str, tuple[str, ...]]] = ()) -> None:  # type: ignore[assignment]
        if result.facts:
            return  # an inventory's result holds facts: not cached
        self.cache.put(key, (list(inputs), list(listings), result))


# --------------------------------------------------------------------------------------------
# Terraform: one unit per evaluation root
# --------------------------------------------------------------------------------------------

class TreeState:
    """Content hashes of every Terraform file the loader's walk sees, and each directory's file list."""

    def __init__(self, root: Path, accept: Callable[[Path], bool]) -> None:
        self.root = root
        self.accept = accept
        self.state = _tree_state(root, accept)
        self.digests: dict[str, str] = {}
        self.listings: dict[str, tuple[str, ...]] = {}
        top = str(root)
        for rel_dir, entries in self.state:  # strings, not Paths: a warm scan does this for every file
            here = top if rel_dir == "." else os.path.join(top, rel_dir)
            names = []
            for name, digest in entries:
                self.digests[os.path.join(here, name)] = digest
                names.append(name)
            self.listings[here] = _tf_names(names)
        self.digest_of_all = hashlib.blake2b(repr(self.state).encode(), digest_size=16).hexdigest()

    def digest(self, path: str) -> str:
        found = self.digests.get(path)
        return found if found is not None else _digest(Path(path), self.accept)

    def listing(self, d: str) -> tuple[str, ...]:
        found = self.listings.get(d)
        return found if found is not None else _listing(Path(d))

    def verify(self, inputs: list, listings: list) -> bool:
        return (all(self.digest(p) == h for p, h in inputs)
                and all(self.listing(d) == names for d, names in listings))


def _tf_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(n for n in names if n.endswith(_TF_INPUTS)))


def _graph_to_data(graph: Any) -> tuple:
    return ([str(d) for d in graph.dirs],
            {str(k): sorted(str(v) for v in vs) for k, vs in graph.callers.items()},
            {str(k): sorted(str(v) for v in vs) for k, vs in graph.calls.items()},
            [str(r) for r in graph.roots])


def _graph_from_data(data: Any) -> Any:
    from scanner.loaders.terraform import ModuleGraph  # lazy: start-up (hcl2, lark)

    dirs, callers, calls, roots = data
    return ModuleGraph([Path(d) for d in dirs], {Path(k): {Path(v) for v in vs} for k, vs in callers.items()},
                       {Path(k): {Path(v) for v in vs} for k, vs in calls.items()}, [Path(r) for r in roots])


def _graph_shape(entry: Any) -> bool:
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], dict)
            and all(isinstance(k, str) and isinstance(v, bool) for k, v in entry[1].items())):
        return False
    value = entry[0]
    return (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], list)
            and isinstance(value[1], dict) and isinstance(value[2], dict) and isinstance(value[3], list)
            and all(isinstance(v, list) for v in value[1].values())
            and all(isinstance(v, list) for v in value[2].values()))


def resource_ident(r: Any, prefix: str = "") -> str:
    """A Terraform resource's declaration and values, without a caller's module ``prefix``, hashed.

    A module dir evaluated as a root of its own and through a caller yields the same ident for the
    same declaration with the same values (the engine then reports it once, from the dir)."""
    def strip(value: object) -> str:
        return repr(value).replace(prefix, "") if prefix else repr(value)

    ident = (r.file, r.line, r.type, r.address.removeprefix(prefix), strip(r.attributes), strip(r.provider))
    return hashlib.blake2b(repr(ident).encode(), digest_size=16).hexdigest()


def _unit_key(results: ResultCache, root: str, rel_root: str, keep: list[str] | None, also: list[str],
              extra_key: Callable[[str], Any]) -> str:
    """A root's key: its dir, the dirs it keeps, its policy context, the module dirs marked as roots too."""
    return results.key("terraform", (root, rel_root, keep, extra_key(rel_root), [(d, extra_key(d)) for d in also]))


def _plan_shape(entry: Any) -> bool:
    """A cached plan of roots: (problems, notes, files, [(root, kept dirs or None, marked dirs)])."""
    return (isinstance(entry, tuple) and len(entry) == 4
            and isinstance(entry[0], list) and all(isinstance(p, Problem) for p in entry[0])
            and _notes_ok(entry[1]) and isinstance(entry[2], int) and isinstance(entry[3], list)
            and all(isinstance(u, tuple) and len(u) == 3 and isinstance(u[0], str)
                    and (u[1] is None or (isinstance(u[1], list) and all(isinstance(k, str) for k in u[1])))
                    and isinstance(u[2], list) and all(isinstance(a, str) for a in u[2]) for u in entry[3]))


def _answered(results: ResultCache, plan_key: str, state: TreeState, root: str,
              extra_key: Callable[[str], Any]) -> tuple[LoadResult, list[UnitResult]] | None:
    """The plan step's load and every root's result, when the plan and all of them are cached and true."""
    entry = results.cache.get(plan_key, _plan_shape)
    if entry is None:
        return None
    problems, notes, files, shapes = entry
    hits, misses = results.hits, results.misses
    out = []
    for rel_root, keep, also in shapes:
        hit = results.get(_unit_key(results, root, rel_root, keep, also, extra_key), state.verify)
        if hit is None:
            results.hits, results.misses = hits, misses  # counted again by the load that follows
            return None
        out.append(hit)
    return LoadResult(problems=problems, notes=notes, files=files), out


def _closure(root: Path, graph: Any) -> list[Path]:
    """The root's dir and every local module dir it reaches through the graph."""
    seen = [root]
    todo = [root]
    while todo:
        for child in sorted(graph.calls.get(todo.pop(), ())):
            if child not in seen:
                seen.append(child)
                todo.append(child)
    return seen


# Roots whose files are handed to the parse workers ahead of the evaluation (two windows at most):
# enough to keep the workers busy, few enough that parse trees waiting to be evaluated stay bounded.
_WINDOW = 32


def terraform_units(dirs: list[Path], scan_root: Path, tf_options: Callable[[], Any], parser: Any,
                    accept: Callable[[Path], bool], results: ResultCache | None,
                    judge: Callable[[LoadResult, str | None, tuple[str, ...]], UnitResult],
                    then: Callable[[], None] | None = None,
                    extra_key: Callable[[str], Any] = lambda rel: None,
                    dedupe: Callable[[list, dict[str, frozenset[str]]], tuple[list, list[tuple[str, str]]]] | None
                    = None) -> tuple[LoadResult, list[UnitResult]]:
    """Judge each evaluation root of ``dirs``: from the cache when its inputs are unchanged, else evaluated.

    Returns the plan step's own load result (terragrunt problems, "evaluated through" notes, files)
    and one :class:`UnitResult` per root in the loader's order. Roots are evaluated one at a time
    and the parse trees of module dirs no later root needs are released, so memory holds one root's
    trees (and the shared modules still to be used), not the whole tree's. ``extra_key(rel_root)``
    adds what the caller knows shapes a root (its policy context and var files by content).

    A module dir that is a root of its own in this load and is called by another root marks the
    caller's copies of its resources; ``dedupe(resources, idents)`` (the engine's) drops those equal to
    the dir's own (``idents`` by root dir) before the caller is judged. So such dirs are evaluated
    first, and a caller's key holds which of its modules are roots here and their policy context.

    The plan of roots itself (which roots, the dirs each keeps, the module dirs that are roots too) is
    cached under the hash of every Terraform file too: when it and every root's result are cached,
    nothing is loaded and the Terraform loader (``tf_options()`` builds its options) is not imported.
    """
    root = scan_root.resolve()
    state = TreeState(root, accept) if results is not None else None
    plan_key = None
    if results is not None and state is not None and all(str(d) in state.listings for d in dirs):
        plan_key = results.key("tfplan", (str(root), state.digest_of_all, [str(d) for d in dirs]))
        answered = _answered(results, plan_key, state, str(root), extra_key)
        if answered is not None:
            if then is not None:
                then()
            return answered

    from scanner.loaders.terraform import TerraformLoad  # lazy: start-up (hcl2, lark)

    load = TerraformLoad(root, tf_options())
    warmed: set[Path] = set()

    def tf_files(d: Path) -> list[Path]:
        return [f for f in _sorted_files(d)
                if (f.name.endswith(_TF_CONFIG) or f.name in ("terraform.tfvars", "terraform.tfvars.json")
                    or f.name.endswith(_AUTO_VARS)) and accept(f)]

    def warm(ds: Iterable[Path]) -> None:
        todo = [d for d in ds if d not in warmed]
        warmed.update(todo)
        parser.warm(f for d in todo for f in tf_files(d))

    then_done = False

    def run_then() -> None:
        nonlocal then_done
        if then is not None and not then_done:
            then_done = True
            then()

    graphs: list[Any] = []

    def graph_for(requested: list[Path]) -> Any:
        key = None
        if state is not None and results is not None:
            walked = set(state.listings)
            key = results.key("tfgraph", (str(root), state.digest_of_all,
                                          sorted(str(d) for d in requested if str(d) not in walked)))
            data = results.cache.get(key, _graph_shape)
            if data is not None:
                graph_key.append(None)
                load.standalone_memo.update((Path(d), bool(v)) for d, v in data[1].items())
                graphs.append(_graph_from_data(data[0]))
                return graphs[-1]
        # cold: the files that can call modules to the workers (finding roots needs them all); the rest
        # is parsed a window of roots ahead of the evaluation, so a monorepo's trees are never all held
        parser.warm((f for d in requested for f in tf_files(d)), callers_only=True)
        graph = load.graph(requested)
        graph_key.append(key)
        graphs.append(graph)
        return graph

    graph_key: list[str | None] = []
    plan = load.plan(list(dirs), graph_for)
    if graph_key and graph_key[0] is not None and results is not None and graphs:
        memo = {str(d): v for d, v in load.standalone_memo.items()}
        results.cache.put(graph_key[0], (_graph_to_data(graphs[0]), memo))
    planned = LoadResult(problems=list(load.result.problems), notes=list(load.result.notes),
                         files=load.unparsed_files)  # parsed files are counted per root, as a union
    graph = graphs[-1] if graphs else None
    out: list[UnitResult | None] = [None] * len(plan.units)
    keys: list[str | None] = [None] * len(plan.units)
    todo: list[int] = []
    closures = [_closure(r, graph) if graph is not None else [r] for r, _keep in plan.units]
    also = [frozenset(d for d in closures[i][1:] if d in plan.full) for i in range(len(plan.units))]
    shapes = [(rel_name(r, root), sorted(rel_name(k, root) for k in keep) if keep is not None else None,
               sorted(rel_name(d, root) for d in also[i])) for i, (r, keep) in enumerate(plan.units)]
    if plan_key is not None and results is not None and (not graph_key or graph_key[0] is None):
        # stored from a run whose graph came from the cache: exactly what such a run plans
        results.cache.put(plan_key, (list(planned.problems), list(planned.notes), planned.files, shapes))
    idents: dict[str, frozenset[str]] = {}
    for i, (r, _keep) in enumerate(plan.units):
        if results is not None and state is not None:
            rel_root = rel_name(r, root)
            key = keys[i] = _unit_key(results, str(root), rel_root, shapes[i][1], shapes[i][2], extra_key)
            out[i] = hit = results.get(key, state.verify)
            if hit is not None:
                idents[rel_root] = hit.idents
        if out[i] is None:
            todo.append(i)
    # dirs another unit marks (module dirs that are roots here too) first: their idents are then known
    marking = {d for a in also for d in a}
    todo.sort(key=lambda i: plan.units[i][0] not in marking)
    if todo:
        remaining: dict[Path, int] = {}
        for i in todo:
            for d in closures[i]:
                remaining[d] = remaining.get(d, 0) + 1
        for n, i in enumerate(todo):
            if n % _WINDOW == 0:  # the next window of roots to the workers; YAML after the last one
                warm(d for j in todo[n:n + 2 * _WINDOW] for d in closures[j])
                if n + 2 * _WINDOW >= len(todo):
                    run_then()
            r, keep = plan.units[i]
            rel_root = rel_name(r, root)
            rr = load.evaluate(r, keep, also[i])
            names = tuple(rel_name(f, root) for f in rr.files)
            resources, collapsed = rr.resources, list[tuple[str, str]]()
            own = frozenset(resource_ident(x) for x in resources
                            if x.source == "terraform" and "also_root" not in x.extra)
            if dedupe is not None and any("also_root" in x.extra for x in resources):
                resources, collapsed = dedupe(resources, idents)
            unit = judge(LoadResult(resources=resources, problems=rr.problems, files=len(rr.files)),
                         rel_root, names)
            unit.idents, unit.collapsed = own, collapsed
            idents[rel_root] = own
            out[i] = unit
            stored = keys[i]
            if results is not None and state is not None and stored is not None:
                inputs = [(str(f), state.digest(str(f))) for f in (*rr.files, *rr.unparsed)]
                listings = [(str(d), state.listing(str(d))) for d in rr.dirs]
                results.put(stored, unit, inputs, listings)
            done = []
            for d in closures[i]:
                remaining[d] -= 1
                if remaining[d] == 0:
                    done.append(d)
            parser.forget(load.release(done))
    run_then()
    return planned, [u for u in out if u is not None]
