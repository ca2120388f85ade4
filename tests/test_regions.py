"""Region catalog: the traps a residency scanner must not fall into, and the data's own consistency.

The reference tables are sampled here by hand on purpose: tests must not read the shared
reference document (CI may not have it), and a hand-written row is a second pair of eyes.
"""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from scanner.regions import CLOUDS, Catalog, Region, ResolvedLocation, catalog


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return catalog()


def _raw(name: str) -> dict:
    return json.loads(resources.files("scanner.regions").joinpath("data", f"{name}.json").read_text("utf-8"))


def _codes(loc: ResolvedLocation | tuple[Region, ...]) -> set[str]:
    members = loc.members if isinstance(loc, ResolvedLocation) else loc
    return {r.code for r in members}


# --------------------------------------------------------------------------- EU / EEA traps

EU_TRAPS = [
    ("aws", "eu-west-2", "GB", "uk"),  # London, despite the eu- prefix
    ("aws", "eu-central-2", "CH", "ch"),  # Zurich, despite the eu- prefix
    ("gcp", "europe-west2", "GB", "uk"),
    ("gcp", "europe-west6", "CH", "ch"),
    ("azure", "uksouth", "GB", "uk"),
    ("azure", "ukwest", "GB", "uk"),
    ("azure", "switzerlandnorth", "CH", "ch"),
    ("azure", "norwayeast", "NO", "eea"),
]


@pytest.mark.parametrize(("cloud", "code", "country", "jurisdiction"), EU_TRAPS)
def test_eu_prefixed_or_european_regions_outside_the_eu_are_not_in_eu_locations(
    cat: Catalog, cloud: str, code: str, country: str, jurisdiction: str
) -> None:
    region = cat.region(cloud, code)
    assert region is not None
    assert (region.country, region.jurisdiction) == (country, jurisdiction)
    assert "in:eu-locations" not in region.groups
    assert region not in cat.group_members("in:eu-locations")
    assert "in:europe-locations" in region.groups


def test_norway_is_eea_but_not_eu(cat: Catalog) -> None:
    norway = cat.region("azure", "norwayeast")
    assert norway in cat.group_members("in:eea-locations")
    assert norway not in cat.group_members("in:eu-locations")


@pytest.mark.parametrize(
    ("cloud", "code"),
    [
        ("aws", "eu-central-1"),
        ("aws", "eu-west-1"),
        ("aws", "eusc-de-east-1"),
        ("gcp", "europe-west1"),
        ("gcp", "europe-west4"),
        ("azure", "westeurope"),
        ("azure", "northeurope"),
        ("azure", "italynorth"),
    ],
)
def test_eu_member_state_regions_are_in_eu_and_eea(cat: Catalog, cloud: str, code: str) -> None:
    region = cat.region(cloud, code)
    assert region is not None and region.jurisdiction == "eu"
    assert {"in:eu-locations", "in:eea-locations", "in:europe-locations"} <= region.groups


def test_eu_locations_holds_exactly_the_eu_jurisdiction(cat: Catalog) -> None:
    members = cat.group_members("in:eu-locations")
    assert members and {r.jurisdiction for r in members} == {"eu"}
    assert {r.jurisdiction for r in cat.group_members("in:eea-locations")} == {"eu", "eea"}
    assert {r.code for r in cat.all_regions() if r.jurisdiction == "eu"} == {r.code for r in members}


# --------------------------------------------------------------------------- reference sample

