"""Derive the Config Connector kind -> Terraform type table from Config Connector's own service mappings.

Why: Config Connector implements most of its kinds on top of the Terraform Google provider, and says
which in ``config/servicemappings/<service>.yaml`` of GoogleCloudPlatform/k8s-config-connector: per
resource, ``name`` (the Terraform type), ``kind``, the Terraform argument the object's name fills
(``metadataMapping.name`` / ``resourceID.targetField``) and each ``resourceReferences`` entry (the spec key,
such as ``kmsKeyRef``, and the Terraform argument it fills, such as ``encryption_configuration.kms_key_name``).
A Terraform-based kind's spec is otherwise the Terraform schema in lowerCamelCase, so this table is all the
loader needs to translate it. Kinds Config Connector implements directly against the Google APIs (no
service mapping: LoggingLogBucket, FirestoreDatabase, KMSKeyHandle, ...) stay hand-listed in
scanner/loaders/data/operators.yaml, which also wins over this table where both name a kind.

Where one kind maps to several Terraform types (ComputeDisk: zonal or regional; ComputeInstance: from a
template or not), the shortest type name is the table's ``type`` (the plain variant) and the others are
listed in ``alternatives``; the loader's hand entries choose between them where it matters.

Reads the bare git directory fetched into /work/.mirror (never the network) and writes
scanner/loaders/data/kcc_kinds.json.

Usage: python tools/kcc_kinds.py M/GoogleCloudPlatform+k8s-config-connector/repo
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scanner" / "loaders" / "data" / "kcc_kinds.json"
SUFFIX = ".cnrm.cloud.google.com"
# Config Connector's own Terraform fork has three types upstream does not (one resource for the project,
# folder and organization variants); the upstream type of the same schema is what the catalog knows.
FORK_TYPES = {
    "google_logging_log_sink": "google_logging_project_sink",
    "google_iam_custom_role": "google_project_iam_custom_role",
    "google_org_policy": "google_org_policy_policy",
}


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True).stdout


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.capitalize() for w in rest)


def _ref_kinds(ref: dict[str, Any]) -> list[str]:
    kinds = [ref["gvk"]["kind"]] if isinstance(ref.get("gvk"), dict) else []
    for typ in ref.get("types") or []:
        if isinstance(typ, dict) and isinstance(typ.get("gvk"), dict):
            kinds.append(typ["gvk"]["kind"])
    return sorted(set(kinds))


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    refs: dict[str, dict[str, Any]] = {}
    for ref in resource.get("resourceReferences") or []:
        tf_field = ref.get("tfField")
        if not isinstance(tf_field, str):
            continue
        *parents, last = tf_field.split(".")
        # no key: Config Connector names the spec field after the Terraform argument (health_checks -> healthChecks)
        key = ref.get("key") or _camel(last)
        spec_path = ".".join([*(_camel(p) for p in parents), key])
        refs[spec_path] = {"tf": tf_field, "kinds": _ref_kinds(ref)}
    name = (resource.get("metadataMapping") or {}).get("name") or (resource.get("resourceID") or {}).get("targetField")
    entry: dict[str, Any] = {"type": FORK_TYPES.get(resource["name"], resource["name"])}
    if isinstance(name, str):
        entry["name"] = name
    if refs:
        entry["refs"] = dict(sorted(refs.items()))
    return entry


def derive(git_dir: Path) -> tuple[str, dict[str, dict[str, dict[str, Any]]]]:
    commit = _git(git_dir, "rev-parse", "HEAD").strip()
    paths = _git(git_dir, "ls-tree", "--name-only", commit, "config/servicemappings/").split()
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(p for p in paths if p.endswith(".yaml")):
        doc = yaml.safe_load(_git(git_dir, "show", f"{commit}:{path}"))
        group = doc["metadata"]["name"]
        if not group.endswith(SUFFIX):
            raise SystemExit(f"{path}: service mapping {group} is not a {SUFFIX} group")
        service = group.removesuffix(SUFFIX)
        for resource in doc["spec"]["resources"]:
            entry = _entry(resource)
            known = table.setdefault(service, {}).get(resource["kind"])
            if known is None:
                table[service][resource["kind"]] = entry
                continue
            types = sorted({known["type"], *known.get("alternatives", ()), entry["type"]}, key=lambda t: (len(t), t))
            merged = known if known["type"] == types[0] else entry
            merged = {**merged, "alternatives": types[1:]}
            table[service][resource["kind"]] = merged
    return commit, {s: dict(sorted(k.items())) for s, k in sorted(table.items())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", type=Path, help="bare git dir of GoogleCloudPlatform/k8s-config-connector")
    args = ap.parse_args()
    commit, table = derive(args.repo)
    out = {
        "_doc": "Generated by tools/kcc_kinds.py from Config Connector's config/servicemappings/*.yaml "
        "(kind, Terraform type, the argument metadata.name fills, spec reference keys -> Terraform "
        "arguments); do not edit by hand. Direct (non-Terraform) kinds are hand-listed in operators.yaml.",
        "source": "GoogleCloudPlatform/k8s-config-connector",
        "commit": commit,
        "kinds": sum(len(k) for k in table.values()),
        "services": table,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"{out['kinds']} kinds in {len(table)} services at {commit[:12]}")
    if re.search(r"[A-Z]", "".join(table)):
        raise SystemExit("a service name has upper case letters")


if __name__ == "__main__":
    main()
