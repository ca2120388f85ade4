"""The JSON contract (schema_version 1). Later versions only add keys; none is renamed or removed."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from scanner.model import Finding
from scanner.report import Report

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    """One finding as the documented JSON object (also used by the baseline and other formats)."""
    return {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "category": f.category.value,
        "severity": f.severity.value,
        "resource": f.resource,
        "resource_type": f.resource_type,
        "file": f.file,
        "line": f.line,
        "region": f.region,
        "jurisdiction": f.jurisdiction,
        "country": f.country,
        "provenance": f.provenance,
        "message": f.message,
        "remediation": f.remediation,
        "fingerprint": f.fingerprint,
        "blocking": f.blocking,
        "waived": f.waived,
        "waiver": None if f.waiver is None else {
            "reason": f.waiver.reason,
            "expires": f.waiver.expires,
            "approver": f.waiver.approver,
            "source": f.waiver.source,
        },
        "baseline": f.baseline,
        "controls": list(f.controls),
        "related_locations": [{"file": file, "line": line} for file, line in f.related],
    }


def document(report: Report) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    by_category = Counter(f.category.value for f in report.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-guardrail", "version": report.tool_version},
        "policy_digest": report.policy_digest,
        "shard": None if report.shard is None else {"index": report.shard[0], "count": report.shard[1]},
        "findings": [finding_dict(f) for f in report.findings],
        "notes": [{"file": n.file, "message": n.message, **({"resource": n.resource} if n.resource else {})}
                  for n in report.notes],
        "baseline_fixed": report.fixed,
        "summary": {
            "files": report.files,
            "resources": report.resources,
            "data_stores": report.store_count,
            "unknown_types": report.unknown_types,
            "findings": len(report.findings),
            "blocking": len(report.blocking),
            "waived": sum(1 for f in report.findings if f.waived),
            "by_category": dict(sorted(by_category.items())),
        },
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2, sort_keys=False) + "\n"
