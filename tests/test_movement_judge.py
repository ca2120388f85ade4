"""Judging flows (checks/movement.py) on destinations read from files by the real loaders."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.flows import Flow, read_flows
from checks.movement import judge_flow
from scanner.loaders.kubernetes import load_kubernetes
from scanner.loaders.terraform import TerraformOptions, load_terraform
from scanner.model import Location, Ref, Unknown
from scanner.policy import compile_allowed
from scanner.regions import catalog


def _allowed(*entries: str):
    def report(node, message):
        raise AssertionError(message)

    return compile_allowed([(e, None) for e in entries], catalog(), report)


EU = _allowed("in:eu-locations")

FIREHOSE = """
resource "aws_kinesis_firehose_delivery_stream" "dd" {
  name        = "to-datadog"
  destination = "http_endpoint"
  http_endpoint_configuration {
    url  = "https://aws-kinesis-http-intake.logs.%s/v1/input"
    name = "Datadog"
  }
}
"""


@pytest.mark.parametrize(("site", "status"), [("datadoghq.com", "outside"), ("datadoghq.eu", "allowed")])
def test_firehose_to_datadog_us1_fails_and_eu1_passes(tmp_path: Path, site, status):
    (tmp_path / "main.tf").write_text(FIREHOSE % site)
    (res,) = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources
    facts = read_flows(res)
    assert facts is not None
    (verdict,) = [judge_flow(f, EU, catalog()) for f in facts.flows]
    assert verdict.status == status
    if status == "outside":
        assert verdict.location == "country:US" and "datadog-us1" in verdict.origin
        assert all(r.country == "US" for r in verdict.outside)
    else:
        assert verdict.location == "country:DE"


def test_otel_collector_configmap_exporting_to_a_us_site_fails():
    text = b"""
apiVersion: v1
kind: ConfigMap
metadata: {name: otel-collector-conf}
data:
  collector.yaml: |
    exporters:
      otlphttp:
        endpoint: https://otlp.nr-data.net
      datadog:
        api: {site: datadoghq.eu}