# (cloud, code, country, jurisdiction) copied by hand from the region reference tables.
REFERENCE_SAMPLE = [
    ("aws", "af-south-1", "ZA", "za"),
    ("aws", "ap-east-1", "HK", "hk"),
    ("aws", "ap-east-2", "TW", "tw"),
    ("aws", "ap-northeast-3", "JP", "jp"),
    ("aws", "ap-southeast-5", "MY", "my"),
    ("aws", "ap-southeast-6", "NZ", "nz"),
    ("aws", "ca-west-1", "CA", "ca"),
    ("aws", "eu-north-1", "SE", "eu"),
    ("aws", "eu-south-2", "ES", "eu"),
    ("aws", "eu-west-3", "FR", "eu"),
    ("aws", "il-central-1", "IL", "il"),
    ("aws", "me-central-1", "AE", "ae"),
    ("aws", "me-south-1", "BH", "bh"),
    ("aws", "mx-central-1", "MX", "mx"),
    ("aws", "sa-east-1", "BR", "br"),
    ("aws", "us-west-1", "US", "us"),
    ("aws", "cn-north-1", "CN", "cn"),
    ("aws", "cn-northwest-1", "CN", "cn"),
    ("aws", "us-gov-west-1", "US", "us"),
    ("aws", "us-isob-east-1", "US", "us"),
    ("aws", "eusc-de-east-1", "DE", "eu"),
    ("aws", "eu-isoe-west-1", "GB", "uk"),
    ("gcp", "africa-south1", "ZA", "za"),
    ("gcp", "asia-east1", "TW", "tw"),
    ("gcp", "asia-east2", "HK", "hk"),
    ("gcp", "asia-southeast1", "SG", "sg"),
    ("gcp", "australia-southeast2", "AU", "au"),
    ("gcp", "europe-central2", "PL", "eu"),
    ("gcp", "europe-north1", "FI", "eu"),
    ("gcp", "europe-north2", "SE", "eu"),
    ("gcp", "europe-southwest1", "ES", "eu"),
    ("gcp", "europe-west10", "DE", "eu"),
    ("gcp", "europe-west12", "IT", "eu"),
    ("gcp", "me-central1", "QA", "qa"),
    ("gcp", "me-central2", "SA", "sa"),
    ("gcp", "me-west1", "IL", "il"),
    ("gcp", "northamerica-south1", "MX", "mx"),
    ("gcp", "southamerica-west1", "CL", "cl"),
    ("gcp", "us-central2", "US", "us"),
    ("gcp", "us-west3", "US", "us"),
    ("azure", "australiacentral2", "AU", "au"),
    ("azure", "austriaeast", "AT", "eu"),
    ("azure", "brazilsoutheast", "BR", "br"),
    ("azure", "chilecentral", "CL", "cl"),
    ("azure", "eastasia", "HK", "hk"),
    ("azure", "southeastasia", "SG", "sg"),
    ("azure", "francesouth", "FR", "eu"),
    ("azure", "germanynorth", "DE", "eu"),
    ("azure", "israelcentral", "IL", "il"),
    ("azure", "malaysiawest", "MY", "my"),
    ("azure", "norwaywest", "NO", "eea"),
    ("azure", "polandcentral", "PL", "eu"),
    ("azure", "qatarcentral", "QA", "qa"),
    ("azure", "spaincentral", "ES", "eu"),
    ("azure", "swedensouth", "SE", "eu"),
    ("azure", "switzerlandwest", "CH", "ch"),
    ("azure", "uaecentral", "AE", "ae"),
    ("azure", "westcentralus", "US", "us"),
    ("azure", "chinanorth3", "CN", "cn"),
    ("azure", "chinaeast2", "CN", "cn"),
    ("azure", "usgovarizona", "US", "us"),
    ("azure", "usdodcentral", "US", "us"),
]


@pytest.mark.parametrize(("cloud", "code", "country", "jurisdiction"), REFERENCE_SAMPLE)
def test_reference_sample(cat: Catalog, cloud: str, code: str, country: str, jurisdiction: str) -> None:
    loc = cat.resolve(cloud, code)
    assert loc is not None and loc.kind == "region" and loc.code == code
    assert loc.countries == {country}
    assert loc.jurisdictions == {jurisdiction}


def test_region_counts_cover_the_reference(cat: Catalog) -> None:
    aws = cat.all_regions("aws")
    # 34 commercial + 2 China + 2 GovCloud + 6 ISO (US) + 1 ISOE + 1 EUSC, as in botocore 1.43.11
    assert len(aws) == 46
    assert len(cat.all_regions("gcp")) == 44  # 43 in the reference table + us-central2
    assert len(cat.all_regions("azure")) >= 55 + 6 + 5  # public + China + US Government
    assert cat.region("gcp", "europe-west15") is None  # location unverified: deliberately absent


def test_unverified_aws_iso_e_is_gb_and_flagged_in_data() -> None:
    rec = next(r for r in _raw("regions")["regions"] if r["code"] == "eu-isoe-west-1")
    assert rec["country"] == "GB" and rec["verified"] is False and rec["note"]


