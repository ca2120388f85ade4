"""The layering of docs/architecture.md, checked by an AST walk over scanner/ and checks/.

Every import counts: module level, under ``TYPE_CHECKING`` and inside functions. A module may import
its own layer or a lower one; an import upwards, or one closing a cycle, fails unless it is in
``KNOWN_UPWARD`` / ``KNOWN_CYCLES`` below, which record what is left to untangle (issue 14 item 3) and
must only shrink: a test also fails when a listed entry is gone, so the list stays exact.
A function-level import must carry ``# lazy: start-up (why)``: it is kept out of module level only so
that a command does not load what it does not run (python-hcl2, a loader, checkov); anything else is
imported at module level.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_LAZY = re.compile(r"# lazy: start-up \(\S")  # the marker, with its reason in brackets

# Lower number = lower layer. Longest matching prefix wins.
LAYERS: dict[str, int] = {
    "scanner.model": 0, "scanner.errors": 0, "scanner.output": 0,
    "scanner.regions": 1, "scanner.limits": 1, "scanner.controls": 1,
    "scanner.escape": 1, "scanner.table": 1, "scanner.roots": 1,
    "scanner.policy": 2, "scanner.principals": 2, "scanner.discover": 2, "scanner.loaders": 2, "scanner.waivers": 2,
    "scanner.cache": 2, "scanner.parse_pool": 2,
    "checks": 3,
    "scanner.engine": 4, "scanner.baseline": 4, "scanner.inventory": 4, "scanner.changes": 4,
    "scanner.shard": 4, "scanner.unknown_types": 4, "scanner.results": 4,
    "scanner.report": 5, "scanner.rules_doc": 5,
    # The checkov adapter runs the engine's classify and judge over checkov's view of a resource.
    "scanner.checkov": 5,
    # Top: commands (checkov_export writes the adapter's bundle).
    "scanner.cli": 6, "scanner.__main__": 6, "scanner.checkov_export": 6, "scanner.docs_gen": 6,
}

#: (importer, imported) pairs that still run upwards. Remove an entry when its import is fixed.
KNOWN_UPWARD: set[tuple[str, str]] = set()

#: Import cycles still present, each as the sorted tuple of its modules.
KNOWN_CYCLES: set[tuple[str, ...]] = set()



def layer(module: str) -> int:
    if module == "scanner":  # the package itself holds only __version__
        return 0
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/test_layers.py "
                         "(see docs/architecture.md)")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in ("scanner", "checks"):
        for path in (REPO / pkg).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """Imported internal modules, and function-level imports lacking ``# lazy: start-up``."""
    src = path.read_text(encoding="utf-8")
    lines = src.splitlines()
    tree = ast.parse(src)
    out: set[str] = set()
    unmarked: list[str] = []
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    func_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    type_only = {id(n) for f in ast.walk(tree) if isinstance(f, ast.If) and "TYPE_CHECKING" in ast.unparse(f.test)
                 for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join(base[: len(base) - node.level + 1] + ([mod] if mod else []))
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        targets = {n for n in names if n in known}
        targets |= {n.rsplit(".", 1)[0] for n in names if n not in known and n.rsplit(".", 1)[0] in known}
        targets.discard(module)
        # Importing a.b.c first runs a/b/__init__.py, so at run time that package is imported too
        # (not under TYPE_CHECKING, which never runs). Naming an own package (``from checks import
        # locate`` in checks.rules.x) adds nothing: it is already being initialised.
        if id(node) not in type_only:
            targets |= {p for t in targets for p in _ancestors(t) if p in known}
        targets -= _ancestors(module) | {module}
        if not targets:
            continue
        out |= targets
        if id(node) in func_nodes and not _LAZY.search(lines[node.lineno - 1]):
            unmarked.append(f"{module}:{node.lineno}")
    return out, unmarked


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    unmarked: list[str] = []
    for name, path in mods.items():
        graph[name], lazy = _imports(name, path, set(mods))
        unmarked += lazy
    return graph, unmarked


def _cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[tuple[str, ...]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.add(tuple(sorted(comp)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))}


def test_no_import_runs_against_the_layers() -> None:
    graph, _ = _graph()
    upward = {(a, b) for a, targets in graph.items() for b in targets
              if b not in _ancestors(a) and layer(b) > layer(a)}
    assert upward - KNOWN_UPWARD == set(), "new upward imports (see docs/architecture.md)"
    assert KNOWN_UPWARD - upward == set(), "fixed: remove these from KNOWN_UPWARD"


def test_no_import_cycle() -> None:
    graph, _ = _graph()
    # A package importing its own submodules (a registry) is fine (their imports of the package are
    # dropped in _imports); a module importing another package's submodule imports that package's
    # __init__ too, which is how checks.locate -> checks.catalog.types -> checks.catalog (its __init__)
    # -> checks.catalog.copies -> checks.locate shows.
    cycles = _cycles(graph)
    assert cycles - KNOWN_CYCLES == set(), "new import cycles"
    assert KNOWN_CYCLES - cycles == set(), "fixed: remove these from KNOWN_CYCLES"


def test_function_level_imports_are_marked() -> None:
    _, unmarked = _graph()
    assert unmarked == [], "import at module level, or mark the line `# lazy: start-up (why)`"


def test_rule_docs_and_neutral_helpers_import_no_report_module() -> None:
    """Escaping and tables are neutral (scanner.escape, scanner.table); rule docs use them, not the reporters."""
    graph, _ = _graph()
    for module in ("scanner.rules_doc", "scanner.escape", "scanner.table"):
        assert not {m for m in graph[module] if m == "scanner.report" or m.startswith("scanner.report.")}, module


def test_reporters_load_no_rule_or_catalog_module() -> None:
    """Reporters read the Report (its ``rules`` descriptors included), never the registry: importing every
    scan format in a fresh interpreter loads nothing from checks/ (the inventory's formats render
    scanner.inventory, which judges with checks.locate, so they are not scan formats)."""
    import subprocess
    import sys

    formats = sorted(p.stem for p in (REPO / "scanner" / "report").glob("*.py")
                     if p.stem not in ("__init__", "inventory_formats"))
    code = ("import sys\n" + "".join(f"import scanner.report.{f}\n" for f in formats)
            + "print(sorted(m for m in sys.modules if m == 'checks' or m.startswith('checks.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]", out.stdout
