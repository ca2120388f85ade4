"""Every finding says how to fix it correctly (issue 15): the fix text must fit the type it is about.

Why: two fix texts were wrong for catalog entries added in issue 15. RES003 on a type whose provider documents
no at-rest encryption default (``default: unresolved`` + ``reason:``) said "give the encryption settings static
values", but there is nothing to set; RES001 said "Set location (e.g. westeurope)" on types located by another
argument holding a geography (``data_location = "Europe"``), where westeurope is not even a valid value. These
scan the real fixture files with the bundled EU policy and read the remediation of each finding.
"""

from __future__ import annotations

from functools import cache

from scanner.engine import ScanOptions, scan
from scanner.policy import load_policy
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

AWS = FIXTURES / "terraform" / "catalog_aws"
AZURE = FIXTURES / "terraform" / "catalog_azure"


@cache
def _fixes(batch: str, file: str, rule: str) -> dict[str, str]:
    report = scan(ScanOptions(paths=[FIXTURES / "terraform" / batch], cwd=REPO, use_cache=False),
                  load_policy(BUNDLED_POLICY))
    return {f.resource: f.remediation for f in report.findings if f.rule_id == rule and f.file.endswith(file)}


def test_no_documented_default_says_verify_and_waive_with_the_catalog_reason() -> None:
    fixes = _fixes("catalog_aws", "search_lake_templates.tf", "RES003")
    for address, reason in [
        ("aws_cloudsearch_domain.eu_unresolved", "CloudSearch documents no encryption at rest"),
        ("aws_ecrpublic_repository.eu_provider", "ECR Public documents no encryption at rest"),
        ("aws_quicksight_data_set.spice", "SPICE data is encrypted at rest only in QuickSight Enterprise"),
        ("aws_imagebuilder_image.eu_unresolved", "the image recipe's block_device_mapping"),
    ]:
        fix = fixes[address]
        assert "static values" not in fix, address
        assert "documents no at-rest encryption default" in fix and reason in fix, fix
        assert "waive" in fix and "residency:ignore RES003" in fix and "waivers:" in fix, fix


def test_an_unknown_setting_still_asks_for_static_values() -> None:
    # the launch template's encryption is unknown because of the AMI, not a missing provider default
    fix = _fixes("catalog_aws", "search_lake_templates.tf", "RES003")["aws_launch_template.ami_disks"]
    assert "documents no at-rest encryption default" not in fix


def test_a_geography_argument_is_named_with_a_geography_example() -> None:
    fixes = _fixes("catalog_azure", "geographies.tf", "RES001")
    for address in ("azurerm_communication_service.us", "azurerm_communication_service.uk",
                    "azurerm_email_communication_service.ch"):
        fix = fixes[address]
        assert fix.startswith("Set data_location to "), fix
        assert "(e.g. Europe)" in fix and "westeurope" not in fix, fix
    # B2C "Europe" includes London and Zurich: no B2C geography lies inside the EU policy, so no example
    b2c = fixes["azurerm_aadb2c_directory.us"]
    assert b2c.startswith("Set data_residency_location to "), b2c
    assert "westeurope" not in b2c and "e.g." not in b2c and "no value of data_residency_location" in b2c, b2c


def test_an_unreadable_geography_names_its_argument() -> None:
    fix = _fixes("catalog_azure", "geographies.tf", "RES001")["azurerm_communication_service.moon"]
    assert "data_location" in fix, fix


def test_a_plain_location_argument_keeps_its_region_example() -> None:
    fixes = _fixes("catalog_azure", "geographies.tf", "RES001")
    assert fixes  # the geographies batch has no plain-location type; the shares batch does
    other = _fixes("catalog_azure", "batch2.tf", "RES001")
    assert other and all("(e.g. westeurope)" in fix for fix in other.values()), other
