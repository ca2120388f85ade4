"""GitLab Code Quality JSON: the merge-request widget's new/fixed issues.

GitLab compares reports of the source and target branches by ``fingerprint``, so it must be
stable across commits (the finding's fingerprint ignores the line) and unique within a report
(GitLab collapses duplicates). Several findings of one rule on one resource share the finding
fingerprint; those get one derived from it and their message, so each stays visible.
Severities map one to one by rank: info->info, low->minor, medium->major, high->critical,
critical->blocker. Code Quality has no notion of a waiver: waived findings are reported as
``info`` with the waiver in the description, which keeps them visible without alarming the widget.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from scanner.escape import clean, single_line
from scanner.model import Finding, Severity
from scanner.report import Report

SEVERITY = {
    Severity.INFO: "info",
    Severity.LOW: "minor",
    Severity.MEDIUM: "major",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "blocker",
}


def render(report: Report) -> str:
    """A JSON array of Code Quality issues, one per finding."""
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: Report) -> list[dict[str, Any]]:
    """The issues as Python objects (for tests and tools)."""
    shared = Counter(f.fingerprint for f in report.findings)
    issues = []
    seen: Counter[str] = Counter()
    for f in report.findings:
        fingerprint = f.fingerprint
        if shared[fingerprint] > 1:
            fingerprint = _derive(fingerprint, f.message)
        seen[fingerprint] += 1
        if seen[fingerprint] > 1:  # identical messages too: order within the report disambiguates
            fingerprint = _derive(fingerprint, str(seen[fingerprint]))
        issues.append(_issue(f, fingerprint))
    return issues


def _derive(fingerprint: str, salt: str) -> str:
    return hashlib.sha256(f"{fingerprint}\x1f{salt}".encode()).hexdigest()[:32]


def _issue(f: Finding, fingerprint: str) -> dict[str, Any]:
    description = f"{f.rule_id} {single_line(f.resource)}: {single_line(f.message)}" if f.resource \
        else f"{f.rule_id}: {single_line(f.message)}"
    severity = SEVERITY[f.severity]
    if f.waiver is not None:
        description = f"[waived: {single_line(f.waiver.reason)}] {description}"
        severity = "info"
    elif f.baseline == "known":
        description = f"[baseline] {description}"
    issue: dict[str, Any] = {
        "type": "issue",
        "description": description,
        "check_name": f"{f.rule_id} {f.rule_name}",
        "fingerprint": fingerprint,
        "severity": severity,
        "categories": ["Security"],
        "location": {"path": clean(f.file), "lines": {"begin": max(1, int(f.line or 1))}},
    }
    if f.remediation:
        issue["content"] = {"body": clean(f.remediation)}
    return issue
