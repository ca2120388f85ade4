"""Cross-check the catalog's AWS attribute names against `terraform providers schema -json`.

Why: the type list comes from the 6.x source index, but attribute names the catalog reads (`kms_key_id`,
`replica.region_name`, ...) should be real. The hashicorp/aws 5.100 binary on this machine prints its whole
schema offline; types newer than 5.100 are reported as not checkable, never as wrong.

Usage: python tools/aws_schema.py [--plugins /opt/tf-plugins] [--dump schema.json]
Runs `terraform init` against a filesystem mirror only (no network) in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def dump(plugins: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "main.tf").write_text(
            'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        )
        (work / "cli.tfrc").write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{plugins}"\n  }}\n}}\n'
        )
        env = {"TF_CLI_CONFIG_FILE": str(work / "cli.tfrc"), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp}
        subprocess.run(
            ["terraform", "init", "-input=false", "-no-color"], cwd=work, env=env, check=True, capture_output=True
        )
        out = subprocess.run(
            ["terraform", "providers", "schema", "-json"], cwd=work, env=env, check=True, capture_output=True
        )
        data: dict[str, Any] = json.loads(out.stdout)
        return data


def has_path(block: dict[str, Any], path: list[str]) -> bool:
    head, *rest = path
    if head in block.get("attributes", {}):
        return not rest
    nested = block.get("block_types", {}).get(head)
    return nested is not None and (not rest or has_path(nested["block"], rest))


def catalog_paths(spec: dict[str, Any]) -> list[str]:
    enc = spec.get("encryption") or {}
    paths = [p for p in enc.get("keys", [])]
    if enc.get("flag"):
        paths.append(enc["flag"])
    loc = spec.get("location") or {}
    paths += list(loc.get("arg", []) if isinstance(loc.get("arg"), list) else [])
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plugins", type=Path, default=Path("/opt/tf-plugins"))
    ap.add_argument("--dump", type=Path)
    a = ap.parse_args()
    schema = dump(a.plugins)
    if a.dump:
        a.dump.write_text(json.dumps(schema))
    provider = next(v for k, v in schema["provider_schemas"].items() if k.endswith("/aws"))
    resources = provider["resource_schemas"]
    listed = set(json.loads((ROOT / "checks" / "provider_types" / "aws.json").read_text())["types"])
    print(
        f"aws 5.100 schema: {len(resources)} resource types; 6.x list: {len(listed)}; "
        f"in 5.100 not in list: {sorted(set(resources) - listed)}; in list not in 5.100: {len(listed - set(resources))}"
    )
    catalog = yaml.safe_load((ROOT / "checks" / "datastores.yaml").read_text())["types"]
    bad = newer = 0
    for name, spec in sorted(catalog.items()):
        if not name.startswith("aws_"):
            continue
        if name not in resources:
            newer += 1
            print(f"  {name}: not in 5.100, not checkable")
            continue
        for path in catalog_paths(spec):
            if not has_path(resources[name]["block"], path.split(".")):
                bad += 1
                print(f"  {name}: {path} is not an attribute in 5.100")
    print(f"catalog aws attribute paths not in the 5.100 schema: {bad}; types newer than 5.100: {newer}")


if __name__ == "__main__":
    main()
