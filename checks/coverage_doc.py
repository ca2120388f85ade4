"""docs/coverage.md: which resource types the scanner checks, per provider, generated from the data.

Why generated: the catalog (checks/datastores.yaml), the provider type lists and their classes
(checks/provider_types/) change together, and a hand-written coverage page would drift from them the
first time a type is added. tests/test_coverage_doc.py regenerates the page and fails when the committed
file is stale. `residency coverage` prints the same page.

The page says, per provider version: how many types the provider has, how each is classified, how many
of the data-holding ones (class data-store or copy-maker) have a catalog entry, and lists them all:
catalogued types with where their location comes from, what copies they read and how encryption is
graded, then the data-holding types that are not catalogued yet (a scan notes each one it meets).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from typing import Any

from checks.catalog import TypeSpec, load_catalog
from checks.type_lists import CLASSES, PROVIDERS, provider_list

REGENERATE = "python -m checks.coverage_doc > docs/coverage.md"
HOLDS_DATA = ("data-store", "copy-maker")
_CLOUD = {"aws": "aws", "google": "gcp", "azurerm": "azure"}


def _classes(provider: str) -> dict[str, dict[str, Any]]:
    raw = json.loads(resources.files("checks").joinpath("provider_types", "classes.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw[provider].items():
        out[name] = dict(value) if isinstance(value, dict) else {"class": value}
    return out


def _location(spec: TypeSpec) -> str:
    loc = spec.location
    if "not-applicable" in loc:
        return "n/a"
    source = loc["from"]
    if source == "region-arg+provider":
        return "`region` / provider"
    if source == "arg":
        args = "/".join(f"`{a}`" for a in loc.get("arg") or ["location"])
        tail = f", default {loc['default']}" if loc.get("default") else ""
        tail += {"provider-region": ", else provider region", "provider-zone": ", else provider zone"}.get(
            loc.get("fallback", ""), ""
        )
        return args + tail
    if source == "azure":
        return "`location`"
    if source == "parent":
        return "parent " + ", ".join(f"`{p}`" for p in loc["parents"])
    return f"handler `{loc['handler']}`"


def _encryption(enc: Mapping[str, Any]) -> str:
    if "not-applicable" in enc:
        return "n/a"
    parts = []
    if enc.get("cases"):
        parts.append(f"{len(enc['cases'])} case(s), else")
    if "handler" in enc:
        parts.append(f"handler `{enc['handler']}`")
    elif "flag" in enc:
        parts.append(f"`{enc['flag']}` (default {str(enc.get('flag_default', False)).lower()})")
    else:
        parts.append(str(enc.get("default", "provider-managed")))
    if enc.get("keys"):
        parts.append("+ key")
    return " ".join(parts)


def _copies(spec: TypeSpec) -> str:
    return ", ".join(sorted({str(c.get("kind") or c["handler"]) for c in spec.copies})) or ""


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_coverage() -> str:
    """The whole docs/coverage.md page."""
    catalog = load_catalog()
    out = [
        "# Covered resource types",
        "",
        f"Generated from checks/datastores.yaml and checks/provider_types/ by `{REGENERATE}`;",
        "tests/test_coverage_doc.py fails when this page is stale. `residency coverage` prints it.",
        "",
        "Every type of each provider list is classified (data-store, copy-maker, attachment, access-grant, key,",
        "no-data). A data-holding type (data-store or copy-maker) without a catalog entry is not silent: a scan",
        "that meets one notes it (`terraform.unknown_types: fail` makes it an unresolved finding).",
        "",
        "| provider | version | listed types | data-holding | catalogued (data-holding) | catalogued (all roles) "
        "| uncertain classes | decided classes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sections: list[str] = []
    for provider in PROVIDERS:
        data = provider_list(provider)
        classes = _classes(provider)
        counts = Counter(v["class"] for v in classes.values())
        holding = {t for t, v in classes.items() if v["class"] in HOLDS_DATA}
        catalogued = {t: s for t, s in catalog.types.items() if t in classes}
        uncertain = sum(1 for v in classes.values() if v.get("uncertain"))
        decided = sum(1 for v in classes.values() if v.get("decided"))
        listed = len(classes)
        out.append(
            _row(
                [
                    str(data["provider"]),
                    str(data["version"]),
                    str(listed),
                    str(len(holding)),
                    f"{len(holding & set(catalogued))} of {len(holding)}",
                    str(len(catalogued)),
                    str(uncertain),
                    str(decided),
                ]
            )
        )
        sections += [
            "",
            f"## {data['provider']} {data['version']}",
            "",
            f"Type list: {data['source']} at `{data['commit']}`. Classes: "
            + ", ".join(f"{c} {counts.get(c, 0)}" for c in sorted(CLASSES))
            + ".",
            "",
            f"### Catalogued ({len(catalogued)})",
            "",
            "| type | role | location | copies | encryption |",
            "|---|---|---|---|---|",
        ]
        for name, spec in sorted(catalogued.items()):
            sections.append(
                _row([f"`{name}`", spec.role, _location(spec), _copies(spec), _encryption(spec.encryption)])
            )
        missing = sorted(holding - set(catalogued))
        sections += ["", f"### Data-holding, not catalogued yet ({len(missing)})", ""]
        for name in missing:
            why = str(classes[name].get("why", "")).strip()
            mark = " (uncertain)" if classes[name].get("uncertain") else ""
            sections.append(f"- `{name}` ({classes[name]['class']}{mark})" + (f": {why}" if why else ""))
    return "\n".join(out + sections) + "\n"


def main() -> int:
    """``python -m checks.coverage_doc``: print docs/coverage.md."""
    sys.stdout.write(render_coverage())
    return 0


if __name__ == "__main__":
    sys.exit(main())
