"""The GitHub Action (action.yml) and the GitLab template run their shell as CI would.

The composite action's ``run:`` steps are executed in bash with the env GitHub would give them
(``${{ inputs.* }}``, ``${{ steps.*.outputs.* }}``, ``runner.temp``, ``github.action_path`` substituted
by a small evaluator that refuses any other expression), a fake ``GITHUB_OUTPUT`` and
``GITHUB_STEP_SUMMARY``, and a fake ``pip`` that records what it would install. The scanner itself is
the one under test (this virtual environment's ``residency``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is needed to run the CI scripts")
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    return yaml.safe_load((REPO / "action.yml").read_text())


def _fake_bin(tmp: Path) -> Path:
    """A PATH entry with a ``pip`` that records its arguments, then this venv's scanner and Python."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    pip = bin_dir / "pip"
    pip.write_text(f'#!/bin/sh\necho "$@" >> "{tmp}/pip.log"\n')
    pip.chmod(pip.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def _env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join([str(_fake_bin(tmp)), venv_bin, os.environ.get("PATH", "")])
    env = {"PATH": path, "HOME": str(tmp), "RESIDENCY_CACHE_DIR": str(tmp / "cache"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


class Runner:
    """Runs the composite action's bash steps in order, as the runner would."""

    def __init__(self, tmp: Path, inputs: dict[str, str]) -> None:
        spec = _action()
        self.steps = spec["runs"]["steps"]
        self.inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, unknown
        self.inputs.update(inputs)
        self.tmp = tmp
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = tmp / "summary.md"
        self.summary.write_text("")
        (tmp / "runner-temp").mkdir()
        self.env = _env(tmp, {})

    def expression(self, expr: str) -> str:
        if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
            return self.inputs[m.group(1)]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
            return self.outputs.get(m.group(1), {}).get(m.group(2), "")
        if expr == "runner.temp":
            return str(self.tmp / "runner-temp")
        if expr == "github.action_path":
            return str(REPO)
        raise AssertionError(f"expression the test does not model: {expr}")

    def substitute(self, value: str) -> str:
        return EXPR.sub(lambda m: self.expression(m.group(1)), value)

    def run(self, step_id: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        (step,) = [s for s in self.steps if s.get("id") == step_id]
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs reach scripts through env:, never interpolated"
        output = self.tmp / f"{step_id}.out"
        output.write_text("")
        env = dict(self.env, GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(self.summary))
        env.update({k: self.substitute(str(v)) for k, v in step.get("env", {}).items()})
        proc = subprocess.run([BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        self.outputs[step_id] = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        return proc


def test_action_declares_the_inputs_of_the_issue_and_uses_only_env_in_scripts() -> None:
    spec = _action()
    assert spec["runs"]["using"] == "composite"
    assert {"paths", "policy", "format", "fail-on", "baseline", "var-files", "plan", "upload-sarif",
            "sarif-category", "version"} <= set(spec["inputs"])
    uses = [s["uses"].split("@")[0] for s in spec["runs"]["steps"] if "uses" in s]
    assert uses == ["actions/setup-python", "actions/cache", "github/codeql-action/upload-sarif"]
    (cache,) = [s for s in spec["runs"]["steps"] if s.get("uses", "").startswith("actions/cache")]
    assert "steps.install.outputs.version" in cache["with"]["key"]
    for step in spec["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def _fixture_repo(tmp: Path) -> Path:
    work = tmp / "repo"
    shutil.copytree(REPO / "fixtures" / "terraform", work / "infra")
    shutil.copy(REPO / "fixtures" / "residency.yaml", work / "residency.yaml")
    (work / ".git").mkdir()  # the scan root
    return work


def test_action_scans_writes_outputs_and_summary_and_fails_on_blocking(tmp_path: Path) -> None:
    work = _fixture_repo(tmp_path)
    runner = Runner(tmp_path, {"paths": "infra", "format": "github"})
    install = runner.run("install", work)
    assert install.returncode == 0, install.stderr
    assert (tmp_path / "pip.log").read_text().split()[-1] == str(REPO)  # no version: the action's own ref
    assert runner.outputs["install"]["version"]
    scan = runner.run("scan", work)
    assert scan.returncode == 0, scan.stderr  # findings never fail this step: SARIF upload comes first
    out = runner.outputs["scan"]
    assert out["exit-code"] == "1" and int(out["blocking"]) > 0 and int(out["findings"]) >= int(out["blocking"])
    assert "::error file=infra/" in scan.stdout
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    assert sarif["runs"][0]["results"]
    assert json.loads(Path(out["json-file"]).read_text())["summary"]["blocking"] == int(out["blocking"])
    assert "RES001" in runner.summary.read_text()
    gate = runner.run("gate", work)
    assert gate.returncode == 1 and "::error::" in gate.stdout


def test_action_soft_fail_version_pin_and_no_sarif(tmp_path: Path) -> None:
    work = _fixture_repo(tmp_path)
    runner = Runner(tmp_path, {"paths": "infra", "format": "text", "soft-fail": "true", "upload-sarif": "false",
                               "version": "0.1.0", "fail-on": "critical"})
    assert runner.run("install", work).returncode == 0
    assert "residency-guardrail==0.1.0" in (tmp_path / "pip.log").read_text()
    scan = runner.run("scan", work)
    assert scan.returncode == 0, scan.stderr
    assert "sarif-file" not in runner.outputs["scan"]
    assert runner.run("gate", work).returncode == 0


def test_action_refuses_a_version_that_is_not_one(tmp_path: Path) -> None:
    runner = Runner(tmp_path, {"version": "1.0; curl evil"})
    proc = runner.run("install", tmp_path)
    assert proc.returncode == 2 and not (tmp_path / "pip.log").exists()


def test_action_usage_error_fails_the_scan_step(tmp_path: Path) -> None:
    work = _fixture_repo(tmp_path)
    runner = Runner(tmp_path, {"paths": "infra", "policy": "missing.yaml"})
    scan = runner.run("scan", work)
    assert scan.returncode == 2 and runner.outputs["scan"]["exit-code"] == "2"


def test_action_hostile_inputs_stay_data(tmp_path: Path) -> None:
    """A path input with shell syntax is passed as one argument, never run."""
    work = _fixture_repo(tmp_path)
    runner = Runner(tmp_path, {"paths": "infra $(touch${IFS}pwned) `touch pwned2`", "upload-sarif": "false"})
    runner.run("scan", work)
    assert not (work / "pwned").exists() and not (work / "pwned2").exists()


def test_action_plan_input_scans_only_the_plan(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(REPO / "fixtures" / "plan" / "basic", work)
    (work / ".git").mkdir()
    shutil.copy(REPO / "fixtures" / "residency.yaml", work / "residency.yaml")
    plan = "plan.json"
    runner = Runner(tmp_path, {"plan": plan, "upload-sarif": "false", "format": "json"})
    scan = runner.run("scan", work)
    assert runner.outputs["scan"]["exit-code"] in ("0", "1"), scan.stderr
    assert {f["file"] for f in json.loads(scan.stdout)["findings"]} <= {plan}


# ------------------------------------------------------------------------------------------ GitLab


def test_gitlab_template_writes_code_quality_and_rich_junit(tmp_path: Path) -> None:
    spec = yaml.safe_load((REPO / "templates" / "residency.gitlab-ci.yml").read_text())
    job = spec["residency"]
    reports = job["artifacts"]["reports"]
    assert reports == {"codequality": "gl-code-quality.json", "junit": "residency-junit.xml"}
    work = _fixture_repo(tmp_path)
    variables = {k: str(v) for k, v in {**spec["variables"], **job["variables"]}.items()}
    variables["RESIDENCY_PATHS"] = "infra"
    env = _env(tmp_path, {"CI_PROJECT_DIR": str(work)})
    # GitLab expands $VARS inside variable values; only CI_PROJECT_DIR is used that way here.
    env.update({k: v.replace("$CI_PROJECT_DIR", str(work)) for k, v in variables.items()})
    script = "\n".join(job["script"])
    proc = subprocess.run(["sh", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # the fixtures violate the policy on purpose: the job fails
    assert "residency-guardrail" in (tmp_path / "pip.log").read_text()
    issues = json.loads((work / "gl-code-quality.json").read_text())
    assert issues and all(i["location"]["path"].startswith("infra/") for i in issues)
    junit = (work / "residency-junit.xml").read_text()
    assert 'file="infra/' in junit  # the rich form: GitLab links testcases by their file
    assert (work / ".residency-cache").is_dir()  # the cache path the job's cache: keeps


def test_action_changed_since_input(tmp_path: Path) -> None:
    from dulwich import porcelain

    work = _fixture_repo(tmp_path)
    shutil.rmtree(work / ".git")
    porcelain.init(str(work))
    porcelain.add(str(work), paths=[str(p) for p in work.rglob("*") if p.is_file() and ".git" not in p.parts])
    porcelain.commit(str(work), message=b"base", author=b"t <t@example.com>", committer=b"t <t@example.com>")
    runner = Runner(tmp_path, {"paths": "infra", "changed-since": "HEAD", "upload-sarif": "false"})
    scan = runner.run("scan", work)
    assert scan.returncode == 0, scan.stderr
    assert runner.outputs["scan"]["exit-code"] == "0" and runner.outputs["scan"]["findings"] == "0"  # nothing changed
