"""The realworld bench's counting (bench/realworld/realworld.py): what a false block and a silent miss are."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "bench" / "realworld" / "realworld.py"
_spec = importlib.util.spec_from_file_location("realworld_bench", _PATH)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["realworld_bench"] = bench
_spec.loader.exec_module(bench)


def _finding(rule: str, resource: str, category: str, message: str = "m") -> dict:
    return {"rule_id": rule, "resource": resource, "category": category, "message": message, "blocking": True}


def _store(address: str, code: str | None) -> dict:
    return {"address": address, "location": {"cloud": "aws", "code": code}, "copies": [], "keys": []}


def test_registry_source_names_the_repository_terraform_init_downloads():
    assert bench.registry_repo("terraform-aws-modules/kms/aws") == ("terraform-aws-modules/terraform-aws-kms", "")
    assert bench.registry_repo("terraform-google-modules/sql-db/google//modules/mysql") == (
        "terraform-google-modules/terraform-google-sql-db", "modules/mysql")
    assert bench.registry_repo("../../") is None
    assert bench.registry_repo("git::https://example.com/x.git") is None


def test_counts_false_blocks_misses_and_registry_noise_apart():
    scan = {"findings": [
        _finding("RES001", "aws_s3_bucket.us", "placement"),
        _finding("RES001", "aws_s3_bucket.eu", "unresolved"),  # wrong: the bucket is in eu-west-1
        _finding("RES901", "module.vpc", "unresolved",
                 "module source terraform-aws-modules/vpc/aws is not local; run `terraform init` (so ..."),
        _finding("RES901", "module.kms", "unresolved",  # the wording since session 4
                 "module source terraform-aws-modules/kms/aws (version ~> 1.0) is not on disk (no .terraform/"
                 "modules/modules.json): ...; run `terraform init -backend=false` in ., or scan the plan"),
    ]}
    inventory = {"data_stores": [_store("aws_s3_bucket.us", "us-east-1"), _store("aws_s3_bucket.eu", None)]}
    expected = {"stores": {"aws_s3_bucket.us": "aws:us-east-1", "aws_s3_bucket.eu": "aws:eu-west-1",
                           "aws_dynamodb_table.t": "aws:us-east-1"},
                "blocks": ["RES001 aws_s3_bucket.us", "RES001 aws_dynamodb_table.t"]}
    c = bench.judge("r", scan, inventory, expected)
    assert (c.stores, c.found, c.right) == (3, 2, 1)
    assert (c.false_blocks, c.init, c.unresolved) == (1, 2, 3)
    assert c.misses == 2  # the table has no row and its RES001 is not reported: a silent pass


def test_a_root_without_expectations_is_counted_unchecked():
    c = bench.judge("r", {"findings": []}, {"data_stores": [_store("a", "eu-west-1")]}, None)
    assert (c.checked, c.rows, c.false_blocks, c.misses) == (0, 1, 0, 0)


def test_emulated_init_reads_the_source_from_both_message_wordings():
    # since c603efd the message carries "(version ...)" and says "is not on disk": --init matched neither and
    # left every registry module missing (the bench's --init counts equalled the fresh-clone ones)
    now = ("module source terraform-google-modules/sql-db/google//modules/mysql (version ~> 28.0) is not on disk "
           "(no .terraform/modules/modules.json): ...")
    before = "module source terraform-aws-modules/vpc/aws is not local; run `terraform init` (so ..."
    assert bench.NOT_LOCAL.match(now).group(1) == "terraform-google-modules/sql-db/google//modules/mysql"
    assert bench.NOT_LOCAL.match(before).group(1) == "terraform-aws-modules/vpc/aws"


def test_counts_after_init_match_the_fresh_clone_expectations():
    # cloudposse's count = module.this.enabled ? 1 : 0 is decided once the label module is on disk: the store
    # is then default[0], expected (from a fresh clone) as default; a right block inside a module not on disk
    # is loud (its RES901 blocks), not a silent miss
    scan = {"findings": [
        _finding("RES001", "module.s3.aws_s3_bucket.default[0]", "placement"),
        _finding("RES901", "module.sns", "unresolved",
                 "module source terraform-aws-modules/sns/aws (version ~> 3.0) is not on disk (no .terraform/"
                 "modules/modules.json): ...; run `terraform init -backend=false` in ., or scan the plan"),
    ]}
    inventory = {"data_stores": [_store("module.s3.aws_s3_bucket.default[0]", "us-east-2")]}
    expected = {"stores": {"module.s3.aws_s3_bucket.default": "aws:us-east-2"},
                "blocks": ["RES001 module.s3.aws_s3_bucket.default", "RES003 module.sns.aws_sns_topic.this[0]"]}
    c = bench.judge("r", scan, inventory, expected)
    assert (c.found, c.right, c.false_blocks, c.misses, c.init) == (1, 1, 0, 0, 2)


def test_emulated_init_takes_the_release_the_version_constraint_names():
    assert bench.satisfies((5, 28, 3), "~> 5.28.0") and not bench.satisfies((5, 29, 0), "~> 5.28.0")
    assert bench.satisfies((6, 4, 0), "~> 6.0") and not bench.satisfies((7, 0, 0), "~> 6.0")
    assert bench.satisfies((0, 5, 1), "0.5.1") and not bench.satisfies((0, 5, 2), "0.5.1")
    assert bench.satisfies((3, 16, 0), ">= 3.15, < 4.0") and not bench.satisfies((4, 0, 0), ">= 3.15, < 4.0")