# --------------------------------------------------------------------------- zones and spellings


@pytest.mark.parametrize(
    ("cloud", "zone", "region"),
    [
        ("aws", "us-west-2a", "us-west-2"),
        ("aws", "eu-central-1c", "eu-central-1"),
        ("aws", "us-gov-west-1b", "us-gov-west-1"),
        ("gcp", "europe-west1-b", "europe-west1"),
        ("gcp", "US-CENTRAL1-A", "us-central1"),
        ("gcp", "us-central1-ai1a", "us-central1"),
        ("azure", "westeurope-1", "westeurope"),
        ("azurerm", "West Europe-3", "westeurope"),
        ("azure", "indiacentral-2", "centralindia"),
    ],
)
def test_zone_resolves_to_its_region(cat: Catalog, cloud: str, zone: str, region: str) -> None:
    loc = cat.resolve(cloud, zone)
    assert loc is not None
    assert loc.kind == "zone"
    assert loc.code == zone.lower().replace(" ", "")
    assert _codes(loc) == {region}
    assert cat.region(cloud, zone) is None  # region() never guesses a zone


@pytest.mark.parametrize(
    ("cloud", "code"),
    [
        ("aws", "us-east-1-bue-1a"),  # Local Zone in Buenos Aires: not the parent region's country
        ("aws", "us-east-1-wl1-bos-wlz-1"),  # Wavelength Zone
        ("aws", "eu-west-9a"),
        ("gcp", "europe-west1-bb"),
        ("gcp", "europe-west99-b"),
        ("azure", "westeurope-0"),
        ("azure", "west-europe"),
    ],
)
def test_unknown_zone_spellings_stay_unresolved(cat: Catalog, cloud: str, code: str) -> None:
    assert cat.resolve(cloud, code) is None


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("West Europe", "westeurope"),
        ("westeurope", "westeurope"),
        ("WestEurope", "westeurope"),
        ("  west   europe ", "westeurope"),
        ("East US 2", "eastus2"),
        ("Australia Central 2", "australiacentral2"),
        ("UK South", "uksouth"),
        ("US Gov Virginia", "usgovvirginia"),
        ("indiacentral", "centralindia"),
        ("indiasouth", "southindia"),
        ("IndiaWest", "westindia"),
    ],
)
def test_azure_display_names_and_aliases(cat: Catalog, written: str, code: str) -> None:
    loc = cat.resolve("azure", written)
    assert loc is not None and loc.kind == "region" and loc.code == code
    assert cat.region("azurerm", written) == loc.members[0]


def test_azure_regions_carry_display_names(cat: Catalog) -> None:
    assert cat.region("azure", "westeurope").display_name == "West Europe"
    assert cat.region("azure", "eastus2").display_name == "East US 2"
    for region in cat.all_regions("azure"):
        assert region.display_name
        assert "".join(region.display_name.split()).lower() == region.code


def test_aws_and_gcp_codes_are_case_insensitive(cat: Catalog) -> None:
    assert cat.resolve("aws", "EU-WEST-1").code == "eu-west-1"
    assert cat.resolve("gcp", "EUROPE-WEST3").code == "europe-west3"
    assert cat.resolve("google", "us") == cat.resolve("gcp", "US") == cat.resolve("gcp", "Us")
    assert cat.resolve("gcp", "eu").code == "EU"
    assert cat.resolve("gcp", "eur4").code == "EUR4"
    assert cat.resolve("gcp", "EUR3").code == "eur3"


def test_cloud_aliases_and_unknown_cloud(cat: Catalog) -> None:
    assert cat.resolve("google", "europe-west1").cloud == "gcp"
    assert cat.resolve("azurerm", "westeurope").cloud == "azure"
    assert cat.resolve("alicloud", "eu-west-1") is None
    with pytest.raises(ValueError, match="unknown cloud"):
        cat.all_regions("alicloud")


@pytest.mark.parametrize("code", ["", "   ", "global", "GLOBAL"])
def test_empty_and_global_are_not_locations(cat: Catalog, code: str) -> None:
    assert cat.resolve("gcp", code) is None
    assert cat.resolve_any(code) == []


