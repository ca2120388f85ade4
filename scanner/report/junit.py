"""JUnit XML, for CI systems that show test results but not SARIF (GitLab, Jenkins, Azure).

One ``testsuite`` per rule and one ``testcase`` per (rule, resource, file): several findings of
one rule on one resource (two replicas in disallowed regions) are one failing test with every
message in its body, so counts mean "resources that fail this rule". A testcase:
- fails (``<failure>``) when any of its findings is blocking;
- is skipped (``<skipped>``) when every finding is waived, with the waiver's reason;
- otherwise passes, with the non-blocking findings (below ``--fail-on``, known in the baseline)
  in ``<system-out>`` so they are still visible.
A scan with no findings emits one passing testcase, because several consumers treat a report
with zero tests as a broken job. All text goes through :func:`escape.xml_safe`.

Two forms. The default (``junit``) is valid against the strict Jenkins xunit ``junit-10.xsd``, which
allows no ``file``/``line`` on ``<testcase>`` and no ``skipped`` on ``<testsuites>``: the location
leads the failure/skipped message and the body instead. The rich form (``junit-rich``) keeps
``file`` and ``line`` on each testcase and ``skipped`` on the root, because GitLab turns a testcase's
``file`` into a link; the GitLab template uses it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from scanner.escape import single_line, xml_safe
from scanner.model import Finding
from scanner.report import Report


def render(report: Report, *, rich: bool = False) -> str:
    """The report as a ``<testsuites>`` document with an XML declaration (``rich``: see the module doc)."""
    groups: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in report.findings:
        groups[f.rule_id][(f.file, f.resource or f.file)].append(f)

    root = ET.Element("testsuites", name="residency-guardrail")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule_id in sorted(groups):
        cases = groups[rule_id]
        sample = next(iter(cases.values()))[0]
        suite = ET.SubElement(root, "testsuite", name=_attr(f"{rule_id} {sample.rule_name}"))
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for (file, resource), findings in sorted(cases.items()):
            outcome = _testcase(suite, rule_id, file, resource, findings, rich)
            counts["tests"] += 1
            if outcome:
                counts[outcome] += 1
        _set_counts(suite, counts)
        for key in totals:
            totals[key] += counts[key]
    if not groups:
        suite = ET.SubElement(root, "testsuite", name="residency-guardrail")
        ET.SubElement(suite, "testcase", name="no data-residency findings", classname="residency-guardrail")
        _set_counts(suite, {"tests": 1, "failures": 0, "skipped": 0})
        totals["tests"] = 1
    _set_counts(root, totals)
    if not rich:
        del root.attrib["skipped"]
    if report.notes:
        notes = "\n".join(f"note: {n.file}: {n.message}" for n in report.notes)
        ET.SubElement(root[-1], "system-out").text = xml_safe(notes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, rule_id: str, file: str, resource: str, findings: list[Finding],
              rich: bool) -> str:
    """Add one testcase; return ``failures``, ``skipped`` or ``""`` (passed) for the counts."""
    first = findings[0]
    line = str(max(1, int(first.line or 1)))
    case = ET.SubElement(suite, "testcase", name=_attr(resource), classname=_attr(f"{rule_id}.{first.rule_name}"))
    if rich:
        case.set("file", _attr(file))
        case.set("line", line)
    case.set("time", "0")
    where = "" if rich else f"{file}:{line}: "  # strict schema: the location travels in the message
    body = "\n\n".join(_describe(f) for f in findings)
    if any(f.blocking for f in findings):
        blocking = [f for f in findings if f.blocking]
        worst = max(blocking, key=lambda f: f.severity.rank)
        failure = ET.SubElement(case, "failure", message=_attr(where + worst.message),
                                type=f"{rule_id} {worst.severity.value}")
        failure.text = xml_safe(body)
        return "failures"
    if all(f.waived for f in findings):
        reasons = "; ".join(dict.fromkeys(f.waiver.reason for f in findings if f.waiver))
        skipped = ET.SubElement(case, "skipped", message=_attr(f"{where}waived: {reasons}"))
        skipped.text = xml_safe(body)
        return "skipped"
    ET.SubElement(case, "system-out").text = xml_safe(body)
    return ""


def _describe(f: Finding) -> str:
    lines = [f"{f.file}:{f.line} [{f.severity.value}] {f.resource}: {f.message}"]
    where = ", ".join(v for v in (f.region, f.jurisdiction, f.country) if v)
    if where:
        lines.append(f"region: {where}")
    if f.provenance:
        lines.append(f"because: {f.provenance}")
    if f.remediation:
        lines.append(f"fix: {f.remediation}")
    if f.waiver:
        expiry = f", expires {f.waiver.expires}" if f.waiver.expires else ""
        lines.append(f"waived ({f.waiver.source}{expiry}): {f.waiver.reason}")
    elif f.baseline == "known":
        lines.append("known in the baseline: not blocking")
    elif not f.blocking:
        lines.append("not blocking")
    return "\n".join(lines)


def _attr(value: object) -> str:
    """Attributes on one line: ElementTree escapes quotes and ``<``, XML forbids control chars."""
    return xml_safe(single_line(value))


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    element.set("tests", str(counts["tests"]))
    element.set("failures", str(counts["failures"]))
    element.set("errors", "0")
    element.set("skipped", str(counts["skipped"]))
    element.set("time", "0")
