"""Generate the complete resource type list of each Terraform provider the scanner knows.

Why: a type the catalog does not know must never be skipped silently. To tell "not a data store" from
"never looked at" (or a typo), the scanner needs every type of each provider version, data or not.

Sources (bare git mirrors of public repositories, read with `git show`, never built or run):
  aws      lonegunmanb/terraform-provider-aws-index  index/terraform-provider-aws-index.json
           (a per-release index generated from hashicorp/terraform-provider-aws's source)
  google   hashicorp/terraform-provider-google       `registry.Schema{Name: ..., Type: SchemaType*Resource}`
           and `registry.FrameworkResource{Name: ...}` registrations under google/
  google-beta  hashicorp/terraform-provider-google-beta  the same under google-beta/ (only beta-only types kept)
  azurerm  hashicorp/terraform-provider-azurerm      website/docs/r/*.html.markdown (one page per type)

Usage:
  python tools/provider_types.py --aws MIRROR --google MIRROR --google-beta MIRROR --azurerm MIRROR \
      [--out checks/provider_types]
Writes {aws,google,azurerm}.json: provider, version, source repository and commit, sorted type list.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

OUT_DEFAULT = Path(__file__).resolve().parent.parent / "checks" / "provider_types"

_NAME = re.compile(r'Name:\s*"((?:google)_[a-z0-9_]+)"')
_TYPE = re.compile(r"Type:\s*registry\.(SchemaType\w+)")
# Types the AWS index misses: it lists one name per factory function, so alias registrations are absent
# (aws_lb* share aws_alb*'s factories), and aws_verifiedpermissions_policy is not indexed. All are in the
# 5.100 binary's schema and were not removed in 6.0 (which removed opsworks, simpledb and worklink types);
# found by tools/aws_schema.py.
AWS_MISSING_FROM_INDEX = (
    "aws_lb",
    "aws_lb_listener",
    "aws_lb_listener_certificate",
    "aws_lb_listener_rule",
    "aws_lb_target_group",
    "aws_lb_target_group_attachment",
    "aws_verifiedpermissions_policy",
)
_RESOURCE_KINDS = {"SchemaTypeResource", "SchemaTypeIAMResource"}


def git(mirror: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(mirror), *args], check=True, capture_output=True, text=True).stdout


def head(mirror: Path) -> str:
    return git(mirror, "rev-parse", "HEAD").strip()


def changelog_version(mirror: Path) -> str:
    """Newest released version in CHANGELOG.md (an '(Unreleased)' heading is skipped, noted as the tree's state)."""
    for line in git(mirror, "show", "HEAD:CHANGELOG.md").splitlines():
        m = re.match(r"## v?(\d+\.\d+\.\d+) \((.*)\)", line)
        if m and "unreleased" not in m.group(2).lower():
            return m.group(1)
    raise SystemExit(f"no released version in {mirror}/CHANGELOG.md")


def unreleased(mirror: Path) -> str | None:
    first = next((ln for ln in git(mirror, "show", "HEAD:CHANGELOG.md").splitlines() if ln.startswith("## ")), "")
    m = re.match(r"## v?(\d+\.\d+\.\d+) \(Unreleased\)", first, re.IGNORECASE)
    return m.group(1) if m else None


def aws_types(mirror: Path) -> tuple[str, list[str]]:
    index = json.loads(git(mirror, "show", "HEAD:index/terraform-provider-aws-index.json"))
    types: set[str] = set()
    for service in index["services"]:
        for key in ("aws_sdk_resources", "aws_framework_resources"):
            types.update(name for name in (service.get(key) or {}) if name.startswith("aws_"))
    types.update(AWS_MISSING_FROM_INDEX)
    return index["version"].lstrip("v"), sorted(types)


def google_types(mirror: Path, tree: str) -> list[str]:
    """Resource types registered in the provider's Go source: each `registry.Schema{...}` literal names a
    type and says whether it is a resource, an IAM resource or a data source; framework resources too."""
    out = git(
        mirror, "grep", "-h", "-A4", r"registry\.\(Schema\|FrameworkResource\){", "HEAD", "--", tree, ":!*_test.go"
    )
    types: set[str] = set()
    for chunk in re.split(r"registry\.(?=Schema\{|FrameworkResource\{)", out):
        name = _NAME.search(chunk)
        if not name:
            continue
        if chunk.startswith("FrameworkResource{"):
            types.add(name.group(1))
            continue
        kind = _TYPE.search(chunk)
        if chunk.startswith("Schema{") and kind and kind.group(1) in _RESOURCE_KINDS:
            types.add(name.group(1))
    return sorted(types)


def azurerm_types(mirror: Path) -> list[str]:
    pages = git(mirror, "ls-tree", "--name-only", "HEAD:website/docs/r").split()
    return sorted("azurerm_" + p.removesuffix(".html.markdown") for p in pages if p.endswith(".html.markdown"))


def write(out: Path, name: str, payload: dict[str, object]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    print(
        f"{name}: {len(payload['types'])} types"
        + (f" + {len(payload.get('beta_only', []))} beta-only" if "beta_only" in payload else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aws", type=Path, required=True)
    ap.add_argument("--google", type=Path, required=True)
    ap.add_argument("--google-beta", type=Path, required=True)
    ap.add_argument("--azurerm", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    a = ap.parse_args()

    version, types = aws_types(a.aws)
    write(
        a.out,
        "aws",
        {
            "provider": "hashicorp/aws",
            "version": version,
            "source": "lonegunmanb/terraform-provider-aws-index",
            "commit": head(a.aws),
            "method": "index/terraform-provider-aws-index.json resources",
            "types": types,
        },
    )
    ga = google_types(a.google, "google")
    beta = google_types(a.google_beta, "google-beta")
    write(
        a.out,
        "google",
        {
            "provider": "hashicorp/google (+ google-beta)",
            "version": changelog_version(a.google),
            "tree_unreleased": unreleased(a.google),
            "source": "hashicorp/terraform-provider-google",
            "commit": head(a.google),
            "beta_version": changelog_version(a.google_beta),
            "beta_source": "hashicorp/terraform-provider-google-beta",
            "beta_commit": head(a.google_beta),
            "method": "registry.Schema resource/IAM-resource and registry.FrameworkResource registrations",
            "types": ga,
            "beta_only": sorted(set(beta) - set(ga)),
        },
    )
    write(
        a.out,
        "azurerm",
        {
            "provider": "hashicorp/azurerm",
            "version": changelog_version(a.azurerm),
            "tree_unreleased": unreleased(a.azurerm),
            "source": "hashicorp/terraform-provider-azurerm",
            "commit": head(a.azurerm),
            "method": "website/docs/r/*.html.markdown",
            "types": azurerm_types(a.azurerm),
        },
    )


if __name__ == "__main__":
    main()
