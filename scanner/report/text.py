"""Human output: grouped by file, one line per finding, a fix hint, a summary. Colour only on a TTY."""

from __future__ import annotations

from itertools import groupby

from scanner.escape import terminal_safe
from scanner.report import Report

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m",
           "info": "\033[2m"}
_RESET = "\033[0m"
_DIM = "\033[2m"


def render(report: Report, *, color: bool = False) -> str:
    """Findings by file; waived and non-blocking ones are marked so nobody mistakes them for failures."""
    lines: list[str] = []
    for file, group in groupby(report.findings, key=lambda f: f.file):
        lines.append(terminal_safe(file))
        for f in group:
            sev = f.severity.value
            tag = sev.upper()
            if color:
                tag = f"{_COLORS[sev]}{tag}{_RESET}"
            state = ""
            if f.waived and f.waiver is not None:
                state = f" [waived: {terminal_safe(f.waiver.reason)}; {terminal_safe(f.waiver.source)}]"
            elif f.baseline == "known":
                state = " [baseline]"
            elif not f.blocking:
                state = " [non-blocking]"
            lines.append(f"  {terminal_safe(f.file)}:{f.line}  {f.rule_id}  {f.category.value}  {tag}  "
                         f"{terminal_safe(f.resource)}{state}")
            lines.append(f"      {terminal_safe(f.message)}")
            if f.remediation:
                hint = terminal_safe(f.remediation)
                lines.append(f"      {_DIM}fix: {hint}{_RESET}" if color else f"      fix: {hint}")
        lines.append("")
    for note in report.notes:
        lines.append(f"note: {terminal_safe(note.file)}: {terminal_safe(note.message)}")
    if report.notes:
        lines.append("")
    if report.fixed:
        lines.append(f"{len(report.fixed)} baseline finding(s) fixed since the baseline was recorded.")
    blocking = len(report.blocking)
    waived = sum(1 for f in report.findings if f.waived)
    summary = (f"{len(report.findings)} finding(s), {blocking} blocking, {waived} waived; "
               f"{report.store_count} data store(s) in {report.resources} resource(s) from {report.files} file(s)")
    if report.unknown_types:
        summary += f"; {report.unknown_types} resource(s) of a type not checked (see notes)"
    if color:
        summary = f"{_COLORS['high'] if blocking else chr(27) + '[32m'}{summary}{_RESET}"
    lines.append(summary)
    return "\n".join(lines) + "\n"
