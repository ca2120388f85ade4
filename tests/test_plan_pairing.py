"""HCL and its plan must agree: same rules on the same resources, and the same inline waivers."""

from __future__ import annotations

import shutil
from pathlib import Path

from scanner.engine import ScanOptions, scan
from scanner.policy import load_policy
from tests.conftest import BUNDLED_POLICY, FIXTURES

PAIRED = FIXTURES / "plan" / "paired"


def _verdicts(paths: list[Path], cwd: Path) -> set[tuple[str, str, str]]:
    report = scan(ScanOptions(paths=paths, cwd=cwd, use_cache=False), load_policy(BUNDLED_POLICY))
    return {(f.resource, f.rule_id, f.category.value) for f in report.findings}


def test_hcl_and_plan_give_the_same_findings(tmp_path: Path) -> None:
    hcl = tmp_path / "hcl"
    plan = tmp_path / "plan"
    shutil.copytree(PAIRED, hcl, ignore=shutil.ignore_patterns("plan.json*"))
    plan.mkdir()
    shutil.copy(PAIRED / "plan.json", plan / "plan.json")
    from_hcl = _verdicts([hcl], tmp_path)
    from_plan = _verdicts([plan / "plan.json"], tmp_path)
    assert from_hcl, "the paired fixture must produce findings"
    assert from_hcl == from_plan


def test_inline_waiver_in_source_applies_to_the_plan_and_cites_the_source(tmp_path: Path) -> None:
    work = tmp_path / "infra"
    shutil.copytree(PAIRED, work)
    main = work / "main.tf"
    text = main.read_text().replace(
        'resource "aws_s3_bucket" "archive"',
        '# residency:ignore RES001 reason="legal hold copy, approved" expires=2099-01-01\n'
        'resource "aws_s3_bucket" "archive"')
    main.write_text(text)
    report = scan(ScanOptions(paths=[work / "plan.json"], cwd=tmp_path, use_cache=False),
                  load_policy(BUNDLED_POLICY))
    (finding,) = [f for f in report.findings if f.rule_id == "RES001"]
    assert finding.file.endswith("plan.json")
    assert finding.waived and not finding.blocking
    assert finding.waiver is not None and "main.tf" in finding.waiver.source
    assert finding.waiver.reason == "legal hold copy, approved"
