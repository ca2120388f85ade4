"""The CLI through click's runner: exit codes, formats, policy discovery, messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from scanner import cli as cli_module
from tests.conftest import BUNDLED_POLICY, REPO

SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())


def run(args: list[str], cwd: Path | None = None, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Call main() the way the console script does, capturing output and the exit code it returns."""
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=cwd) if cwd is None else _chdir(cwd):
        result = runner.invoke(_entry, args, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class _chdir:
    def __init__(self, path: Path) -> None:
        self.path, self.old = path, Path.cwd()

    def __enter__(self) -> None:
        import os

        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        import os

        os.chdir(self.old)


import click  # noqa: E402


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    ctx.exit(cli_module.main(list(ctx.args)))


AWS_US_BUCKET = """
provider "aws" {
  alias  = "virginia"
  region = "us-east-1"
}

resource "aws_s3_bucket" "uploads" {
  provider = aws.virginia
  bucket   = "uploads"
}
"""

AWS_EU_BUCKET = """
provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "uploads" {
  bucket = "uploads"
}
"""


def _write(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp


def test_us_bucket_blocks_with_exit_1_and_names_provider(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET})
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations"], cwd=tmp_path)
    assert code == 1
    assert "main.tf:7" in out and "RES001" in out and "aws_s3_bucket.uploads" in out
    assert "us-east-1" in out and "aws.virginia" in out


def test_eu_bucket_passes_with_exit_0(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_EU_BUCKET})
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations"], cwd=tmp_path)
    assert code == 0, out
    assert "0 finding(s)" in out


def test_json_output_matches_documented_schema(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET, "broken.tf": 'resource "aws_s3_bucket" "x" {\n  bucket = \n'})
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations", "--format", "json"], cwd=tmp_path)
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["RES001"]["region"] == "us-east-1"
    assert by_rule["RES001"]["jurisdiction"] == "us" and by_rule["RES001"]["country"] == "US"
    assert by_rule["RES001"]["file"] == "main.tf" and by_rule["RES001"]["line"] == 7
    assert by_rule["RES900"]["category"] == "parse" and by_rule["RES900"]["file"] == "broken.tf"
    assert doc["summary"]["blocking"] == len([f for f in doc["findings"] if f["blocking"]])


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET})
    (tmp_path / "out").mkdir()
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations", "--format", "text",
                        "--format", "json=out/scan.json"], cwd=tmp_path)
    assert code == 1 and "RES001" in out
    assert json.loads((tmp_path / "out" / "scan.json").read_text())["summary"]["findings"] >= 1


def test_soft_fail_exits_0_but_reports(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET})
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations", "--soft-fail"], cwd=tmp_path)
    assert code == 0 and "RES001" in out


def test_fail_on_critical_does_not_block_high(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET})
    code, out, _ = run(["scan", ".", "--allowed-regions", "in:eu-locations", "--fail-on", "critical"], cwd=tmp_path)
    assert code == 0 and "RES001" in out and "non-blocking" in out


def test_no_policy_is_exit_2_with_how_to(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_EU_BUCKET})
    (tmp_path / ".git").mkdir()
    code, _, err = run(["scan", "."], cwd=tmp_path)
    assert code == 2
    assert "residency init" in err and "Traceback" not in err


def test_policy_found_in_current_directory(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_US_BUCKET,
                      "residency.yaml": "version: 1\nallowed_regions: [in:us-locations]\n"})
    (tmp_path / ".git").mkdir()
    code, out, _ = run(["scan", "."], cwd=tmp_path)
    assert code == 0, out


def test_policy_typo_is_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": AWS_EU_BUCKET,
                      "residency.yaml": "version: 1\nallowed_regions: [in:eu-locations]\n"
                                        "encryptoin:\n  minimum: none\n"})
    code, _, err = run(["scan", ".", "--policy", "residency.yaml"], cwd=tmp_path)
    assert code == 2
    assert "residency.yaml" in err and ":3" in err and "encryptoin" in err and "Traceback" not in err


def test_unknown_format_is_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["scan", ".", "--allowed-regions", "in:eu-locations", "--format", "pdf"], cwd=tmp_path)
    assert code == 2 and "unknown format" in err


def test_internal_error_is_exit_3_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scanner.engine

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(scanner.engine, "scan", boom)
    _write(tmp_path, {"main.tf": AWS_EU_BUCKET})
    code, _, err = run(["scan", ".", "--allowed-regions", "in:eu-locations"], cwd=tmp_path)
    assert code == 3
    assert "internal error" in err and "kaboom" in err and "Traceback" not in err


def test_bundled_fixtures_scan_blocks(repo: Path) -> None:
    code, out, _ = run(["scan", "fixtures", "--policy", str(BUNDLED_POLICY)], cwd=repo)
    assert code == 1
    assert "blocking" in out


def test_regions_eu_group_has_no_london_or_zurich(repo: Path) -> None:
    code, out, _ = run(["regions", "--group", "in:eu-locations"], cwd=repo)
    assert code == 0
    codes = {line.split()[1] for line in out.splitlines()[1:] if line.strip()}
    assert "eu-west-1" in codes and "europe-west1" in codes and "westeurope" in codes
    for london_or_zurich in ("eu-west-2", "eu-central-2", "europe-west2", "europe-west6", "uksouth", "ukwest",
                             "switzerlandnorth", "switzerlandwest"):
        assert london_or_zurich not in codes


def test_init_writes_a_policy_that_loads(tmp_path: Path) -> None:
    code, _, _ = run(["init"], cwd=tmp_path)
    assert code == 0
    from scanner.policy import load_policy

    assert load_policy(tmp_path / "residency.yaml").allowed.entries
    code, _, err = run(["init"], cwd=tmp_path)
    assert code == 2 and "exists" in err


def test_version_and_help_import_no_parser() -> None:
    probe = ("import sys; from scanner.cli import main; rc = main(['--version']);"
             "heavy = [m for m in ('hcl2', 'lark', 'yaml', 'scanner.engine', 'scanner.report.sarif')"
             " if m in sys.modules];"
             "print(heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip().endswith("[]"), out


US_DEPLOYMENT = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      nodeSelector:
        topology.kubernetes.io/region: us-east-1
      containers:
        - name: api
          image: api:1
"""


def test_stdin_manifest_is_scanned_as_dash(tmp_path: Path) -> None:
    code, out, _ = run(["scan", "-", "--allowed-regions", "in:eu-locations", "--format", "json"], cwd=tmp_path,
                       stdin=US_DEPLOYMENT)
    assert code == 1
    finding = json.loads(out)["findings"][0]
    assert finding["file"] == "-" and finding["line"] == 1
    assert finding["resource"] == "Deployment/shop/api" and finding["rule_id"] == "RES005"
    assert finding["region"] == "us-east-1"


@pytest.mark.parametrize("fmt", ["json", "markdown", "mermaid", "dot", "csv"])
def test_inventory_cannot_forge_workflow_commands(tmp_path: Path, fmt: str) -> None:
    hostile = tmp_path / "x\n::error file=a::forged\n##[error]forged"
    hostile.mkdir()
    _write(hostile, {"main.tf": AWS_US_BUCKET})
    code, out, _ = run(["inventory", ".", "--allowed-regions", "in:eu-locations", "--format", fmt], cwd=tmp_path)
    assert code == 0
    assert "aws_s3_bucket.uploads" in out
    for line in out.splitlines():
        assert not line.lstrip().startswith("::error"), line
        assert "##[error]" not in line, line
