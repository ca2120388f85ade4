"""RES006 end to end: grants read from parsed files, principals placed by the policy's principals: section.

The "done when" cases of issue 18: a bucket policy written with data "aws_iam_policy_document" and
jsonencode with references, granting a US-mapped account s3:GetObject, fails naming that account;
mapped to Ireland it passes; unmapped it is unresolved. No finding on the deploying account's own
statement, on a service principal narrowed to it by aws:SourceAccount, or on GCP service agents.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO

ACCESS = FIXTURES / "terraform" / "access"
POLICY = ACCESS / "residency.yaml"


def _scan(path: Path, policy: Path = POLICY) -> list:
    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES))
    return [f for f in report.findings if f.rule_id == "RES006"]


JSONENCODE = '''
provider "aws" {
  region = "eu-central-1"
}
resource "aws_s3_bucket" "data" {
  bucket = "acme-data"
}
data "aws_iam_policy_document" "base" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
    principals {
      type        = "AWS"
      identifiers = ["ACCOUNT"]
    }
  }
}
resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(jsondecode(data.aws_iam_policy_document.base.json).Statement, [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::ACCOUNT:root" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.data.arn}/*"
    }])
  })
}
'''


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    return tmp_path


@pytest.mark.parametrize(("account", "expect"), [
    ("444455556666", "access"),  # mapped to country:US
    ("777788889999", None),  # mapped to country:IE
    ("999900001111", "unresolved"),  # not mapped
])
def test_policy_document_and_jsonencode_bucket_policy(root: Path, account: str, expect: str | None) -> None:
    (root / "main.tf").write_text(JSONENCODE.replace("ACCOUNT", account))
    findings = _scan(root, root / "residency.yaml")
    if expect is None:
        assert findings == []
        return
    (f,) = findings  # one finding per (store, principal): both statements name the same account
    assert f.category.value == expect and f.resource == "aws_s3_bucket.data"
    assert account in f.message and "s3:ListBucket, s3:GetObject" in f.message
    if expect == "access":
        assert "country:US" in f.message and f.country == "US" and f.blocking


def test_access_unresolved_warn_does_not_block(root: Path) -> None:
    policy = root / "residency.yaml"
    policy.write_text(policy.read_text().replace("unresolved: fail", "unresolved: warn"))
    (root / "main.tf").write_text(JSONENCODE.replace("ACCOUNT", "999900001111"))
    (f,) = _scan(root, policy)
    assert f.category.value == "unresolved" and not f.blocking


def test_self_statement_service_principal_and_service_agents_pass() -> None:
    assert _scan(ACCESS / "passing") == []


def test_self_mapped_outside_is_a_finding(root: Path) -> None:
    policy = root / "residency.yaml"
    policy.write_text(policy.read_text().replace('self: "111122223333"', 'self: "444455556666"'))
    shutil.copy(ACCESS / "passing" / "main.tf", root / "main.tf")
    findings = _scan(root, policy)
    assert {f.resource for f in findings} == {"aws_s3_bucket.reports"}
    assert all("self: 444455556666" in f.message for f in findings)


def test_unreadable_policy_is_unresolved(root: Path) -> None:
    (root / "main.tf").write_text('variable "p" {}\nprovider "aws" {\n  region = "eu-west-1"\n}\n'
                                  'resource "aws_s3_bucket_policy" "p" {\n  bucket = "x"\n  policy = var.p\n}\n')
    (f,) = _scan(root, root / "residency.yaml")
    assert f.category.value == "unresolved" and "var.p" in f.message and f.resource == "aws_s3_bucket_policy.p"


def test_rendered_policy_string_of_a_terraform_plan() -> None:
    (f,) = _scan(ACCESS / "plan")
    assert f.category.value == "access" and "444455556666" in f.message and f.resource == "aws_s3_bucket.reports"


def test_residency_scan_exits_1_and_names_the_account() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", "--policy", str(POLICY), "--format", "json", str(ACCESS / "failing")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert done.returncode == 1, done.stderr
    res006 = [f for f in json.loads(done.stdout)["findings"]
              if f["rule_id"] == "RES006" and f["file"].endswith("failing/main.tf")]
    assert sorted((f["category"], f["resource"]) for f in res006) == [
        ("access", "aws_s3_bucket.exports"), ("access", "aws_s3_bucket.reports"),
        ("access", "google_storage_bucket.events"), ("access", "google_storage_bucket.events"),
        ("access", "google_storage_bucket.events"), ("unresolved", "aws_s3_bucket.vendor"),
    ]
    us = next(f for f in res006 if f["resource"] == "aws_s3_bucket.reports")
    assert "arn:aws:iam::444455556666:role/analytics" in us["message"]
    assert "aws_s3_bucket_policy.reports" in us["message"]


def test_not_principal_allow_is_public_and_deny_never_clears(root: Path) -> None:
    (root / "main.tf").write_text('''
provider "aws" {
  region = "eu-west-1"
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
resource "aws_s3_bucket_policy" "b" {
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({
    Statement = [
      { Effect = "Allow", NotPrincipal = { AWS = "arn:aws:iam::777788889999:root" }, Action = "s3:GetObject",
        Resource = "${aws_s3_bucket.b.arn}/*" },
      { Effect = "Deny", Principal = { AWS = "arn:aws:iam::444455556666:root" }, Action = "s3:*",
        Resource = "${aws_s3_bucket.b.arn}/*" },
    ]
  })
}
''')
    (f,) = _scan(root, root / "residency.yaml")
    assert f.category.value == "access" and "everyone except arn:aws:iam::777788889999:root" in f.message


def test_kms_key_policy_to_a_us_key_user_names_the_key() -> None:
    findings = [f for f in _scan(ACCESS / "failing") if f.file.endswith("failing/more.tf")]
    kms = next(f for f in findings if f.resource == "aws_kms_key.data")
    assert "arn:aws:iam::444455556666:role/us-app" in kms.message and "kms:Decrypt" in kms.message
    assert "${self" not in kms.message  # the self-root statement is no finding
    azure = {f.resource: f for f in findings if f.resource.startswith("azurerm_")}
    assert "object 11111111-2222-3333-4444-555555555555" in azure["azurerm_storage_account.sa"].message


def test_inventory_lists_who_can_reach_each_store() -> None:
    import jsonschema

    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.inventory import build_inventory
    from scanner.policy import load_policy
    from scanner.report.inventory_formats import document, render_mermaid

    policy = load_policy(POLICY, known_rules=RULES)
    report = scan(ScanOptions(paths=[ACCESS / "failing"], cwd=REPO, use_cache=False, keep_facts=True), policy)
    inv = build_inventory(report, policy)
    doc = document(inv)
    jsonschema.validate(doc, json.loads((REPO / "docs" / "inventory.schema.json").read_text()))
    reports = next(d for d in doc["data_stores"] if d["address"] == "aws_s3_bucket.reports")
    by_principal = {a["principal"]: a for a in reports["access"]}
    us = by_principal["arn:aws:iam::444455556666:role/analytics"]
    assert us["status"] == "disallowed" and us["location"] == "country:US"
    assert us["grant"] == "aws_s3_bucket_policy.reports"
    assert us["actions"] == ["s3:GetObject", "s3:ListBucket"]
    own = next(a for p, a in by_principal.items() if "self: 111122223333" in p)
    assert own["status"] == "allowed" and own["location"] == "country:IE"
    # 9 from main.tf/more.tf, 4 from conditions.tf, 6 from sharing.tf (stores in the scan)
    assert doc["totals"]["disallowed_access"] == 19 and doc["totals"]["unresolved_access"] == 3
    mermaid = render_mermaid(inv)
    assert '["arn:aws:iam::444455556666:role/analytics<br/>country:US"]' in mermaid and "-->|\"access\"|" in mermaid


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["failing", "passing"])
def test_checkov_runs_res006_like_the_native_scan(unit: str, tmp_path: Path) -> None:
    """The exported CKV_RES_6 fails the grants the native scan fails, by grant resource (checkov sees one
    resource at a time, so the store is not in view); a policy built by data "aws_iam_policy_document" is
    out of checkov's view (it shows the data source only as a reference)."""
    from tests import checkov_venv
    from tests.test_checkov import _export, _run_checkov

    exe = checkov_venv.ensure()
    checks = _export(POLICY, tmp_path / "checks")
    records = _run_checkov(exe, ACCESS / unit, checks, ["."])
    got = {r["resource"] for r in records if r["check_id"] == "CKV_RES_6"}
    native = {f.origin[1] for f in _scan(ACCESS / unit) if f.blocking and f.origin}
    out_of_view = {"aws_s3_bucket_policy.reports"}  # policy = data.aws_iam_policy_document.reports.json
    # checkov leaves a jsonencode() unrendered when a list in it holds a bare data source reference
    # (aws:PrincipalAccount = [..., data.aws_caller_identity.current.account_id]): unreadable there, so it fails
    checkov_only = {"aws_sqs_queue_policy.inbox"} if unit == "passing" else set()
    assert got - checkov_only == native - out_of_view


