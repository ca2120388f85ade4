"""The checkov adapter: pure parts here, and the REAL checkov 3.3.30 in its own venv (``slow``).

The slow tests run checkov on the fixtures with the directory ``residency checkov-checks`` writes,
and compare its failures with the native scan of the same fixtures and policy. The two differ only
where checkov cannot see a fact, and every such difference is listed below with its reason.
"""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from checks.rules import RULES
from scanner.checkov import adapter, policy_bundle, selfcheck
from scanner.model import Category, Ref, Unknown
from tests.conftest import FIXTURES, REPO

CHECK_IDS = ",".join(f"CKV_RES_{n}" for n in range(1, 7))
FORBIDDEN_IMPORTS = ("hcl2", "click", "scanner.loaders", "scanner.cli")


# --------------------------------------------------------------------------- imports


def _imports(path: Path) -> Iterable[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module", "__import__"
        ) and node.args and isinstance(node.args[0], ast.Constant):
            yield node.lineno, str(node.args[0].value)


def test_nothing_in_checks_or_the_adapter_imports_a_loader_hcl2_or_click() -> None:
    offending = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path in sorted([*(REPO / "checks").rglob("*.py"), *(REPO / "scanner" / "checkov").rglob("*.py")])
        for line, name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IMPORTS)
    ]
    assert offending == []


