"""Output formats. Each format is one module with ``render(report: Report) -> str``.

Reporters only format: every decision (blocking, waived, severity) is already in the Report.
Modules are imported lazily so ``residency --version`` pays for none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

from scanner.model import Finding, Note

if TYPE_CHECKING:
    from scanner.model import DataStoreFacts


@dataclass
class Report:
    """The result of one scan, as every format sees it."""

    findings: list[Finding]
    notes: list[Note] = field(default_factory=list)
    files: int = 0
    resources: int = 0
    data_stores: list[DataStoreFacts] = field(default_factory=list)
    scan_root: str = "."
    policy_path: str | None = None
    fixed: list[dict[str, str]] = field(default_factory=list)  # baseline entries no longer found
    tool_version: str = ""
    category: str = "residency-guardrail"  # names this kind of scan (SARIF automationDetails, code scanning)
    shard: tuple[int, int] | None = None  # (I, N) of --shard I/N
    policy_digest: str = ""  # content digest of the policy: shards to merge must share it

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]


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
    from scanner.report.escape import log_safe

    module = import_module(FORMATS[fmt])
    if fmt == "text":
        return log_safe(module.render(report, color=color), fmt)
    return log_safe(module.render(report), fmt)
