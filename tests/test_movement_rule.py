"""RES007 end to end: a Firehose stream to Datadog US1 fails the bundled (EU) policy, EU1 passes."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

MOVEMENT = FIXTURES / "terraform" / "movement"


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
