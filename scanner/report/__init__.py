"""Output formats. Each format is one module with ``render(report: Report) -> str``.

Reporters only format: every decision (blocking, waived, severity) is already in the Report.
Modules are imported lazily so ``residency --version`` pays for none of them.
"""

from __future__ import annotations

from importlib import import_module

from scanner.escape import log_safe
from scanner.model import Report

__all__ = ["FORMATS", "Report", "render"]  # Report lives in scanner.model; re-exported for formats

FORMATS: dict[str, str] = {
    "text": "scanner.report.text",
    "json": "scanner.report.json_format",
    "sarif": "scanner.report.sarif",
    "junit": "scanner.report.junit",
    "junit-rich": "scanner.report.junit_rich",
    "github": "scanner.report.github",
    "markdown": "scanner.report.markdown",
    "gitlab": "scanner.report.gitlab",
}


def render(fmt: str, report: Report, *, color: bool = False) -> str:
    """Render ``report`` in ``fmt``; ``color`` only matters to the text format."""
    module = import_module(FORMATS[fmt])
    if fmt == "text":
        return log_safe(module.render(report, color=color), fmt)
    return log_safe(module.render(report), fmt)
