"""Engine behaviour that spans stages: where a finding points, which waivers reach it."""

from __future__ import annotations

from pathlib import Path

from scanner.engine import ScanOptions, scan
from scanner.policy import policy_from_regions

MAIN = """provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_s3_bucket" "src" {
  bucket = "src"
}

resource "aws_s3_bucket" "dst" {
  provider = aws.us
  bucket   = "dst"
}
"""

REPLICATION = """resource "aws_s3_bucket_replication_configuration" "r" {
  bucket = aws_s3_bucket.src.id
  role   = "arn:aws:iam::123456789012:role/replication"
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.dst.arn
    }
  }
}
"""


def _scan(root: Path) -> list:
    policy = policy_from_regions(["in:eu-locations"], root)
    return scan(ScanOptions(paths=[root], cwd=root, use_cache=False), policy).findings


def test_copy_declared_in_another_file_points_at_that_block(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "replication.tf").write_text(REPLICATION)
    found = {(f.rule_id, f.resource, f.file, f.line) for f in _scan(tmp_path)}
    assert ("RES002", "aws_s3_bucket.src", "replication.tf", 1) in found
    assert ("RES001", "aws_s3_bucket.dst", "main.tf", 14) in found


def test_waiver_on_the_block_the_finding_points_at(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "replication.tf").write_text(
        '# residency:ignore RES002 reason="DR copy approved by DPO" expires=2099-12-31\n' + REPLICATION)
    (res002,) = [f for f in _scan(tmp_path) if f.rule_id == "RES002"]
    assert res002.waived and not res002.blocking
    assert res002.waiver is not None and res002.waiver.reason == "DR copy approved by DPO"
    assert "replication.tf" in res002.waiver.source


def test_waiver_for_another_rule_does_not_apply(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "replication.tf").write_text(
        '# residency:ignore RES001 reason="not this rule" expires=2099-12-31\n' + REPLICATION)
    (res002,) = [f for f in _scan(tmp_path) if f.rule_id == "RES002"]
    assert not res002.waived and res002.blocking


def test_same_address_in_two_roots_does_not_join(tmp_path: Path) -> None:
    eu, us = tmp_path / "eu", tmp_path / "us"
    eu.mkdir()
    us.mkdir()
    (eu / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n\n'
                                'resource "aws_db_instance" "db" {\n  storage_encrypted = true\n}\n')
    (us / "main.tf").write_text('provider "aws" {\n  region = "us-east-1"\n}\n\n'
                                'resource "aws_db_instance" "db" {\n  storage_encrypted = false\n}\n')
    found = {(f.rule_id, f.file) for f in _scan(tmp_path)}
    assert ("RES001", "us/main.tf") in found and ("RES003", "us/main.tf") in found
    assert not any(file == "eu/main.tf" for _, file in found)


def test_nested_expansion_has_a_total_budget_reported_once(tmp_path: Path) -> None:
    """count is capped per block, but module count x resource count multiplies: the run has a budget."""
    from scanner.loaders.terraform import TerraformOptions, load_terraform

    (tmp_path / "m").mkdir()
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n\n'
                                      'module "m" {\n  source = "./m"\n  count  = 40\n}\n')
    (tmp_path / "m" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  count  = 40\n'
                                            '  bucket = "b${count.index}"\n}\n')
    result = load_terraform([tmp_path], tmp_path, TerraformOptions(max_instances=50))
    assert len(result.resources) <= 500  # 10 x the per-block cap
    (problem,) = result.problems
    assert problem.resource == "module.m.aws_s3_bucket.b" and "in total" in problem.message
    assert problem.file == "m/main.tf" and problem.line == 1


def test_encryption_remediation_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "eu-west-1"\n}\n\n'
        'resource "aws_db_instance" "db" {\n  engine = "postgres"\n}\n\n'
        'resource "aws_opensearch_domain" "search" {\n  domain_name = "s"\n}\n')
    fixes = {f.resource: f.remediation for f in _scan(tmp_path) if f.rule_id == "RES003"}
    assert "storage_encrypted = true" in fixes["aws_db_instance.db"]
    assert "encrypt_at_rest { enabled = true }" in fixes["aws_opensearch_domain.search"]


def test_azapi_resource_in_a_plan_is_checked_like_in_hcl(tmp_path: Path) -> None:
    import json

    plan = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{
            "address": "azapi_resource.sa", "mode": "managed", "type": "azapi_resource", "name": "sa",
            "provider_name": "registry.terraform.io/azure/azapi",
            "values": {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "name": "sa", "location": "uksouth",
                       "body": {"sku": {"name": "Standard_RAGRS"}, "kind": "StorageV2"}}}]}},
        "resource_changes": [{"address": "azapi_resource.sa", "mode": "managed", "type": "azapi_resource",
                              "name": "sa", "change": {"actions": ["create"], "after_unknown": {}}}],
        "configuration": {"root_module": {}},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    found = {(f.rule_id, f.resource, f.resource_type, f.region) for f in _scan(tmp_path)}
    assert ("RES001", "azapi_resource.sa", "azapi_resource", "uksouth") in found
    assert ("RES002", "azapi_resource.sa", "azapi_resource", "ukwest") in found


