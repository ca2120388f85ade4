"""--changed-since / --changed-files on a git repository made here (with dulwich, no git binary needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dulwich import porcelain

from scanner.cli import main

POLICY = "version: 1\nallowed_regions: [in:eu-locations]\n"
FILES = {
    "residency.yaml": POLICY,
    "README.md": "infra\n",
    "modules/store/main.tf": 'resource "aws_s3_bucket" "this" {\n  bucket = "store"\n}\n',
    "envs/a/main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n\nmodule "store" {\n'
                      '  source = "../../modules/store"\n}\n',
    "envs/b/main.tf": 'variable "region" {}\n\nprovider "aws" {\n  region = var.region\n}\n\n'
                      'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
    "envs/b/terraform.tfvars": 'region = "eu-west-1"\n',
    "k8s/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: web}\nspec:\n"
                    "  template:\n    spec:\n      nodeSelector: {topology.kubernetes.io/region: us-east-1}\n"
                    "      containers: [{name: app, image: nginx}]\n",
    "k8s/other.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other, namespace: web}\nspec:\n"
                      "  template:\n    spec:\n      nodeSelector: {topology.kubernetes.io/region: us-west-2}\n"
                      "      containers: [{name: other, image: nginx}]\n",
}


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


def _commit(repo: Path, message: str) -> bytes:
    porcelain.add(str(repo), paths=[str(p) for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts])
    return porcelain.commit(str(repo), message=message.encode(), author=b"t <t@example.com>",
                            committer=b"t <t@example.com>")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    porcelain.init(str(root))
    _write(root, FILES)
    base = _commit(root, "base")
    porcelain.tag_create(str(root), b"base", objectish=base)
    monkeypatch.chdir(root)
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", "--jobs", "1", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _resources(report: dict) -> set[str]:
    return {f["resource"] for f in report["findings"] if f["rule_id"] in ("RES001", "RES005")}


def test_child_module_change_selects_exactly_the_roots_using_it(repo: Path, capsys) -> None:
    (repo / "modules/store/main.tf").write_text(FILES["modules/store/main.tf"] + "# touched\n")
    _commit(repo, "touch module")
    code, report = _scan(capsys, "--changed-since", "base")
    assert _resources(report) == {"module.store.aws_s3_bucket.this"}  # through envs/a; envs/b and k8s not scanned
    assert code == 1
    notes = [(n["file"], n["message"]) for n in report["notes"]]
    assert any(f == "modules/store" and "modules/store/main.tf changed since base" in m for f, m in notes)
    assert ("modules/store", "module modules/store evaluated through root envs/a") in notes  # the loader's closure


def test_unstaged_tfvars_change_selects_its_root(repo: Path, capsys) -> None:
    (repo / "envs/b/terraform.tfvars").write_text('region = "us-east-1"\n')  # not even staged
    _code, report = _scan(capsys, "--changed-since", "HEAD")
    assert _resources(report) == {"aws_s3_bucket.b"}


def test_kubernetes_change_selects_the_file(repo: Path, capsys) -> None:
    (repo / "k8s/app.yaml").write_text(FILES["k8s/app.yaml"] + "# touched\n")
    porcelain.add(str(repo), paths=[str(repo / "k8s/app.yaml")])  # staged only
    _code, report = _scan(capsys, "--changed-since", "HEAD")
    assert _resources(report) == {"Deployment/web/app"}


def test_policy_change_selects_everything(repo: Path, capsys) -> None:
    (repo / "residency.yaml").write_text(POLICY + "# stricter soon\n")
    _code, report = _scan(capsys, "--changed-since", "HEAD")
    assert _resources(report) == {"module.store.aws_s3_bucket.this", "Deployment/web/app", "Deployment/web/other"}
    assert "scanning everything" in report["notes"][0]["message"]


def test_unrelated_change_scans_nothing(repo: Path, capsys) -> None:
    (repo / "README.md").write_text("changed\n")
    _commit(repo, "docs")
    code, report = _scan(capsys, "--changed-since", "base")
    assert code == 0 and report["findings"] == []
    assert "nothing scanned" in report["notes"][0]["message"]


def test_changed_files_list(repo: Path, capsys, tmp_path: Path) -> None:
    listing = tmp_path / "changed.txt"
    listing.write_text("k8s/other.yaml\n\nmodules/store/main.tf\n")
    _code, report = _scan(capsys, "--changed-files", str(listing))
    assert _resources(report) == {"module.store.aws_s3_bucket.this", "Deployment/web/other"}


def test_bad_ref_and_not_a_repository_are_usage_errors(repo: Path, capsys, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["scan", "--changed-since", "no-such-branch"]) == 2
    assert "cannot resolve 'no-such-branch'" in capsys.readouterr().err
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    (elsewhere / "residency.yaml").write_text(POLICY)
    monkeypatch.chdir(elsewhere)
    assert main(["scan", "--changed-since", "main"]) == 2
    assert "needs a git repository" in capsys.readouterr().err


def test_reading_git_runs_nothing_from_the_repository(repo: Path, capsys) -> None:
    """fsmonitor, hooks and clean filters configured by the scanned repository are never run."""
    pwned = repo.parent / "pwned"
    config = repo / ".git" / "config"
    config.write_text(config.read_text() + f'[core]\n\tfsmonitor = touch {pwned}-fsmonitor\n'
                      f'\thooksPath = hooks\n[filter "evil"]\n\tclean = touch {pwned}-clean\n'
                      f'\tprocess = touch {pwned}-process\n[diff]\n\texternal = touch {pwned}-diff\n')
    (repo / ".gitattributes").write_text("*.tf filter=evil diff=evil\n")
    (repo / "envs/b/main.tf").write_text(FILES["envs/b/main.tf"] + "# touched\n")
    _scan(capsys, "--changed-since", "HEAD")
    assert not list(repo.parent.glob("pwned*"))
