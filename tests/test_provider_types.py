"""Provider type lists and their classification: complete, versioned, consistent with the catalog."""

from __future__ import annotations

import json
from pathlib import Path

from checks.catalog import load_catalog
from checks.type_lists import CLASSES, PROVIDERS, listed_types, provider_list, type_classes

# Not provider types: made by the scanner itself (an azapi_resource whose ARM type has no azurerm type).
CATALOG = load_catalog()
SYNTHETIC = {"azurerm_generic_arm_resource", "aws_dynamodb_backup"}  # azapi fallback; ACK Backup
MINIMUM = {"aws": (6, 58, 0), "google": (7, 45, 0), "azurerm": (5, 2, 0)}


def _version(text: object) -> tuple[int, ...]:
    return tuple(int(p) for p in str(text).split("."))


def test_each_list_records_version_and_source_and_is_at_least_the_reference_version() -> None:
    for provider in PROVIDERS:
        data = provider_list(provider)
        assert _version(data["version"]) >= MINIMUM[provider], provider
        assert len(str(data["commit"])) == 40 and data["source"]
        types = data["types"]
        assert isinstance(types, list) and types == sorted(set(types))
        assert all(str(t).startswith(provider + "_") for t in types)


def test_list_sizes_match_the_providers() -> None:
    # aws 6.58.0: 1,684 registered resources in the index; google 7.45.0: 1,330; azurerm 5.2.0: 1,103 doc pages.
    assert len(provider_list("aws")["types"]) >= 1684  # type: ignore[arg-type]
    assert len(provider_list("google")["types"]) >= 1330  # type: ignore[arg-type]
    assert len(provider_list("azurerm")["types"]) >= 1103  # type: ignore[arg-type]
    assert "google_vertex_ai_dataset" in listed_types() and "aws_msk_serverless_cluster" in listed_types()


def test_every_listed_type_is_classified() -> None:
    classes = type_classes()
    missing = sorted(listed_types() - set(classes))
    assert not missing, f"{len(missing)} listed types have no class in classes.json: {missing[:20]}"
    assert set(classes.values()) <= CLASSES
    assert not set(classes) - listed_types(), "classes.json names types no provider list has"


def test_every_catalogued_type_is_a_real_provider_type_of_the_same_class() -> None:
    classes = type_classes()
    for name, entry in CATALOG.types.items():
        if name in SYNTHETIC:
            continue
        assert name in listed_types(), f"catalog type {name} is in no provider list (typo?)"
        cls = classes[name]
        if entry.role == "data-store":
            assert cls in {"data-store", "copy-maker"}, (name, cls)
        else:
            assert cls == entry.role, (name, cls)
    for name in CATALOG.ignored:
        assert name in listed_types(), f"ignored type {name} is in no provider list"
        assert classes[name] in {"no-data", "access-grant"}, name


def test_reference_data_holding_types_are_classified_as_holding_data() -> None:
    raw = json.loads((Path(__file__).parent.parent / "checks" / "provider_types" / "classes.json").read_text())
    for key, classes in raw.items():
        if key.startswith("_"):
            continue
        for name, value in classes.items():
            if isinstance(value, dict) and not str(value["why"]).startswith("catalog") and "decided" not in value:
                assert value["class"] in {"data-store", "copy-maker"}, name
            if isinstance(value, dict) and "decided" in value:
                assert "uncertain" not in value and str(value["decided"]).strip(), name
