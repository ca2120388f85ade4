"""Seed checks/provider_types/classes.json: one class for every listed type of every provider.

Why: "not in the catalog" must be a decision per type, not an omission. The seed takes, in order:
  1. checks/datastores.yaml: catalogued types keep their role (data-store / key / attachment; a store whose
     location is not applicable and that only has copies is a copy-maker); `ignored:` types are no-data or,
     for IAM/policy types, access-grant;
  2. the reference lists (shared/reference/provider-types/*-data-types.txt): data-store, or copy-maker when
     the reason says the type copies, delivers, replicates, transfers, exports or streams data elsewhere;
     `[uncertain]` is kept as a mark to decide against the provider docs;
  3. name patterns for access grants (IAM members/bindings/policies, role assignments, grants, permissions);
  4. every other type: no-data (the reference lists were made from the whole type list of these versions).
Hand edits after seeding go into classes.json directly (JSON, not YAML: it loads in milliseconds
at scan time, where 4,000 lines of YAML cost 75-400 ms); rerunning the seed overwrites them.

Usage: python tools/seed_type_classes.py REFERENCE_DIR
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "checks" / "provider_types"
PROVIDERS = {"aws": "aws", "google": "google", "azurerm": "azurerm"}
_COPY = re.compile(
    r"\b(cop(y|ies)|deliver|replicat|transfer|export|streams [a-z ]+ to|sends|routes|sink|mirror)", re.IGNORECASE
)
_GRANT = re.compile(
    r"(_iam_(member|binding|policy|audit_config)s?$|_iam_|_role_assignment|_access_policy$|_grant$|_grants?_|"
    r"_permission(s|_set)?$|_bucket_policy$|_resource_policy$|_repository_policy$|_topic_policy$|_queue_policy$|"
    r"_acl$|_authorization_rule$|_access_point_policy$|_vault_policy$|_vault_access_policy$)"
)


def seed(reference: Path) -> dict[str, dict[str, object]]:
    catalog = yaml.safe_load((ROOT / "checks" / "datastores.yaml").read_text())
    out: dict[str, dict[str, object]] = {}
    for provider, ref_name in PROVIDERS.items():
        listed = json.loads((DATA / f"{provider}.json").read_text())
        types = list(listed["types"]) + list(listed.get("beta_only", []))
        ref: dict[str, str] = {}
        for line in (reference / f"{ref_name}-data-types.txt").read_text().splitlines():
            if line.strip():
                name, _, why = line.split("\t", 2)
                ref[name] = why
        classes: dict[str, object] = {}
        for t in sorted(types):
            entry = catalog["types"].get(t)
            if entry is not None:
                role = entry["role"]
                loc = entry.get("location", {})
                if role == "data-store" and "not-applicable" in loc and entry.get("copies"):
                    classes[t] = {"class": "copy-maker", "why": "catalog: " + str(loc["not-applicable"])}
                else:
                    classes[t] = {"class": role, "why": "catalog"}
            elif t in catalog.get("ignored", {}):
                why = str(catalog["ignored"][t])
                cls = "access-grant" if _GRANT.search(t) or "access" in why or "IAM" in why else "no-data"
                classes[t] = {"class": cls, "why": "catalog ignored: " + why}
            elif t in ref:
                why = ref[t]
                cls = (
                    "copy-maker"
                    if _COPY.search(why) and not why.lower().startswith(("stores", "holds"))
                    else "data-store"
                )
                item: dict[str, object] = {"class": cls, "why": why.replace(" [uncertain]", "")}
                if "[uncertain]" in why:
                    item["uncertain"] = True
                classes[t] = item
            elif _GRANT.search(t):
                classes[t] = "access-grant"
            else:
                classes[t] = "no-data"
        out[provider] = classes
    return out


HEADER = """\
# Every resource type of each provider list in this directory ({aws,google,azurerm}.json), classified.
# classes: data-store (holds customer data: location, copies, encryption apply), copy-maker (copies or sends
#   data to another place: replication, transfer, export, sink), attachment (configuration of a store:
#   encryption, replication, backup settings), access-grant (who may reach a store: IAM, policies, grants),
#   key (key material protecting stores), no-data (holds no customer data).
# A plain value is a class decided by name or by absence from the reference's data-holding list; a mapping
# carries the reason (from the catalog or the reference list) and `uncertain: true` where the reference
# marked a judgement call still to check against the provider docs.
# Seeded by tools/seed_type_classes.py; tests/test_provider_types.py fails when a listed type has no class.

"""


def main() -> None:
    reference = Path(sys.argv[1])
    data = seed(reference)
    doc = {"_doc": HEADER.replace("# ", "").replace("#", "").split("\n"), **data}
    lines = ["{"]
    for i, (key, value) in enumerate(doc.items()):
        comma = "," if i < len(doc) - 1 else ""
        if key == "_doc":
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
            continue
        lines.append(f"  {json.dumps(key)}: {{")
        items = list(value.items())  # type: ignore[attr-defined]
        for j, (name, cls) in enumerate(items):
            sep = "," if j < len(items) - 1 else ""
            lines.append(f"    {json.dumps(name)}: {json.dumps(cls)}{sep}")
        lines.append("  }" + comma)
    lines.append("}")
    (DATA / "classes.json").write_text("\n".join(lines) + "\n")
    for provider, classes in data.items():
        counts: dict[str, int] = {}
        for v in classes.values():
            c = v if isinstance(v, str) else str(v["class"])  # type: ignore[index]
            counts[c] = counts.get(c, 0) + 1
        print(provider, len(classes), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
