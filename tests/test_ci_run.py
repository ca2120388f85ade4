"""`.ci/run` runs exactly the README's second command (the test command), then ruff and mypy."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command_and_the_static_gates() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    command = blocks[1].strip()
    assert '-m "not slow"' in command and "-m slow" in command  # slow tests are their own step
    lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in lines
    assert ".venv/bin/ruff check ." in lines and ".venv/bin/python -m mypy" in lines