def test_policy_waiver_paths_are_relative_to_a_policy_in_a_subdirectory(tmp_path: Path) -> None:
    """Issue 14 6a: waiver ``paths:`` were matched root-relative, so with the policy in infra/ they never matched."""
    from scanner.policy import load_policy

    (tmp_path / ".git").mkdir()  # the scan root is the git root, the policy lives below it
    infra = tmp_path / "infra"
    (infra / "prod").mkdir(parents=True)
    (infra / "prod" / "main.tf").write_text(MAIN)
    (infra / "residency.yaml").write_text(
        "version: 1\nallowed_regions: [in:eu-locations]\nexclude: []\nscopes:\n"
        "  - paths: [\"prod/**\"]\n    allowed_regions: [in:eu-locations]\n"
        "waivers:\n  - rule: RES001\n    resource: aws_s3_bucket.dst\n    reason: approved by the DPO\n"
        "    paths: [\"prod/**\"]\n")
    policy = load_policy(infra / "residency.yaml")
    report = scan(ScanOptions(paths=[tmp_path], cwd=tmp_path, use_cache=False), policy)
    (res001,) = [f for f in report.findings if f.rule_id == "RES001"]
    assert res001.file == "infra/prod/main.tf"  # reports stay root-relative
    assert res001.waived and not res001.blocking and res001.waiver is not None
    assert res001.waiver.reason == "approved by the DPO"


def _policy_scan(tmp_path: Path, policy_text: str, files: dict[str, str]) -> list:
    from scanner.policy import load_policy

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "residency.yaml").write_text("version: 1\nallowed_regions: [in:eu-locations]\n" + policy_text)
    from checks.rules import RULES

    policy = load_policy(tmp_path / "residency.yaml", known_rules=RULES)
    return scan(ScanOptions(paths=[tmp_path], cwd=tmp_path, use_cache=False), policy).findings


def test_rules_block_disables_a_rule_and_regrades_another(tmp_path: Path) -> None:
    """Engine-level (issue 14 item 7): ``rules:`` switches and severity overrides reach the findings."""
    files = {"main.tf": MAIN, "replication.tf": REPLICATION}
    base = {f.rule_id for f in _policy_scan(tmp_path, "", files)}
    assert {"RES001", "RES002"} <= base
    found = _policy_scan(tmp_path, "rules:\n  RES002: {enabled: false}\n  RES001: {severity: low}\n", files)
    assert "RES002" not in {f.rule_id for f in found}
    assert {f.severity.value for f in found if f.rule_id == "RES001"} == {"low"}


def test_unresolved_warn_makes_unresolved_findings_non_blocking(tmp_path: Path) -> None:
    files = {"main.tf": 'variable "r" {}\nprovider "aws" {\n  region = var.r\n}\n'
                        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'}
    fail = [f for f in _policy_scan(tmp_path, "", files) if f.category.value == "unresolved"]
    assert fail and all(f.blocking for f in fail)
    warn = [f for f in _policy_scan(tmp_path, "unresolved: warn\n", files) if f.category.value == "unresolved"]
    assert warn and not any(f.blocking for f in warn)


def test_scopes_pick_the_allowed_regions_by_path_relative_to_the_policy(tmp_path: Path) -> None:
    """Engine-level (issue 14 item 7): a scope's allowed regions apply to its paths only, matched relative to
    the policy file (here in infra/ below the git root), and the rest keeps the top-level set."""
    from scanner.policy import load_policy

    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    for unit in ("us", "eu"):
        (infra / unit).mkdir(parents=True)
        (infra / unit / "main.tf").write_text(MAIN)
    (infra / "residency.yaml").write_text(
        "version: 1\nallowed_regions: [in:eu-locations]\n"
        "scopes:\n  - paths: [\"us/**\"]\n    allowed_regions: [in:us-locations]\n")
    report = scan(ScanOptions(paths=[tmp_path], cwd=tmp_path, use_cache=False), load_policy(infra / "residency.yaml"))
    res001 = {(f.file, f.resource, f.region) for f in report.findings if f.rule_id == "RES001"}
    # under the EU default the US bucket fails; under the us/** scope the EU one does
    assert res001 == {("infra/eu/main.tf", "aws_s3_bucket.dst", "us-east-1"),
                      ("infra/us/main.tf", "aws_s3_bucket.src", "eu-west-1")}


def test_terraform_file_admission_with_directories_resolved_once_agrees_with_admissible(tmp_path: Path) -> None:
    # The load's accept() resolves each directory once instead of each file; every kind of entry a
    # walk meets (plain file, link inside, link out, file under a linked dir, oversize, a named
    # --var-file outside, a ".." path, a missing file) must get admissible()'s own answer.
    from scanner.limits import Admission, admissible

    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    (root / "stack").mkdir(parents=True)
    outside.mkdir()
    (root / "stack" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    (root / "stack" / "big.tf").write_text("#" * 5000)
    (outside / "secret.tf").write_text("x = 1\n")
    (outside / "named.tfvars").write_text("x = 1\n")
    (root / "stack" / "inside.tf").symlink_to(root / "stack" / "main.tf")
    (root / "stack" / "out.tf").symlink_to(outside / "secret.tf")
    (root / "linked").symlink_to(outside)
    (root / "alias").symlink_to(root / "stack")
    named = frozenset({(outside / "named.tfvars").resolve()})
    accept = Admission(root, 1000, named)
    cases = [root / "stack" / "main.tf", root / "stack" / "big.tf", root / "stack" / "inside.tf",
             root / "stack" / "out.tf", root / "linked" / "secret.tf", root / "alias" / "main.tf",
             root / "linked" / "named.tfvars", root / "stack" / ".." / "stack" / "main.tf",
             root / "stack" / "missing.tf", outside / "secret.tf"]
    expected = [admissible(f, root, 1000, named) for f in cases]
    assert [accept(f) for f in cases] == expected
    assert [accept(f) for f in cases] == expected  # memoised directories answer the same the second time
    assert expected == [True, False, True, False, False, True, True, True, True, False]
