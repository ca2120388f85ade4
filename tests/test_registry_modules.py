"""Registry modules not on disk (no `terraform init`): one RES901 per call that says how to fix it, and the
policy's `terraform:` keys that relax the call, never the data stores around it (issue 16; fail closed as in 17).

Layout of terraform-aws-modules/terraform-aws-rds examples/complete-postgres (fa183b6b): vpc, security-group
and kms from the registry; fixtures/terraform/registry_modules/ holds the failing/passing/warn roots.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scanner.engine import ScanOptions, scan
from scanner.errors import ResidencyError
from scanner.policy import load_policy, policy_from_regions

MAIN = """
provider "aws" {
  region = "eu-west-1"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 6.0"
}

module "kms" {
  source = "terraform-aws-modules/kms/aws"
}

resource "aws_db_instance" "this" {
  engine               = "postgres"
  storage_encrypted    = true
  kms_key_id           = module.kms.key_arn
  db_subnet_group_name = module.vpc.database_subnet_group
}
"""


def _scan(root: Path, **policy_keys):
    (root / "main.tf").write_text(MAIN)
    policy = dataclasses.replace(policy_from_regions(["in:eu-locations"], root), **policy_keys)
    return scan(ScanOptions(paths=[root], cwd=root, use_cache=False), policy)


def _by(report, rule):
    return {f.resource: f for f in report.findings if f.rule_id == rule}


def test_each_missing_call_is_one_finding_naming_the_fix(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    calls = _by(report, "RES901")
    assert set(calls) == {"module.vpc", "module.kms"}
    vpc = calls["module.vpc"]
    assert vpc.blocking and vpc.line == 6
    assert "terraform-aws-modules/vpc/aws (version ~> 6.0) is not on disk" in vpc.message
    assert "no .terraform/modules/modules.json" in vpc.message
    assert "terraform init -backend=false" in vpc.message and "terraform.no_data_modules" in vpc.remediation
    key = _by(report, "RES004")["aws_db_instance.this"]  # the store reading the missing output fails closed
    assert key.blocking and "terraform-aws-modules/kms/aws is not on disk" in key.message


def test_a_manifest_without_the_call_says_which_entry_is_missing(tmp_path: Path) -> None:
    mods = tmp_path / ".terraform" / "modules"
    mods.mkdir(parents=True)
    (mods / "modules.json").write_text('{"Modules": [{"Key": "", "Source": "", "Dir": "."}]}')
    vpc = _by(_scan(tmp_path), "RES901")["module.vpc"]
    assert "modules.json has no entry 'vpc'" in vpc.message


def test_warn_shows_calls_without_blocking_but_the_store_still_blocks(tmp_path: Path) -> None:
    report = _scan(tmp_path, registry_modules="warn")
    calls = _by(report, "RES901")
    assert set(calls) == {"module.vpc", "module.kms"} and not any(f.blocking for f in calls.values())
    assert _by(report, "RES004")["aws_db_instance.this"].blocking


def test_no_data_modules_turns_the_call_into_a_note_and_keeps_the_stores_fail_closed(tmp_path: Path) -> None:
    report = _scan(tmp_path, no_data_modules=("terraform-aws-modules/vpc/aws", "terraform-aws-modules/kms/aws"))
    assert not _by(report, "RES901")
    notes = {n.resource: n.message for n in report.notes}
    assert "terraform.no_data_modules entry 'terraform-aws-modules/vpc/aws'" in notes["module.vpc"]
    assert "module.kms" in notes
    # the policy says kms holds no store; the database's key still comes from it and is unknown: blocks
    assert _by(report, "RES004")["aws_db_instance.this"].blocking


def test_no_data_modules_matches_registry_addresses_as_terraform_reads_them(tmp_path: Path) -> None:
    policy = dataclasses.replace(policy_from_regions(["in:eu-locations"], tmp_path),
                                 no_data_modules=("terraform-aws-modules/vpc/aws", "git::https://example.com/net.git"))
    assert policy.data_free_module("Terraform-AWS-Modules/vpc/aws//modules/vpc-endpoints") is not None
    assert policy.data_free_module("registry.terraform.io/terraform-aws-modules/vpc/aws") is not None
    assert policy.data_free_module("git::https://example.com/net.git//sub?ref=v1") is not None
    assert policy.data_free_module("terraform-aws-modules/vpc-peering/aws") is None
    assert policy.data_free_module("git::https://example.com/other.git") is None


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nallowed_regions: [eu-west-1]\n" + body)
    return p


def test_policy_terraform_registry_keys_are_validated(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, "terraform:\n  registry_modules: warn\n"
                                           "  no_data_modules: [terraform-aws-modules/vpc/aws]\n"))
    assert (policy.registry_modules, policy.no_data_modules) == ("warn", ("terraform-aws-modules/vpc/aws",))
    default = load_policy(_write(tmp_path, ""))
    assert (default.registry_modules, default.no_data_modules) == ("fail", ())
    with pytest.raises(ResidencyError, match=r"terraform\.registry_modules"):
        load_policy(_write(tmp_path, "terraform:\n  registry_modules: ignore\n"))
    with pytest.raises(ResidencyError, match=r"terraform\.no_data_modules"):
        load_policy(_write(tmp_path, "terraform:\n  no_data_modules: {vpc: true}\n"))
