"""Size limits per kind of file: over the limit is a parse finding naming the limit, never a read.

The oversized fixtures are generated (6 MB is not worth committing): valid content padded with a
comment, so that without the limit each file would scan normally.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from scanner.limits import MAX_PLAN_BYTES, MAX_SOURCE_BYTES, Limits, human_size, parse_size
from tests.hostile._support import assert_clean, make_repo, parse_findings, scan

PAD = 6 * (1 << 20)  # just over the 5 MB default
BUCKET_TF = 'provider "aws" {\n  region = "us-east-1"\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
BUCKET_JSON = ('{"provider": {"aws": {"region": "us-east-1"}}, "resource": {"aws_s3_bucket": {"b": {"bucket": "b"}}}'
               ', "//": "' + "x" * PAD + '"}')
BUCKET_YAML = ("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: b\n"
               "spec:\n  forProvider:\n    region: us-east-1\n")
PLAN = (Path(__file__).resolve().parents[2] / "fixtures" / "plan" / "basic" / "plan.json")


def oversized() -> dict[str, str]:
    return {
        "tf/main.tf": BUCKET_TF + "# " + "x" * PAD + "\n",
        "json/main.tf.json": BUCKET_JSON,
        "vars/main.tf": 'variable "r" {}\nprovider "aws" {\n  region = var.r\n}\n',
        "vars/terraform.tfvars": 'r = "us-east-1"\n# ' + "x" * PAD + "\n",
        "k8s/bucket.yaml": BUCKET_YAML + "# " + "x" * PAD + "\n",
    }


def test_oversized_source_files_are_parse_findings_naming_the_limit(tmp_path: Path) -> None:
    root = make_repo(tmp_path, oversized())
    tracemalloc.start()
    try:
        outcome = scan(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_clean(outcome)
    assert outcome.code == 1
    for name in oversized():
        if name == "vars/main.tf":
            continue
        messages = parse_findings(outcome, name)
        assert messages, (name, outcome.findings())
        limit, option = ("5 MB", "--max-file-size") if name.endswith(".yaml") else ("256 KB", "--max-terraform-size")
        assert any(f"over the {limit} limit" in m and option in m for m in messages), messages
    # nothing was judged from the oversized files: no placement finding slipped through them
    assert not [f for f in outcome.findings() if f["rule_id"] == "RES001" and f["category"] == "placement"]
    assert peak < 64 * (1 << 20), f"oversized files were read: peak {peak} bytes"


def test_the_limit_is_configurable(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"tf/main.tf": BUCKET_TF + "# " + "x" * 4096 + "\n", "k8s/b.yaml": BUCKET_YAML})
    small = scan(root, "--max-terraform-size", "1KB")
    assert_clean(small)
    assert any("over the 1 KB limit" in m for m in parse_findings(small, "tf/main.tf"))
    assert parse_findings(small, "k8s/b.yaml") == []  # under the limit: scanned as usual
    big = scan(root, "--max-terraform-size", "10MB")
    assert parse_findings(big, "tf/main.tf") == []
    assert any(f["category"] == "placement" and f["file"] == "tf/main.tf" for f in big.findings())


def test_plan_size_limit(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"plan.json": PLAN.read_text()})
    outcome = scan(root, "--max-plan-size", "1KB")
    assert_clean(outcome)
    messages = parse_findings(outcome, "plan.json")
    assert messages and "limit" in messages[0], outcome.findings()
    assert not [f for f in outcome.findings() if f["category"] == "placement"]


def test_stdin_over_the_limit(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    outcome = scan(root, "--max-file-size", "1KB", paths=["-"], stdin=(BUCKET_YAML + "#" * 4096).encode())
    assert_clean(outcome)
    assert any("over the 1 KB limit" in m for m in parse_findings(outcome, "-"))


@pytest.mark.parametrize("bad", ["abc", "0", "-5MB", "5 parsecs"])
def test_a_malformed_size_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    outcome = scan(make_repo(tmp_path), "--max-file-size", bad)
    assert outcome.code == 2
    assert "max-file-size" in outcome.stderr


def test_size_helpers() -> None:
    assert parse_size("5MB") == MAX_SOURCE_BYTES
    assert parse_size("512m") == MAX_PLAN_BYTES
    assert parse_size("100k") == 100 * 1024
    assert parse_size("1048576") == 1 << 20
    assert parse_size("1.5GiB") == 3 << 29
    assert human_size(MAX_SOURCE_BYTES) == "5 MB" and human_size(300) == "300 bytes"
    limits = Limits()
    assert limits.for_path("plan.json") == MAX_PLAN_BYTES
    assert limits.for_path("a.yaml") == MAX_SOURCE_BYTES
    assert limits.for_path("main.tf.json") == limits.for_path("main.tf") == limits.for_path("x.tfvars") == 256 << 10
