"""RES006 on GCP scopes: project / folder / organisation IAM opens every store of the scope, service-account IAM
opens what the account is granted (impersonation); only roles that reach data are read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.grants_gcp import reaches_data
from tests.conftest import FIXTURES, REPO

ACCESS = FIXTURES / "terraform" / "access"
POLICY = ACCESS / "residency.yaml"
SCOPES = ACCESS / "gcp_scopes"


def _scan(path: Path, policy: Path = POLICY) -> list:
    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES))
    return [f for f in report.findings if f.rule_id == "RES006"]


@pytest.mark.parametrize(("role", "expect"), [
    ("roles/owner", True), ("roles/viewer", True), ("roles/storage.objectViewer", True),
    ("roles/bigquery.dataEditor", True), ("roles/secretmanager.secretAccessor", True),
    ("roles/iam.serviceAccountTokenCreator", True), ("roles/resourcemanager.projectIamAdmin", True),
    ("projects/p/roles/custom", True), ("organizations/1/roles/custom", True), (None, True),
    ("roles/compute.networkAdmin", False), ("roles/logging.logWriter", False), ("roles/browser", False),
])
def test_roles_that_reach_data(role: str | None, expect: bool) -> None:
    assert reaches_data(role) is expect


def test_failing_scopes_one_finding_per_store_and_principal() -> None:
    got = sorted((f.line, f.category.value, f.resource) for f in _scan(SCOPES / "failing"))
    stores = ["google_bigquery_dataset.events", "google_storage_bucket.data"]
    assert got == sorted([*((19, "access", s) for s in stores), *((25, "access", s) for s in stores),
                          *((31, "access", s) for s in stores), *((38, "unresolved", s) for s in stores),
                          (55, "access", "google_storage_bucket.data"),  # what etl is granted
                          (62, "access", "google_project_iam_member.other_project")])  # no store of us-analytics here
    msgs = {(f.line, f.resource): f.message for f in _scan(SCOPES / "failing")}
    assert "acts as service account google_service_account.etl" in msgs[(55, "google_storage_bucket.data")]
    assert "every store of project us-analytics" in msgs[(62, "google_project_iam_member.other_project")]


def test_passing_scopes() -> None:
    assert _scan(SCOPES / "passing") == []


def test_projects_iam_module() -> None:
    """terraform-google-modules/terraform-google-iam projects_iam: the additive US binding, through the helper."""
    (f,) = _scan(ACCESS / "gcp_projects_iam")
    assert f.resource == "google_storage_bucket.exports" and "analysts@us.example.com" in f.message
    assert f.file.endswith("modules/projects_iam/main.tf")


def test_store_of_another_project_is_not_covered(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    (tmp_path / "main.tf").write_text('''
resource "google_storage_bucket" "a" {
  name     = "a"
  location = "EU"
  project  = "eu-prod"
}
resource "google_project_iam_member" "m" {
  project = var.project
  role    = "roles/storage.admin"
  member  = "user:x@us.example.com"
}
resource "google_project_iam_member" "n" {
  project = "projects/other-eu"
  role    = "roles/storage.admin"
  member  = "user:x@us.example.com"
}
variable "project" {}
''')
    got = sorted((f.line, f.resource) for f in _scan(tmp_path, tmp_path / "residency.yaml"))
    # var.project is not known statically: it may be eu-prod (fail closed); other-eu is not
    assert got == [(7, "google_storage_bucket.a"), (12, "google_project_iam_member.n")]
