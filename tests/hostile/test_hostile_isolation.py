"""No network, no code execution, no trust in the cache: a full scan of hostile input only reads files.

The network and process functions are replaced by ones that fail the test when called, then the
CLI scans the bundled fixtures and a hostile repository in every format.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
from pathlib import Path

import pytest

from scanner.cli import FORMAT_NAMES
from tests.hostile._support import REPO, assert_clean, make_repo, scan

HOSTILE = {
    # PyYAML's unsafe tags: a full (unsafe) loader would run these
    "k8s/exec.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
    "  a: !!python/object/apply:os.system ['touch /tmp/residency-pwned']\n"
    "  b: !!python/object/new:subprocess.Popen [['touch', '/tmp/residency-pwned']]\n",
    # Terraform that would run things or fetch things if anything evaluated it for real
    "tf/main.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\n'
    'data "external" "x" {\n  program = ["sh", "-c", "touch /tmp/residency-pwned"]\n}\n'
    'data "http" "y" {\n  url = "http://169.254.169.254/latest/meta-data/"\n}\n'
    'resource "null_resource" "z" {\n  provisioner "local-exec" {\n    command = "touch /tmp/residency-pwned"\n  }\n}\n'
    'module "remote" {\n  source = "git::https://example.invalid/x.git"\n}\n'
    'resource "aws_s3_bucket" "b" {\n  bucket = data.external.x.result.name\n'
    '  tags   = { f = file("/etc/passwd"), t = templatefile("/etc/passwd", {}) }\n}\n',
    "tf/terraform.tfvars": 'x = "${file("/etc/shadow")}"\n',
}


class _Forbidden(AssertionError):
    pass


def _forbid(what: str):  # type: ignore[no-untyped-def]
    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _Forbidden(f"the scan called {what}{args[:2]!r}")

    return fail


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("socket", "create_connection", "getaddrinfo", "socketpair"):
        monkeypatch.setattr(socket, name, _forbid(f"socket.{name}"))
    for name in ("Popen", "run", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, _forbid(f"subprocess.{name}"))
    for name in ("system", "popen", "execv", "execve", "execvp", "spawnv", "posix_spawn", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _forbid(f"os.{name}"))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_a_full_scan_opens_no_socket_and_runs_nothing(sealed: None, tmp_path: Path, fmt: str) -> None:
    marker = Path("/tmp/residency-pwned")
    marker.unlink(missing_ok=True)
    root = make_repo(tmp_path, HOSTILE)
    outcome = scan(root, "--jobs", "1", fmt=fmt)
    assert_clean(outcome)
    fixtures = scan(REPO / "fixtures", "--policy", str(REPO / "fixtures" / "residency.yaml"), "--jobs", "1", fmt=fmt)
    assert fixtures.code in (0, 1, 2), fixtures.stderr  # exit 3 would be a bug of its own, reported elsewhere
    assert "_Forbidden" not in outcome.stderr + fixtures.stderr
    assert not marker.exists()


def test_hostile_inputs_are_findings_not_actions(tmp_path: Path) -> None:
    outcome = scan(make_repo(tmp_path, HOSTILE))
    assert_clean(outcome)
    messages = " ".join(f["message"] for f in outcome.findings())
    assert "git::https://example.invalid/x.git" in messages  # the remote module is named, not fetched
    assert "/etc/passwd" not in outcome.stdout.replace('file(\\"/etc/passwd\\")', "")  # never read


def test_scanner_source_has_no_eval_exec_or_process_calls() -> None:
    """Static guard: the scanner never evaluates strings or starts processes (the cache unpickles
    with an allow-list, see tests/test_cache.py)."""
    banned_calls = {"eval", "exec", "compile", "__import__"}
    banned_modules = {"subprocess", "socket", "urllib.request", "http.client", "ftplib", "telnetlib"}
    offenders = []
    for path in sorted((REPO / "scanner").rglob("*.py")) + sorted((REPO / "checks").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in banned_calls:
                offenders.append(f"{path.name}:{node.lineno} {node.func.id}()")
            risky = (isinstance(node, ast.Attribute) and node.attr in ("system", "popen", "load", "unsafe_load")
                     and isinstance(node.value, ast.Name) and node.value.id in ("os", "yaml", "pickle"))
            # the one yaml.load is the catalog reading its own package data with the safe loader
            catalog_data = path.relative_to(REPO).as_posix() == "checks/catalog/types.py"
            if risky and not (node.value.id == "yaml" and node.attr == "load" and catalog_data):
                offenders.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.name}:{node.lineno} import {n}" for n in names if n in banned_modules]
    assert offenders == []


# --- cache integrity, end to end ----------------------------------------------------------------


TF = 'provider "aws" {\n  region = "us-east-1"\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'


def test_corrupt_cache_entries_are_ignored_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(cache))
    root = make_repo(tmp_path, {"a/main.tf": TF, "k/b.yaml": "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\n"
                                "metadata:\n  name: b\nspec:\n  forProvider:\n    region: us-east-1\n"})
    first = scan(root, cache=True)
    assert_clean(first)
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries, "the scan wrote no cache entries"
    for i, entry in enumerate(entries):  # truncate, garble, empty, replace with a pickle bomb
        data = entry.read_bytes()
        entry.write_bytes([data[: len(data) // 2], b"\x00" * len(data), b"",
                           b"RGC1" + b"\x00" * 32 + b"cos\nsystem\n(S'touch /tmp/residency-pwned'\ntR."][i % 4])
    second = scan(root, cache=True)
    assert_clean(second)
    assert sorted(map(_key, second.findings())) == sorted(map(_key, first.findings()))
    assert not Path("/tmp/residency-pwned").exists()
    assert all(p.resolve().is_relative_to(cache.resolve()) for p in cache.rglob("*"))


def test_cache_writes_stay_in_the_cache_dir_whatever_the_file_names(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(cache))
    names = {"../../escape/main.tf": TF, "a/..%2f..%2fx/main.tf": TF, "b/\u2215etc\u2215x/main.tf": TF}
    root = make_repo(tmp_path, {n.replace("../../", "esc/"): c for n, c in names.items()})
    before = {p for p in tmp_path.rglob("*")}
    assert_clean(scan(root, cache=True))
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(p.resolve().is_relative_to(cache.resolve()) for p in created), created


def _key(f: dict) -> tuple:  # type: ignore[type-arg]
    return (f["file"], f["line"], f["rule_id"], f["resource"])
