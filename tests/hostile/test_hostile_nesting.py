"""Nesting depth is bounded everywhere: no RecursionError escapes, no C stack overflow kills the run.

Fixtures are generated (a 30,000-level document is not worth committing); the builders below are
the fixtures, one per kind of file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.limits import MAX_YAML_DEPTH, yaml_nesting_error
from tests.hostile._support import assert_clean, make_repo, parse_findings, scan, scan_isolated

DEEP = 30_000  # past libyaml's C stack (segfault near 20,000) and far past Python's recursion limit


def deep_files() -> dict[str, str]:
    return {
        "hcl/main.tf": "locals {\n  x = " + "[" * DEEP + "]" * DEEP + "\n}\n",
        "hcl_parens/main.tf": "locals {\n  x = " + "(" * 3000 + "1" + ")" * 3000 + "\n}\n",
        "hcl_objects/main.tf": "locals {\n  x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n}\n",
        "hcl_calls/main.tf": "locals {\n  x = " + "max(" * 3000 + "1" + ")" * 3000 + "\n}\n",
        "json/main.tf.json": '{"locals": {"x": ' + "[" * DEEP + "]" * DEEP + "}}",
        "vars/main.tf": 'variable "x" {}\n',
        "vars/terraform.tfvars": "x = " + "[" * DEEP + "]" * DEEP + "\n",
        "plan.json": '{"format_version": "1.2", "planned_values": ' + "[" * DEEP + "]" * DEEP + "}",
        "k8s/flow.yaml": "[" * DEEP + "]" * DEEP + "\n",
        "k8s/block.yaml": "- " * DEEP + "x\n",
        "k8s/mapping.yaml": "".join(" " * i + "a:\n" for i in range(600)),
    }


def test_every_deep_file_is_a_parse_finding(tmp_path: Path) -> None:
    root = make_repo(tmp_path, deep_files())
    outcome = scan_isolated(root, timeout=120)  # a C stack overflow would kill an in-process run
    assert_clean(outcome)
    for name in deep_files():
        if name == "vars/main.tf":
            continue
        file = name
        messages = parse_findings(outcome, file)
        assert messages, f"{file}: no parse finding in {outcome.findings()}"
        assert any("deep" in m or "nest" in m for m in messages), (file, messages)


def test_deep_yaml_on_stdin_is_a_parse_finding(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    outcome = scan(root, paths=["-"], stdin=("[" * 5000 + "]" * 5000).encode())
    assert_clean(outcome)
    assert any("nests collections deeper" in m for m in parse_findings(outcome, "-"))


def test_deep_policy_is_a_policy_error_not_a_crash(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"residency.yaml": "version: 1\nallowed_regions: " + "[" * DEEP + "]" * DEEP + "\n"})
    outcome = scan_isolated(root, "--policy", "residency.yaml")
    assert outcome.code == 2, outcome.stderr
    assert "deeper than" in outcome.stderr


def test_yaml_nesting_check_is_exact_at_the_limit() -> None:
    ok = "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH
    assert yaml_nesting_error(ok) is None
    too_deep = "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1)
    line, message = yaml_nesting_error(too_deep)  # type: ignore[misc]
    assert line == 1 and str(MAX_YAML_DEPTH) in message


@pytest.mark.parametrize("text", [
    'a: "[[[[[[[[[["\n' * 400,  # brackets inside strings are noise for the cheap bound, not depth
    "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n" * 20,
    "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
])
def test_ordinary_yaml_is_not_refused(text: str) -> None:
    assert yaml_nesting_error(text) is None


def test_deep_kubernetes_yaml_in_process_after_the_fix(tmp_path: Path) -> None:
    """With the depth check in place the same input is safe in process (and fast)."""
    root = make_repo(tmp_path, {"flow.yaml": "[" * DEEP + "]" * DEEP})
    outcome = scan(root)
    assert_clean(outcome)
    # How fast: measured in bench/hostile_timing.py, never asserted by a unit test.
    assert parse_findings(outcome, "flow.yaml")
