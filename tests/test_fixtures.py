"""The fixture harness: every fixture declares the findings it must produce, next to the code.

An expectation is a comment on the line where the finding must point:
``# expect: RES001`` (several: ``# expect: RES001, RES003``; with a category: ``RES001:unresolved``).
JSON files (plans, *.tf.json) cannot hold comments: a sidecar ``<file>.expect`` lists
``LINE RULE[:category]`` per line. Everything found must be expected and everything expected found:
the comparison is the exact set of (file, line, rule, category) per file.

The tree is scanned with the bundled policy, as the README's first command does; a directory holding
its own ``residency.yaml`` is scanned separately with that policy.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

EXPECT = re.compile(r"(?:#|//)\s*expect:\s*([A-Z0-9_:, a-z-]+)")
COMMENT_SUFFIXES = (".tf", ".tofu", ".tfvars", ".yaml", ".yml", ".hcl")
SKIP_DIRS = ("policies",)  # policy samples for test_policy, not infrastructure


def _parse_expect(spec: str) -> list[tuple[str, str | None]]:
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        rule, _, category = item.partition(":")
        out.append((rule.strip(), category.strip() or None))
    return out


def declared(path: Path) -> set[tuple[int, str, str | None]]:
    """Expectations declared in one fixture file (or its .expect sidecar)."""
    found: set[tuple[int, str, str | None]] = set()
    if path.name.endswith(COMMENT_SUFFIXES):
        for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = EXPECT.search(text)
            if m:
                found.update((number, r, c) for r, c in _parse_expect(m.group(1)))
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        for text in sidecar.read_text(encoding="utf-8").splitlines():
            text = text.split("#", 1)[0].strip()
            if text:
                line, spec = text.split(None, 1)
                found.update((int(line), r, c) for r, c in _parse_expect(spec))
    return found


def _policy_dirs() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.rglob("residency.yaml")
                  if p.parent != FIXTURES and not any(s in p.parts for s in SKIP_DIRS))


@cache
def _findings() -> dict[str, list]:
    """file -> findings, over every fixture unit (bundled policy + dirs with their own policy)."""
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    by_file: dict[str, list] = defaultdict(list)
    own = _policy_dirs()
    bundled = load_policy(BUNDLED_POLICY)
    excluded = tuple(d.relative_to(FIXTURES).as_posix() + "/**" for d in own) + tuple(f"{s}/**" for s in SKIP_DIRS)
    bundled = dataclasses.replace(bundled, exclude=bundled.exclude + excluded)
    runs = [(bundled, FIXTURES)] + [(load_policy(d / "residency.yaml"), d) for d in own]
    for policy, path in runs:
        report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), policy)
        for f in report.findings:
            by_file[f.file].append(f)
    return by_file


def _fixture_files() -> list[Path]:
    files = []
    for p in sorted(FIXTURES.rglob("*")):
        if not p.is_file() or p.name.endswith(".expect") or any(s in p.relative_to(FIXTURES).parts[:1]
                                                                  for s in SKIP_DIRS):
            continue
        if p.name.endswith(COMMENT_SUFFIXES) or p.name.endswith(".json"):
            files.append(p)
    return files


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_findings_match_declarations(path: Path) -> None:
    rel = path.relative_to(REPO).as_posix()
    expected = declared(path)
    actual_findings = _findings().get(rel, [])
    actual = {(f.line, f.rule_id, f.category.value) for f in actual_findings}
    # An expectation without a category matches any category of that rule on that line.
    loose = {(line, rule) for line, rule, cat in expected if cat is None}
    strict = {(line, rule, cat) for line, rule, cat in expected if cat is not None}
    missing = {e for e in strict if e not in actual} | {
        (line, rule) for line, rule in loose if not any(a[0] == line and a[1] == rule for a in actual)}
    unexpected = sorted(
        (f.line, f.rule_id, f.category.value, f.resource, f.message) for f in actual_findings
        if (f.line, f.rule_id, f.category.value) not in strict and (f.line, f.rule_id) not in loose)
    assert not missing and not unexpected, f"{rel}: missing {sorted(missing)}; unexpected {unexpected}"


def test_every_rule_has_failing_and_passing_fixture() -> None:
    """Each rule is declared failing somewhere, and some fixture exercising its family passes clean."""
    from checks.rules import ENGINE_RULES, RULES

    declared_rules = {rule for p in _fixture_files() for _, rule, _ in declared(p)}
    for rule_id in RULES:
        if rule_id in ENGINE_RULES:
            continue
        assert rule_id in declared_rules, f"{rule_id} has no failing fixture"
    clean = [p for p in _fixture_files() if p.suffix in (".tf", ".yaml", ".yml") and not declared(p)
             and not _findings().get(p.relative_to(REPO).as_posix())]
    assert clean, "no clean (passing) fixture"


def test_bundled_scan_finds_something() -> None:
    """The README's main job prints findings: a harness that compares empty sets proves nothing."""
    assert sum(len(v) for v in _findings().values()) >= 10
