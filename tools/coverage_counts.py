"""Count, per provider, the certain data-holding types the scan shows: two measures.

Why: issue 15's measure of catalog coverage. Each type that the reference lists mark as certainly holding
data (no `[uncertain]` mark) is declared in a US region (AWS provider region us-east-1; Google
`region`/`location`/`zone` us-central1; Azure `location = "eastus"`) and scanned with only EU regions allowed.

1. "row + RES001" (unchanged): all types declared alone in one file; a type counts when the scan shows it
   as a data store (inventory row) and yields a RES001 placement finding. Types whose location comes from a
   parent resource are declared without one, so they count only when the catalog still places them; that
   is the honest reading of "declared alone". Keys, attachments and copy-only types never count here.
2. "row in any role": each type is declared in a directory of its own with its minimal parents (the
   catalog entry's `location.parents`, `attach.targets` and copy `targets`, the first type of each, the
   child naming it through the first `via`/`attr` argument). The type counts when it gets an inventory
   row, or any finding or note about its own address (the unknown-type note excluded: it says the type is
   not checked), or when declaring it changes the findings about its parents (an attachment or copy-maker
   judged through the store it points at, its row included). Being seen at all, not only placed, is what the README's
   "never a silent skip" promises.

Usage: python tools/coverage_counts.py /work/shared/reference/provider-types [--list-missing]
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from checks.catalog.types import TypeSpec, load_catalog
from scanner.engine import ScanOptions, scan
from scanner.model import Report
from scanner.policy import policy_from_regions
from scanner.unknown_types import _verdict as unknown_type_verdict

PROVIDERS = {
    "aws": ('provider "aws" {\n  region = "us-east-1"\n}\n', ""),
    "google": (
        'provider "google" {\n  region = "us-central1"\n  zone = "us-central1-a"\n}\n',
        '  location = "us-central1"\n  region = "us-central1"\n  zone = "us-central1-a"\n',
    ),
    "azurerm": ('provider "azurerm" {\n  features {}\n}\n', '  location = "eastus"\n'),
}
#: attributes a parent never sets itself (computed by the provider); the child's reference still names it
_COMPUTED = {"id", "arn", "self_link"}


def certain_types(reference: Path, provider: str) -> list[str]:
    out = []
    for line in (reference / f"{provider}-data-types.txt").read_text().splitlines():
        if line.strip() and "[uncertain]" not in line:
            out.append(line.split("\t", 1)[0])
    return out


def _scan(root: Path) -> Report:
    policy = policy_from_regions(["in:eu-locations"], root)
    return scan(ScanOptions(paths=[root], cwd=root, use_cache=False, keep_facts=True), policy)


def _links(spec: TypeSpec) -> list[tuple[str, str, str]]:
    """(child argument or "", parent type, parent name attribute): the parents a minimal declaration needs."""
    out: list[tuple[str, str, str]] = []

    def first(via: Any, targets: Mapping[str, str] | None) -> None:
        if not targets:
            return
        ptype, attr = next(iter(targets.items()))
        arg = via[0] if isinstance(via, list) and via else via if isinstance(via, str) else ""
        out.append((arg, ptype, attr))

    if spec.location.get("from") == "parent":
        first(spec.location.get("via"), spec.location.get("parents"))
    if spec.attach:
        first(spec.attach.get("via"), spec.attach.get("targets"))
    for copy in spec.copies:
        first(copy.get("attr") or copy.get("via"), copy.get("targets"))
    return out


def _blocks(t: str, args: str, depth: int = 0) -> tuple[list[str], list[str]]:
    """(parent blocks, the type's own block) for ``t`` declared with its minimal parents."""
    spec = load_catalog().spec(t)
    own = [args]
    parents: list[str] = []
    for i, (arg, ptype, attr) in enumerate(_links(spec) if spec and depth < 3 else []):
        name = f"p{depth}_{i}"
        gp, pblock = _blocks(ptype, args, depth + 1)
        parent_args = "".join(pblock)
        if attr not in _COMPUTED:
            parent_args += f'  {attr} = "rg-coverage-{name}"\n'
        parents += [*gp, f'resource "{ptype}" "{name}" {{\n{parent_args}}}\n']
        if arg and "." not in arg:
            own.append(f"  {arg} = {ptype}.{name}.{attr}\n")
    return parents, own


def _said(report: Report, skip: str) -> set[tuple[str, str, str]]:
    """Findings, notes and inventory rows about anything but ``skip``, in comparable form."""
    return (
        {(f.rule_id, f.resource, f.message) for f in report.findings if f.resource != skip}
        | {("note", n.resource or "", n.message) for n in report.notes if n.resource != skip}
        | {
            ("row", d.resource.address, repr((d.location, d.copies, d.encryption, d.encryption_source, d.keys)))
            for d in report.data_stores
            if d.resource.address != skip
        }
    )


def any_role(types: list[str], block: str, args: str, workdir: Path) -> list[str]:
    """The types the scan shows in any role when each is declared with its minimal parents."""
    seen: list[str] = []
    baselines: dict[str, set[tuple[str, str, str]]] = {}
    for n, t in enumerate(types):
        parents, own = _blocks(t, args)
        address = f"{t}.x"
        root = workdir / f"t{n}"
        root.mkdir()
        (root / "main.tf").write_text("\n".join([block, *parents, f'resource "{t}" "x" {{\n{"".join(own)}}}\n']))
        report = _scan(root)
        unknown = unknown_type_verdict(t)
        about_it = [f for f in report.findings if f.resource == address or f.resource_type == t] + [
            x for x in report.notes if x.resource == address and (unknown is None or x.message != unknown[1])
        ]
        changed = False
        if parents and not about_it:
            key = "\n".join(parents)
            if key not in baselines:
                base = workdir / f"b{len(baselines)}"
                base.mkdir()
                (base / "main.tf").write_text("\n".join([block, *parents]))
                baselines[key] = _said(_scan(base), address)
            changed = _said(report, address) != baselines[key]
        if about_it or changed or t in {f.resource.type for f in report.data_stores}:
            seen.append(t)
    return seen


def measure(reference: Path) -> dict[str, tuple[int, int, list[str], list[str]]]:
    """provider -> (row + RES001 count, certain types, missing by measure 1, missing by measure 2)."""
    policy_root = Path(tempfile.mkdtemp(prefix="rg-coverage-"))
    result: dict[str, tuple[int, int, list[str], list[str]]] = {}
    for provider, (block, args) in PROVIDERS.items():
        types = certain_types(reference, provider)
        root = policy_root / provider
        root.mkdir()
        body = [block] + [f'resource "{t}" "x" {{\n{args}}}\n' for t in types]
        (root / "main.tf").write_text("\n".join(body))
        report = _scan(root)
        rows = {f.resource.type for f in report.data_stores}
        placed = {f.resource_type for f in report.findings if f.rule_id == "RES001"}
        both = [t for t in types if t in rows and t in placed]
        workdir = policy_root / f"{provider}-any"
        workdir.mkdir()
        seen = set(any_role(types, block, args, workdir))
        result[provider] = (
            len(both), len(types), [t for t in types if t not in both], [t for t in types if t not in seen]
        )
    return result


def main() -> None:
    reference = Path(sys.argv[1])
    for provider, (hit, total, missing, unseen) in measure(reference).items():
        print(
            f"{provider}: {hit} of {total} certain data-holding types get an inventory row and a placement finding;"
            f" {total - len(unseen)} of {total} get a row in any role"
        )
        if "--list-missing" in sys.argv:
            print("  missing (row + placement): " + " ".join(missing))
            print("  missing (any role): " + " ".join(unseen))


if __name__ == "__main__":
    main()
