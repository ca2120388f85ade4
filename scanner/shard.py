"""``--shard I/N`` (which units this job scans) and ``residency merge`` (join the shards' JSON reports).

A unit is what findings never cross: a Terraform root module (with the child modules it calls), a
plan file, another file discovery reported on, each Kubernetes manifest file whose objects are judged
alone (Deployments, Services, ConfigMaps...: scanner/loaders/manifest_groups.py), and the other
manifests together (a PersistentVolume is judged with the StorageClass it names, an ACK resource with
its Namespace, an operator resource with the objects it references, wherever in the tree those are
declared, so those stay in one shard).
Every shard computes the same partition from the same checkout: units are ordered by weight (the
files a root's module tree holds, 1 for a file) then by a hash of their path, and each goes to the
lightest shard so far (ties to the lowest index). So N jobs of a CI matrix cover every unit exactly
once, with similar file counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import ResidencyError
from scanner.model import Category, Finding, Severity, Waiver


def parse_shard(value: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); 1-based, like the matrix index users write."""
    left, sep, right = value.partition("/")
    try:
        index, count = int(left), int(right)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ResidencyError(f"--shard takes I/N with 1 <= I <= N, got {value!r}")
    return index, count


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()


def partition(units: dict[str, int], count: int) -> dict[str, int]:
    """Unit name -> 1-based shard, greedy by weight with hashed tie order (see the module doc)."""
    loads = [0] * count
    out: dict[str, int] = {}
    for name in sorted(units, key=lambda n: (-units[n], _hash(n))):
        shard = min(range(count), key=lambda i: (loads[i], i))
        loads[shard] += max(1, units[name])
        out[name] = shard + 1
    return out


@dataclass
class ShardPlan:
    """The discovery of one shard: which Terraform roots and files it keeps."""

    terraform_dirs: list[Path]
    keep_file: Any  # Callable[[Path], bool]


