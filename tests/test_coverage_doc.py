"""docs/coverage.md is generated from the catalog and the provider type lists, and kept current."""

from __future__ import annotations

from click.testing import CliRunner

from checks.catalog import load_catalog
from checks.coverage_doc import REGENERATE, render_coverage
from scanner import cli as cli_module
from tests.conftest import REPO
from tests.test_provider_types import SYNTHETIC


def test_committed_coverage_page_is_current() -> None:
    committed = (REPO / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert committed == render_coverage(), f"docs/coverage.md is stale: run `{REGENERATE}` and commit it"


def test_every_catalogued_type_is_listed_once_with_its_provider_version() -> None:
    page = render_coverage()
    for name in load_catalog().types:
        if name in SYNTHETIC:  # no provider type: the azapi fallback, ACK's DynamoDB Backup
            continue
        assert page.count(f"| `{name}` |") == 1, name
    assert "## hashicorp/aws 6.58.0" in page and "## hashicorp/azurerm 5.2.0" in page


def test_cli_coverage_prints_the_page() -> None:
    result = CliRunner().invoke(cli_module.cli, ["coverage"])
    assert result.exit_code == 0, result.output
    assert result.output == render_coverage()
