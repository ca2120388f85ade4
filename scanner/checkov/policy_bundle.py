"""The policy as it travels to checkov: a JSON document written next to the checks.

``residency checkov-checks`` validates ``residency.yaml`` with the native loader and writes what
the rules need as JSON (:func:`to_json`); inside checkov's environment :func:`from_json` rebuilds a
:class:`~scanner.policy.Policy` from it. JSON, not YAML, so the checkov side needs nothing but the
standard library plus the pure modules ``scanner.policy`` / ``scanner.regions`` / ``scanner.model``.

Allowed sets travel as the entries the author wrote and are compiled again against the region
catalog on load (a catalog that no longer knows an entry fails loudly instead of allowing less or
more); regions the policy added with ``regions:`` travel too. Globs stay globs. checkov gives each
check the file path relative to the directory it scans (``-d .``, run where ``residency checkov-checks``
was run); the bundle records the policy's directory relative to that one (``policy_dir``), so scopes,
waivers' ``paths``, ``terraform.roots`` and ``kubernetes.clusters`` are matched relative to the policy
file, as in a native scan, also when the policy lives in a subdirectory.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from scanner.model import Encryption, Severity
from scanner.policy import Cluster, Policy, PolicyWaiver, RuleSetting, Scope, TerraformRoot, compile_allowed
from scanner.principals import FlowPolicy, Place, Principals
from scanner.regions import catalog

FORMAT = "residency-guardrail/checkov-policy"
VERSION = 1
#: Where checkov's scanned directory stands for the engine: a fixed absolute path, never looked up on
#: disk, so matching paths relative to the policy is string arithmetic, whatever checkov's cwd.
SCAN_ROOT = Path("/checkov-scan-root")


class BundleError(ValueError):
    """The JSON policy cannot be used: wrong format or version, or an entry the catalog rejects."""


def policy_dir(policy: Any, scan_dir: Path) -> str:
    """The policy's directory relative to the directory checkov will scan ("." when not below it)."""
    rel = os.path.relpath(os.path.abspath(policy.base_dir), os.path.abspath(scan_dir))
    return "." if rel == ".." or rel.startswith(("../", "..\\")) else rel.replace(os.sep, "/")


def to_json(policy: Any, scan_dir: Path | None = None) -> dict[str, Any]:
    """What the rules need from a validated :class:`~scanner.policy.Policy`, as JSON-ready data.

    ``scan_dir`` is the directory checkov will scan (default: the current one)."""

    base = {(r.cloud, r.code) for r in catalog().all_regions()}
    extra = [
        {"cloud": r.cloud, "code": r.code, "country": r.country, "name": r.name}
        for r in policy.catalog.all_regions()
        if (r.cloud, r.code) not in base
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": policy.path.name if policy.path else "--allowed-regions",
        "policy_dir": policy_dir(policy, Path.cwd() if scan_dir is None else scan_dir),
        "allowed_regions": list(policy.allowed.entries),
        "scopes": [{"paths": list(s.paths), "allowed_regions": list(s.allowed.entries), "line": s.line}
                   for s in policy.scopes],
        "regions": extra,
        "encryption_minimum": policy.encryption_minimum.value,
        "unresolved": policy.unresolved,
        "rules": {rid: {"enabled": s.enabled, "severity": s.severity.value if s.severity else None,
                        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in s.options.items()}}
                  for rid, s in sorted(policy.rules.items())},
        "exempt": {
            "tags": {k: sorted(v) for k, v in sorted(policy.exempt_tags.items())},
            "labels": {k: sorted(v) for k, v in sorted(policy.exempt_labels.items())},
        },
        "waivers": [
            {"rule": w.rule, "resource": w.resource, "reason": w.reason,
             "expires": w.expires.isoformat() if w.expires else None, "approver": w.approver,
             "paths": list(w.paths), "line": w.line}
            for w in policy.waivers
        ],
        "terraform_roots": [{"paths": list(r.paths), "region": r.region, "line": r.line, "self": dict(r.self_ids)}
                            for r in policy.terraform_roots if r.region or r.self_ids],
        # RES006: where principals may sit and where the policy places them
        "access": {"allowed": list(policy.access.allowed.entries) if policy.access.allowed is not None else None,
                   "unresolved": policy.access.unresolved, "unresolved_given": policy.access.unresolved_given,
                   "line": policy.access.line},
        "principals": {
            "given": policy.principals.given,
            "self": dict(policy.principals.self_ids),
            "maps": [{"cloud": cloud, "kind": kind, "id": ident, "entries": list(place.entries),
                      "source": place.source}
                     for (cloud, kind), ids in sorted(policy.principals.maps.items())
                     for ident, place in sorted(ids.items())],
        },
        "kubernetes": {
            "clusters": [{"paths": list(c.paths), "region": c.region, "cloud": c.cloud, "line": c.line}
                         for c in policy.clusters],
            "require_placement": policy.require_placement,
        },
    }


