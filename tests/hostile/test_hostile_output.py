"""Scanned values cannot act as syntax in any report format (end to end, through the CLI).

A pull request controls resource names, instance keys, labels and file names. In every format the
output must stay parseable, carry no terminal control sequence, and forge no GitHub workflow
command when printed in a job log: no line may start with ``::`` after whitespace (v2 commands)
and ``##[`` may appear nowhere (v1 commands, parsed anywhere in a line by the runner).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scanner.cli import FORMAT_NAMES
from tests.hostile._support import Outcome, assert_clean, make_repo, scan

HOSTILE_NAME = "evil\n::error::file name ##[warning]v1 \x1b[31mred\x1b[0m | <x>.yaml"
BUCKET = ("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: plain\n"
          "spec:\n  forProvider:\n    region: us-east-1\n")
_LINES = re.compile(r"\r\n|\r|\n")
_OWN_COMMAND = re.compile(r"^::(error|warning|notice) [^\n]*::")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = make_repo(tmp_path_factory.mktemp("injection"), {HOSTILE_NAME: BUCKET}, fixture="injection")
    return {fmt: scan(root, fmt=fmt) for fmt in FORMAT_NAMES}


def test_every_format_finds_the_hostile_resources(outputs: dict[str, Outcome]) -> None:
    for fmt, outcome in outputs.items():
        assert_clean(outcome)
        assert outcome.code == 1, fmt  # the buckets are in us-east-1: found, not hidden by their names
    report = outputs["json"].report()
    resources = {f["resource"] for f in report["findings"]}
    assert 'aws_s3_bucket.b["y ##[error]forged v1 command"]' in resources  # data intact after decoding
    assert any("::error::forged from yaml" in r for r in resources)
    assert any(f["file"] == HOSTILE_NAME for f in report["findings"])


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_no_terminal_control_sequences(outputs: dict[str, Outcome], fmt: str) -> None:
    text = outputs[fmt].stdout
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", text), fmt


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_no_forged_workflow_commands(outputs: dict[str, Outcome], fmt: str) -> None:
    text = outputs[fmt].stdout
    lines = _LINES.split(text)
    # the runner parses ##[ only in lines that are not v2 commands; github lines all are ours
    assert not [line for line in lines if "##[" in line and not (fmt == "github" and _OWN_COMMAND.match(line))]
    starts = [line for line in lines if line.lstrip().startswith("::")]
    if fmt == "github":
        assert all(_OWN_COMMAND.match(line) for line in starts)
        assert len(starts) == len([line for line in lines if line])  # one command per line, no strays
        assert not any("::add-mask::" in line.split("::", 2)[1] for line in starts)
    else:
        assert starts == [], (fmt, starts)


def test_machine_formats_stay_parseable(outputs: dict[str, Outcome]) -> None:
    for fmt in ("json", "sarif", "gitlab"):
        json.loads(outputs[fmt].stdout)
    root = ET.fromstring(outputs["junit"].stdout.split("\n", 1)[1])
    cases = root.findall(".//testcase")
    assert len(cases) >= 10  # every hostile key is its own test case: nothing merged or dropped
    assert int(root.get("failures", "0")) == len(cases)


def test_markdown_tables_keep_their_columns(outputs: dict[str, Outcome]) -> None:
    rows = [line for line in outputs["markdown"].stdout.splitlines() if line.startswith("|")]
    assert rows
    width = _cells(rows[0])
    assert all(_cells(row) == width for row in rows), [r for r in rows if _cells(r) != width]
    assert "<script>" not in outputs["markdown"].stdout


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_text_output_keeps_one_line_per_value(outputs: dict[str, Outcome]) -> None:
    text = outputs["text"].stdout
    assert "\\n::error::forged" in text  # shown escaped, in place
    assert "\x1b" not in text


def test_written_files_are_safe_too(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {HOSTILE_NAME: BUCKET}, fixture="injection")
    outcome = scan(root, "--format", "junit=out.xml", fmt="text")
    assert_clean(outcome)
    written = (root / "out.xml").read_text(encoding="utf-8")
    assert "##[" not in written
    ET.fromstring(written.split("\n", 1)[1])
