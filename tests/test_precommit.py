"""The pre-commit hooks for real: `pre-commit try-repo` installs this repository into its own
virtualenv (pip, from the index) and runs the hook on a throwaway git repository.

Slow (one environment install, about a minute) and needs the package index, hence ``slow``.
The repository under test is a snapshot of this working tree (tracked and untracked, not
ignored files) committed once, so every try-repo call reuses one installed environment instead
of installing a fresh shadow copy per call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

try:
    import pre_commit  # noqa: F401

    PRE_COMMIT: list[str] | None = [sys.executable, "-m", "pre_commit"]
except ImportError:  # the CLI on PATH works as well as the module
    found = shutil.which("pre-commit")
    PRE_COMMIT = [found] if found else None

if PRE_COMMIT is None:
    pytest.skip("pre-commit is not installed (pip install pre-commit, or the test extra)",
                allow_module_level=True)
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

POLICY = "version: 1\nallowed_regions:\n  - in:eu-locations\n"
BUCKET = """provider "aws" {{
  region = "{region}"
}}

resource "aws_s3_bucket" "uploads" {{
  bucket = "uploads"
}}
"""


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a one-commit git repository (pre-commit installs hooks from a repo)."""
    snap = tmp_path_factory.mktemp("hook-repo")
    files = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file() and not src.is_symlink():
            dest = snap / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    _git(snap, "init", "-q")
    _git(snap, "add", "-A")
    _git(snap, "commit", "-q", "-m", "snapshot")
    return snap


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A user's repository with a policy, committed, as the hook would find it."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "residency.yaml").write_text(POLICY)
    _git(tmp_path, "add", "residency.yaml")
    _git(tmp_path, "commit", "-q", "-m", "policy")
    yield tmp_path


def try_repo(hook_repo: Path, home: Path, project: Path, hook: str,
             *extra: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo`` on the staged files (what a commit would check) or ``extra`` args."""
    assert PRE_COMMIT is not None
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)  # the hook must run the installed package, not this working tree
    return subprocess.run([*PRE_COMMIT, "try-repo", str(hook_repo), hook, "--verbose", *extra],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)


def _require_rule(rule_id: str) -> None:
    from checks.rules import RULES

    if rule_id not in RULES:
        pytest.skip(f"rule {rule_id} is not registered in checks.RULES yet")


def test_hook_definitions_match_the_documented_contract() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    main, plan = hooks["residency"], hooks["residency-plan"]
    assert (main["entry"], main["language"], main["pass_filenames"], main["require_serial"]) == (
        "residency scan", "python", True, True)
    assert (plan["entry"], plan["stages"]) == ("residency scan --plan", ["manual"])
    import re

    pattern = re.compile(main["files"])
    for name in ("main.tf", "x.tf.json", "a.tofu", "terraform.tfvars", "p.tfvars.json", "k8s/db.yaml",
                 "d.yml"):
        assert pattern.search(name), name
    for name in ("README.md", "main.tf.bak", "plan.json", "x.tfstate"):
        assert not pattern.search(name), name
    assert re.search(plan["files"], "out/tfplan.json") and not re.search(plan["files"], "package.json")


def test_violating_commit_fails_and_clean_commit_passes(hook_repo: Path, pre_commit_home: Path,
                                                        project: Path) -> None:
    _require_rule("RES001")
    (project / "main.tf").write_text(BUCKET.format(region="us-east-1"))
    _git(project, "add", "main.tf")
    bad = try_repo(hook_repo, pre_commit_home, project, "residency")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "RES001" in bad.stdout, bad.stdout

    (project / "main.tf").write_text(BUCKET.format(region="eu-west-1"))
    (project / "notes.yaml").write_text("just: data\n")  # non-Kubernetes YAML reaches the hook too
    _git(project, "add", "main.tf", "notes.yaml")
    good = try_repo(hook_repo, pre_commit_home, project, "residency")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    _git(project, "commit", "-q", "-m", "eu bucket")


def test_unparseable_file_fails_the_hook(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    (project / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n')
    _git(project, "add", "broken.tf")
    result = try_repo(hook_repo, pre_commit_home, project, "residency")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RES900" in result.stdout, result.stdout


def test_plan_hook_is_manual_and_checks_plans(hook_repo: Path, pre_commit_home: Path, project: Path) -> None:
    _require_rule("RES001")
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.7.0",
        "planned_values": {"root_module": {"resources": [{
            "address": "aws_s3_bucket.uploads", "mode": "managed", "type": "aws_s3_bucket", "name": "uploads",
            "provider_name": "registry.terraform.io/hashicorp/aws", "values": {"bucket": "uploads"},
        }]}},
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                                        "expressions": {"region": {"constant_value": "us-east-1"}}}},
            "root_module": {"resources": [{
                "address": "aws_s3_bucket.uploads", "mode": "managed", "type": "aws_s3_bucket",
                "name": "uploads", "provider_config_key": "aws",
                "expressions": {"bucket": {"constant_value": "uploads"}},
            }]},
        },
    }
    (project / "tfplan.json").write_text(json.dumps(plan))
    _git(project, "add", "tfplan.json")
    # not in the default (pre-commit) stage: a commit never runs it, and asking for it says so
    skipped = try_repo(hook_repo, pre_commit_home, project, "residency-plan")
    assert "Failed" not in skipped.stdout and "RES001" not in skipped.stdout
    assert "stage" in skipped.stdout, skipped.stdout
    manual = try_repo(hook_repo, pre_commit_home, project, "residency-plan", "--hook-stage", "manual",
                      "--files", "tfplan.json")
    assert manual.returncode == 1, manual.stdout + manual.stderr
    assert "RES001" in manual.stdout, manual.stdout