def test_same_code_means_different_places_per_cloud(cat: Catalog) -> None:
    assert cat.resolve("gcp", "eu-west-1") is None
    assert cat.resolve("aws", "europe-west1") is None
    assert [loc.cloud for loc in cat.resolve_any("eu-west-1")] == ["aws"]
    assert [loc.cloud for loc in cat.resolve_any("europe-west1-b")] == ["gcp"]
    assert [loc.cloud for loc in cat.resolve_any("West Europe")] == ["azure"]
    assert [loc.kind for loc in cat.resolve_any("EU")] == ["multi-region"]


# --------------------------------------------------------------------------- Azure pairs


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [
        ("northeurope", "westeurope"),
        ("westeurope", "northeurope"),
        ("brazilsouth", "southcentralus"),  # crosses the border br -> us
        ("southcentralus", "northcentralus"),  # ... and it is one-directional
        ("brazilsoutheast", "brazilsouth"),
        ("westus3", "eastus"),
        ("eastus", "westus"),  # westus3 -> eastus is one-way
        ("westindia", "southindia"),
        ("southindia", "centralindia"),
        ("eastasia", "southeastasia"),
        ("uksouth", "ukwest"),
        ("switzerlandnorth", "switzerlandwest"),
        ("chinanorth", "chinaeast"),
        ("usgovarizona", "usgovtexas"),
        ("usgovtexas", "usgovvirginia"),
        ("West Europe", "northeurope"),
    ],
)
def test_azure_pairs(cat: Catalog, primary: str, secondary: str) -> None:
    pair = cat.azure_pair(primary)
    assert pair is not None and pair.code == secondary


@pytest.mark.parametrize(
    "code",
    [
        "italynorth",
        "polandcentral",
        "spaincentral",
        "austriaeast",
        "israelcentral",
        "qatarcentral",
        "mexicocentral",
        "newzealandnorth",
        "indonesiacentral",
        "malaysiawest",
    ],
)
def test_unpaired_azure_regions(cat: Catalog, code: str) -> None:
    assert cat.azure_pair(code) is None


def test_azure_pair_of_unknown_region_raises(cat: Catalog) -> None:
    # "unknown" must never read as "unpaired": that would pass a GRS check silently
    with pytest.raises(KeyError):
        cat.azure_pair("westeurope2")


def test_azure_pair_crossing_a_border_is_visible(cat: Catalog) -> None:
    assert cat.region("azure", "brazilsouth").country == "BR"
    assert cat.azure_pair("brazilsouth").country == "US"
    assert cat.azure_pair("northeurope").country == "NL"
    assert cat.azure_pair("northeurope").jurisdiction == "eu"


# --------------------------------------------------------------------------- GCP multi-/dual-regions


def test_gcs_eu_multi_region_excludes_london_and_zurich(cat: Catalog) -> None:
    eu = cat.resolve("gcp", "EU")
    assert eu is not None and eu.kind == "multi-region"
    assert eu.jurisdictions == {"eu"}
    assert not _codes(eu) & {"europe-west2", "europe-west6"}
    assert {"europe-west1", "europe-west3", "europe-west4"} <= _codes(eu)
    assert eu.members_published is False


def test_us_multi_region_is_every_gcp_us_region(cat: Catalog) -> None:
    us = cat.resolve("gcp", "US")
    assert us.jurisdictions == {"us"}
    assert _codes(us) == {r.code for r in cat.all_regions("gcp") if r.country == "US"}
    assert us.members_published is False


def test_asia_multi_region_is_asian_only(cat: Catalog) -> None:
    asia = cat.resolve("gcp", "asia")
    assert asia.members_published is False
    assert {"asia-east1", "asia-northeast1", "asia-southeast1"} <= _codes(asia)
    assert not asia.countries & {"AU", "IL", "QA", "SA"}


@pytest.mark.parametrize(
    ("code", "members", "jurisdictions"),
    [
        ("ASIA1", {"asia-northeast1", "asia-northeast2"}, {"jp"}),
        ("EUR4", {"europe-north1", "europe-west4"}, {"eu"}),
        ("EUR5", {"europe-west1", "europe-west2"}, {"eu", "uk"}),
        ("EUR7", {"europe-west2", "europe-west3"}, {"eu", "uk"}),
        ("EUR8", {"europe-west3", "europe-west6"}, {"eu", "ch"}),
        ("NAM4", {"us-central1", "us-east1"}, {"us"}),
    ],
)
def test_predefined_dual_regions(cat: Catalog, code: str, members: set[str], jurisdictions: set[str]) -> None:
    loc = cat.resolve("gcp", code.lower(), product="storage")
    assert loc is not None
    assert (loc.code, loc.kind, loc.members_published) == (code, "dual-region", True)
    assert _codes(loc) == members
    assert loc.jurisdictions == jurisdictions


