"""Helpers for the hostile-input tests: build a throw-away repository, scan it through the CLI.

Every hostile test goes through ``scanner.cli.main`` (what CI runs), in process where that is
enough, and in a child process with a wall-clock timeout and an address-space limit where the
failure being guarded against is a hang, a memory explosion or a crash of the interpreter itself
(a C stack overflow cannot be caught in process).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EU = ("--allowed-regions", "in:eu-locations")
CLEAN_EXITS = (0, 1, 2)


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def findings(self) -> list[dict[str, Any]]:
        return self.report()["findings"]

    def messages(self, rule: str | None = None) -> list[str]:
        return [f["message"] for f in self.findings() if rule is None or f["rule_id"] == rule]

    def by_file(self, file: str) -> list[dict[str, Any]]:
        return [f for f in self.findings() if f["file"] == file]


def make_repo(tmp_path: Path, files: dict[str, str | bytes] | None = None, fixture: str | None = None) -> Path:
    """A git-rooted directory (``.git`` marks the scan root) holding ``files`` and/or a copied fixture."""
    root = tmp_path / "repo"
    if fixture is not None:
        shutil.copytree(FIXTURES / fixture, root, symlinks=True, dirs_exist_ok=True)
    root.mkdir(exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def scan(root: Path, *args: str, paths: Iterable[str] = (".",), fmt: str = "json",
         stdin: bytes | None = None, cache: bool = False) -> Outcome:
    """Run ``residency scan`` in process from ``root``; the parse cache is off unless ``cache``."""
    from scanner import cli

    argv = ["scan", *paths, "--format", fmt, *args]
    if "--policy" not in args and "--allowed-regions" not in args:
        argv += list(EU)
    if not cache:
        argv.append("--no-cache")
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    started = time.monotonic()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _with_stdin(cli.main, argv, stdin) if stdin is not None else cli.main(argv)
    finally:
        os.chdir(old)
    return Outcome(code, out.getvalue(), err.getvalue(), time.monotonic() - started)


def _with_stdin(main: Any, argv: list[str], data: bytes) -> int:
    class _Stdin(io.TextIOWrapper):
        pass

    saved = sys.stdin
    sys.stdin = _Stdin(io.BytesIO(data))
    try:
        return main(argv)
    finally:
        sys.stdin = saved


def scan_isolated(root: Path, *args: str, paths: Iterable[str] = (".",), fmt: str = "json",
                  timeout: float = 60.0, memory_mb: int = 2048, env: dict[str, str] | None = None) -> Outcome:
    """Run the CLI in a child process bounded in time (``timeout``) and address space (``memory_mb``).

    A hang fails the test through ``TimeoutExpired``; a memory explosion shows as a MemoryError
    (exit 3) or a kill; a segmentation fault as a negative return code. All of those fail the
    callers' ``code in CLEAN_EXITS`` assertions with the evidence in the message.
    """
    argv = [sys.executable, "-m", "scanner.cli", "scan", *paths, "--format", fmt, *args]
    if "--policy" not in args and "--allowed-regions" not in args:
        argv += list(EU)
    if "--no-cache" not in args:
        argv.append("--no-cache")
    limit = memory_mb * (1 << 20)

    def bound() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    child_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=root, capture_output=True, timeout=timeout, env=child_env,
                          preexec_fn=bound, check=False)
    return Outcome(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                   time.monotonic() - started)


def assert_clean(outcome: Outcome) -> None:
    """Exit 0, 1 or 2 with no internal error: the only outcomes hostile input may cause."""
    assert outcome.code in CLEAN_EXITS, (
        f"exit {outcome.code}\nstderr: {outcome.stderr[-2000:]}\nstdout: {outcome.stdout[-2000:]}")
    assert "internal error" not in outcome.stderr, outcome.stderr


def parse_findings(outcome: Outcome, file: str) -> list[str]:
    """Messages of the RES900 (parse) findings on ``file``."""
    return [f["message"] for f in outcome.findings() if f["rule_id"] == "RES900" and f["file"] == file]