def _residency_only_policy(tmp_path: Path, extra: str = "") -> Path:
    policy = tmp_path / "residency.yaml"
    policy.write_text("version: 1\nallowed_regions: [in:eu-locations]\nunresolved: fail\n" + extra, encoding="utf-8")
    return policy


def test_unplaced_principals_do_not_block_until_the_policy_places_principals(tmp_path: Path) -> None:
    """A residency-only policy (no access:, no principals:) shows unplaced principals without blocking.

    Real example modules grant other accounts and service accounts everywhere; blocking each one
    under a policy that maps no principal would make RES006 noise. Public grants still block, and
    once principals: is written an unplaced principal blocks (fail closed on the user's own map).
    """
    found = _scan(ACCESS / "failing", _residency_only_policy(tmp_path))
    unresolved = [f for f in found if f.category.value == "unresolved"]
    public = [f for f in found if f.category.value == "access" and "open to" in f.message]
    assert unresolved and public
    assert not any(f.blocking for f in unresolved)
    assert all(f.blocking for f in public)

    mapped = _residency_only_policy(tmp_path, 'principals:\n  aws:\n    accounts:\n      "777788889999": country:IE\n')
    after = [f for f in _scan(ACCESS / "failing", mapped) if f.category.value == "unresolved"]
    assert after and all(f.blocking for f in after)

    opted = _residency_only_policy(tmp_path, "access:\n  unresolved: fail\n")
    assert all(f.blocking for f in _scan(ACCESS / "failing", opted) if f.category.value == "unresolved")