"""
    (res,) = load_kubernetes([("otel.yaml", text)]).resources
    facts = read_flows(res)
    assert facts is not None
    verdicts = {f.via: judge_flow(f, EU, catalog()) for f in facts.flows}
    assert verdicts["data.collector.yaml: exporters.otlphttp.endpoint"].status == "outside"
    assert verdicts["data.collector.yaml: exporters.datadog.api.site"].status == "allowed"


def test_unknown_host_is_unresolved_with_how_to_declare_it():
    flow = Flow("https://ingest.vendor.example/v1", "url", "url", "HTTP endpoint")
    verdict = judge_flow(flow, EU, catalog())
    assert verdict.status == "unresolved"
    assert 'endpoints: [{host: "ingest.vendor.example", location: country:<CC>}]' in verdict.reason


def test_country_allowed_by_name_and_region_only_policy():
    flow = Flow("datadoghq.eu", "host", "DD_SITE", "Datadog site")
    assert judge_flow(flow, _allowed("country:DE"), catalog()).status == "allowed"
    # A policy of one AWS region cannot show a SaaS site "in Germany" stays in that region.
    assert judge_flow(flow, _allowed("aws:eu-central-1"), catalog()).status == "outside"


def test_arns_refs_and_unknowns():
    cat = catalog()
    other = Flow("arn:aws:kinesis:us-east-1:999988887777:stream/central", "arn", "destination_arn", "log subscription")
    verdict = judge_flow(other, EU, cat)
    assert (verdict.status, verdict.location) == ("outside", "aws:us-east-1")
    s3 = Flow("arn:aws:s3:::backup", "arn", "bucket_arn", "S3 bucket")
    assert judge_flow(s3, EU, cat).status == "unresolved"

    class _Store:
        location = Location("aws", "eu-west-1", "provider aws (main.tf:1)")

    ref = Flow(Ref("aws_s3_bucket.logs", "arn"), "unknown", "bucket_arn", "S3 bucket")
    verdict = judge_flow(ref, EU, cat, facts={"aws_s3_bucket.logs": _Store()})
    assert (verdict.status, verdict.location) == ("allowed", "aws:eu-west-1")
    assert judge_flow(ref, EU, cat).status == "unresolved"
    unknown = Flow(Unknown("var.url has no value"), "unknown", "url", "HTTP endpoint")
    assert judge_flow(unknown, EU, cat).reason == "var.url has no value"


def test_policy_endpoints_section_feeds_the_matcher(tmp_path: Path):
    from scanner.policy import load_policy

    policy_file = tmp_path / "residency.yaml"
    policy_file.write_text(
        "version: 1\n"
        "allowed_regions: [in:eu-locations]\n"
        "movement:\n  allowed: [in:eu-locations]\n  unresolved: fail\n"
        "endpoints:\n"
        '  - {host: "http-inputs-acme.splunkcloud.com", location: country:DE}\n'
        '  - {host: "*.corp.example.us", location: country:US}\n'
        '  - {host: "*.example.us", location: [country:DE, aws:eu-west-1]}\n'
        '  - {host: "*.datadoghq.com", location: country:IE}\n'
    )
    policy = load_policy(policy_file)
    declared = policy.endpoints
    hec = Flow("https://http-inputs-acme.splunkcloud.com:443", "url", "hec_endpoint", "Splunk HEC")
    verdict = judge_flow(hec, policy.movement_allowed_for("main.tf"), catalog(), endpoints=declared)
    assert (verdict.status, verdict.location) == ("allowed", "country:DE")
    assert "residency.yaml" in verdict.origin
    corp = Flow("https://logs.corp.example.us/in", "url", "url", "HTTP endpoint")
    verdict = judge_flow(corp, policy.movement_allowed_for("main.tf"), catalog(), endpoints=declared)
    assert (verdict.status, verdict.location) == ("outside", "country:US")
    # the longest glob wins; a place of several entries is judged as a whole (Place.inside)
    other = Flow("https://logs.example.us/in", "url", "url", "HTTP endpoint")
    verdict = judge_flow(other, policy.movement_allowed_for("main.tf"), catalog(), endpoints=declared)
    assert (verdict.status, verdict.location) == ("allowed", "country:DE, aws:eu-west-1")
    apex = Flow("https://example.us/in", "url", "url", "HTTP endpoint")  # *. needs a subdomain
    assert judge_flow(apex, EU, catalog(), endpoints=declared).status == "unresolved"
    # policy entries win over the bundled table (Datadog US1 declared as Ireland)
    dd = Flow("https://http-intake.logs.datadoghq.com/v1/input", "url", "url", "HTTP endpoint")
    verdict = judge_flow(dd, EU, catalog(), endpoints=declared)
    assert (verdict.status, verdict.location) == ("allowed", "country:IE")
    assert "residency.yaml" in verdict.origin and "*.datadoghq.com" in verdict.origin
    # a declared place outside the allowed set lists its regions outside
    verdict = judge_flow(corp, _allowed("aws:eu-west-1"), catalog(), endpoints=declared)
    assert verdict.status == "outside" and verdict.outside and all(r.country == "US" for r in verdict.outside)


def test_another_accounts_arn_is_judged_by_region_and_owner(tmp_path: Path):
    from scanner.policy import load_policy

    policy_file = tmp_path / "residency.yaml"
    policy_file.write_text(
        "version: 1\nallowed_regions: [in:eu-locations]\n"
        'principals:\n  aws:\n    self: "111122223333"\n    accounts: {"999988887777": country:US}\n'
    )
    policy = load_policy(policy_file)
    judge = dict(principals=policy.principals, self_id=policy.self_id("aws", "."))

    def flow(account: str) -> Flow:
        return Flow(f"arn:aws:kinesis:eu-west-1:{account}:stream/s", "arn", "destination_arn", "log subscription")

    verdict = judge_flow(flow("999988887777"), EU, catalog(), **judge)
    assert verdict.status == "outside" and "owned by account 999988887777 in country:US" in verdict.location
    assert "principals.aws.accounts" in verdict.origin
    assert judge_flow(flow("111122223333"), EU, catalog(), **judge).status == "allowed"  # self
    assert judge_flow(flow("444455556666"), EU, catalog(), **judge).status == "allowed"  # unmapped: region only
    assert judge_flow(flow("999988887777"), EU, catalog()).status == "allowed"  # no principals given


def test_s3_bucket_arn_joins_the_bucket_of_the_scan():
    from types import SimpleNamespace

    bucket = SimpleNamespace(type="aws_s3_bucket", address="aws_s3_bucket.logs", attributes={"bucket": "acme-logs"})

    class _Bucket:
        role = "data-store"
        location = Location("aws", "us-east-1", "provider aws (main.tf:1)")
        resource = bucket

    flow = Flow("arn:aws:s3:::acme-logs", "arn", "bucket_arn", "S3 bucket")
    verdict = judge_flow(flow, EU, catalog(), facts={"aws_s3_bucket.logs": _Bucket()})
    assert (verdict.status, verdict.location) == ("outside", "aws:us-east-1")
    assert judge_flow(flow, EU, catalog()).status == "unresolved"


@pytest.mark.parametrize(("body", "label"), [
    ('resource "azurerm_cdn_endpoint" "x" {\n  name = "x"\n}\n', "Azure CDN"),
    ('resource "google_compute_backend_bucket" "x" {\n  name = "x"\n  enable_cdn = true\n}\n', "Cloud CDN"),
])
def test_cdn_without_price_class_caches_worldwide(tmp_path: Path, body, label):
    """No price class to pick: an EU policy fails it (the United States is among its edge places); a policy
    that allows every place the network caches in passes it."""
    (tmp_path / "main.tf").write_text(body)
    (r,) = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources
    (flow,) = read_flows(r).flows
    verdict = judge_flow(flow, EU, catalog())
    assert verdict.status == "outside" and label in verdict.destination
    assert any(x.code == "us-east-1" for x in verdict.outside)
    world = _allowed("in:eu-locations", "country:US", "country:CA", "country:MX", "country:GB", "country:IL",
                     "country:ZA", "country:AE", "country:JP", "country:HK", "country:SG", "country:KR",
                     "country:IN", "country:BR", "country:AU")
    assert judge_flow(flow, world, catalog()).status == "allowed"
