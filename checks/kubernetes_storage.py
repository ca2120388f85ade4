"""The Kubernetes storage table (``kubernetes_storage.yaml``), loaded strictly.

Why a table: what a CSI driver's StorageClass parameters mean (which one names the region, which one
turns encryption on, which one names the customer key, which SKUs copy to a paired region) is a fact
about that driver, not logic; with the facts in one file a new driver is an entry, and the classifier
in ``checks/kubernetes.py`` reads every family the same way. A key the classifier does not read, or a
missing one, fails when the table is loaded (at import), naming the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import yaml

FILE = "checks/kubernetes_storage.yaml"


class StorageTableError(ValueError):
    """``kubernetes_storage.yaml`` is malformed; the message names the file and the entry."""


_STR, _STRS, _MAP = "a string", "a list of strings", "a mapping"
# key -> (what it must be, required)
_TOP = {
    "region_keys": (_STRS, True),
    "zone_keys": (_STRS, True),
    "provisioners": (_MAP, True),
    "in_tree_volumes": (_MAP, True),
    "external_file_systems": (_MAP, True),
    "families": (_MAP, True),
    "geo_skus": (_STRS, True),
    "snapshot_classes": (_MAP, True),
}
_PROVISIONER = {"cloud": (_STR, True), "family": (_STR, True)}
_FAMILY = {"location_param": (_STR, False), "geo_sku": (_MAP, False), "encryption": (_MAP, True)}
_GEO_SKU = {"params": (_STRS, True), "default": (_STR, True)}
_ENCRYPTION = {
    "flag": (_STR, False),
    "flag_off": (_STR, False),
    "flag_unset": (_STR, False),
    "key_without_flag": (_STR, False),
    "key": (_STR, False),
    "key_cloud": (_STR, False),
    "key_in": (_STR, False),
    "managed_key": (_STR, False),
    "provider_flag": (_STR, False),
    "customer": (_STR, False),
    "provider": (_STR, False),
    "elsewhere": (_MAP, False),
    "always": (_STR, False),
}
_ELSEWHERE = {"param": (_STR, True), "named": (_STR, True), "unnamed": (_STR, True)}
_SNAPSHOT = {"cloud": (_STR, True), "param": (_STR, True), "default": (_STR, False)}
SNAPSHOT_DEFAULTS = ("gcp-nearest-multi-region",)
CLOUDS = ("aws", "gcp", "azure")


def _is(what: str, value: Any) -> bool:
    if what == _STR:
        return isinstance(value, str) and value != ""
    if what == _STRS:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    return isinstance(value, dict)


def _keys(where: str, value: Any, schema: Mapping[str, tuple[str, bool]]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StorageTableError(f"{FILE}: {where}: must be a mapping")
    for key in value:
        if key not in schema:
            raise StorageTableError(f"{FILE}: {where}: unknown key {key!r}; known: {', '.join(schema)}")
    for key, (what, required) in schema.items():
        if key not in value:
            if required:
                raise StorageTableError(f"{FILE}: {where}: missing required key {key!r}")
        elif not _is(what, value[key]):
            raise StorageTableError(f"{FILE}: {where}.{key}: must be {what}, not {value[key]!r}")
    return value


def _encryption(where: str, enc: dict[str, Any]) -> None:
    """Each outcome the classifier can reach has its words; a flag comes with its two 'off' texts."""
    _keys(where, enc, _ENCRYPTION)
    if "elsewhere" in enc:
        _keys(f"{where}.elsewhere", enc["elsewhere"], _ELSEWHERE)
        return
    needs = ["provider_flag", "flag_off", "flag_unset"] if "flag" in enc else ["provider"]
    if "key" in enc:
        needs += ["customer"] + (["key_without_flag"] if "flag" in enc else [])
        if ("key_cloud" in enc) == ("key_in" in enc):
            raise StorageTableError(f"{FILE}: {where}: a key needs exactly one of key_cloud, key_in")
    for key in needs:
        if key not in enc:
            raise StorageTableError(f"{FILE}: {where}: missing required key {key!r}")
    if enc.get("key_cloud", "aws") not in ("aws", "gcp") or enc.get("key_in", "volume") != "volume":
        raise StorageTableError(f"{FILE}: {where}: key_cloud is aws or gcp, key_in is volume")


@dataclass(frozen=True)
class StorageTable:
    region_keys: tuple[str, ...]
    zone_keys: tuple[str, ...]
    provisioners: Mapping[str, tuple[str, str]]  # provisioner -> (cloud, family)
    in_tree_volumes: Mapping[str, str]
    external_file_systems: Mapping[str, str]
    families: Mapping[str, Mapping[str, Any]]
    geo_skus: frozenset[str]
    snapshot_classes: Mapping[str, Mapping[str, str]]


def parse_storage_table(text: str) -> StorageTable:
    data = _keys("top level", yaml.safe_load(text), _TOP)
    families = data["families"]
    for name, family in families.items():
        _keys(f"families.{name}", family, _FAMILY)
        if "geo_sku" in family:
            _keys(f"families.{name}.geo_sku", family["geo_sku"], _GEO_SKU)
        _encryption(f"families.{name}.encryption", family["encryption"])
    provisioners = {}
    for name, entry in data["provisioners"].items():
        _keys(f"provisioners.{name}", entry, _PROVISIONER)
        if entry["cloud"] not in CLOUDS or entry["family"] not in families:
            raise StorageTableError(f"{FILE}: provisioners.{name}: unknown cloud or family")
        provisioners[name] = (entry["cloud"], entry["family"])
    for section in ("in_tree_volumes", "external_file_systems"):
        for name, value in data[section].items():
            if not _is(_STR, value) or (section == "in_tree_volumes" and value not in CLOUDS):
                raise StorageTableError(f"{FILE}: {section}.{name}: must be {'a cloud' if section[0] == 'i' else _STR}")
    for name, entry in data["snapshot_classes"].items():
        _keys(f"snapshot_classes.{name}", entry, _SNAPSHOT)
        if entry.get("default", SNAPSHOT_DEFAULTS[0]) not in SNAPSHOT_DEFAULTS:
            raise StorageTableError(f"{FILE}: snapshot_classes.{name}.default: one of {', '.join(SNAPSHOT_DEFAULTS)}")
    return StorageTable(
        region_keys=tuple(data["region_keys"]),
        zone_keys=tuple(data["zone_keys"]),
        provisioners=provisioners,
        in_tree_volumes=dict(data["in_tree_volumes"]),
        external_file_systems=dict(data["external_file_systems"]),
        families=families,
        geo_skus=frozenset(data["geo_skus"]),
        snapshot_classes=data["snapshot_classes"],
    )


def load_storage_table() -> StorageTable:
    text = importlib_resources.files("checks").joinpath("kubernetes_storage.yaml").read_text(encoding="utf-8")
    return parse_storage_table(text)
