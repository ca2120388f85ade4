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