def test_a_code_with_two_product_meanings_resolves_to_the_union_unless_the_product_is_given(
    cat: Catalog,
) -> None:
    storage = cat.resolve("gcp", "EUR5", product="storage")
    spanner = cat.resolve("gcp", "eur5", product="spanner")
    assert (storage.kind, _codes(storage)) == ("dual-region", {"europe-west1", "europe-west2"})
    assert (spanner.kind, _codes(spanner)) == ("multi-region", {"europe-west1", "europe-west2", "europe-west4"})
    for loc in (cat.resolve("gcp", "EUR5"), cat.resolve("gcp", "eur5", product="bigquery")):
        assert _codes(loc) == _codes(storage) | _codes(spanner)  # never fewer regions than either meaning
        assert loc.jurisdictions == {"eu", "uk"}
    # a code with one meaning ignores the product hint rather than becoming unknown
    assert cat.resolve("gcp", "EU", product="spanner") == cat.resolve("gcp", "EU")
    assert cat.resolve("aws", "eu-west-1", product="storage").code == "eu-west-1"


def test_firestore_multi_regions(cat: Catalog) -> None:
    assert _codes(cat.resolve("gcp", "eur3")) == {"europe-west1", "europe-west4", "europe-north1"}
    assert cat.resolve("gcp", "eur3").jurisdictions == {"eu"}
    assert _codes(cat.resolve("gcp", "nam5")) == {"us-central1", "us-central2", "us-east1"}
    assert cat.resolve("gcp", "nam5").jurisdictions == {"us"}


def test_spanner_regional_config_for_every_gcp_region(cat: Catalog) -> None:
    for region in cat.all_regions("gcp"):
        loc = cat.resolve("gcp", f"regional-{region.code}")
        assert loc is not None and loc.kind == "region" and loc.members == (region,)
    assert cat.resolve("gcp", "regional-europe-west99") is None
    assert cat.resolve("aws", "regional-eu-west-1") is None


def test_spanner_multi_region_configs(cat: Catalog) -> None:
    assert cat.resolve("gcp", "nam3").jurisdictions == {"us"}
    assert cat.resolve("gcp", "eur5", product="spanner").jurisdictions == {"eu", "uk"}
    assert cat.resolve("gcp", "eur6", product="spanner").jurisdictions == {"eu", "ch"}  # Zurich witness counts
    world = cat.resolve("gcp", "nam-eur-asia1")
    assert world.members_published is False
    assert {"us", "eu", "uk", "ch", "jp", "tw"} <= world.jurisdictions
    assert cat.resolve("gcp", "nam99") is None


def test_kms_europe_multi_region_is_assumed_to_include_uk_and_ch(cat: Catalog) -> None:
    europe = cat.resolve("gcp", "europe")
    assert europe.members_published is False
    assert europe.jurisdictions == {"eu", "uk", "ch"}


def test_custom_dual_region(cat: Catalog) -> None:
    loc = cat.custom_dual_region("gcp", ["EUROPE-WEST1", "europe-west4"])
    assert loc is not None
    assert (loc.kind, loc.code, loc.cloud) == ("custom-dual-region", "EUROPE-WEST1+EUROPE-WEST4", "gcp")
    assert _codes(loc) == {"europe-west1", "europe-west4"}
    assert loc.jurisdictions == {"eu"}
    crossing = cat.custom_dual_region("google", ["europe-west3", "europe-west2"])
    assert crossing.jurisdictions == {"eu", "uk"}


@pytest.mark.parametrize(
    ("cloud", "codes"),
    [
        ("gcp", []),
        ("gcp", ["europe-west1", "europe-west99"]),
        ("gcp", ["europe-west1", "EU"]),
        ("gcp", ["europe-west1-b"]),
        ("aws", ["eu-west-1", "eu-west-3"]),
    ],
)
def test_custom_dual_region_rejects_what_it_cannot_place(cat: Catalog, cloud: str, codes: list[str]) -> None:
    assert cat.custom_dual_region(cloud, codes) is None


