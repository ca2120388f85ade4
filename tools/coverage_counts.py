"""Count, per provider, the certain data-holding types that get an inventory row and a placement finding.

Why: issue 15's measure of catalog coverage. Each type that the reference lists mark as certainly holding
data (no `[uncertain]` mark) is declared alone in a US region (AWS provider region us-east-1; Google
`region`/`location`/`zone` us-central1; Azure `location = "eastus"`) and scanned with only EU regions allowed.
A type counts when the scan shows it as a data store (inventory row) and yields a RES001 placement finding.
Types whose location comes from a parent resource are declared without one, so they count only when the
catalog still places them; that is the honest reading of "declared alone".

Usage: python tools/coverage_counts.py /work/shared/reference/provider-types [--list-missing]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from scanner.engine import ScanOptions, scan
from scanner.policy import policy_from_regions

PROVIDERS = {
    "aws": ('provider "aws" {\n  region = "us-east-1"\n}\n', ""),
    "google": (
        'provider "google" {\n  region = "us-central1"\n  zone = "us-central1-a"\n}\n',
        '  location = "us-central1"\n  region = "us-central1"\n  zone = "us-central1-a"\n',
    ),
    "azurerm": ('provider "azurerm" {\n  features {}\n}\n', '  location = "eastus"\n'),
}


def certain_types(reference: Path, provider: str) -> list[str]:
    out = []
    for line in (reference / f"{provider}-data-types.txt").read_text().splitlines():
        if line.strip() and "[uncertain]" not in line:
            out.append(line.split("\t", 1)[0])
    return out


def measure(reference: Path) -> dict[str, tuple[int, int, list[str]]]:
    policy_root = Path(tempfile.mkdtemp(prefix="rg-coverage-"))
    result: dict[str, tuple[int, int, list[str]]] = {}
    for provider, (block, args) in PROVIDERS.items():
        types = certain_types(reference, provider)
        root = policy_root / provider
        root.mkdir()
        body = [block] + [f'resource "{t}" "x" {{\n{args}}}\n' for t in types]
        (root / "main.tf").write_text("\n".join(body))
        policy = policy_from_regions(["in:eu-locations"], root)
        report = scan(ScanOptions(paths=[root], cwd=root, use_cache=False, keep_facts=True), policy)
        rows = {f.resource.type for f in report.data_stores}
        placed = {f.resource_type for f in report.findings if f.rule_id == "RES001"}
        both = [t for t in types if t in rows and t in placed]
        result[provider] = (len(both), len(types), [t for t in types if t not in both])
    return result


def main() -> None:
    reference = Path(sys.argv[1])
    for provider, (hit, total, missing) in measure(reference).items():
        print(f"{provider}: {hit} of {total} certain data-holding types get an inventory row and a placement finding")
        if "--list-missing" in sys.argv:
            print("  missing: " + " ".join(missing))


if __name__ == "__main__":
    main()
