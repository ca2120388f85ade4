"""JUnit XML in the rich form: ``file``/``line`` on each testcase (GitLab links them). See ``junit``."""

from __future__ import annotations

from scanner.report import Report, junit


def render(report: Report) -> str:
    return junit.render(report, rich=True)
