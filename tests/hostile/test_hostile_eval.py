"""Terraform evaluation stays bounded: expansion caps, reference cycles, value and string bombs, ReDoS.

The HCL equivalent of a billion-laughs document is a chain of locals that each use the previous
one twice; Python's backtracking ``re`` turns ``(a+)+$`` into a hang that nothing interrupts.
Each such input must end as a clean scan (the value Unknown: fail closed) within bounded time and
address space, which :func:`scan_isolated` enforces in a child process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.limits import regex_cost_error
from tests.hostile._support import assert_clean, make_repo, scan, scan_isolated

EU_PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'
US_PROVIDER = 'provider "aws" {\n  region = "us-east-1"\n}\n'


def _doubling(kind: str, n: int = 40) -> str:
    if kind == "string":
        first, step = '"xx"', '"${{local.a{p}}}${{local.a{p}}}"'
    else:
        first, step = '["x"]', "[local.a{p}, local.a{p}]"
    body = "".join(f"  a{i} = {step.format(p=i - 1)}\n" for i in range(1, n))
    return f"locals {{\n  a0 = {first}\n{body}}}\n"


BOMBS = {
    "string_doubling/main.tf": _doubling("string") + EU_PROVIDER
    + 'resource "aws_s3_bucket" "b" {\n  bucket = local.a39\n}\n',
    "list_doubling/main.tf": _doubling("list") + EU_PROVIDER
    + 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n  tags = { t = jsonencode(local.a39) }\n}\n',
    "list_equality/main.tf": _doubling("list") + EU_PROVIDER
    + 'resource "aws_s3_bucket" "b" {\n  bucket = local.a39 == local.a38 ? "x" : "y"\n}\n',
    "format_width/main.tf": EU_PROVIDER + 'resource "aws_s3_bucket" "b" {\n  bucket = format("%01000000000d", 1)\n}\n',
    "format_precision/main.tf": EU_PROVIDER
    + 'resource "aws_s3_bucket" "b" {\n  bucket = format("%.1000000000f", 1)\n}\n',
    "replace_blowup/main.tf": EU_PROVIDER + 'locals {\n  big = join("", [for i in range(1000) : "aaaaaaaaaa"])\n'
    '  huge = replace(local.big, "a", local.big)\n}\nresource "aws_s3_bucket" "b" {\n  bucket = local.huge\n}\n',
    "redos/main.tf": EU_PROVIDER + 'resource "aws_s3_bucket" "b" {\n'
    '  bucket = replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "/(a+)+$/", "x")\n}\n',
    "redos_regex/main.tf": EU_PROVIDER + 'resource "aws_s3_bucket" "b" {\n'
    '  bucket = regex("(a|aa)*c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")\n}\n',
    "count/main.tf": EU_PROVIDER + 'resource "aws_s3_bucket" "b" {\n  count = 100000000\n  bucket = "b"\n}\n',
    "for_each/main.tf": EU_PROVIDER + 'locals {\n  keys = flatten([for i in range(1000) : '
    '[for j in range(20) : "${i}-${j}"]])\n}\nresource "aws_s3_bucket" "b" {\n  for_each = toset(local.keys)\n'
    '  bucket = each.key\n}\n',
    "module_count/main.tf": EU_PROVIDER + 'module "m" {\n  source = "./child"\n  count  = 20000\n}\n',
    "module_count/child/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
}


def test_evaluation_bombs_end_cleanly_in_bounded_time_and_memory(tmp_path: Path) -> None:
    root = make_repo(tmp_path, BOMBS)
    outcome = scan_isolated(root, timeout=120, memory_mb=1536)
    assert_clean(outcome)
    # The subprocess timeout bounds a runaway; the time itself is measured in bench/hostile_timing.py.
    findings = outcome.findings()
    for name in ("count/main.tf", "for_each/main.tf", "module_count/main.tf"):
        capped = [f for f in findings if f["file"] == name and f["rule_id"] == "RES901"]
        assert capped and "limit 10000" in capped[0]["message"], (name, findings)
    # the capped resources are not silently dropped as passing: no instance of them was judged clean
    assert not [f for f in findings if f["resource"].startswith("aws_s3_bucket.b[")]


def test_reference_cycles_are_reported_not_followed(tmp_path: Path) -> None:
    root = make_repo(tmp_path, fixture="cycles")
    outcome = scan(root)
    assert_clean(outcome)
    messages = [f["message"] for f in outcome.findings()]
    assert any("cycle: local.a -> local.b -> local.a" in m for m in messages), messages
    assert any("module cycle: modules/a -> modules/b -> modules/a" in m for m in messages), messages
    assert any("module cycle: self -> self" in m for m in messages), messages
    # a cycle never hides the data store: the bucket in the self-calling module is still judged
    assert any(f["resource"] == "aws_s3_bucket.us" and f["category"] == "placement" for f in outcome.findings())


@pytest.mark.parametrize(("pattern", "length"), [
    ("(a+)+$", 50), ("(a|aa)*c", 60), ("(a*)*", 5), ("(x)\\1", 3), ("(?=a)a", 1), ("(?<!a)b", 1),
    ("^.*-.*-.*-.*$", 200), ("(", 1),
])
def test_dangerous_regular_expressions_are_refused(pattern: str, length: int) -> None:
    assert regex_cost_error(pattern, length) is not None


@pytest.mark.parametrize(("pattern", "length"), [
    ("^([a-z]{2})-([a-z]+)-(\\d)$", 20), ("^(eu|us|ap)-(west|east|central)-[0-9]$", 40), ("[0-9]+", 2000),
    ("^projects/([^/]+)/locations/([^/]+)$", 80), ("abc", 10**6),
])
def test_ordinary_regular_expressions_are_evaluated(pattern: str, length: int) -> None:
    assert regex_cost_error(pattern, length) is None