def test_the_adapter_imports_cleanly_where_hcl2_and_click_cannot_be_imported() -> None:
    """The transitive closure too: what checkov's process imports from us never pulls in hcl2 or click."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('hcl2', 'click', 'lark') or name.startswith('scanner.loaders.'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from scanner.checkov import adapter, policy_bundle, runtime, selfcheck\n"
        "import scanner.checkov_export\n"
        "p = policy_bundle.load(sys.argv[1])\n"
        "j = adapter.Judge(p)\n"
        "conf = {'location': ['westus'], 'name': ['a'], '__address__': 'azurerm_storage_account.a',\n"
        "        '__provider_address__': 'azurerm.default', '__start_line__': 1}\n"
        "r = adapter.terraform_resource(conf, 'azurerm_storage_account', '/main.tf')\n"
        "print(j.outcome('RES001', [r]).result)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hcl2', 'click', 'lark')))\n"
    )
    bundle = _bundle_file(FIXTURES / "residency.yaml")
    out = subprocess.run([_python(), "-c", code, str(bundle)], capture_output=True, text=True, cwd=REPO,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["FAILED", "[]"]


def _python() -> str:
    import sys

    return sys.executable


# --------------------------------------------------------------------------- identity


def test_check_ids_are_stable_and_derived_from_rule_ids() -> None:
    for rule in adapter.kubernetes_rules():
        assert adapter.checkov_id(rule) == f"CKV_RES_{int(rule.id[3:])}"
        if rule.checkov_id:
            assert rule.checkov_id == adapter.checkov_id(rule)
        assert f"residency explain {rule.id}" in adapter.guideline(rule)
    # The checks a rule becomes follow its roles, so a new data-store rule is a new check without edits here.
    terraform = [r.id for r in adapter.terraform_rules()]
    kubernetes = [r.id for r in adapter.kubernetes_rules()]
    assert {"RES001", "RES002", "RES003", "RES004", "RES006"} <= set(terraform) and "RES005" not in terraform
    assert set(terraform) - {"RES006"} | {"RES005"} <= set(kubernetes)
    for rule in RULES.values():
        expected = bool(set(rule.roles) & {"data-store", "key", "grant", "flow"})
        assert (rule.id in terraform) == expected, rule.id
        on_kubernetes = bool(set(rule.roles) & {"data-store", "key", "flow"}) or "workload" in rule.roles
        assert (rule.id in kubernetes) == on_kubernetes, rule.id
    assert "RES007" in terraform and "RES007" in kubernetes  # pipes: tests/test_checkov_movement.py
    assert not {"RES006", "RES900", "RES901", "RES902"} & set(kubernetes)  # grants, engine rules


# --------------------------------------------------------------------------- conf -> Resource


def test_unwrap_follows_the_loader_conventions() -> None:
    conf = {
        "__start_line__": 3, "__end_line__": 9, "__address__": "module.m.aws_dynamodb_table.t",
        "__provider_address__": "aws.eu",
        "name": ["orders"],
        "replica": [{"region_name": ["eu-central-1"]}, {"region_name": ["var.dr_region"]}],
        "server_side_encryption": [{"enabled": [True], "kms_key_arn": ["aws_kms_key.k.arn"]}],
        "tags": [{"Owner": "platform", "data-classification": "public"}],
        "storage_locations": [["EU", "US"]],
        "region": ["${var.region}-x"],
        "count_fn": ["lookup(var.m, \"k\")"],
    }
    r = adapter.terraform_resource(conf, "aws_dynamodb_table", "/envs/prod/main.tf")
    a = r.attributes
    assert (r.address, r.file, r.line, r.end_line, r.root_dir) == (
        "module.m.aws_dynamodb_table.t", "envs/prod/main.tf", 3, 9, "envs/prod")
    assert a["name"] == "orders"
    assert a["replica"][0] == {"region_name": "eu-central-1"}
    assert isinstance(a["replica"][1]["region_name"], Unknown)
    assert a["server_side_encryption"] == [{"enabled": True, "kms_key_arn": Ref("aws_kms_key.k", "arn")}]
    assert a["tags"] == {"Owner": "platform", "data-classification": "public"}
    assert a["storage_locations"] == ["EU", "US"]
    assert isinstance(a["region"], Unknown) and isinstance(a["count_fn"], Unknown)
    assert "__address__" not in a
    assert (r.provider.name, r.provider.alias, r.provider.region) == ("aws", "eu", adapter.PROVIDER_REGION)
    azure = adapter.terraform_resource({"__provider_address__": "azurerm.default"}, "azurerm_storage_account", "/a.tf")
    assert azure.provider.region is None and azure.provider.alias is None


def test_a_single_block_is_a_list_and_an_empty_map_stays_a_map() -> None:
    a = adapter.unwrap_terraform({"settings": [{"tier": ["db"], "backup_configuration": [{"location": ["us"]}]}],
                                  "labels": [{}]})
    assert a["settings"] == [{"tier": "db", "backup_configuration": [{"location": "us"}]}]
    assert a["labels"] == {}


# --------------------------------------------------------------------------- judging without checkov


def _judge(policy_text: str, tmp_path: Path) -> adapter.Judge:
    from scanner.policy import load_policy

    path = tmp_path / "residency.yaml"
    path.write_text(policy_text, encoding="utf-8")
    bundle = tmp_path / "residency.policy"
    policy_bundle.write(load_policy(path, known_rules=RULES.keys()), bundle)
    return adapter.Judge(policy_bundle.load(bundle), today=date(2026, 6, 1))


EU = "version: 1\nallowed_regions: [in:eu-locations]\n"


def _tf(rtype: str, file: str = "/main.tf", **args: object) -> object:
    conf = {k: [v] for k, v in args.items()}
    conf.update({"__address__": f"{rtype}.x", "__provider_address__": rtype.split("_")[0] + ".default",
                 "__start_line__": 1})
    return adapter.terraform_resource(conf, rtype, file)


def test_provider_region_is_left_to_the_provider_check(tmp_path: Path) -> None:
    judge = _judge(EU, tmp_path)
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", bucket="b")]).result == "UNKNOWN"
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", bucket="b", region="us-east-1")]).result == "FAILED"
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", bucket="b", region="var.r")]).result == "FAILED"
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", bucket="b", region="eu-west-1")]).result == "PASSED"
    us = judge.provider_outcome("aws", {"region": ["us-east-1"], "alias": ["us"], "__address__": "aws.us",
                                        "__start_line__": 4}, "/main.tf")
    assert us.result == "FAILED" and "aws.us" in us.details[0] and "us-east-1" in us.details[0]
    assert judge.provider_outcome("aws", {"region": ["eu-west-1"], "__address__": "aws.default"}, "/m.tf").result \
        == "PASSED"
    assert judge.provider_outcome("aws", {"__address__": "aws.default"}, "/m.tf").result == "FAILED"
    assert judge.provider_outcome("google", {"project": ["p"], "__address__": "google.default"}, "/m.tf").result \
        == "UNKNOWN"
    assert judge.provider_outcome("azurerm", {"features": [{}]}, "/m.tf").result == "UNKNOWN"


def test_joins_to_other_resources_are_out_of_view(tmp_path: Path) -> None:
    judge = _judge(EU, tmp_path)
    db = _tf("aws_db_instance", region="eu-west-1", storage_encrypted=True, kms_key_id="aws_kms_key.k.arn")
    assert judge.outcome("RES004", [db]).result == "UNKNOWN"
    assert judge.outcome("RES003", [db]).result == "PASSED"
    arn = _tf("aws_db_instance", region="eu-west-1", storage_encrypted=True,
              kms_key_id="arn:aws:kms:us-east-1:111122223333:key/abc")
    assert judge.outcome("RES004", [arn]).result == "FAILED"


def test_scopes_waivers_exemptions_and_switches_travel_with_the_policy(tmp_path: Path) -> None:
    judge = _judge(EU + (
        "scopes:\n  - paths: ['us/**']\n    allowed_regions: [in:us-locations]\n"
        "rules:\n  RES003: {enabled: false}\n"
        "exempt:\n  tags: {data-classification: [public]}\n"
        "waivers:\n"
        "  - {rule: RES001, resource: aws_s3_bucket.x, reason: migration, paths: ['legacy/**'], expires: 2026-12-31}\n"
        "  - {rule: RES001, resource: aws_s3_bucket.x, reason: old, paths: ['old/**'], expires: 2026-01-01}\n"
    ), tmp_path)
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", "/us/main.tf", region="us-east-1")]).result == "PASSED"
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", "/eu/main.tf", region="us-east-1")]).result == "FAILED"
    waived = judge.outcome("RES001", [_tf("aws_s3_bucket", "/legacy/main.tf", region="us-east-1")])
    assert waived.result == "PASSED" and "waived by policy residency.yaml" in waived.details[0]
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", "/old/main.tf", region="us-east-1")]).result == "FAILED"
    public = _tf("aws_s3_bucket", region="us-east-1", tags={"data-classification": "public"})
    assert judge.outcome("RES001", [public]).result == "PASSED"
    assert judge.outcome("RES003", [_tf("aws_db_instance", region="eu-west-1")]).result == "UNKNOWN"


def test_a_policy_in_a_subdirectory_matches_its_globs_relative_to_itself(tmp_path: Path) -> None:
    """Bug 6a in checkov mode: checkov runs at the repository root, the policy lives in infra/; its waivers'
    paths and scopes are relative to infra/ (as in a native scan), not to the directory checkov scans."""
    from scanner.policy import load_policy

    (tmp_path / "infra").mkdir()
    path = tmp_path / "infra" / "residency.yaml"
    path.write_text(EU + (
        "scopes:\n  - paths: ['us/**']\n    allowed_regions: [in:us-locations]\n"
        "waivers:\n  - {rule: RES001, resource: aws_s3_bucket.x, reason: migration, paths: ['prod/**']}\n"
    ), encoding="utf-8")
    bundle = tmp_path / "residency.policy"
    policy_bundle.write(load_policy(path, known_rules=RULES.keys()), bundle, scan_dir=tmp_path)
    judge = adapter.Judge(policy_bundle.load(bundle), today=date(2026, 6, 1))
    waived = judge.outcome("RES001", [_tf("aws_s3_bucket", "/infra/prod/main.tf", region="us-east-1")])
    assert waived.result == "PASSED" and "waived by policy residency.yaml" in waived.details[0]
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", "/infra/us/main.tf", region="us-east-1")]).result \
        == "PASSED"
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", "/infra/eu/main.tf", region="us-east-1")]).result \
        == "FAILED"


def test_rule_options_reach_the_rules_in_checkov_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter judges through engine.judge, so a rule's policy options reach it as ctx.options."""
    import dataclasses

    from checks.rules.api import NoOptions

    @dataclasses.dataclass(frozen=True)
    class Opts:
        mode: str = "lenient"

    seen: list[object] = []
    placement = RULES["RES001"]

    def check(fact: object, ctx: object) -> Iterable[object]:
        seen.append(ctx.options)  # type: ignore[attr-defined]
        return placement.check(fact, ctx)  # type: ignore[arg-type]

    monkeypatch.setitem(RULES, "RES001", dataclasses.replace(placement, check=check, options=Opts))
    judge = _judge(EU + "rules:\n  RES001: {options: {mode: strict}}\n", tmp_path)
    assert judge.outcome("RES001", [_tf("aws_s3_bucket", region="us-east-1")]).result == "FAILED"
    assert seen == [Opts(mode="strict")] and Opts is not NoOptions


