"""Flows in the inventory: every pipe destination an edge from the store or workload it reads, judged like RES007.

All on the repository's movement fixtures, parsed by the real loaders and scanned through the CLI
(``residency inventory``) as a user would, failing and passing twins side by side.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from scanner import cli as cli_module
from scanner.engine import ScanOptions, scan
from scanner.inventory import DISALLOWED, PIPE_GROUP, UNRESOLVED, build_inventory
from scanner.policy import load_policy
from scanner.report.inventory_formats import render_dot, render_mermaid
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO
from tests.test_inventory import parse_mermaid

SCHEMA = json.loads((REPO / "docs" / "inventory.schema.json").read_text())
TF = FIXTURES / "terraform" / "movement"
K8S = FIXTURES / "kubernetes" / "movement"


def _inventory_json(*paths: Path, policy: Path = BUNDLED_POLICY) -> dict:
    result = CliRunner().invoke(cli_module.cli, ["inventory", "--format", "json", "--policy", str(policy),
                                                 *map(str, paths)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    return data


def _rel(path: str) -> str:
    return path.split("movement/", 1)[1]


def test_firehose_to_datadog_us1_is_a_disallowed_edge_and_eu1_an_allowed_one() -> None:
    data = _inventory_json(TF / "firehose")
    flows = {_rel(f["file"]): f for f in data["flows"]}
    us, eu = flows["firehose/failing/main.tf"], flows["firehose/passing/main.tf"]
    assert (us["to"], us["status"], us["location"], us["line"], us["map_group"]) == (
        "aws-kinesis-http-intake.logs.datadoghq.com", "disallowed", "country:US", 21, "us")
    assert "Datadog" in us["provenance"] and us["via"] == "http_endpoint_configuration[0].url"
    assert (eu["to"], eu["status"], eu["location"], eu["map_group"]) == (
        "aws-kinesis-http-intake.logs.datadoghq.eu", "allowed", "country:DE", "eu")
    # no scanned stream feeds it: the edge starts at the delivery stream itself
    assert us["from"] == {"address": "aws_kinesis_firehose_delivery_stream.datadog", "kind": "pipe",
                          "file": us["file"]}
    assert (data["totals"]["flows"], data["totals"]["disallowed_flows"], data["totals"]["unresolved_flows"]) == (
        2, 1, 0)


def test_a_pipe_reading_a_scanned_store_starts_at_the_store() -> None:
    data = _inventory_json(TF / "sns" / "failing", TF / "log_subscription" / "failing")
    starts = {(f["pipe"], f["to"]): (f["from"]["kind"], f["from"]["address"]) for f in data["flows"]}
    assert starts == {
        ("aws_sns_topic_subscription.webhook", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"):
            ("data-store", "aws_sns_topic.orders"),
        ("aws_sns_topic_subscription.queue", "arn:aws:sqs:us-east-2:123456789012:orders-us"):
            ("data-store", "aws_sns_topic.orders"),
        # log_group_name = aws_cloudwatch_log_group.app.name: the evaluator's literal name joins the store
        ("aws_cloudwatch_log_subscription_filter.central",
         "arn:aws:logs:us-east-1:999988887777:destination:central-logs"):
            ("data-store", "aws_cloudwatch_log_group.app"),
    }
    assert {f["status"] for f in data["flows"]} == {"disallowed"}


def test_every_flow_agrees_with_the_findings() -> None:
    """Red on the map exactly where RES007 reports the pipe outside; dashed exactly where unresolved."""
    policy = load_policy(BUNDLED_POLICY)
    paths = [TF / k for k in ("firehose", "sns", "eventbridge", "log_subscription", "dms", "datasync",
                              "pubsub_push", "eventgrid", "pubsub_cloud_run", "pubsub_bigquery_storage",
                              "diagnostic_eventhub")]
    report = scan(ScanOptions(paths=paths, use_cache=False, keep_facts=True), policy)
    inv = build_inventory(report, policy)
    found = {(f.file, f.line, f.category.value) for f in report.findings if f.rule_id == "RES007"}
    drawn = {(f.file, f.line, {DISALLOWED: "movement", UNRESOLVED: "unresolved"}[f.status])
             for f in inv.flows if f.status != "allowed"}
    assert drawn == found and len(found) >= 10
    assert any(f.status == UNRESOLVED for f in inv.flows)  # eventbridge/failing: smee.io is in no table


def test_mermaid_and_dot_draw_the_flow_edges() -> None:
    policy = load_policy(FIXTURES / "kubernetes" / "residency.yaml")
    report = scan(ScanOptions(paths=[K8S / "otel_collector", TF / "eventbridge" / "failing"], use_cache=False,
                              keep_facts=True), policy)
    inv = build_inventory(report, policy)
    m = parse_mermaid(render_mermaid(inv))
    labels: dict[str, str] = m["labels"]  # type: ignore[assignment]
    edges: list[tuple[str, str, str, str]] = m["edges"]  # type: ignore[assignment]
    flow_edges = edges[len(edges) - len(inv.flows):]
    assert len(flow_edges) == len(inv.flows) >= 4
    by_dst = {labels[dst].split("<br/>")[0]: (labels[src].split("<br/>")[0], arrow, i)
              for i, (src, dst, _, arrow) in enumerate(edges) if (src, dst, _, arrow) in flow_edges}
    src, arrow, i = by_dst["otlp.nr-data.net"]
    assert src == "ConfigMap/default/example-opentelemetry-collector" and arrow == "-->" and i in m["red"]
    assert by_dst["smee.io"][1] == "-.->"  # unresolved: dashed
    assert by_dst["datadoghq.eu"][2] not in m["red"]
    groups: dict[str, list[str]] = m["groups"]  # type: ignore[assignment]
    assert "pipes and workloads" in groups
    dot = render_dot(inv)
    assert len(re.findall(r'^  f\d+ -> d\d+ ', dot, re.MULTILINE)) == len(inv.flows)
    assert PIPE_GROUP == "pipes"


def test_markdown_and_csv_list_the_flows(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["inventory", "--policy", str(BUNDLED_POLICY), str(TF / "firehose")]
    md = runner.invoke(cli_module.cli, [*args, "--format", "markdown"], catch_exceptions=False).output
    assert "## Flows" in md and "`aws-kinesis-http-intake.logs.datadoghq.com`" in md and "**not allowed**" in md
    assert "2 pipe destination(s): 1 outside the allowed regions, 0 unresolved." in md
    out = runner.invoke(cli_module.cli, [*args, "--format", "csv"], catch_exceptions=False).output
    rows = [r for r in csv.DictReader(io.StringIO(out)) if r["row"] == "flow"]
    assert sorted((r["location"], r["status"], r["copy_kind"]) for r in rows) == [
        ("aws-kinesis-http-intake.logs.datadoghq.com", "disallowed", "HTTP endpoint"),
        ("aws-kinesis-http-intake.logs.datadoghq.eu", "allowed", "HTTP endpoint")]


@pytest.mark.parametrize("fmt", ["json", "mermaid", "dot", "markdown", "csv"])
def test_no_pipes_no_flow_section(fmt: str) -> None:
    out = CliRunner().invoke(cli_module.cli, ["inventory", "--format", fmt, "--policy", str(BUNDLED_POLICY),
                                              str(FIXTURES / "terraform" / "gcp_kms_global")], catch_exceptions=False)
    assert out.exit_code == 0
    if fmt == "json":
        assert json.loads(out.output)["flows"] == []
    else:
        assert "## Flows" not in out.output and "pipes and workloads" not in out.output
