"""RES007 end to end, per destination kind: ``residency scan`` on each failing and passing fixture.

Every kind the movement rule reads has fixtures/{terraform,kubernetes}/movement/<kind>/{failing,passing}.
A failing fixture exits 1 with exactly the RES007 findings its ``# expect:`` comments declare, on
those lines (the url/endpoint argument's line); a passing one exits 0 with no finding at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import BUNDLED_POLICY, FIXTURES
from tests.test_fixtures import declared

KINDS = sorted(
    d for base in (FIXTURES / "terraform" / "movement", FIXTURES / "kubernetes" / "movement")
    for kind in base.iterdir() if kind.is_dir() for d in (kind / "failing", kind / "passing")
)


def _policy(path: Path) -> Path:
    if (path / "residency.yaml").exists():  # e.g. principals: placing another account
        return path / "residency.yaml"
    return FIXTURES / "kubernetes" / "residency.yaml" if "kubernetes" in path.parts else BUNDLED_POLICY


def _scan(path: Path, capsys, monkeypatch, tmp_path) -> tuple[int, list[dict]]:
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["scan", "--format", "json", "--jobs", "1", "--policy", str(_policy(path)), str(path)])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_every_kind_has_both_fixtures():
    kinds = {p.parent.name for p in KINDS}
    assert {"firehose", "sns", "eventbridge", "log_subscription", "dms", "datasync", "pubsub_push", "eventgrid",
            "env", "otel_collector", "fluent_bit", "datadog_agent", "pubsub_cloud_run", "pubsub_bigquery_storage",
            "diagnostic_eventhub", "kinesis_cross_account", "logging_sink_pubsub", "cloudfront", "fluent_bit_yaml",
            "fluent_bit_aws", "vector", "otel_collector_aws", "newrelic_integration", "lambda_telemetry",
            "eventgrid_queues", "datadog_provider", "cdn_azure", "cdn_google", "datadog_logs",
            "env_expansion", "otel_operator"} <= kinds
    for kind in kinds:
        assert sum(p.parent.name == kind for p in KINDS) == 2, kind


@pytest.mark.parametrize("path", KINDS, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_movement_fixture(path: Path, capsys, monkeypatch, tmp_path):
    code, findings = _scan(path, capsys, monkeypatch, tmp_path)
    if path.name == "passing":
        assert (code, findings) == (0, [])
        return
    assert code == 1
    default = {"RES007": "movement", "RES001": "placement", "RES002": "replication"}
    expected = {(f.name, line, rule, cat or default[rule]) for f in path.iterdir() if f.is_file()
                for line, rule, cat in declared(f)}
    found = {(Path(f["file"]).name, f["line"], f["rule_id"], f["category"]) for f in findings}
    assert found == expected
    for f in findings:
        assert f["resource"] and f["message"] and f["remediation"]
        if f["rule_id"] != "RES007":
            continue  # a US store the pipe writes to is RES001's finding too
        if f["category"] == "movement":
            # names the destination's location and where that came from (table entry or ARN)
            assert "located in" in f["message"] and any(
                origin in f["message"]
                for origin in ("bundled host table entry", "ARN", "the location of ", "keeps its data", "price classes",
                               "points of presence", "edge-caching infrastructure")
            ), f["message"]
        else:  # a host declares its place in endpoints:; another resource is located by scanning it
            assert "endpoints:" in f["remediation"] or "scan the configuration" in f["remediation"]


COPIES_NOT_PIPES = """
provider "google" {
  project = "acme-eu"
  region  = "europe-west1"
}
resource "google_storage_bucket" "us" {
  name     = "acme-audit-us"
  location = "US"
}
resource "google_logging_project_sink" "to_bucket" {
  name        = "to-bucket"
  destination = "storage.googleapis.com/${google_storage_bucket.us.name}"
}
resource "google_storage_transfer_job" "to_us" {
  description = "nightly"
  transfer_spec {
    gcs_data_source { bucket_name = "acme-eu-source" }
    gcs_data_sink { bucket_name = google_storage_bucket.us.name }
  }
}
resource "google_bigquery_data_transfer_config" "ads" {
  display_name           = "ads"
  data_source_id         = "google_ads"
  destination_dataset_id = "ads"
  location               = "US"
  params                 = { customer_id = "123" }
}
"""


def test_sinks_and_transfers_the_catalog_covers_are_reported_once(capsys, monkeypatch, tmp_path):
    """A log sink to Cloud Storage/BigQuery, a Storage Transfer job's sink bucket and a BigQuery Data
    Transfer config's destination location are copies or placements the catalog already judges
    (RES001/RES002): RES007 does not report the same copy a second time."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "main.tf").write_text(COPIES_NOT_PIPES, encoding="utf-8")
    code, findings = _scan(tmp_path / "p", capsys, monkeypatch, tmp_path)
    assert code == 1
    by_resource = sorted((f["resource"], f["rule_id"]) for f in findings)
    assert by_resource == [
        ("google_bigquery_data_transfer_config.ads", "RES001"),
        ("google_logging_project_sink.to_bucket", "RES002"),
        ("google_storage_bucket.us", "RES001"),
        ("google_storage_transfer_job.to_us", "RES002"),
    ]


def test_cloudfront_names_price_class_and_the_policy_can_lower_or_waive_it(capsys, monkeypatch, tmp_path):
    """Every distribution is a finding; the policy lowers RES007's severity or waives a distribution."""
    failing = FIXTURES / "terraform" / "movement" / "cloudfront" / "failing"
    code, findings = _scan(failing, capsys, monkeypatch, tmp_path)
    assert code == 1 and {f["severity"] for f in findings} == {"high"}
    assert all("price_class" in f["message"] and "PriceClass_" in f["message"] for f in findings)
    assert all("price_class" in f["remediation"] for f in findings)
    policy = tmp_path / "residency.yaml"
    policy.write_text("version: 1\nallowed_regions: [in:eu-locations]\nrules: {RES007: {severity: low}}\n"
                      "waivers:\n  - rule: RES007\n    resource: aws_cloudfront_distribution.site\n"
                      "    reason: public marketing site, edge caching accepted by the DPO\n"
                      "    expires: 2099-01-01\n", encoding="utf-8")
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache2"))
    code = main(["scan", "--format", "json", "--jobs", "1", "--policy", str(policy), str(failing)])
    out = json.loads(capsys.readouterr().out)["findings"]
    assert {(f["resource"], f["severity"], bool(f.get("waiver"))) for f in out} == {
        ("aws_cloudfront_distribution.site", "low", True), ("aws_cloudfront_distribution.api", "low", False)}