def plan_shard(terraform_dirs: list[Path], files: list[Path], root: Path, shard: tuple[int, int],
               manifests: list[Path] | None = None) -> ShardPlan:
    """Map requested Terraform dirs to their roots, weigh roots by module-tree files, partition with files."""
    from scanner.loaders.terraform import (  # lazy: start-up (hcl2, lark)
        _config_files,
        _walk_module_dirs,
        discover_modules,
    )

    graph = discover_modules(set(_walk_module_dirs(root)) | {d.resolve() for d in terraform_dirs}, root)
    roots: set[Path] = set()
    for d in terraform_dirs:
        roots.update(graph.roots_for(d))

    def weight(r: Path) -> int:
        seen, todo = {r}, [r]
        while todo:
            for child in graph.calls.get(todo.pop(), set()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return sum(len(_config_files(d)) for d in seen)

    def name(p: Path) -> str:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix() or "."
        except ValueError:
            return p.as_posix()

    units = {("tf:" + name(r)): weight(r) for r in roots}
    root_set = {r.resolve() for r in roots}

    def file_unit(f: Path) -> str:
        # A plan beside its root's .tf files joins that root's unit: the engine reports the root once.
        parent = f.resolve().parent
        return "tf:" + name(parent) if parent in root_set else "file:" + name(f)

    for f in files:
        units[file_unit(f)] = units.get(file_unit(f), 0) + 1
    from scanner.loaders.manifest_groups import alone_flags  # lazy: start-up (the checkov adapter: no loaders)

    manifest_set = {m.resolve() for m in manifests or []}
    readable: list[tuple[Path, bytes]] = []
    for m in sorted(manifest_set):
        with contextlib.suppress(OSError):  # unreadable: the engine reports it; it stays with the shared manifests
            readable.append((m, m.read_bytes()))
    alone: set[Path] = set()
    # The engine's grouping, over all manifests: a kustomization's files share its unit whatever their kind.
    for (m, _), is_alone in zip(readable, alone_flags([(name(m), data) for m, data in readable]), strict=True):
        if is_alone:
            alone.add(m)
            units["k8s:" + name(m)] = 1
    if manifest_set - alone:
        units["kubernetes"] = len(manifest_set - alone)
    assigned = partition(units, shard[1])
    mine = {u for u, s in assigned.items() if s == shard[0]}

    def keep(f: Path) -> bool:
        real = f.resolve()
        if real in manifest_set:
            return ("k8s:" + name(real) if real in alone else "kubernetes") in mine
        return file_unit(f) in mine

    return ShardPlan(terraform_dirs=sorted(r for r in roots if "tf:" + name(r) in mine), keep_file=keep)


# --- merge ------------------------------------------------------------------------------------


def merge_documents(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Join shard reports into one JSON document; refuse a missing/duplicate shard or mixed inputs."""
    if not docs:
        raise ResidencyError("merge needs at least one JSON report")
    shards: dict[int, str] = {}
    counts: set[int] = set()
    digests, versions = set(), set()
    for path, doc in docs:
        if not isinstance(doc, dict) or doc.get("schema_version") != 1 or "findings" not in doc:
            raise ResidencyError(f"{path} is not a residency JSON report (--format json)")
        shard = doc.get("shard")
        if not isinstance(shard, dict):
            raise ResidencyError(f"{path} was not made with --shard I/N")
        index, count = shard.get("index"), shard.get("count")
        if not isinstance(index, int) or not isinstance(count, int):
            raise ResidencyError(f"{path}: shard index and count must be integers")
        if index in shards:
            raise ResidencyError(f"shard {index}/{count} given twice: {shards[index]} and {path}")
        shards[index] = path
        counts.add(count)
        digests.add(doc.get("policy_digest"))
        versions.add((doc.get("tool") or {}).get("version"))
    if len(counts) != 1:
        raise ResidencyError(f"the reports were made with different shard counts: {sorted(map(str, counts))}")
    if len(digests) != 1:
        raise ResidencyError("the shards were made with different policies (policy_digest differs)")
    if len(versions) != 1:
        raise ResidencyError(f"the shards were made by different scanner versions: {sorted(map(str, versions))}")
    (count,) = counts
    missing = sorted(set(range(1, count + 1)) - set(shards))
    if missing:
        raise ResidencyError(f"shard(s) {', '.join(f'{m}/{count}' for m in missing)} missing: merge needs all {count}")

    def unique(items: list[Any]) -> list[Any]:  # policy-level findings and notes appear in every shard
        seen: dict[str, Any] = {}
        for item in items:
            seen.setdefault(json.dumps(item, sort_keys=True), item)
        return list(seen.values())

    ordered = [doc for _, doc in sorted(docs, key=lambda d: d[1]["shard"]["index"])]
    findings = unique([f for d in ordered for f in d["findings"]])
    findings.sort(key=lambda f: (f["file"], f["line"], f["rule_id"], f["resource"]))
    first = ordered[0]
    counted = ("files", "resources", "data_stores", "unknown_types")
    summary = {key: sum(d["summary"].get(key, 0) for d in ordered) for key in counted}
    return {
        **first,
        "shard": None,
        "findings": findings,
        "notes": unique([n for d in ordered for n in d["notes"]]),
        "baseline_fixed": unique([e for d in ordered for e in d.get("baseline_fixed", [])]),
        "summary": summary,
    }


def findings_from_json(items: list[dict[str, Any]]) -> list[Any]:
    """JSON findings back into Finding objects, so every format renders a merged report."""
    out = []
    for f in items:
        w = f.get("waiver")
        out.append(Finding(
            rule_id=f["rule_id"], rule_name=f["rule_name"], category=Category(f["category"]),
            severity=Severity(f["severity"]), resource=f["resource"], resource_type=f["resource_type"],
            file=f["file"], line=int(f["line"]), message=f["message"], remediation=f["remediation"],
            region=f.get("region"), jurisdiction=f.get("jurisdiction"), country=f.get("country"),
            provenance=f.get("provenance") or "", blocking=bool(f["blocking"]),
            waiver=None if w is None else Waiver(w["reason"], w.get("expires"), w.get("approver"), w["source"]),
            controls=tuple(f.get("controls") or ()), baseline=f.get("baseline"),
            related=tuple((r["file"], int(r["line"])) for r in f.get("related_locations") or ())))
    return out
