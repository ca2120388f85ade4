"""SARIF 2.1.0 for GitHub code scanning, Azure DevOps and any SARIF viewer.

Choices that matter to consumers:
- ``partialFingerprints["residencyFingerprint/v1"]`` is the finding's fingerprint (rule, resource,
  file; never the line), so moving a block does not close one alert and open another.
- ``properties.security-severity`` on each rule descriptor is what GitHub turns into its
  critical/high/medium/low label; it reflects the worst severity the rule had in this run, so a
  policy that raises a rule's severity is not understated.
- Waived findings stay in the log with a ``suppressions`` entry (``inSource`` for inline comments
  and annotations, ``external`` for policy and baseline waivers), so auditors see them.
- ``helpUri`` points at the rule's section of docs/rules.md at the tag of the scanning version, so
  the help a reader follows matches the rule that judged. ``run.automationDetails.id`` is
  ``CATEGORY/`` (``CATEGORY-shard-I-of-N/`` for one shard of a matrix): GitHub keeps one analysis per
  category and commit, so shards must not replace each other. ``originalUriBaseIds`` resolves
  ``%SRCROOT%`` to the scan root, which every result's relative URI is relative to.
- Text from the scanned repository passes through :func:`escape.clean` (no ANSI or control
  characters); JSON encoding does the rest.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import scanner
from scanner.escape import clean, single_line
from scanner.model import Finding, Severity
from scanner.report import Report
from scanner.rules_doc import SECTIONS, heading_anchor, parse_doc

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# The project's home page; keep in step with pyproject's [project.urls] once it has one.
INFORMATION_URI = "https://github.com/residency-guardrail/residency-guardrail"
FINGERPRINT_KEY = "residencyFingerprint/v1"
SRCROOT = "%SRCROOT%"

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def level(finding: Finding) -> str:
    """``error`` when it fails the build, ``note`` for info, otherwise ``warning``."""
    if finding.blocking:
        return "error"
    if finding.severity is Severity.INFO:
        return "note"
    return "warning"


def render(report: Report) -> str:
    """The whole log as indented JSON with a trailing newline."""
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"


def build(report: Report) -> dict[str, Any]:
    """The SARIF log as a dict (exposed so tests and tools can inspect without re-parsing)."""
    rule_ids = sorted({f.rule_id for f in report.findings})
    worst: dict[str, Severity] = {}
    for f in report.findings:
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
    version = report.tool_version or scanner.__version__
    descriptors = [_descriptor(rid, worst[rid], report, version) for rid in rule_ids]
    index = {rid: i for i, rid in enumerate(rule_ids)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "residency-guardrail",
                "version": version,
                "semanticVersion": version,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "automationDetails": {"id": automation_id(report)},
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(report.scan_root)}},
        "invocations": [_invocation(report)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id]) for f in report.findings],
        "properties": {
            "files": report.files,
            "resources": report.resources,
            "dataStores": report.store_count,
            "blocking": len(report.blocking),
            "fixedBaselineEntries": [{k: clean(v) for k, v in e.items()} for e in report.fixed],
        },
    }
    if report.policy_path:
        run["properties"]["policy"] = clean(report.policy_path)
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def automation_id(report: Report) -> str:
    """``category/`` for a whole scan, ``category-shard-I-of-N/`` for one shard (see the module doc)."""
    category = single_line(report.category).strip().strip("/") or "residency-guardrail"
    if report.shard is not None:
        category = f"{category}-shard-{report.shard[0]}-of-{report.shard[1]}"
    return category + "/"


def help_uri(rule_id: str, name: str, version: str) -> str:
    """The rule's section of docs/rules.md at the tag of ``version`` (GitHub's heading anchor)."""
    return f"{INFORMATION_URI}/blob/v{quote(version)}/docs/rules.md#{heading_anchor(rule_id, name)}"


def _root_uri(scan_root: str) -> str:
    path = Path(scan_root)
    if not path.is_absolute():
        return "./"  # a relative base: consumers resolve it against where they stand
    return path.as_uri().rstrip("/") + "/"


def _descriptor(rule_id: str, severity: Severity, report: Report, version: str) -> dict[str, Any]:
    rule = report.rules.get(rule_id)  # attached by the engine: reporters never import the rules
    sample = next(f for f in report.findings if f.rule_id == rule_id)
    name = rule.name if rule else sample.rule_name
    summary = (rule.summary if rule else "") or sample.rule_name or rule_id
    text, markdown = _help(rule.doc if rule else "", summary)
    category = (rule.category.value if rule else sample.category.value)
    controls = rule.controls if rule else sample.controls
    tags = ["security", "data-residency", category, *controls]
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": clean(summary)},
        "fullDescription": {"text": clean(text)},
        "help": {"text": clean(text), "markdown": clean(markdown)},
        "helpUri": help_uri(rule_id, name, version),
        "defaultConfiguration": {"level": "note" if severity is Severity.INFO else "warning"},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": list(dict.fromkeys(tags)),
            "precision": "high",
        },
    }


def _help(doc: str, summary: str) -> tuple[str, str]:
    """Rule help as plain text and as Markdown (the docstring's fixed sections as headings).

    Rule docstrings are indented prose, which Markdown would show as a code block; the sections
    are parsed by the same code that writes docs/rules.md, so the two cannot drift.
    """
    text = inspect.cleandoc(doc) if doc.strip() else summary
    intro, sections = parse_doc(doc)
    parts = [summary]
    for name in SECTIONS:
        if sections.get(name):
            parts += [f"### {name}", sections[name]]
    if len(parts) == 1 and intro and intro != summary:
        parts.append(intro)
    return text, "\n\n".join(parts)


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level(f),
        "message": {"text": clean(f.message) or f.rule_name or f.rule_id},
        "locations": [_location(f)],
        **({"relatedLocations": [
            {"id": i, "physicalLocation": {"artifactLocation": {"uri": artifact_uri(file), "uriBaseId": SRCROOT},
                                           "region": {"startLine": max(1, int(line or 1))}},
             "message": {"text": "plan entry"}}
            for i, (file, line) in enumerate(f.related)]} if f.related else {}),
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": _properties(f),
    }
    if f.waiver is not None:
        suppression: dict[str, Any] = {
            "kind": "inSource" if f.waiver.source.startswith("inline") else "external",
            "status": "accepted",
            "justification": clean(f.waiver.reason),
            "properties": {"source": clean(f.waiver.source)},
        }
        if f.waiver.expires:
            suppression["properties"]["expires"] = clean(f.waiver.expires)
        if f.waiver.approver:
            suppression["properties"]["approver"] = clean(f.waiver.approver)
        result["suppressions"] = [suppression]
    if f.baseline == "known":
        result["baselineState"] = "unchanged"
    return result


def _location(f: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(f.file), "uriBaseId": SRCROOT},
            "region": {"startLine": max(1, int(f.line or 1))},
        }
    }
    if f.resource:
        location["logicalLocations"] = [{
            "fullyQualifiedName": single_line(f.resource),
            "name": single_line(f.resource),
            "kind": "resource",
        }]
    return location


def artifact_uri(path: str) -> str:
    """A relative URI reference for a scan-root-relative path (spaces, ``#``, ``%`` encoded)."""
    return quote(clean(path).replace("\\", "/").lstrip("/"), safe="/-._~!$&'()*+,;=@")


def _properties(f: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {
        "severity": f.severity.value,
        "category": f.category.value,
        "resource": clean(f.resource),
        "resourceType": clean(f.resource_type),
        "blocking": f.blocking,
    }
    for key, value in (("remediation", f.remediation), ("region", f.region),
                       ("jurisdiction", f.jurisdiction), ("country", f.country),
                       ("provenance", f.provenance), ("baseline", f.baseline)):
        if value:
            props[key] = clean(value)
    if f.controls:
        props["controls"] = list(f.controls)
    return props


def _invocation(report: Report) -> dict[str, Any]:
    notes = []
    for note in report.notes:
        notification: dict[str, Any] = {"level": "note", "message": {"text": clean(note.message)}}
        if note.file:
            notification["locations"] = [{
                "physicalLocation": {"artifactLocation": {"uri": artifact_uri(note.file),
                                                          "uriBaseId": SRCROOT}}
            }]
        notes.append(notification)
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}
