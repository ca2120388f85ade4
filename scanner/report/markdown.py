"""A Markdown summary for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Headline counts first (what a reviewer needs), then the findings table, then waived findings
folded away in ``<details>`` (visible to auditors, out of the reviewer's way), baseline entries
fixed, and notes. Tables go through :func:`scanner.table.markdown_table`, which escapes
every scanned value; rows are capped because GitHub rejects comments over 65,536 characters.
"""

from __future__ import annotations

from scanner.escape import MarkdownText, markdown_code, markdown_text
from scanner.model import Finding
from scanner.report import Report
from scanner.table import markdown_table

MAX_ROWS = 200  # per table; about 300 characters a row keeps a comment well under GitHub's limit

_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def render(report: Report) -> str:
    """The summary as GitHub-flavoured Markdown, ending with a newline."""
    waived = [f for f in report.findings if f.waived]
    active = [f for f in report.findings if not f.waived]
    blocking = [f for f in active if f.blocking]
    out = [f"## residency-guardrail: {_headline(len(blocking))}", "",
           _counts(report, active, blocking, waived)]

    if active:
        out += ["", "### Findings", ""]
        rows: list[list[object]] = [
            [_status(f), f.severity.value, _rule(f), markdown_code(f.resource),
             markdown_code(f"{f.file}:{f.line}"), _where(f), f.message]
            for f in sorted(active, key=_order)
        ]
        headers = ["Status", "Severity", "Rule", "Resource", "Location", "Region / jurisdiction", "Message"]
        out.append(markdown_table(headers, rows[:MAX_ROWS]))
        out += _more(len(rows))
    if waived:
        out += ["", f"<details><summary>Waived findings ({len(waived)})</summary>", ""]
        rows = [
            [f.severity.value, _rule(f), markdown_code(f.resource), markdown_code(f"{f.file}:{f.line}"),
             f.waiver.reason if f.waiver else "", f.waiver.expires if f.waiver else "",
             f.waiver.approver if f.waiver else "", f.waiver.source if f.waiver else ""]
            for f in sorted(waived, key=_order)
        ]
        headers = ["Severity", "Rule", "Resource", "Location", "Reason", "Expires", "Approver", "Source"]
        out.append(markdown_table(headers, rows[:MAX_ROWS]))
        out += _more(len(rows))
        out += ["", "</details>"]
    if report.fixed:
        out += ["", f"### Fixed since the baseline ({len(report.fixed)})", ""]
        rows = [[e.get("rule_id"), markdown_code(e.get("resource", "")), markdown_code(e.get("file", ""))]
                for e in report.fixed]
        out.append(markdown_table(["Rule", "Resource", "File"], rows[:MAX_ROWS]))
        out += _more(len(rows))
    if report.notes:
        out += ["", "### Notes", ""]
        for note in report.notes[:MAX_ROWS]:
            where = f"{markdown_code(note.file)}: " if note.file else ""
            out.append(f"- {where}{markdown_text(note.message)}")
        out += _more(len(report.notes))
    return "\n".join(out) + "\n"


def _headline(blocking: int) -> str:
    if blocking:
        return f"{blocking} blocking finding{'s' if blocking != 1 else ''}"
    return "no blocking findings"


def _counts(report: Report, active: list[Finding], blocking: list[Finding], waived: list[Finding]) -> str:
    parts = [f"**{len(blocking)}** blocking", f"**{len(active) - len(blocking)}** non-blocking",
             f"**{len(waived)}** waived"]
    known = sum(1 for f in active if f.baseline == "known")
    if known or report.fixed:
        parts.append(f"**{known}** known in the baseline, **{len(report.fixed)}** fixed")
    scanned = (f"{report.files} file{'s' if report.files != 1 else ''}, "
               f"{report.resources} resource{'s' if report.resources != 1 else ''}, "
               f"{report.store_count} data store{'s' if report.store_count != 1 else ''} scanned")
    return " · ".join(parts) + f" — {scanned}"


def _status(f: Finding) -> MarkdownText:
    if f.blocking:
        return MarkdownText("**blocking**")
    if f.baseline == "known":
        return MarkdownText("baseline")
    return MarkdownText("non-blocking")


def _rule(f: Finding) -> MarkdownText:
    return MarkdownText(f"{markdown_code(f.rule_id)} {markdown_text(f.rule_name)}")


def _where(f: Finding) -> str:
    return " / ".join(v for v in (f.region, f.jurisdiction or f.country) if v)


def _order(f: Finding) -> tuple[int, int, str, int, str]:
    return (0 if f.blocking else 1, _SEVERITY_ORDER.get(f.severity.value, 9), f.file, f.line, f.rule_id)


def _more(total: int) -> list[str]:
    if total <= MAX_ROWS:
        return []
    return ["", f"_… and {total - MAX_ROWS} more; see the SARIF or JSON report for all of them._"]
