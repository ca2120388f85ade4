"""RES007 end to end: a Firehose stream to Datadog US1 fails the bundled (EU) policy, EU1 passes."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

MOVEMENT = FIXTURES / "terraform" / "movement" / "firehose"


def _scan(path):
    return subprocess.run(
        [sys.executable, "-m", "scanner", "scan", "--policy", str(BUNDLED_POLICY), "--format", "json", str(path)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )


def test_firehose_to_datadog_us_is_res007_and_exits_1():
    import json

    done = _scan(MOVEMENT / "failing")
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [(f["rule_id"], f["category"]) for f in findings] == [("RES007", "movement")]
    assert "datadoghq.com" in findings[0]["message"]


def test_firehose_to_datadog_eu_passes():
    import json

    done = _scan(MOVEMENT / "passing")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"] == []


def test_unknown_host_is_unresolved_and_movement_warn_does_not_block(tmp_path):
    import json

    (tmp_path / "main.tf").write_text(
        (MOVEMENT / "passing" / "main.tf").read_text().replace("aws-kinesis-http-intake.logs.datadoghq.eu",
                                                               "intake.example.invalid")
    )
    for mode, rc in (("fail", 1), ("warn", 0)):
        policy = tmp_path / f"{mode}.yaml"
        policy.write_text(f"version: 1\nallowed_regions: [in:eu-locations]\nmovement:\n  unresolved: {mode}\n")
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", "--policy", str(policy), "--format", "json", str(tmp_path)],
            capture_output=True, text=True, cwd=REPO, check=False,
        )
        assert done.returncode == rc, (mode, done.stdout[-800:], done.stderr)
        findings = json.loads(done.stdout)["findings"]
        assert [(f["rule_id"], f["category"], f["blocking"]) for f in findings] == [
            ("RES007", "unresolved", mode == "fail")
        ]


def test_finding_points_at_the_url_line():
    import json

    done = _scan(MOVEMENT / "failing")
    (finding,) = json.loads(done.stdout)["findings"]
    lines = (MOVEMENT / "failing" / "main.tf").read_text().splitlines()
    assert "url" in lines[finding["line"] - 1] and "datadoghq.com" in lines[finding["line"] - 1]


def test_movement_unresolved_written_wins_over_the_top_level_unresolved(tmp_path):
    import json

    (tmp_path / "main.tf").write_text(
        (MOVEMENT / "passing" / "main.tf").read_text().replace("aws-kinesis-http-intake.logs.datadoghq.eu",
                                                               "intake.example.invalid")
    )
    cases = (
        ("unresolved: warn\nmovement:\n  unresolved: fail\n", True),   # explicit fail beats global warn
        ("unresolved: fail\nmovement:\n  unresolved: warn\n", False),  # explicit warn beats global fail
        ("unresolved: warn\nmovement:\n  allowed: [in:eu-locations]\n", False),  # not written: global warn
    )
    for text, blocking in cases:
        policy = tmp_path / "p.yaml"
        policy.write_text("version: 1\nallowed_regions: [in:eu-locations]\n" + text)
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", "--policy", str(policy), "--format", "json", str(tmp_path)],
            capture_output=True, text=True, cwd=REPO, check=False,
        )
        findings = json.loads(done.stdout)["findings"]
        assert [(f["rule_id"], f["blocking"]) for f in findings] == [("RES007", blocking)], text
        assert done.returncode == (1 if blocking else 0), text
