"""RES001-RES004 on constructed facts: each passes what it should, fails what it should, and says why.

Facts are built by hand (not through the catalog) so each rule is tested on exactly the fact it
judges; the policy is the real one (``in:eu-locations``) over the real region catalog.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from checks.locate import ANY_REGION, judge, label
from checks.rules import RULES, RuleContext
from scanner.model import Category, Copy, DataStoreFacts, Encryption, KeyUse, Location, Resource, Unknown
from scanner.policy import policy_from_regions

POLICY = policy_from_regions(["in:eu-locations"], Path("."))
CTX = RuleContext(policy=POLICY, allowed=POLICY.allowed, catalog=POLICY.catalog)


def facts(
    rtype: str = "aws_s3_bucket",
    location: Location | Unknown | None = None,
    role: str = "data-store",
    **kw: object,
) -> DataStoreFacts:
    r = Resource(rtype, f"{rtype}.x", "main.tf", 4, {})
    cloud = {"aws": "aws", "google": "gcp", "azurerm": "azure"}[rtype.split("_", 1)[0]]
    return DataStoreFacts(r, cloud, role == "data-store", location, role=role, **kw)  # type: ignore[arg-type]


def check(rule: str, f: DataStoreFacts, ctx: RuleContext = CTX) -> list:
    return list(RULES[rule].check(f, ctx))


US = Location("aws", "us-east-1", "provider aws.virginia (main.tf:6)")
EU = Location("aws", "eu-west-1", "provider aws (main.tf:1)")


# --------------------------------------------------------------------------- RES001


def test_res001_flags_us_region_with_provenance_and_jurisdiction() -> None:
    [v] = check("RES001", facts(location=US))
    assert v.category is Category.PLACEMENT
    assert (v.region, v.jurisdiction, v.country) == ("us-east-1", "us", "US")
    assert "region us-east-1 from provider aws.virginia (main.tf:6)" in v.message
    assert "in:eu-locations" in v.message and "jurisdiction us" in v.message
    assert "eu-" in v.remediation  # names an allowed example region


def test_res001_passes_eu_and_ignores_location_less_types() -> None:
    assert check("RES001", facts(location=EU)) == []
    assert check("RES001", facts("google_pubsub_topic", location=None)) == []


@pytest.mark.parametrize(
    "code,ok",
    [
        ("EU", True),
        ("EUR4", True),
        ("EUR5", False),
        ("US", False),
        ("europe-west1+europe-west4", True),
        ("europe-west1+europe-west2", False),
    ],
)
def test_res001_multi_and_dual_regions_need_every_member(code: str, ok: bool) -> None:
    got = check(
        "RES001", facts("google_storage_bucket", Location("gcp", code, "argument location (main.tf:3)"))
    )
    assert (got == []) is ok
    if not ok:
        assert got[0].category is Category.PLACEMENT


def test_res001_unknown_and_unknown_code_are_unresolved() -> None:
    [v] = check("RES001", facts(location=Unknown("var.region has no value")))
    assert v.category is Category.UNRESOLVED and "var.region has no value" in v.message
    [v] = check("RES001", facts(location=Location("aws", "eu-west-9", "argument region (main.tf:4)")))
    assert v.category is Category.UNRESOLVED and "unknown region code eu-west-9" in v.message


def test_res001_uk_is_not_eu() -> None:
    [v] = check("RES001", facts("azurerm_storage_account", Location("azure", "uksouth", "argument location")))
    assert v.jurisdiction == "uk"


# --------------------------------------------------------------------------- RES002


def test_res002_one_violation_per_disallowed_copy_with_its_line() -> None:
    f = facts(
        location=EU,
        copies=[
            Copy("replica", Location("aws", "eu-central-1", "x"), "replica[0].region_name"),
            Copy("replica", US, "rule[0].destination.bucket", line=21),
            Copy("backup", Location("aws", "ap-south-1", "arn"), "copy_action[0]"),
        ],
    )
    got = check("RES002", f)
    assert [(v.region, v.line) for v in got] == [("us-east-1", 21), ("ap-south-1", None)]
    assert all(v.category is Category.REPLICATION for v in got)
    assert "rule[0].destination.bucket" in got[0].message


def test_res002_unknown_copy_is_unresolved_with_reason() -> None:
    reason = "destination bucket arn:aws:s3:::x is not in the scanned configuration"
    [v] = check("RES002", facts(location=EU, copies=[Copy("replica", Unknown(reason), "rule[0]", line=9)]))
    assert v.category is Category.UNRESOLVED and reason in v.message and v.line == 9


def test_res002_azure_pair_crossing_border() -> None:
    f = facts(
        "azurerm_storage_account",
        Location("azure", "brazilsouth", "argument location"),
        copies=[
            Copy(
                "geo-pair",
                Location("azure", "southcentralus", "paired region of brazilsouth"),
                "account_replication_type = GRS",
            )
        ],
    )
    [v] = check("RES002", f)
    assert v.region == "southcentralus" and "LRS" in v.remediation


def test_res002_automatic_replication_fails_unless_everything_is_allowed() -> None:
    f = facts(
        "google_secret_manager_secret",
        None,
        copies=[Copy("replica", Location("gcp", ANY_REGION, "replication.auto"), "replication.auto")],
    )
    [v] = check("RES002", f)
    assert "automatic (any region)" in v.message
    everything = policy_from_regions(["in:eu-locations", "in:us-locations"], Path("."))
    wide = RuleContext(everything, everything.allowed, everything.catalog)
    assert len(check("RES002", f, wide)) == 1  # still not every region
    assert check("RES002", facts(location=EU, copies=[Copy("replica", US, "r")]), wide) == []


# --------------------------------------------------------------------------- RES003


@pytest.mark.parametrize(
    "level,minimum,fails",
    [
        (Encryption.NONE, Encryption.PROVIDER, True),
        (Encryption.PROVIDER, Encryption.PROVIDER, False),
        (Encryption.CUSTOMER, Encryption.PROVIDER, False),
        (Encryption.PROVIDER, Encryption.CUSTOMER, True),
        (Encryption.NONE, Encryption.NONE, False),
    ],
)
def test_res003_compares_with_the_minimum(level: Encryption, minimum: Encryption, fails: bool) -> None:
    policy = dataclasses.replace(POLICY, encryption_minimum=minimum)
    ctx = RuleContext(policy, policy.allowed, policy.catalog)
    got = check(
        "RES003",
        facts(
            "aws_db_instance",
            EU,
            encryption=level,
            encryption_source="storage_encrypted not set (defaults to false)",
        ),
        ctx,
    )
    assert bool(got) is fails
    if fails:
        assert got[0].category is Category.ENCRYPTION and minimum.value in got[0].message
        assert "storage_encrypted not set" in got[0].message


def test_res003_unknown_is_unresolved_and_not_applicable_is_skipped() -> None:
    [v] = check("RES003", facts(location=EU, encryption=Unknown("var.kms has no value")))
    assert v.category is Category.UNRESOLVED and "var.kms has no value" in v.message
    assert check("RES003", facts(location=EU, encryption=None)) == []


# --------------------------------------------------------------------------- RES004


def test_res004_key_used_by_a_data_store_outside() -> None:
    f = facts(
        location=EU,
        encryption=Encryption.CUSTOMER,
        keys=[
            KeyUse(
                "aws_kms_key.us.arn",
                Location("aws", "us-east-1", "provider aws.virginia (main.tf:6)"),
                "kms_master_key_id",
            ),
            KeyUse("aws_kms_key.eu.arn", EU, "kms_key_id"),
        ],
    )
    [v] = check("RES004", f)
    assert v.category is Category.PLACEMENT and "aws_kms_key.us.arn" in v.message and v.region == "us-east-1"


def test_res004_key_resource_itself_and_unknown_key() -> None:
    [v] = check("RES004", facts("aws_kms_key", US, role="key"))
    assert "Encryption key aws_kms_key.x" in v.message
    assert check("RES004", facts("aws_kms_key", EU, role="key")) == []
    [u] = check(
        "RES004", facts(location=EU, keys=[KeyUse("k", Unknown("key k is not in the scan"), "kms_key_id")])
    )
    assert u.category is Category.UNRESOLVED


# --------------------------------------------------------------------------- shared judging and registry


def test_judge_and_label() -> None:
    verdict = judge(US, CTX)
    assert not verdict.allowed and label(verdict.outside[0]).startswith("us-east-1 (")
    assert judge(EU, CTX).allowed


def test_rules_are_registered_with_docs_controls_and_checkov_ids() -> None:
    for rid, name in [
        ("RES001", "data-store-outside-allowed-regions"),
        ("RES002", "replication-outside-allowed-regions"),
        ("RES003", "encryption-below-minimum"),
        ("RES004", "encryption-key-outside-allowed-regions"),
    ]:
        rule = RULES[rid]
        assert rule.name == name and rule.checkov_id == f"CKV_RES_{rid[-1]}"
        assert rule.controls and all(":" in c for c in rule.controls)
        for section in ("What it checks", "Why it matters", "Example", "How to fix", "Controls"):
            assert section in rule.doc


# --------------------------------------------------------------------------- one product resolution


def test_copies_and_keys_are_judged_with_the_stores_product_as_in_the_inventory() -> None:
    """GCP EUR5 is a Cloud Storage dual-region (europe-west1+2) and a Spanner three-region config
    (+ europe-west4): a bucket's copy or key at EUR5 is the storage one, in the findings as in the map."""
    from scanner.inventory import judge_place

    policy = policy_from_regions(["europe-west1", "europe-west2"], Path("."))
    ctx = RuleContext(policy=policy, allowed=policy.allowed, catalog=policy.catalog)
    eur5 = Location("gcp", "EUR5", "argument location (main.tf:9)")
    f = facts(
        "google_storage_bucket",
        Location("gcp", "europe-west1", "argument location (main.tf:3)"),
        copies=(Copy("replica", eur5, "custom_placement_config"),),
        keys=(KeyUse("google_kms_crypto_key.k", eur5, "encryption.default_kms_key_name"),),
    )
    assert check("RES002", f, ctx) == []
    assert check("RES004", f, ctx) == []
    assert judge_place(eur5, ctx, "storage").status == "allowed"
    spanner = facts("google_spanner_instance", Location("gcp", "europe-west1", "x"),
                    copies=(Copy("replica", eur5, "config"),))
    [v] = check("RES002", spanner, ctx)  # Spanner eur5 also holds data in europe-west4
    assert "europe-west4" in v.message
