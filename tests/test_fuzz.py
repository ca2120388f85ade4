"""Property-based fuzzing: mutated Terraform, plan JSON and YAML never crash a loader or the scan.

The only outcomes allowed are findings and clean exits (0, 1, 2): never an uncaught exception,
never exit 3. Seeds are real inputs; mutations splice syntax tokens, drop, duplicate and flip
bytes, so most examples are nearly valid and reach deep into the parsers and the evaluator.
Derandomized with a bounded example count, so CI runs the same cases in well under a minute;
``fuzz/atheris_fuzz.py`` runs the same targets coverage-guided for as long as you like.

Every input that ever crashed is kept in ``tests/fuzz_corpus/`` and replayed by
:func:`test_corpus_replays_cleanly` (name the file with the suffix that selects its loader).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner import cli
from scanner.loaders.hcl_parse import ParseError, parse_file
from scanner.loaders.kubernetes import load_kubernetes
from scanner.loaders.tfplan import load_plan_bytes

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"

TF_SEED = b'''variable "region" {
  type    = string
  default = "eu-west-1"
}
locals {
  regions = { a = var.region, b = "us-east-1" }
  names   = [for k, v in local.regions : "${k}-${v}" if v != ""]
}
provider "aws" {
  region = local.regions["a"]
}
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
module "m" {
  source = "./child"
  count  = length(local.names)
}
resource "aws_s3_bucket" "b" {
  for_each = toset(local.names)
  provider = aws.us
  bucket   = format("%s-%d", each.key, 1)
  tags     = merge({ a = "b" }, { c = upper(each.value) })
  dynamic "grant" {
    for_each = range(2)
    content {
      id = grant.value
    }
  }
}
'''
TFVARS_SEED = b'region = "us-east-1"\nlist = [1, 2, { a = "b" }]\n'
TF_JSON_SEED = (b'{"provider": {"aws": [{"region": "${var.region}"}]},'
                b' "variable": {"region": {"default": "eu-west-1"}},'
                b' "resource": {"aws_s3_bucket": {"b": {"bucket": "x", "count": 2, "tags": {"k": "${count.index}"}}}}}')
YAML_SEED = b'''apiVersion: s3.aws.upbound.io/v1beta1
kind: Bucket
metadata:
  name: &n data
  labels: {a: b, c: [1, 2]}
spec:
  forProvider:
    region: us-east-1
    tags: *n
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: pvc, namespace: x}
spec:
  storageClassName: fast
  <<: {resources: {requests: {storage: 1Gi}}}
'''
PLAN_SEED = (REPO / "fixtures" / "plan" / "basic" / "plan.json").read_bytes()[:6000]

TOKENS = [b"{", b"}", b"[", b"]", b"(", b")", b'"', b"${", b"%{", b"\\", b"\n", b"\r\n", b"=", b":", b",", b"*",
          b"...", b"?", b"<<EOF\n", b"\nEOF\n", b"#", b"//", b"/*", b"&a ", b"*a", b"<<: ", b"- ", b"---\n", b"!!",
          b"count = 100000\n", b"for_each = ", b"var.region", b"local.regions", b"module.m", b"each.key", b"null",
          b"true", b"-1e999", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\t", b'"address": ', b'"format_version": "9.0"',
          b'"errored": true', "\u2028".encode(), b"\x1b[31m", b"::error::", b"##[warning]"]

_mutation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 64)),
    st.tuples(st.just("dup"), st.integers(0, 1 << 16), st.integers(1, 200)),
    st.tuples(st.just("byte"), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=4)),
)


def mutate(seed: bytes, mutations: list[tuple]) -> bytes:  # type: ignore[type-arg]
    data = bytearray(seed)
    for kind, pos, arg in mutations:
        pos = pos % (len(data) + 1)
        if kind == "insert":
            data[pos:pos] = arg
        elif kind == "delete":
            del data[pos:pos + arg]
        elif kind == "dup":
            data[pos:pos] = data[pos:pos + arg]
        else:
            data[pos:pos + len(arg)] = arg
    return bytes(data)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    return st.lists(_mutation, min_size=1, max_size=8).map(lambda ms: mutate(seed, ms))


FAST = settings(derandomize=True, deadline=None, max_examples=500, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WHOLE = settings(derandomize=True, deadline=None, max_examples=120, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(st.one_of(mutated(TF_SEED).map(lambda d: ("main.tf", d)), mutated(TFVARS_SEED).map(lambda d: ("x.tfvars", d)),
                 mutated(TF_JSON_SEED).map(lambda d: ("main.tf.json", d))))
def test_terraform_parser_raises_only_parse_errors(case: tuple[str, bytes]) -> None:
    name, data = case
    with contextlib.suppress(ParseError):
        parse_file(data.decode("utf-8", "replace"), name)


@FAST
@given(mutated(YAML_SEED))
def test_kubernetes_loader_never_raises(data: bytes) -> None:
    load_kubernetes([("k.yaml", data)])


@FAST
@given(mutated(PLAN_SEED))
def test_plan_loader_never_raises(data: bytes) -> None:
    load_plan_bytes(data, "plan.json", Path("/nonexistent-root"))


def run_scan(files: dict[str, bytes], fmt: str = "json") -> tuple[int, str]:
    """Write ``files`` into a fresh repository and scan it through ``scanner.cli.main``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        old = Path.cwd()
        os.chdir(root)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(["scan", ".", "--allowed-regions", "in:eu-locations", "--no-cache", "--jobs", "1",
                                 "--format", fmt])
        finally:
            os.chdir(old)
    return code, err.getvalue()


@WHOLE
@given(mutated(TF_SEED), mutated(b'variable "x" {}\noutput "o" {\n  value = var.x\n}\n'), mutated(TFVARS_SEED),
       mutated(YAML_SEED), mutated(PLAN_SEED), st.sampled_from(cli.FORMAT_NAMES))
def test_whole_scan_exits_cleanly(tf: bytes, child: bytes, tfvars: bytes, yaml_: bytes, plan: bytes,
                                  fmt: str) -> None:
    code, err = run_scan({"main.tf": tf, "child/main.tf": child, "terraform.tfvars": tfvars, "k.yaml": yaml_,
                          "plan.json": plan}, fmt)
    assert code in (0, 1, 2), err


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_corpus_replays_cleanly(path: Path) -> None:
    data = path.read_bytes()
    code, err = run_scan({path.name: data})
    assert code in (0, 1, 2), err
    assert "internal error" not in err