# --------------------------------------------------------------------------- unknown codes and suggestions


def test_unknown_region_is_none_and_suggestions_are_near(cat: Catalog) -> None:
    assert cat.resolve("aws", "eu-west-9") is None
    assert cat.resolve_any("eu-west-9") == []
    assert cat.suggest("eu-west-9") == ["eu-west-1", "eu-west-2", "eu-west-3"]
    assert "westeurope" in cat.suggest("westeurop", cloud="azure")
    assert "europe-west1" in cat.suggest("europe-wst1", cloud="gcp")
    assert cat.suggest("eu-west-9", n=1) == ["eu-west-1"]
    assert cat.suggest("zzzzzzzz") == []


def test_group_suggestions(cat: Catalog) -> None:
    assert cat.suggest("country:UK") == ["country:GB"]
    assert cat.suggest("in:eu-location")[0] == "in:eu-locations"


# --------------------------------------------------------------------------- groups


def test_country_groups(cat: Catalog) -> None:
    assert cat.is_group("country:GB")
    assert cat.is_group("country:gb")
    assert not cat.is_group("country:UK")
    with pytest.raises(KeyError):
        cat.group_members("country:UK")
    assert "country:GB" in cat.groups() and "country:UK" not in cat.groups()
    assert {"eu-west-2", "europe-west2", "uksouth", "ukwest"} <= _codes(cat.group_members("country:GB"))
    # a real country without regions is a valid, empty group (and not listed by groups())
    assert cat.is_group("country:LU") and cat.group_members("country:LU") == ()
    assert "country:LU" not in cat.groups()


def test_every_region_is_in_its_country_group(cat: Catalog) -> None:
    for region in cat.all_regions():
        assert f"country:{region.country}" in region.groups
        assert region in cat.group_members(f"country:{region.country}")


def test_group_membership_choices(cat: Catalog) -> None:
    cn = cat.group_members("in:cn-locations")
    assert {r.country for r in cn} == {"CN"}
    assert {"cn-north-1", "chinanorth"} <= _codes(cn)
    asia = cat.group_members("in:asia-locations")
    assert {"CN", "HK", "TW", "JP", "KR", "SG", "IN", "ID", "TH", "MY"} <= {r.country for r in asia}
    assert not {r.country for r in asia} & {"IL", "AE", "QA", "SA", "BH", "AU", "NZ"}
    assert {r.country for r in cat.group_members("in:middle-east-locations")} >= {"IL", "AE", "QA", "SA", "BH"}
    us = cat.group_members("in:us-locations")
    assert {"us-gov-west-1", "usgovvirginia", "us-central1"} <= _codes(us)
    assert {r.jurisdiction for r in cat.group_members("in:uk-locations")} == {"uk"}
    assert {r.jurisdiction for r in cat.group_members("in:ch-locations")} == {"ch"}
    europe = {r.jurisdiction for r in cat.group_members("in:europe-locations")}
    assert europe == {"eu", "eea", "uk", "ch"}
    americas = _codes(cat.group_members("in:americas-locations"))
    assert {"sa-east-1", "ca-central-1", "mx-central-1", "us-east-1"} <= americas


def test_gcp_region_groups(cat: Catalog) -> None:
    assert _codes(cat.group_members("in:europe-west1-locations")) == {"europe-west1"}
    assert cat.is_group("in:us-east1-locations")
    assert not cat.is_group("in:eu-west-1-locations")  # Google's pattern, GCP regions only
    assert not cat.is_group("in:emea-locations")
    assert not cat.is_group("eu-locations")  # callers add the in: prefix
    with pytest.raises(KeyError):
        cat.group_members("in:emea-locations")


def test_every_group_has_a_description(cat: Catalog) -> None:
    groups = cat.groups()
    assert {
        "in:eu-locations",
        "in:eea-locations",
        "in:europe-locations",
        "in:us-locations",
        "in:uk-locations",
        "in:ch-locations",
        "in:cn-locations",
        "in:asia-locations",
    } <= groups.keys()
    for name, description in groups.items():
        assert isinstance(description, str) and len(description) > 10, name
        assert cat.is_group(name)
    for region in cat.all_regions():
        for name in region.groups:
            assert name in groups, (region.code, name)


