"""RES006 severity by action (issue 18): read / decrypt / restore / assume above write-only log delivery.

A principal outside the allowed locations that may only deliver into a store (s3:PutObject with the
bucket-ACL read delivery services ask for, sqs:SendMessage, a GCP objectCreator) is a finding graded
medium; the same principal reading, granted a wildcard, or granted everything but a list (NotAction) is
high; the policy's rules: {RES006: {severity: ...}} still wins. Judged on real parsed fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES
from tests.test_access_rule import POLICY, _scan

DELIVERY = FIXTURES / "terraform" / "access" / "log_delivery"


def _by_resource(path: Path, policy: Path = POLICY) -> dict[str, str]:
    return {f.resource: f.severity.value for f in _scan(path, policy)}


def test_write_only_delivery_is_medium_and_reads_are_high() -> None:
    assert _by_resource(DELIVERY / "failing") == {
        "aws_s3_bucket.logs": "medium",  # s3:PutObject + s3:GetBucketAcl only
        "aws_s3_bucket.data": "high",  # the same account also reads (one finding, the worst grade)
        "aws_s3_bucket.archive": "high",  # NotAction: everything but s3:DeleteObject
        "aws_sqs_queue.events": "high",  # sqs:Send* is a wildcard, not an exact write-only action
        "aws_s3_bucket.alb_logs": "medium",  # ELB log delivery of us-east-1
    }
    (logs,) = [f for f in _scan(DELIVERY / "failing") if f.resource == "aws_s3_bucket.logs"]
    assert "graded medium" in logs.message and "444455556666" in logs.message and logs.blocking
    (archive,) = [f for f in _scan(DELIVERY / "failing") if f.resource == "aws_s3_bucket.archive"]
    assert "every action except s3:DeleteObject" in archive.message


def test_write_only_delivery_from_an_allowed_account_passes() -> None:
    assert _scan(DELIVERY / "passing") == []


def test_policy_severity_override_wins_over_the_grading(tmp_path: Path) -> None:
    policy = tmp_path / "residency.yaml"
    policy.write_text(POLICY.read_text() + "rules:\n  RES006:\n    severity: low\n")
    shutil.copytree(DELIVERY / "failing", tmp_path / "src")
    assert set(_by_resource(tmp_path / "src", policy).values()) == {"low"}


def test_public_write_stays_high(tmp_path: Path) -> None:
    src = (DELIVERY / "failing" / "main.tf").read_text()
    (tmp_path / "main.tf").write_text(src.replace('{ AWS = "arn:aws:iam::444455556666:root" }\n        Action    = '
                                                  '["s3:PutObject"', '"*"\n        Action    = ["s3:PutObject"'))
    findings = {f.resource: f for f in _scan(tmp_path)}
    assert findings["aws_s3_bucket.logs"].message.count("from anywhere") == 1
    assert findings["aws_s3_bucket.logs"].severity.value == "high"


GCS = '''
provider "google" {
  project = "eu-prod"
  region  = "europe-west1"
}
resource "google_storage_bucket" "logs" {
  name     = "acme-logs"
  location = "EU"
}
resource "google_storage_bucket_iam_member" "writer" {
  bucket = google_storage_bucket.logs.name
  role   = "ROLE"
  member = "group:ops@us.example.com"
}
'''


def test_gcp_object_creator_is_medium_object_viewer_high(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(GCS.replace("ROLE", "roles/storage.objectCreator"))
    (f,) = _scan(tmp_path)
    assert f.severity.value == "medium" and "country:US" in f.message
    (tmp_path / "main.tf").write_text(GCS.replace("ROLE", "roles/storage.objectViewer"))
    (f,) = _scan(tmp_path)
    assert f.severity.value == "high"


def test_elb_log_delivery_account_is_judged_as_its_region() -> None:
    """156460612806 is ELB in eu-west-1 (allowed, no mapping needed); 127311923021 is ELB in us-east-1."""
    (f,) = [f for f in _scan(DELIVERY / "failing") if f.resource == "aws_s3_bucket.alb_logs"]
    assert "127311923021" in f.message and "Elastic Load Balancing" in f.message and "us-east-1" in f.message
    assert f.severity.value == "medium" and f.category.value == "access"


def test_elb_account_in_an_arn_only_as_root(tmp_path: Path) -> None:
    from checks.iam_document import aws_principal

    assert aws_principal("AWS", "arn:aws:iam::156460612806:root").region == "eu-west-1"
    assert aws_principal("AWS", "156460612806").kind == "service"
    # a role in that account is no log delivery: an account principal as any other
    assert aws_principal("AWS", "arn:aws:iam::156460612806:role/x").kind == "account"


def test_soc2_cc66_is_listed_by_residency_rules_and_sarif(tmp_path: Path) -> None:
    """CC6.6 (logical access against threats from outside the system boundary) joins RES006's controls."""
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    out = subprocess.run([sys.executable, "-m", "scanner", "rules", "--format", "json"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    (res006,) = [r for r in json.loads(out) if r["id"] == "RES006"]
    assert "SOC2:CC6.6" in res006["controls"] and "SOC2:CC6.3" in res006["controls"]
    sarif = tmp_path / "out.sarif"
    subprocess.run([sys.executable, "-m", "scanner", "scan", str(DELIVERY / "failing"), "--policy", str(POLICY),
                    "--format", "sarif", "--output", str(sarif), "--no-cache"], cwd=REPO, capture_output=True,
                   text=True)
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert results and all("SOC2:CC6.6" in r["properties"]["controls"] for r in results if r["ruleId"] == "RES006")
    assert "SOC2:CC6.6" in (REPO / "docs" / "compliance.md").read_text()


def test_message_names_every_granting_statement_and_its_file_line() -> None:
    """One finding per (store, principal) names each statement that grants it (index and Sid) and FILE:LINE."""
    (f,) = [f for f in _scan(DELIVERY / "failing") if f.resource == "aws_s3_bucket.data"]
    assert "policy Statement[0] (Sid UsDelivery); policy Statement[1] (Sid UsRead)" in f.message
    assert f"fixtures/terraform/access/log_delivery/failing/main.tf:{f.line}" in f.message
