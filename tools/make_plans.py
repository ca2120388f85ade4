"""Generate real ``terraform show -json`` plans of fixture roots, offline (issue 16, "real plans").

A plan written by hand can only say what its author believed Terraform records; these are what
Terraform 1.11 with the hashicorp/aws provider really writes (unknown-after-apply markers, defaults,
``configuration`` references, module call expressions). For each root named below this script:

1. copies the root's ``.tf``/``.tfvars`` files (and the local modules it calls, the whole fixture
   tree under ``fixtures/terraform``) into a temporary directory;
2. adds ``zz_offline_override.tf``: every ``provider "aws"`` configuration (each alias) gets
   ``skip_credentials_validation``/``skip_requesting_account_id``/``skip_metadata_api_check``/
   ``skip_region_validation``, merged by Terraform's override rules, and the environment fake
   credentials, so nothing is asked of AWS (roots without data sources only: a data source is read);
3. runs ``terraform init -backend=false -plugin-dir DIR`` (the provider from the local plugin
   directory, never downloaded), ``terraform plan -refresh=false -input=false -out plan.bin`` and
   ``terraform show -json plan.bin``;
4. writes the JSON, re-indented (one key per line, so a finding's line is the resource's
   ``"address"`` line and a diff shows what changed), to ``fixtures/plan/generated/<root name>/plan.json``
   (apart from its source, so the source fixture's own scan is unchanged).

Usage: ``python tools/make_plans.py [--plugin-dir /opt/tf-plugins] [ROOT ...]`` (default: ``ROOTS``).
The plans are committed with this script; tests/test_plan_parity.py scans each plan and its source
and requires the same findings, and regenerates one plan to compare with the committed one when
terraform and the provider are installed (skipped otherwise). Regenerate after editing a root.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = REPO / "fixtures" / "terraform"
GENERATED = REPO / "fixtures" / "plan" / "generated"

# Roots with AWS providers only, no data sources and no registry modules (terraform cannot fetch them).
# Not realistic/aws_s3_module: it needs hashicorp/random, which the plugin directory lacks.
# Not realistic/aws_databases: the provider rejects its `kms_key_id = "alias/aws/rds"` (an ARN is required).
ROOTS = (
    "fixtures/terraform/realistic/aws_reference_functions",
    "fixtures/terraform/aws_opensearchserverless",
    "fixtures/terraform/movement/sns/failing",
    "fixtures/terraform/movement/firehose/passing",
    "fixtures/terraform/redshift_default",
)
# Not realistic/policy_roots/*: their region and tfvars come from the policy's terraform.roots.
# Not fixtures/terraform/aws: a variable without a value (on purpose). Not aws_new: aws 5.100 has no
# aws_s3vectors_index. Not catalog_aws: its aws_mq_broker has no user block (the provider requires one).

PROVIDER = re.compile(r'^provider\s+"aws"\s*\{(?P<body>.*?)^\}', re.M | re.S)
ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.M)
OFFLINE = """  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
"""


def plan_name(root: Path) -> str:
    """``fixtures/terraform/movement/sns/failing`` -> ``movement-sns-failing`` (its directory under GENERATED)."""
    return root.resolve().relative_to(TREE).as_posix().replace("/", "-")


def override_for(root: Path) -> str:
    """One override ``provider "aws"`` block per configuration the root declares (alias or none)."""
    aliases: list[str | None] = []
    for tf in sorted(root.glob("*.tf")):
        for m in PROVIDER.finditer(tf.read_text(encoding="utf-8")):
            alias = ALIAS.search(m.group("body"))
            name = alias.group(1) if alias else None
            if name not in aliases:
                aliases.append(name)
    blocks = []
    for name in aliases or [None]:
        alias = f'  alias                       = "{name}"\n' if name else ""
        blocks.append(f'provider "aws" {{\n{alias}{OFFLINE}}}\n')
    return "# written by tools/make_plans.py: offline plan, fake credentials\n" + "\n".join(blocks)


def make_plan(root: Path, plugin_dir: Path, terraform: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="residency-plan-") as tmp:
        work = Path(tmp) / "terraform"
        shutil.copytree(TREE, work, ignore=shutil.ignore_patterns(".terraform", "plan.json", "*.tfstate*"))
        here = work / root.relative_to(TREE)
        (here / "zz_offline_override.tf").write_text(override_for(root), encoding="utf-8")
        env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull,
                   AWS_EC2_METADATA_DISABLED="true", TF_DATA_DIR=str(Path(tmp) / "data"),
                   # fake credentials, through the environment so the plan's configuration holds none
                   AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline", AWS_PROFILE="",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        for args in (["init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={plugin_dir}"],
                     ["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-out=plan.bin"]):
            proc = subprocess.run([terraform, *args], cwd=here, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"terraform {args[0]} in {root}: {proc.stderr.strip()[-2000:]}")
        shown = subprocess.run([terraform, "show", "-json", "plan.bin"], cwd=here, env=env,
                               capture_output=True, text=True, check=True)
        return json.loads(shown.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin-dir", type=Path, default=Path("/opt/tf-plugins"))
    ap.add_argument("--terraform", default=shutil.which("terraform") or "terraform")
    ap.add_argument("roots", nargs="*", default=list(ROOTS))
    opts = ap.parse_args(argv)
    for name in opts.roots:
        root = (REPO / name).resolve()
        plan = make_plan(root, opts.plugin_dir, opts.terraform)
        out = GENERATED / plan_name(root) / "plan.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(plan, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        print(f"{out.relative_to(REPO)}: terraform {plan.get('terraform_version')}, "
              f"{len(plan.get('resource_changes', []))} resource changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