# --------------------------------------------------------------------------- data consistency


def test_every_region_has_iso_country_and_derived_jurisdiction(cat: Catalog) -> None:
    iso = _raw("countries")["countries"]
    assert len(iso) == 249 and "GB" in iso and "UK" not in iso
    jurisdictions = _raw("groups")["jurisdictions"]
    derived = {c: j for j, cs in jurisdictions.items() for c in cs}
    for region in cat.all_regions():
        assert re.fullmatch(r"[A-Z]{2}", region.country), region
        assert region.country in iso, region
        assert region.jurisdiction == derived.get(region.country, region.country.lower()), region
        assert region.cloud in CLOUDS and region.name


def test_eu_and_eea_jurisdiction_lists() -> None:
    jurisdictions = _raw("groups")["jurisdictions"]
    assert len(jurisdictions["eu"]) == 27
    assert "GB" not in jurisdictions["eu"] and "CH" not in jurisdictions["eu"]
    assert sorted(jurisdictions["eea"]) == ["IS", "LI", "NO"]
    assert jurisdictions["uk"] == ["GB"]


def test_no_duplicate_codes_and_shapes() -> None:
    seen: set[tuple[str, str]] = set()
    for rec in _raw("regions")["regions"]:
        key = (rec["cloud"], rec["code"])
        assert key not in seen, key
        seen.add(key)
        assert rec["code"] == rec["code"].strip().lower()
    gcp_regions = {code for cloud, code in seen if cloud == "gcp"}
    products: dict[str, set[str]] = {}
    for loc in _raw("locations")["locations"]:
        key, declared = loc["code"].lower(), set(loc["products"])
        assert declared, loc["code"]
        # the same spelling may appear twice only for different products (EUR5 / eur5)
        assert not products.get(key, set()) & declared, loc["code"]
        products.setdefault(key, set()).update(declared)
    assert not gcp_regions & products.keys()


def test_azure_pair_targets_exist(cat: Catalog) -> None:
    for region in cat.all_regions("azure"):
        if region.pair is not None:
            target = cat.region("azure", region.pair)
            assert target is not None, region.code
            assert target.code != region.code


def test_location_members_exist_and_are_declared_consistently() -> None:
    regions = {(r["cloud"], r["code"]) for r in _raw("regions")["regions"]}
    groups = _raw("groups")["groups"]
    countries = {r["country"] for r in _raw("regions")["regions"]}
    for loc in _raw("locations")["locations"]:
        assert loc["kind"] in {"multi-region", "dual-region"}
        assert loc.get("note")
        if loc.get("members_published", True):
            assert loc["members"] and all((loc["cloud"], m) in regions for m in loc["members"]), loc["code"]
        else:
            # a member group is a declared group or country:XX of a country that has regions
            assert "members" not in loc and all(
                g in groups or g.removeprefix("country:") in countries for g in loc["member_groups"]
            ), loc["code"]
    for alias, target in _raw("locations")["azure_aliases"].items():
        assert ("azure", target) in regions and ("azure", alias) not in regions


def test_verified_flag_is_only_ever_false() -> None:
    for name in ("regions", "locations"):
        key = "regions" if name == "regions" else "locations"
        for rec in _raw(name)[key]:
            assert rec.get("verified", False) is False, rec


# --------------------------------------------------------------------------- describe and API shape


def test_describe(cat: Catalog) -> None:
    assert cat.resolve("aws", "eu-west-2").describe() == "eu-west-2 (Europe (London), GB, uk)"
    assert cat.resolve("aws", "us-west-2a").describe() == "us-west-2a (zone of us-west-2, US West (Oregon), US, us)"
    assert cat.resolve("azure", "West Europe").describe() == "westeurope (West Europe (Netherlands), NL, eu)"
    eur5 = cat.resolve("gcp", "eur5", product="spanner").describe()
    assert eur5 == "eur5 multi-region (europe-west1, europe-west2, europe-west4; eu, uk)"
    assert cat.resolve("gcp", "eur8").describe() == "EUR8 dual-region (europe-west3, europe-west6; ch, eu)"
    eu = cat.resolve("gcp", "EU").describe()
    assert eu.startswith("EU multi-region (europe-central2, europe-north1,") and "not published" in eu
    assert "europe-west2," not in eu
    custom = cat.custom_dual_region("gcp", ["europe-west1", "europe-west4"]).describe()
    assert custom == "EUROPE-WEST1+EUROPE-WEST4 custom dual-region (europe-west1, europe-west4; eu)"


