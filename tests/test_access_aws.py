"""RES006 on AWS grant sources, scanned as a user would (policy: fixtures/terraform/access/residency.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_access_rule import POLICY, _scan


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    return tmp_path


def _run(root: Path, text: str) -> list:
    (root / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n' + text)
    return _scan(root, root / "residency.yaml")


KMS_MODULE = '''
variable "policy" {
  type    = string
  default = null
}
data "aws_caller_identity" "current" {
  count = 1
}
locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
}
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "Default"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "KeyOwner"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current[0].arn, "OTHER"]
    }
  }
}
resource "aws_kms_key" "this" {
  policy = coalesce(var.policy, data.aws_iam_policy_document.this.json)
}
'''


def test_kms_module_self_through_try_and_coalesce_passes(root: Path) -> None:
    """terraform-aws-modules/terraform-aws-kms (407e3db) main.tf: 7 keys were unresolved through try()/coalesce()."""
    assert _run(root, KMS_MODULE.replace('"OTHER"', 'data.aws_caller_identity.current[0].arn')) == []
    (f,) = _run(root, KMS_MODULE.replace("OTHER", "arn:aws:iam::444455556666:role/us-admin"))
    assert f.category.value == "access" and f.resource == "aws_kms_key.this" and "444455556666" in f.message


def _sharing(unit: str) -> list:
    from tests.test_access_rule import ACCESS

    return [f for f in _scan(ACCESS / unit) if f.file.endswith("sharing.tf")]


def test_trust_and_sharing_to_eu_principals_pass() -> None:
    assert _sharing("passing") == []


def test_trust_and_sharing_to_us_or_unmapped_principals_fail() -> None:
    found = _sharing("failing")
    us = next(f for f in found if f.resource == "aws_iam_role.ci" and "444455556666" in f.message)
    assert us.category.value == "access" and us.country == "US" and "sts:AssumeRole" in us.message
    vendor = next(f for f in found if "999900001111" in f.message)
    assert vendor.category.value == "unresolved" and "sts:ExternalId" in vendor.message
    github = next(f for f in found if "token.actions.githubusercontent.com" in f.message)
    assert github.category.value == "unresolved" and "principals.aws.federated" in github.message
    gitlab = next(f for f in found if "gitlab.com" in f.message)
    assert gitlab.category.value == "access" and gitlab.country == "US"
    # a key grant opens the store the key protects; a RAM share opens the resource its association names
    assert next(f for f in found if "aws_kms_grant.ledger" in f.message).resource == "aws_s3_bucket.ledger"
    assert next(f for f in found if "aws_ram_principal_association" in f.message).resource == "aws_rds_cluster.orders"
    snapshot = sorted(f.message for f in found if f.resource == "aws_db_snapshot.orders")
    assert len(snapshot) == 2 and "444455556666, mapped to country:US" in snapshot[1]
    assert "open to everyone" in snapshot[0]  # shared_accounts = ["all"]
    assert {f.resource for f in found} >= {"aws_ebs_snapshot.disk", "aws_ami_copy.image",
                                           "aws_lakeformation_permissions.orders", "aws_eks_access_entry.ops"}
    assert all(f.blocking for f in found)


def test_ram_share_of_a_declared_non_store_opens_nothing(root: Path) -> None:
    text = '''
resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_ram_resource_share" "s" {
  name = "s"
}
resource "aws_ram_principal_association" "s" {
  principal          = "444455556666"
  resource_share_arn = aws_ram_resource_share.s.arn
}
resource "aws_ram_resource_association" "s" {
  resource_arn       = aws_vpc.v.arn
  resource_share_arn = aws_ram_resource_share.s.arn
}
'''
    assert _run(root, text) == []
    # without any resource association in the unit, the share itself is judged (its resources are not in view)
    (f,) = _run(root, text.split('resource "aws_ram_resource_association"')[0])
    assert f.resource == "aws_ram_principal_association.s" and "444455556666" in f.message


@pytest.mark.parametrize(("path", "expect"), [
    ("o-abc123def4/r-ab12/ou-ab12-cd34ef56/*", None),  # an OU mapped to country:DE
    ("o-abc123def4/r-ab12/ou-ab12-us000000/*", "access"),  # an OU mapped to country:US
    ("o-abc123def4/*", None),  # the whole EU organisation
    ("o-*", "access"),  # any organisation: public
])
def test_organizational_units_matched_through_principal_org_paths(root: Path, path: str, expect: str | None) -> None:
    found = _run(root, '''
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
resource "aws_s3_bucket_policy" "b" {
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "*",
      Condition = { "ForAnyValue:StringLike" = { "aws:PrincipalOrgPaths" = ["PATH"] } } }]
  })
}
'''.replace("PATH", path))
    assert [f.category.value for f in found] == ([expect] if expect else [])