def test_unresolved_warn_does_not_fail(tmp_path: Path) -> None:
    judge = _judge(EU + "unresolved: warn\n", tmp_path)
    outcome = judge.outcome("RES001", [_tf("aws_s3_bucket", region="var.r")])
    assert outcome.result == "PASSED" and outcome.details[0].startswith("reported, not blocking")


def test_policy_bundle_round_trip_keeps_what_the_rules_need(tmp_path: Path) -> None:
    from scanner.policy import load_policy

    path = tmp_path / "residency.yaml"
    path.write_text(EU + (
        "regions:\n  - {cloud: aws, code: eu-future-1, country: DE}\n"
        "encryption: {minimum: customer-managed}\n"
        "kubernetes:\n  clusters: [{paths: ['k8s/**'], region: eu-west-1, cloud: aws}]\n  require_placement: true\n"
        "terraform:\n  roots: [{paths: ['envs/*'], region: eu-west-1}]\n"
    ), encoding="utf-8")
    original = load_policy(path, known_rules=RULES.keys())
    data = json.loads(json.dumps(policy_bundle.to_json(original)))
    again = policy_bundle.from_json(data)
    region = again.catalog.region("aws", "eu-future-1")
    assert region is not None and again.allowed.allows(region)
    assert again.encryption_minimum == original.encryption_minimum
    assert again.require_placement and again.cluster_for("k8s/app.yaml").region == "eu-west-1"
    assert again.root_for("envs/prod").region == "eu-west-1"
    assert again.allowed.entries == original.allowed.entries
    with pytest.raises(policy_bundle.BundleError, match="unknown region group"):
        policy_bundle.from_json({**data, "allowed_regions": ["in:nowhere-locations"]})
    with pytest.raises(policy_bundle.BundleError, match="version"):
        policy_bundle.from_json({**data, "version": 99})


