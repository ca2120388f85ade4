"""RES007 in checkov mode (``slow``): the exported CKV_RES_7 fails the pipes the native scan fails.

checkov shows a check one resource or object at a time, so a destination located through another
resource (a Cloud Run service's ``uri``, a dataset or bucket named by a subscription, an Event Hub
namespace named by a rule) is out of its view: there the check is UNKNOWN, not a pass or a fail.
The kinesis_cross_account fixtures carry their own policy (principals:) and are left out here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO
from tests.test_checkov import _checkov_failures, _export, _k8s_name, checkov  # noqa: F401 - fixture

MOVEMENT_TF = "fixtures/terraform/movement"
# Destinations located through another resource: natively outside, out of checkov's view.
OUT_OF_VIEW = {
    (f"{MOVEMENT_TF}/pubsub_cloud_run/failing/main.tf", "google_pubsub_subscription.to_worker"),
    (f"{MOVEMENT_TF}/pubsub_bigquery_storage/failing/main.tf", "google_pubsub_subscription.to_bigquery"),
    (f"{MOVEMENT_TF}/pubsub_bigquery_storage/failing/main.tf", "google_pubsub_subscription.to_storage"),
    (f"{MOVEMENT_TF}/diagnostic_eventhub/failing/main.tf", "azurerm_monitor_diagnostic_setting.kv_to_siem"),
    (f"{MOVEMENT_TF}/diagnostic_eventhub/failing/main.tf", "azurerm_monitor_diagnostic_setting.kv_to_siem_by_id"),
    (f"{MOVEMENT_TF}/logging_sink_pubsub/failing/main.tf", "google_logging_project_sink.audit"),
    (f"{MOVEMENT_TF}/logging_sink_pubsub/failing/main.tf", "google_logging_folder_sink.central"),
    # Event Grid endpoints given as references: the location is the referenced Event Hub's / storage account's.
    (f"{MOVEMENT_TF}/eventgrid_queues/failing/main.tf", "azurerm_eventgrid_event_subscription.to_eventhub"),
    (f"{MOVEMENT_TF}/eventgrid_queues/failing/main.tf", "azurerm_eventgrid_event_subscription.to_queue"),
    # The destination is the provider "newrelic" block's region, which checkov resource checks are not shown.
    (f"{MOVEMENT_TF}/newrelic_integration/failing/main.tf", "newrelic_cloud_aws_integrations.acme"),
    # Likewise the provider "datadog" block's api_url (the Datadog site).
    (f"{MOVEMENT_TF}/datadog_provider/failing/main.tf", "datadog_integration_aws_account.acme"),
    (f"{MOVEMENT_TF}/datadog_logs/failing/main.tf", "datadog_integration_aws_lambda_arn.main_collector"),
    (f"{MOVEMENT_TF}/datadog_logs/failing/main.tf", "datadog_integration_aws_log_collection.main"),
    (f"{MOVEMENT_TF}/datadog_logs/failing/main.tf", "datadog_integration_confluent_account.kafka"),
}


def _run(exe: Path, cwd: Path, checks_dir: Path, skip: list[str], framework: str) -> list[dict]:
    import json

    from tests.checkov_venv import checkov_env

    cmd = [str(exe), "--skip-download", "--quiet", "-o", "json", "--external-checks-dir", str(checks_dir),
           "--check", "CKV_RES_7", "--framework", framework, "-d", "."]
    for s in skip:
        cmd += ["--skip-path", s]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=checkov_env(), timeout=900, check=False)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    assert "Cannot load external check" not in out.stderr, out.stderr[-3000:]
    data = json.loads(out.stdout) if out.stdout.strip() else []
    reports = data if isinstance(data, list) else [data]
    return [dict(r, check_type=rep.get("check_type")) for rep in reports
            for r in rep.get("results", {}).get("failed_checks", [])]


def _native(policy: Path, path: Path) -> set[tuple[str, str, str]]:
    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES.keys()))
    root = Path(report.scan_root)
    out = set()
    for f in report.findings:
        if f.rule_id == "RES007" and f.blocking:
            # Kubernetes names are Kind[.group]/namespace/name; Terraform addresses (any provider) have no "/".
            name = f.resource if "/" not in f.resource else _k8s_name(f.resource)
            out.add(((root / f.file).resolve().relative_to(REPO).as_posix(), name, f.rule_id))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("framework", "policy", "path", "skip"), [
    ("terraform", BUNDLED_POLICY, FIXTURES / "terraform" / "movement", ["kinesis_cross_account"]),
    ("kubernetes", FIXTURES / "kubernetes" / "residency.yaml", FIXTURES / "kubernetes" / "movement", []),
])
def test_checkov_res007_fails_what_the_native_scan_fails(framework, policy, path, skip, checkov, tmp_path):  # noqa: F811
    checks_dir = _export(policy, tmp_path / "residency-checks")
    got = _checkov_failures(_run(checkov, path, checks_dir, skip, framework))
    native = {n for n in _native(policy, path) if not any(f"/{s}/" in n[0] for s in skip)}
    expected = {n for n in native if n[:2] not in OUT_OF_VIEW}
    assert expected, "the fixtures have failing pipes"
    assert (sorted(expected - got), sorted(got - expected)) == ([], [])
