"""Everything a reader or a tool learns about the rules comes from the registry, and drift fails here.

Committed pages (docs/rules.md, docs/compliance.md, the README's rule table, docs/checkov.md's check
table) must equal what ``python -m scanner.docs_gen`` writes now; the outputs computed at run time
(``residency rules`` in every format, ``residency explain``, SARIF rule descriptors, the checks the
checkov adapter registers) must pick up a rule that exists only in the registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.rules import RULES, Rule, RuleContext
from scanner import docs_gen
from scanner.checkov import adapter
from scanner.cli import cli
from scanner.engine import describe
from scanner.model import Category, Finding, Severity, Violation

DOC = """RES099 store-without-owner-tag: a data store carries no owner tag.

What it checks
    Every data store's tags: an ``owner`` tag must be set.

Why it matters
    Residency questions need someone to answer them.

Example
    Failing::

        resource "aws_s3_bucket" "b" {}

How to fix
    Add ``tags = { owner = "team" }``.

Controls
    NIST CSF 2.0 ID.AM-07.
"""


def _check(fact: object, ctx: RuleContext) -> Iterator[Violation]:
    return iter(())


PROBE = Rule(id="RES099", name="store-without-owner-tag", category=Category.PLACEMENT, severity=Severity.LOW,
             summary="A data store carries no owner tag.", check=_check, roles=("data-store",),
             controls=("NIST:ID.AM-07",), doc=DOC)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Rule:
    """A rule that exists only in the registry (no page, no table mentions it)."""
    monkeypatch.setitem(RULES, PROBE.id, PROBE)
    return PROBE


def test_committed_pages_are_what_the_registry_gives() -> None:
    assert docs_gen.stale() == [], f"run `{docs_gen.COMMAND}` and commit the pages"


def test_every_generated_page_changes_with_the_registry(probe: Rule) -> None:
    pages = docs_gen.generated()
    assert "[RES099](docs/rules.md#res099-store-without-owner-tag)" in pages["README.md"]
    assert "`CKV_RES_99` | RES099 store-without-owner-tag | Terraform resources, Kubernetes objects" \
        in pages["docs/checkov.md"]
    assert "## RES099 store-without-owner-tag" in pages["docs/rules.md"]
    assert "RES099" in pages["docs/compliance.md"]
    rule_pages = {"README.md", "docs/checkov.md", "docs/rules.md", "docs/compliance.md"}
    assert set(docs_gen.stale()) == rule_pages, "every page derived from the rules must mention a new rule"


def test_a_block_without_its_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="no block"):
        docs_gen.fill("no markers here", "rules", "x")


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_residency_rules_lists_what_the_registry_holds(probe: Rule, fmt: str) -> None:
    result = CliRunner().invoke(cli, ["rules", "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        listed = json.loads(result.output)
        assert [r["id"] for r in listed] == list(RULES)
        for entry in listed:
            rule = RULES[entry["id"]]
            assert (entry["name"], entry["category"], entry["severity"], entry["summary"], entry["controls"]) == (
                rule.name, rule.category.value, rule.severity.value, rule.summary, list(rule.controls))
    else:
        for rule in RULES.values():
            assert rule.id in result.output and rule.name in result.output


def test_residency_explain_prints_a_registry_only_rule(probe: Rule) -> None:
    result = CliRunner().invoke(cli, ["explain", "RES099"])
    assert result.exit_code == 0, result.output
    for text in ("RES099 store-without-owner-tag", "WHY IT MATTERS", "someone to answer", "NIST:ID.AM-07"):
        assert text in result.output


def test_sarif_descriptors_and_checkov_checks_come_from_the_registry(probe: Rule) -> None:
    finding = Finding(rule_id="RES099", rule_name=PROBE.name, category=Category.PLACEMENT, severity=Severity.LOW,
                      resource="aws_s3_bucket.b", resource_type="aws_s3_bucket", file="main.tf", line=1,
                      message="m", remediation="r")
    info = describe(RULES, [finding])["RES099"]
    assert (info.name, info.summary, info.controls) == (PROBE.name, PROBE.summary, PROBE.controls)
    assert PROBE in adapter.terraform_rules() and PROBE in adapter.kubernetes_rules()
    assert adapter.checkov_id(PROBE) == "CKV_RES_99"


def test_the_regenerate_command_writes_the_pages(tmp_path: Path, probe: Rule) -> None:
    for page in docs_gen.generated():
        target = tmp_path / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((docs_gen.REPO / page).read_text(encoding="utf-8"), encoding="utf-8")
    assert docs_gen.stale(tmp_path)
    for page, text in docs_gen.generated(tmp_path).items():
        (tmp_path / page).write_text(text, encoding="utf-8")
    assert docs_gen.stale(tmp_path) == []