def write(policy: Any, path: Path, scan_dir: Path | None = None) -> None:
    path.write_text(json.dumps(to_json(policy, scan_dir), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(path: Path) -> Any:
    """Read a bundle written by :func:`write`; raises :class:`BundleError` with the file name."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: cannot read the residency policy for checkov: {exc}") from None
    try:
        return from_json(data)
    except BundleError as exc:
        raise BundleError(f"{path}: {exc}") from None


def from_json(data: Any) -> Any:
    """Rebuild a :class:`~scanner.policy.Policy`; every allowed set is compiled against the catalog."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f"not a residency-guardrail checkov policy (expected format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise BundleError(f"policy bundle version {data.get('version')!r} is not {VERSION}: "
                          "regenerate it with the installed `residency checkov-checks`")
    try:
        cat = catalog().extended(data.get("regions") or [])
    except ValueError as exc:
        raise BundleError(f"regions: {exc}") from None

    def allowed(entries: list[str], where: str) -> Any:
        problems: list[str] = []
        result = compile_allowed([(e, None) for e in entries], cat, lambda _n, m: problems.append(m))
        if result is None or problems:
            raise BundleError(f"{where}: {'; '.join(problems) or 'no allowed regions'}")
        return result

    scopes = tuple(Scope(paths=tuple(s["paths"]), allowed=allowed(s["allowed_regions"], f"scopes[{i}]"),
                         line=int(s.get("line", 0)))
                   for i, s in enumerate(data.get("scopes") or ()))
    rules = {rid: RuleSetting(enabled=bool(s.get("enabled", True)),
                              severity=Severity(s["severity"]) if s.get("severity") else None,
                              options=MappingProxyType({k: tuple(v) if isinstance(v, list) else v
                                                        for k, v in (s.get("options") or {}).items()}))
             for rid, s in (data.get("rules") or {}).items()}
    exempt = data.get("exempt") or {}
    waivers = tuple(
        PolicyWaiver(rule=w["rule"], resource=w["resource"], reason=w["reason"],
                     expires=date.fromisoformat(w["expires"]) if w.get("expires") else None,
                     approver=w.get("approver"), paths=tuple(w.get("paths") or ()), line=int(w.get("line", 0)))
        for w in data.get("waivers") or ()
    )
    k8s = data.get("kubernetes") or {}
    access_data = data.get("access") or {}
    access = FlowPolicy(
        allowed=allowed(access_data["allowed"], "access.allowed") if access_data.get("allowed") else None,
        unresolved=access_data.get("unresolved", "fail"), line=int(access_data.get("line", 0)),
        unresolved_given=bool(access_data.get("unresolved_given", False)))
    p_data = data.get("principals") or {}
    maps: dict[tuple[str, str], dict[str, Place]] = {}
    for m in p_data.get("maps") or ():
        compiled = allowed(m["entries"], f"principals.{m['cloud']}.{m['kind']}.{m['id']}")
        regions = frozenset(reg for cloud, code in compiled.regions if (reg := cat.region(cloud, code)))
        maps.setdefault((m["cloud"], m["kind"]), {})[m["id"]] = Place(
            entries=compiled.entries, regions=regions, countries=compiled.countries, source=m.get("source", ""))
    principals = Principals(self_ids=MappingProxyType(dict(p_data.get("self") or {})),
                            maps=MappingProxyType({k: MappingProxyType(v) for k, v in maps.items()}),
                            given=bool(p_data.get("given", False)))
    return Policy(
        path=Path(data.get("source") or "residency.yaml"),
        base_dir=SCAN_ROOT / str(data.get("policy_dir") or "."),
        allowed=allowed(data["allowed_regions"], "allowed_regions"),
        scopes=scopes,
        encryption_minimum=Encryption(data.get("encryption_minimum", Encryption.PROVIDER.value)),
        unresolved=data.get("unresolved", "fail"),
        rules=MappingProxyType(rules),
        exempt_tags=MappingProxyType({k: frozenset(v) for k, v in (exempt.get("tags") or {}).items()}),
        exempt_labels=MappingProxyType({k: frozenset(v) for k, v in (exempt.get("labels") or {}).items()}),
        waivers=waivers,
        terraform_roots=tuple(TerraformRoot(paths=tuple(r["paths"]), region=r["region"], var_files=(),
                                            line=int(r.get("line", 0)),
                                            self_ids=MappingProxyType(dict(r.get("self") or {})))
                              for r in data.get("terraform_roots") or ()),
        access=access,
        principals=principals,
        clusters=tuple(Cluster(paths=tuple(c["paths"]), region=c["region"], cloud=c.get("cloud"),
                               line=int(c.get("line", 0)))
                       for c in k8s.get("clusters") or ()),
        require_placement=bool(k8s.get("require_placement", False)),
        catalog=cat,
    )
