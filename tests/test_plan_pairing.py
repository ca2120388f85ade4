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
    (tmp_path / ".git").mkdir()  # a repository: names are relative to its root
    main = work / "main.tf"
    text = main.read_text().replace(
        'resource "aws_s3_bucket" "archive"',
        '# residency:ignore RES001 reason="legal hold copy, approved" expires=2099-01-01\n'
        'resource "aws_s3_bucket" "archive"')
    main.write_text(text)
    report = scan(ScanOptions(paths=[work / "plan.json"], cwd=tmp_path, use_cache=False),
                  load_policy(BUNDLED_POLICY))
    (finding,) = [f for f in report.findings if f.rule_id == "RES001"]
    assert finding.file == "infra/main.tf"  # the .tf block is the primary location (issue 20 item 5)
    assert [f for f, _line in finding.related] == ["infra/plan.json"]
    assert finding.waived and not finding.blocking
    assert finding.waiver is not None and "main.tf" in finding.waiver.source
    assert finding.waiver.reason == "legal hold copy, approved"


def test_plan_beside_its_source_reports_each_store_once_at_the_tf_line(tmp_path: Path) -> None:
    """Issue 20 item 5: the .tf block is the primary location in every format, the plan entry related;
    a directory with both .tf files and their plan reports each data store once (the plan wins)."""
    from scanner.report import render
    from scanner.report.sarif import build

    work = tmp_path / "infra"
    shutil.copytree(PAIRED, work)
    (tmp_path / ".git").mkdir()  # a repository: names are relative to its root
    report = scan(ScanOptions(paths=[work], cwd=tmp_path, use_cache=False), load_policy(BUNDLED_POLICY))
    placed = [f for f in report.findings if f.rule_id in ("RES001", "RES002", "RES003")]
    assert sorted((f.file, f.line, f.rule_id) for f in placed) == [
        ("infra/main.tf", 12, "RES001"), ("infra/main.tf", 17, "RES003"), ("infra/main.tf", 28, "RES002")]
    assert all(f.related and f.related[0][0] == "infra/plan.json" for f in placed)
    assert any("reported from its plan infra/plan.json" in n.message for n in report.notes)
    result = next(r for r in build(report)["runs"][0]["results"] if r["ruleId"] == "RES001")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/main.tf"
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/plan.json"
    assert "file=infra/main.tf,line=12," in render("github", report)
    assert '"path": "infra/main.tf"' in render("gitlab", report)
    assert "infra/main.tf:12" in render("junit", report)
