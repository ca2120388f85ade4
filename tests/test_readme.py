"""The README's two commands are the project's contract with a new user and with CI."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text, flags=re.S)[:2]


def test_readme_opens_with_two_commands_before_any_prose() -> None:
    text = (REPO / "README.md").read_text()
    head = text.split("\n## ", 1)[0]
    assert head.count("```sh") == 2
    first, second = _commands()
    assert "residency scan fixtures --policy fixtures/residency.yaml" in first and "pip install" in first
    assert "pytest" in second and "'.[test]'" in second


def test_ci_runs_the_readme_test_command() -> None:
    second = _commands()[1]
    ci = (REPO / ".ci" / "run").read_text()
    assert second in ci.splitlines()
