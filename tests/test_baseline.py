"""Baselines: line moves still match, new findings stay blocking, fixed entries are reported."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scanner.baseline import Baseline, load_baseline, write_baseline
from scanner.errors import ResidencyError
from scanner.model import Category, Finding, Severity, Waiver


def finding(resource: str = "aws_s3_bucket.uploads", line: int = 7, rule_id: str = "RES001",
            file: str = "infra/main.tf", **kw: object) -> Finding:
    return Finding(rule_id=rule_id, rule_name="data-store-outside-allowed-regions",
                   category=Category.PLACEMENT, severity=Severity.HIGH, resource=resource,
                   resource_type="aws_s3_bucket", file=file, line=line, message="in us-east-1",
                   remediation="move it", **kw)  # type: ignore[arg-type]


def roundtrip(tmp_path: Path, findings: list[Finding]) -> Baseline:
    path = tmp_path / ".residency-baseline.json"
    write_baseline(findings, path, tool_version="1.2.3", today=date(2025, 6, 1))
    return load_baseline(path)


def test_file_format_is_sorted_and_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    waived = finding("aws_s3_bucket.w", waiver=Waiver("ok", None, None, "inline x:1"), blocking=False)
    write_baseline([finding("b.z", file="z.tf"), finding("a.a"), finding("a.a", line=99), waived], path,
                   tool_version="1.2.3", today=date(2025, 6, 1))
    doc = json.loads(path.read_text())
    assert doc["version"] == 1 and doc["tool_version"] == "1.2.3" and doc["generated"] == "2025-06-01"
    assert [(e["file"], e["resource"]) for e in doc["entries"]] == [("infra/main.tf", "a.a"), ("z.tf", "b.z")]
    assert all(set(e) == {"fingerprint", "rule_id", "resource", "file"} for e in doc["entries"])
    assert doc["entries"][0]["fingerprint"] == finding("a.a").fingerprint
    assert path.stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_regenerating_after_a_line_move_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_baseline([finding(line=7), finding("x.y", line=30)], a, tool_version="1", today=date(2025, 1, 1))
    write_baseline([finding("x.y", line=31), finding(line=8)], b, tool_version="1", today=date(2025, 1, 1))
    assert a.read_bytes() == b.read_bytes()


def test_moved_block_still_matches(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [finding(line=7)])
    (marked,), fixed = baseline.apply([finding(line=42)])
    assert marked.baseline == "known" and marked.blocking is False and marked.line == 42
    assert fixed == []


def test_new_finding_stays_blocking(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [finding()])
    new = finding("aws_s3_bucket.new")
    (known, fresh), _ = baseline.apply([finding(), new])
    assert known.baseline == "known" and not known.blocking
    assert fresh == new and fresh.blocking and fresh.baseline is None


def test_same_resource_in_another_file_or_rule_is_new(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [finding()])
    out, _ = baseline.apply([finding(file="other/main.tf"), finding(rule_id="RES002")])
    assert all(f.blocking and f.baseline is None for f in out)


def test_fixed_finding_reported(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [finding(), finding("aws_s3_bucket.gone")])
    out, fixed = baseline.apply([finding()])
    assert [f.baseline for f in out] == ["known"]
    assert fixed == [{"fingerprint": finding("aws_s3_bucket.gone").fingerprint, "rule_id": "RES001",
                      "resource": "aws_s3_bucket.gone", "file": "infra/main.tf"}]


def test_non_blocking_finding_is_not_made_blocking(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [])
    low = finding(blocking=False)
    assert baseline.apply([low]) == ([low], [])


def test_waived_finding_is_not_recorded_but_keeps_an_entry_alive(tmp_path: Path) -> None:
    waiver = Waiver("accepted", "2030-01-01", None, "policy residency.yaml:3")
    baseline = roundtrip(tmp_path, [finding(waiver=waiver, blocking=False)])
    assert baseline.entries == ()
    baseline = roundtrip(tmp_path, [finding()])
    (out,), fixed = baseline.apply([finding(waiver=waiver, blocking=False)])
    assert out.waived and fixed == []


def test_entry_matches_on_rule_resource_file_when_fingerprint_differs(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "entries": [
        {"fingerprint": "from-an-older-hash", "rule_id": "RES001", "resource": "aws_s3_bucket.uploads",
         "file": "infra/main.tf"}]}))
    (out,), fixed = load_baseline(path).apply([finding()])
    assert out.baseline == "known" and fixed == []


def test_apply_does_not_mutate_findings(tmp_path: Path) -> None:
    baseline = roundtrip(tmp_path, [finding()])
    original = finding()
    copy = replace(original)
    baseline.apply([original])
    assert original == copy


@pytest.mark.parametrize(("content", "fragment"), [
    ("{not json", "not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"version": 2, "entries": []}', "unsupported version 2"),
    ('{"entries": []}', "unsupported version None"),
    ('{"version": 1}', "'entries' must be a list"),
    ('{"version": 1, "entries": ["x"]}', "entries[0] must be an object"),
    ('{"version": 1, "entries": [{"fingerprint": "a", "rule_id": "R"}]}', "needs string resource, file"),
    ('{"version": 1, "entries": [{"fingerprint": "", "rule_id": "R", "resource": "r", "file": "f"}]}',
     "empty fingerprint"),
])
def test_malformed_baseline_is_a_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResidencyError) as exc:
        load_baseline(path)
    assert fragment in str(exc.value) and str(path) in str(exc.value)


def test_missing_or_unwritable_baseline(tmp_path: Path) -> None:
    with pytest.raises(ResidencyError, match="file not found"):
        load_baseline(tmp_path / "nope.json")
    with pytest.raises(ResidencyError, match="cannot write"):
        write_baseline([finding()], tmp_path / "no" / "dir" / "b.json")