# --------------------------------------------------------------------------- self-check


def _fake_site(tmp_path: Path, dist: str) -> Path:
    site = tmp_path / dist
    (site / "hcl2").mkdir(parents=True)
    (site / "hcl2" / "__init__.py").write_text("", encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "top_level.txt").write_text("hcl2\n", encoding="utf-8")
    return site


@pytest.mark.parametrize(("dist", "ok"), [("bc-python-hcl2", True), ("python-hcl2", False)])
def test_self_check_tells_checkovs_hcl2_from_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dist: str,
                                                  ok: bool) -> None:
    import sys

    site = _fake_site(tmp_path, dist)
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    monkeypatch.delitem(sys.modules, "hcl2", raising=False)
    assert selfcheck.hcl2_owner() == dist
    if ok:
        selfcheck.check_environment(str(REPO))
    else:
        with pytest.raises(selfcheck.SetupError, match="comes from python-hcl2, not bc-python-hcl2"):
            selfcheck.check_environment(str(REPO))


def test_self_check_reports_a_missing_hcl2(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hcl2" else real(name, *a))
    with pytest.raises(selfcheck.SetupError, match="hcl2 is missing"):
        selfcheck.check_environment(str(REPO))


# --------------------------------------------------------------------------- export and CLI


def _bundle_file(policy: Path) -> Path:
    from scanner.policy import load_policy

    out = Path(__import__("tempfile").mkdtemp()) / "residency.policy"
    policy_bundle.write(load_policy(policy, known_rules=RULES.keys()), out)
    return out


def test_cli_writes_the_checks_directory_and_refuses_foreign_files(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    out = tmp_path / "ckv"
    result = CliRunner().invoke(cli, ["checkov-checks", "--policy", str(FIXTURES / "residency.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "residency.policy", "residency_guardrail_checks.py"]
    bootstrap = (out / "residency_guardrail_checks.py").read_text(encoding="utf-8")
    assert f"RESIDENCY_SOURCE = {str(REPO)!r}" in bootstrap and "sys.path.append(RESIDENCY_SOURCE)" in bootstrap
    ast.parse(bootstrap)
    assert policy_bundle.load(out / "residency.policy").allowed.entries == ("in:eu-locations",)
    again = CliRunner().invoke(cli, ["checkov-checks", "--allowed-regions", "aws:eu-west-1", "-o", str(out)])
    assert again.exit_code == 0, again.output
    (out / "mine.py").write_text("", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["checkov-checks", "--allowed-regions", "aws:eu-west-1", "-o", str(out)])
    assert refused.exit_code != 0 and "holds other files (mine.py)" in str(refused.exception)


# --------------------------------------------------------------------------- the real checkov (slow)


@pytest.fixture(scope="session")
def checkov() -> Path:
    from tests import checkov_venv

    return checkov_venv.ensure()


def _export(policy: Path, out: Path) -> Path:
    from scanner.checkov_export import export
    from scanner.policy import load_policy

    export(load_policy(policy, known_rules=RULES.keys()), out)
    return out


def _run_checkov(exe: Path, cwd: Path, checks_dir: Path, dirs: list[str], skip: list[str] = (),
                 framework: str = "terraform kubernetes") -> list[dict]:
    from tests.checkov_venv import checkov_env

    cmd = [str(exe), "--skip-download", "--quiet", "-o", "json", "--external-checks-dir", str(checks_dir),
           "--check", CHECK_IDS, "--framework", *framework.split()]
    for d in dirs:
        cmd += ["-d", d]
    for s in skip:
        cmd += ["--skip-path", s]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=checkov_env(), timeout=900, check=False)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    assert "Cannot load external check" not in out.stderr, out.stderr[-3000:]
    reports: list[dict] = []
    decoder, text, pos = json.JSONDecoder(), out.stdout, 0
    while text[pos:].strip():  # one JSON document per -d directory
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        data, pos = decoder.raw_decode(text, pos)
        reports.extend(data if isinstance(data, list) else [data])
    return [dict(r, check_type=rep.get("check_type")) for rep in reports
            for r in rep.get("results", {}).get("failed_checks", [])]


def _k8s_name(resource: str) -> str:
    """checkov ``Kind.namespace.name`` and ours ``Kind[.group]/namespace/name`` -> ``Kind/name``."""
    if "/" in resource:
        head, *_, name = resource.split("/")
        return f"{head.split('.')[0]}/{name}"
    kind, _ns, name = resource.split(".", 2)
    return f"{kind}/{name}"


def _checkov_failures(records: list[dict]) -> set[tuple[str, str, str]]:
    out = set()
    for r in records:
        rule = "RES00" + r["check_id"].rsplit("_", 1)[1]
        name = _k8s_name(r["resource"]) if r["check_type"] == "kubernetes" else r["resource"]
        out.add((Path(r["file_abs_path"]).resolve().relative_to(REPO).as_posix(), name, rule))
    return out


def _native_failures(policy: Path, paths: list[Path]) -> set[tuple[str, str, str]]:
    """What the native scan fails, counting findings waived inline (checkov reads only checkov:skip)."""
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=paths, cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES.keys()))
    out = set()
    for f in report.findings:
        if f.rule_id not in {"RES001", "RES002", "RES003", "RES004", "RES005", "RES006"}:
            continue
        inline = f.waiver is not None and not f.waiver.source.startswith("policy")
        if not (f.blocking or inline) or (f.waiver is not None and not inline):
            continue
        name = f.resource if f.resource_type.startswith(("aws_", "google_", "azurerm_")) and "/" not in f.resource \
            else _k8s_name(f.resource)
        if f.rule_id == "RES006" and f.origin:
            name = f.origin[1]  # checkov judges the grant resource alone: the store is not in its view
        root = Path(report.scan_root)
        out.add(((root / f.file).resolve().relative_to(REPO).as_posix(), name, f.rule_id))
    return out


# Native findings checkov cannot reproduce, each with the fact it cannot see (docs/checkov.md lists the kinds).
AWS, AZURE, GCP = "fixtures/terraform/aws/main.tf", "fixtures/terraform/azure/main.tf", "fixtures/terraform/gcp/main.tf"
OUT_OF_VIEW: dict[tuple[str, str, str], str] = {
    (AWS, "aws_s3_bucket.exports", "RES001"): "region from provider aws.virginia: failed at the provider block",
    (AWS, "aws_kms_key.us", "RES004"): "region from provider aws.virginia: failed at the provider block",
    (AWS, "aws_s3_bucket.reports", "RES004"): "key set by a separate SSE configuration resource",
    (AZURE, "azurerm_key_vault_key.storage", "RES004"): "location of the key vault, another resource",
    (AZURE, "azurerm_storage_account.ledger", "RES004"): "key set by a separate customer_managed_key resource",
    (GCP, "google_kms_crypto_key.us", "RES004"): "location of the key ring, another resource",
    (GCP, "google_storage_bucket.invoices", "RES004"): "location of the crypto key's key ring, another resource",
    ("fixtures/terraform/azure/brazil/main.tf", "azurerm_mssql_database.app", "RES002"):
        "location (so the geo-backup pair) of the server, another resource",
    ("fixtures/kubernetes/operators/ack.yaml", "Bucket/orphans", "RES001"):
        "region from the Namespace's ACK annotation or the controller default: another object",
    ("fixtures/kubernetes/operators/missing-kinds.yaml", "BigtableTable/samples", "RES001"):
        "zone of its BigtableInstance (instanceRef), another object",
    ("fixtures/kubernetes/operators/kcc-derived.yaml", "BigQueryTable/events-us", "RES001"):
        "location of its BigQueryDataset (datasetRef), another object",
    ("fixtures/kubernetes/operators/kcc-derived.yaml", "SQLDatabase/orders-us-db", "RES001"):
        "region of its SQLInstance (instanceRef), another object",
    ("fixtures/kubernetes/operators/kcc-derived.yaml", "SpannerDatabase/ledger-us-db", "RES001"):
        "config of its SpannerInstance (instanceRef), another object",
}
# What only checkov mode fails: the provider block, where it judges the region the resources above inherit.
CHECKOV_ONLY: dict[tuple[str, str, str], str] = {
    (AWS, "aws.virginia", "RES001"): "provider region us-east-1",
}

UNITS = {
    "terraform": (FIXTURES / "residency.yaml", FIXTURES, ["terraform/aws", "terraform/gcp", "terraform/azure"],
                  ["terraform/azure/brazil", "terraform/gcp/cmek"]),
    "terraform-brazil": (FIXTURES / "terraform/azure/brazil/residency.yaml", FIXTURES / "terraform/azure/brazil",
                         ["."], []),
    "terraform-cmek": (FIXTURES / "terraform/gcp/cmek/residency.yaml", FIXTURES / "terraform/gcp/cmek", ["."], []),
    # crossfile, kustomize and namespaces hold what only a whole-scan view sees (references into other files,
    # overlays' patches applied to their bases, a Namespace's region in another file); checkov judges each
    # file alone, and the bundled policy excludes all three.
    "kubernetes": (FIXTURES / "kubernetes/residency.yaml", FIXTURES / "kubernetes", ["."],
                   ["strict", "realistic", "crossfile", "kustomize", "namespaces"]),
    "kubernetes-strict": (FIXTURES / "kubernetes/strict/residency.yaml", FIXTURES / "kubernetes/strict", ["."], []),
}


@pytest.mark.slow
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_checkov_fails_what_the_native_scan_fails_where_it_can_see(unit: str, checkov: Path, tmp_path: Path) -> None:
    policy, cwd, dirs, skip = UNITS[unit]
    checks_dir = _export(policy, tmp_path / "residency-checks")
    got = _checkov_failures(_run_checkov(checkov, cwd, checks_dir, dirs, skip))
    native = _native_failures(policy, [cwd / d for d in dirs])
    skipped = tuple((cwd / s).relative_to(REPO).as_posix() + "/" for s in skip)
    native = {n for n in native if not n[0].startswith(skipped)}
    here = tuple((cwd / d).resolve().relative_to(REPO).as_posix() + "/" for d in dirs)
    expected = (native - set(OUT_OF_VIEW)) | {k for k in CHECKOV_ONLY if k[0].startswith(here)}
    missing = sorted(expected - got)
    extra = sorted(got - expected)
    assert (missing, extra) == ([], [])


def test_out_of_view_marks_match_the_wording_of_their_sources() -> None:
    """The adapter recognises a failed join by the phrase its source writes: pin each phrase to that source."""
    for phrase, source in adapter.JOIN_MARKS.items():
        assert phrase in (REPO / source).read_text(encoding="utf-8"), (phrase, source)
    finding = type("F", (), {"category": Category.UNRESOLVED, "rule_id": "RES004",
                             "message": f"x cannot be checked: key k is {adapter.JOIN_MARK}."})()
    assert adapter.out_of_view(finding)


def test_manifest_annotations_become_a_mapping_again() -> None:
    conf = {"apiVersion": "s3.services.k8s.aws/v1alpha1", "kind": "Bucket", "__startline__": 17,
            "metadata": {"name": "b", "annotations": [{"services.k8s.aws/region": "us-east-1", "__startline__": 3}],
                         "__startline__": 2}}
    assert adapter.unwrap_manifest(conf) == {"apiVersion": "s3.services.k8s.aws/v1alpha1", "kind": "Bucket",
                                             "metadata": {"name": "b",
                                                          "annotations": {"services.k8s.aws/region": "us-east-1"}}}


@pytest.mark.slow
def test_checkov_reads_its_own_skip_comments_not_ours(checkov: Path, tmp_path: Path) -> None:
    (tmp_path / "residency.yaml").write_text(EU, encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "eu-west-1"\n}\n\n'
        'resource "aws_s3_bucket" "skipped" {\n  # checkov:skip=CKV_RES_1:accepted, JIRA-1\n'
        '  region = "us-east-1"\n  bucket = "a"\n}\n\n'
        'resource "aws_s3_bucket" "ours" {\n  # residency:ignore RES001 reason="accepted" expires=2099-01-01\n'
        '  region = "us-east-1"\n  bucket = "b"\n}\n',
        encoding="utf-8")
    checks_dir = _export(tmp_path / "residency.yaml", tmp_path / "ckv")
    failed = {(r["check_id"], r["resource"]) for r in _run_checkov(checkov, tmp_path, checks_dir, ["."],
                                                                   framework="terraform")}
    assert failed == {("CKV_RES_1", "aws_s3_bucket.ours")}


@pytest.mark.slow
@pytest.mark.parametrize("breakage", ["moved", "bad-policy"])
def test_a_broken_setup_stops_checkov_with_a_message(breakage: str, checkov: Path, tmp_path: Path) -> None:
    from tests.checkov_venv import checkov_env

    checks_dir = _export(FIXTURES / "residency.yaml", tmp_path / "ckv")
    if breakage == "moved":
        boot = checks_dir / "residency_guardrail_checks.py"
        boot.write_text(boot.read_text(encoding="utf-8").replace(repr(str(REPO)), repr(str(tmp_path / "gone"))),
                        encoding="utf-8")
        said = "is residency-guardrail still installed"
    else:
        bundle = checks_dir / "residency.policy"
        bundle.write_text(bundle.read_text(encoding="utf-8").replace("in:eu-locations", "in:nowhere"),
                          encoding="utf-8")
        said = "unknown region group"
    out = subprocess.run([str(checkov), "--skip-download", "-d", ".", "--framework", "terraform",
                          "--external-checks-dir", str(checks_dir)], cwd=FIXTURES / "terraform" / "aws",
                         capture_output=True, text=True, env=checkov_env(), timeout=600, check=False)
    assert out.returncode == 2 and said in out.stderr, (out.returncode, out.stderr[-2000:])