def test_results_are_immutable_and_hashable(cat: Catalog) -> None:
    loc = cat.resolve("gcp", "EUR8")
    with pytest.raises(AttributeError):
        loc.code = "EU"  # type: ignore[misc]
    assert len({loc, cat.resolve("gcp", "eur8")}) == 1
    assert hash(cat.region("aws", "eu-west-1"))


def test_catalog_is_cached() -> None:
    assert catalog() is catalog()


def test_all_regions_sorted_by_cloud_then_natural_code(cat: Catalog) -> None:
    everything = cat.all_regions()
    assert [r.cloud for r in everything] == sorted((r.cloud for r in everything), key=CLOUDS.index)
    gcp = [r.code for r in cat.all_regions("gcp")]
    assert gcp.index("europe-west2") < gcp.index("europe-west10")
    assert len(everything) == sum(len(cat.all_regions(c)) for c in CLOUDS)


# --------------------------------------------------------------------------- extended catalogs


def test_extended_adds_policy_regions_with_derived_facts(cat: Catalog) -> None:
    ext = cat.extended(
        [
            {"cloud": "google", "code": "europe-west15", "country": "de", "name": "Somewhere"},
            {"cloud": "aws", "code": "eu-west-4", "country": "BE"},
            {"cloud": "azurerm", "code": "Belgium Central", "country": "BE", "name": "Belgium Central"},
        ]
    )
    new = ext.region("gcp", "europe-west15")
    assert (new.country, new.jurisdiction, new.name) == ("DE", "eu", "Somewhere")
    assert {"in:eu-locations", "country:DE", "in:europe-west15-locations"} <= new.groups
    assert new in ext.group_members("in:eu-locations")
    assert "europe-west15" in _codes(ext.resolve("gcp", "EU"))  # joins the group-defined multi-region
    assert ext.resolve("gcp", "europe-west15-a").kind == "zone"
    assert ext.resolve("aws", "eu-west-4a").members[0].jurisdiction == "eu"
    belgium = ext.resolve("azure", "belgiumcentral")
    assert belgium is not None and belgium.members[0].display_name == "Belgium Central"
    assert ext.is_group("in:europe-west15-locations")
    # the shipped catalog is untouched
    assert cat.region("gcp", "europe-west15") is None
    assert catalog().resolve("aws", "eu-west-4") is None


def test_extended_uk_becomes_jurisdiction_uk(cat: Catalog) -> None:
    region = cat.extended([{"cloud": "gcp", "code": "europe-west99", "country": "GB"}]).region("gcp", "europe-west99")
    assert region.jurisdiction == "uk" and "in:eu-locations" not in region.groups


def test_extended_is_a_no_op_for_a_known_region_with_the_same_country(cat: Catalog) -> None:
    assert cat.extended([{"cloud": "aws", "code": "eu-west-1", "country": "IE"}]) is cat


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"cloud": "aws", "code": "eu-west-1", "country": "DE"}, "already in the catalog"),
        ({"cloud": "gcp", "code": "europe-west99", "country": "UK"}, "use GB"),
        ({"cloud": "gcp", "code": "europe-west99", "country": "XX"}, "ISO 3166-1"),
        ({"cloud": "alicloud", "code": "eu-west-1", "country": "GB"}, "unknown cloud"),
        ({"cloud": "gcp", "code": "EU", "country": "DE"}, "multi-region"),
        ({"cloud": "gcp", "code": "bad code!", "country": "DE"}, "not a region code"),
        ({"cloud": "gcp", "code": 5, "country": "DE"}, "must be strings"),
    ],
)
def test_extended_rejects_bad_entries(cat: Catalog, entry: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cat.extended([entry])


def test_extended_rejects_contradicting_duplicates(cat: Catalog) -> None:
    with pytest.raises(ValueError, match="twice"):
        cat.extended(
            [{"cloud": "gcp", "code": "x-new1", "country": "DE"}, {"cloud": "gcp", "code": "x-new1", "country": "FR"}]
        )
