"""Azure geographies (Communication Services data_location, B2C data_residency_location) as locations.

Why: these products are placed by a geography ("Europe", "UK"), not a region. The region catalog expands a
geography to every region it may use, only for the product that defines it, so "Europe" means Ireland +
Netherlands for Communication Services but all of geographic Europe for B2C (which names no datacenters),
a geography word on a regional resource stays an unknown code, and a value outside the table is unresolved.
The fixture harness checks the findings line by line; these tests check the resolution behind them and the
passing side under a wider policy, on the real parsed fixture fixtures/terraform/catalog_azure/geographies.tf.
"""

from __future__ import annotations

from functools import cache

import pytest

from scanner.engine import ScanOptions, scan
from scanner.model import ANY_REGION, DataStoreFacts, Encryption, Location
from scanner.policy import load_policy, policy_from_regions
from scanner.regions import catalog
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

BATCH = FIXTURES / "terraform" / "catalog_azure"
FILE = "geographies.tf"


def _codes(code: str, product: str | None) -> set[str]:
    loc = catalog().resolve("azure", code, product=product)
    assert loc is not None, (code, product)
    assert loc.kind == "multi-region" and not loc.members_published
    return {r.code for r in loc.members}


def test_communication_europe_is_the_azure_europe_geography_inside_the_eu() -> None:
    assert _codes("Europe", "communication") == {"northeurope", "westeurope"}
    assert catalog().resolve("azure", "Europe", product="communication").jurisdictions == {"eu"}  # type: ignore[union-attr]


def test_b2c_europe_names_no_datacenters_so_it_is_all_of_geographic_europe() -> None:
    members = _codes("Europe", "aadb2c")
    assert {"uksouth", "switzerlandnorth", "norwayeast", "westeurope", "swedencentral"} <= members
    assert not {"eastus", "uaenorth"} & members


@pytest.mark.parametrize(
    ("code", "product", "jurisdictions"),
    [
        ("United States", "communication", {"us"}),
        ("unitedstates", "communication", {"us"}),  # azurerm Normalize spelling
        ("usgov", "communication", {"us"}),
        ("UK", "communication", {"uk"}),
        ("Switzerland", "communication", {"ch"}),
        ("Norway", "communication", {"eea"}),
        ("Asia Pacific", "communication", {"hk", "sg"}),
        ("Africa", "communication", {"za"}),
        ("United States", "aadb2c", {"us"}),
        ("Australia", "aadb2c", {"au"}),
    ],
)
def test_a_geography_is_the_jurisdictions_of_every_member(code: str, product: str, jurisdictions: set[str]) -> None:
    loc = catalog().resolve("azure", code, product=product)
    assert loc is not None and loc.jurisdictions == jurisdictions


def test_every_provider_value_of_data_location_resolves() -> None:
    # the StringInSlice of azurerm communication_service_resource.go / email_communication_service_resource.go
    values = ["Africa", "Asia Pacific", "Australia", "Brazil", "Canada", "Europe", "France", "Germany", "India",
              "Japan", "Korea", "Norway", "Switzerland", "UAE", "UK", "United States", "usgov"]
    for value in values:
        assert catalog().resolve("azure", value, product="communication") is not None, value


@pytest.mark.parametrize(
    ("code", "product"),
    [
        ("Europe", None),  # a geography is no resource location: `location = "Europe"` stays unknown
        ("Europe", "storage"),
        ("UK", "aadb2c"),  # not a B2C value
        ("Global", "aadb2c"),  # the catalog entry maps Global to every region, the table does not
        ("Moon", "communication"),
        ("westeurope-geo", "communication"),
    ],
)
def test_values_outside_the_table_are_unresolved(code: str, product: str | None) -> None:
    assert catalog().resolve("azure", code, product=product) is None


def test_a_region_is_still_a_region_for_a_geography_product() -> None:
    loc = catalog().resolve("azure", "westeurope", product="communication")
    assert loc is not None and loc.kind == "region"


@cache
def _facts(policy_regions: tuple[str, ...] | None = None) -> dict[str, DataStoreFacts]:
    policy = policy_from_regions(list(policy_regions), REPO) if policy_regions else load_policy(BUNDLED_POLICY)
    report = scan(ScanOptions(paths=[BATCH], cwd=REPO, use_cache=False, keep_facts=True), policy)
    return {f.resource.address: f for f in report.data_stores if f.resource.file.endswith(FILE)}


def test_catalogued_types_read_their_geography_argument_with_microsoft_managed_encryption() -> None:
    facts = _facts()
    assert set(facts) == {
        "azurerm_communication_service.eu", "azurerm_communication_service.us", "azurerm_communication_service.uk",
        "azurerm_communication_service.moon", "azurerm_email_communication_service.fr",
        "azurerm_email_communication_service.ch", "azurerm_aadb2c_directory.europe",
        "azurerm_aadb2c_directory.global", "azurerm_aadb2c_directory.us",
    }
    assert all(f.encryption is Encryption.PROVIDER for f in facts.values())
    europe = facts["azurerm_aadb2c_directory.europe"].location
    assert isinstance(europe, Location) and europe.code == "Europe"
    everywhere = facts["azurerm_aadb2c_directory.global"].location
    assert isinstance(everywhere, Location) and everywhere.code == ANY_REGION


def _placement(policy_regions: tuple[str, ...]) -> dict[str, list[str]]:
    report = scan(
        ScanOptions(paths=[BATCH], cwd=REPO, use_cache=False),
        policy_from_regions(list(policy_regions), REPO),
    )
    out: dict[str, list[str]] = {}
    for finding in report.findings:
        if finding.rule_id == "RES001" and finding.file.endswith(FILE):
            out.setdefault(finding.resource, []).append(finding.category.value)
    return out


def test_b2c_europe_passes_a_europe_wide_policy_and_global_still_fails() -> None:
    found = _placement(("in:europe-locations",))
    assert "azurerm_aadb2c_directory.europe" not in found
    assert "azurerm_communication_service.eu" not in found and "azurerm_email_communication_service.ch" not in found
    assert found["azurerm_aadb2c_directory.global"] == ["placement"]
    assert found["azurerm_aadb2c_directory.us"] == ["placement"]
    assert found["azurerm_communication_service.moon"] == ["unresolved"]
