"""Unknown and uncatalogued resource types are named with a suggestion, never skipped silently."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from scanner.engine import ScanOptions, scan
from scanner.errors import ResidencyError
from scanner.policy import load_policy, policy_from_regions
from scanner.report import json_format, text
from scanner.unknown_types import suggestion

MAIN = """
provider "aws" {
  region = "us-east-1"
}

resource "aws_dynamgdb_table" "typo" {
  name = "t"
}

resource "aws_workmail_organization" "mail" {
  organization_alias = "k"
}

resource "aws_vpc" "net" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
}
"""


def _scan(root: Path, mode: str = "note"):
    (root / "main.tf").write_text(MAIN)
    policy = dataclasses.replace(policy_from_regions(["in:eu-locations"], root), unknown_types=mode)
    return scan(ScanOptions(paths=[root], cwd=root, use_cache=False), policy)


def test_a_typo_gets_a_did_you_mean_note_and_a_listed_uncatalogued_store_a_note(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    by_resource = {n.resource: n.message for n in report.notes}
    assert "did you mean aws_dynamodb_table?" in by_resource["aws_dynamgdb_table.typo"]
    assert "hashicorp/aws 6.58.0" in by_resource["aws_dynamgdb_table.typo"]
    assert "no entry" in by_resource["aws_workmail_organization.mail"]
    assert "aws_vpc.net" not in by_resource and "aws_s3_bucket.b" not in by_resource
    assert report.unknown_types == 2
    assert not [f for f in report.findings if f.rule_id == "RES901"]  # default note: exit codes unchanged
    assert "2 resource(s) of a type not checked" in text.render(report, color=False)
    assert json.loads(json_format.render(report))["summary"]["unknown_types"] == 2


def test_fail_makes_each_unknown_type_an_unresolved_finding(tmp_path: Path) -> None:
    report = _scan(tmp_path, "fail")
    found = {(f.rule_id, f.category.value, f.resource) for f in report.findings if f.rule_id == "RES901"}
    assert found == {
        ("RES901", "unresolved", "aws_dynamgdb_table.typo"),
        ("RES901", "unresolved", "aws_workmail_organization.mail"),
    }


def test_policy_terraform_unknown_types_is_validated(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nallowed_regions: [eu-west-1]\nterraform:\n  unknown_types: fail\n")
    assert load_policy(good).unknown_types == "fail"
    assert load_policy(_write(tmp_path, "")).unknown_types == "note"
    with pytest.raises(ResidencyError, match=r"terraform\.unknown_types"):
        load_policy(_write(tmp_path, "terraform:\n  unknown_types: loud\n"))


def _write(root: Path, extra: str) -> Path:
    p = root / "p.yaml"
    p.write_text("version: 1\nallowed_regions: [eu-west-1]\n" + extra)
    return p


def test_suggestion_is_same_provider_and_none_when_far() -> None:
    assert suggestion("google_storage_buckett") == "google_storage_bucket"
    assert suggestion("azurerm_storage_acount") == "azurerm_storage_account"
    assert suggestion("aws_zzzzzzzzzzzzzzzzzzzz") is None


OPERATOR_OBJECTS = """\
apiVersion: kafka.aws.upbound.io/v1beta1
kind: ServerlessClusterr
metadata:
  name: typo
spec:
  forProvider:
    region: us-east-1
---
apiVersion: kafka.aws.upbound.io/v1beta1
kind: ServerlessCluster
metadata:
  name: events
spec:
  forProvider:
    region: us-east-1
---
apiVersion: appflow.aws.m.upbound.io/v1beta1
kind: Flow
metadata:
  name: flow
  namespace: apps
spec:
  forProvider:
    region: eu-west-1
---
apiVersion: ec2.aws.upbound.io/v1beta1
kind: VPC
metadata:
  name: net
spec:
  forProvider:
    region: eu-west-1
---
apiVersion: ec2.services.k8s.aws/v1alpha1
kind: VPC
metadata:
  name: net
spec: {}
---
apiVersion: workspaces.services.k8s.aws/v1alpha1
kind: Workspace
metadata:
  name: desk
spec: {}
---
apiVersion: compute.cnrm.cloud.google.com/v1beta1
kind: ComputeNetwork
metadata:
  name: net
spec: {}
---
apiVersion: aws.upbound.io/v1beta1
kind: ProviderConfig
metadata:
  name: default
spec: {}
"""


def test_operator_kinds_are_never_silent(tmp_path: Path) -> None:
    """A translated kind is judged as its Terraform type; an unknown or untranslated kind is named."""
    (tmp_path / "objects.yaml").write_text(OPERATOR_OBJECTS)
    policy = policy_from_regions(["in:eu-locations"], tmp_path)
    report = scan(ScanOptions(paths=[tmp_path], cwd=tmp_path, use_cache=False), policy)
    notes = [n.message for n in report.notes]
    # the example: ServerlessCluster.kafka.aws.upbound.io used to disappear; now it is placed
    assert {f.resource for f in report.findings if f.rule_id == "RES001"} == {
        "ServerlessCluster.kafka.aws.upbound.io/events"
    }
    assert any("ServerlessClusterr.kafka.aws.upbound.io is not a kind" in m
               and "did you mean ServerlessCluster.kafka.aws.upbound.io?" in m for m in notes), notes
    assert any(m.startswith("Flow.appflow.aws.m.upbound.io (aws_appflow_flow) holds or copies data") for m in notes)
    assert any(m.startswith("Workspace.workspaces.services.k8s.aws is not translated") for m in notes), notes
    # kinds whose names spell a no-data type (aws_vpc, google_compute_network) and operator config stay quiet
    assert not [m for m in notes if "VPC" in m or "ComputeNetwork" in m or "ProviderConfig" in m], notes
    assert report.unknown_types == 3
    failing = dataclasses.replace(policy, unknown_types="fail")
    report = scan(ScanOptions(paths=[tmp_path], cwd=tmp_path, use_cache=False), failing)
    assert sorted(f.resource for f in report.findings if f.rule_id == "RES901") == [
        "Flow.appflow.aws.m.upbound.io/apps/flow",
        "ServerlessClusterr.kafka.aws.upbound.io/typo",
        "Workspace.workspaces.services.k8s.aws/desk",
    ]
