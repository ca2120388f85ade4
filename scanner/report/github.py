"""GitHub Actions workflow commands: annotations on the pull request's changed lines.

``::error`` for blocking findings, ``::warning`` for non-blocking ones, ``::notice`` for info,
waived findings and notes. Every scanned value is encoded per the runner's rules
(:func:`escape.github_data` / :func:`escape.github_property`): a resource name holding
``"\\n::error::..."`` or ``"::stop-commands::"`` stays inside its own annotation's text instead of
becoming a command of its own.
"""

from __future__ import annotations

from scanner.escape import github_data, github_property, single_line
from scanner.model import Finding, Severity
from scanner.report import Report

_RANK = {"error": 0, "warning": 1, "notice": 2}


def command(finding: Finding) -> str:
    """``error``, ``warning`` or ``notice`` for one finding."""
    if finding.waived:
        return "notice"
    if finding.blocking:
        return "error"
    if finding.severity is Severity.INFO:
        return "notice"
    return "warning"


def render(report: Report) -> str:
    """One workflow command per finding (errors first) and note, then a one-line summary notice."""
    # The runner shows only the first few annotations of each kind per step (10 errors, 10
    # warnings at the time of writing): blocking findings go first so they are never the ones cut.
    ordered = sorted(report.findings, key=lambda f: _RANK[command(f)])
    lines = [_finding(f) for f in ordered]
    for note in report.notes:
        props = [f"file={github_property(note.file)}"] if note.file else []
        props.append(f"title={github_property('residency-guardrail note')}")
        lines.append(f"::notice {','.join(props)}::{github_data(note.message)}")
    blocking = len(report.blocking)
    waived = sum(1 for f in report.findings if f.waived)
    summary = (f"{len(report.findings)} finding(s), {blocking} blocking, {waived} waived, "
               f"{len(report.fixed)} fixed since the baseline; {report.resources} resource(s) in "
               f"{report.files} file(s)")
    lines.append(f"::notice title={github_property('residency-guardrail')}::{github_data(summary)}")
    return "\n".join(lines) + "\n"


def _finding(f: Finding) -> str:
    title = f"{f.rule_id} {f.rule_name}"
    if f.resource:
        title += f": {single_line(f.resource)}"
    props = [f"file={github_property(f.file)}", f"line={max(1, int(f.line or 1))}",
             f"title={github_property(title)}"]
    parts = [f"[{f.severity.value}] {f.message}"]
    if f.remediation:
        parts.append(f"Fix: {f.remediation}")
    if f.waiver is not None:
        expiry = f", expires {f.waiver.expires}" if f.waiver.expires else ""
        parts.append(f"Waived ({f.waiver.source}{expiry}): {f.waiver.reason}")
    elif f.baseline == "known":
        parts.append("Known in the baseline: not blocking.")
    return f"::{command(f)} {','.join(props)}::{github_data(chr(10).join(parts))}"
