"""Issue 14 6c: ``baseline`` and ``inventory`` take every scan-shaping option ``scan`` takes.

Before, they had no ``--var-file``/``--var``/``--plan``/``--source``, so they scanned another
configuration than ``scan``: a region set in a tfvars file was unknown to them.
"""

from __future__ import annotations

import json
from pathlib import Path

from scanner import cli as cli_module
from tests.test_cli import run

MAIN = """variable "region" {
  type = string
}

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
}
"""


def _params(name: str) -> set[str]:
    command = cli_module.cli.commands[name]
    return {opt for p in command.params for opt in getattr(p, "opts", ())}


def test_baseline_and_inventory_share_every_scan_input_option() -> None:
    shared = {o for opt in cli_module._SCAN_INPUT_OPTIONS for o in opt(lambda: None).__click_params__[0].opts}
    assert {"--var-file", "--var", "--plan", "--source", "--env-vars", "--cluster-region", "--max-file-size",
            "--max-plan-size", "--policy", "--allowed-regions"} <= shared
    for name in ("scan", "baseline", "inventory"):
        assert shared <= _params(name), name


def test_baseline_and_inventory_read_the_var_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "us.tfvars").write_text('region = "us-east-1"\n')
    code, _, err = run(["baseline", ".", "--allowed-regions", "in:eu-locations", "--var-file", "us.tfvars",
                        "-o", "b.json"], cwd=tmp_path)
    assert code == 0, err
    recorded = json.loads((tmp_path / "b.json").read_text())
    text = json.dumps(recorded)
    assert "RES001" in text and "aws_s3_bucket.b" in text
    code, out, err = run(["inventory", ".", "--allowed-regions", "in:eu-locations", "--var", "region=us-east-1",
                          "--format", "json"], cwd=tmp_path)
    assert code == 0, err
    assert "us-east-1" in out
