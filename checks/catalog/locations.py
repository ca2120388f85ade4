"""Where a resource is: the generic location sources of ``datastores.yaml`` and the location handlers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from checks.catalog.index import Scan, _at, _normalise_azure, _or_unknown, _unknown_from, _values, _wrap
from checks.catalog.types import TypeSpec
from checks.values import blocks, get_path
from scanner.model import (
    ANY_REGION,
    Location,
    Ref,
    Resource,
    Unknown,
)


def _aws_region(r: Resource) -> Location | Unknown:
    """AWS v6: resource-level ``region`` wins, else the provider configuration's region."""
    value = r.attributes.get("region")
    if isinstance(value, str) and value:
        return Location("aws", value, f"argument region ({_at(r)})")
    if value is not None:
        return _unknown_from(value, f"argument region of {r.address}")
    if r.location_hint is not None:
        return r.location_hint
    p = r.provider
    if p is None:
        return Unknown(f"{r.address} has no provider configuration to take a region from")
    if isinstance(p.region, Unknown):
        return p.region
    if not p.region:
        where = p.source or f"provider {p.address}"
        return Unknown(f"{where} sets no region; it would come from the environment (AWS_REGION, profile)")
    return Location("aws", p.region, p.source or f"provider {p.address}")


def _arg_location(r: Resource, spec: Mapping[str, Any], cloud: str) -> Location | Unknown:
    """Google style: own ``location``/``region``/``zone`` argument, else default, else provider."""
    args = spec.get("arg") or ["location"]
    strip = spec.get("strip_prefix")
    for arg in args:
        value = get_path(r.attributes, arg)
        if isinstance(value, str) and value:
            if strip and value.startswith(strip):
                value = value[len(strip) :]
            if value.lower() in (spec.get("worldwide") or ()):
                # a location code that stands for every region (Cloud KMS `global`), not an unknown code
                return Location(cloud, ANY_REGION, f"argument {arg} = {value}, every region ({_at(r)})")
            return Location(cloud, value, f"argument {arg} ({_at(r)})")
        if value is not None:
            return _unknown_from(value, f"argument {arg} of {r.address}")
    if r.location_hint is not None:
        return r.location_hint
    if spec.get("default"):
        code = spec["default"]
        return Location(cloud, code, f"default location {code} of {r.type}, {args[0]} not set ({_at(r)})")
    fallback = spec.get("fallback")
    if fallback:
        p = r.provider
        attr = "zone" if fallback == "provider-zone" else "region"
        value = getattr(p, attr, None) if p is not None else None
        if isinstance(value, Unknown):
            return value
        if isinstance(value, str) and value:
            return Location(
                cloud, value, p.source if p and p.source else f"provider {p.address if p else ''}"
            )
        where = (p.source or f"provider {p.address}") if p else "no provider configuration"
        return Unknown(f"{args[0]} is not set on {r.address} and {where} sets no {attr}")
    return Unknown(f"argument {args[0]} of {r.address} is not set")


def _azure_location(r: Resource) -> Location | Unknown:
    value = r.attributes.get("location")
    if isinstance(value, str) and value:
        norm = _normalise_azure(value)
        shown = "" if norm == value else f' "{value}"'
        return Location("azure", norm, f"argument location{shown} ({_at(r)})")
    if value is not None:
        return _unknown_from(value, f"argument location of {r.address}")
    if r.location_hint is not None:
        return r.location_hint
    return Unknown(f"argument location of {r.address} is not set")


def _parent_location(r: Resource, spec: Mapping[str, Any], scan: Scan) -> Location | Unknown:
    parents = spec["parents"]
    for arg in spec["via"]:
        value = r.attributes.get(arg)
        if value is None:
            continue
        # a reference names its parent even when the parent's name is unknown (a random_* suffix)
        parent = scan.find(value, parents)
        if parent is None and isinstance(value, Unknown):
            return _unknown_from(value, f"argument {arg} of {r.address}")
        if parent is None:
            return Unknown(
                f"{arg} {value} of {r.address} names a parent that is not in the scanned configuration"
            )
        loc = scan.location_of(parent.address)
        return _or_unknown(_wrap(loc, f"inherited from {parent.address}"), Unknown(f"{parent.address} has no location"))
    if r.location_hint is not None:
        return r.location_hint
    return Unknown(f"{r.address} sets none of {', '.join(spec['via'])}, so its parent is unknown")


def _resolve_location(r: Resource, spec: TypeSpec, scan: Scan) -> Location | Unknown | None:
    loc = spec.location
    if "not-applicable" in loc:
        return None
    kind = loc["from"]
    if kind == "region-arg+provider":
        return _aws_region(r)
    if kind == "arg":
        return _arg_location(r, loc, spec.cloud)
    if kind == "azure":
        return _azure_location(r)
    if kind == "parent":
        return _parent_location(r, loc, scan)
    if kind == "handler":
        return LOCATION_HANDLERS[loc["handler"]](r, scan, loc)
    raise ValueError(f"{spec.type}: unknown location source {kind!r}")


def _loc_gcs_bucket(r: Resource, scan: Scan, p: Mapping[str, Any]) -> Location | Unknown:
    custom = _values(r.attributes, "custom_placement_config.data_locations")
    if custom:
        if any(not isinstance(v, str) for v in custom):
            return _unknown_from(
                next(v for v in custom if not isinstance(v, str)), "custom_placement_config.data_locations"
            )
        code = "+".join(v.lower() for v in custom)
        return Location("gcp", code, f"argument custom_placement_config.data_locations ({_at(r)})")
    loc = _arg_location(r, {"arg": ["location"]}, "gcp")
    if isinstance(loc, Location) and "-" not in loc.code:
        # multi- and dual-region codes are case-insensitive and documented upper-case (EU, EUR4)
        loc = Location(loc.cloud, loc.code.upper(), loc.source)
    return loc


def _loc_spanner_config(r: Resource, scan: Scan, p: Mapping[str, Any]) -> Location | Unknown:
    config = r.attributes.get("config")
    if isinstance(config, str) and config:
        tail = config.rsplit("/", 1)[-1]
        code = tail[len("regional-") :] if tail.startswith("regional-") else tail
        return Location("gcp", code, f"argument config {config} ({_at(r)})")
    target = scan.find(config, {"google_spanner_instance_config": "name"})
    if target is not None:
        members = [v for v in _values(target.attributes, "replicas.location") if isinstance(v, str)]
        if members:
            return Location(
                "gcp", "+".join(dict.fromkeys(members)), f"replicas of {target.address} ({_at(target)})"
            )
    return (
        _unknown_from(config, f"argument config of {r.address}")
        if config is not None
        else Unknown(f"argument config of {r.address} is not set")
    )


def _loc_storage_locations(r: Resource, scan: Scan, p: Mapping[str, Any]) -> Location | Unknown:
    value = r.attributes.get("storage_locations")
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return Location("gcp", "+".join(value), f"argument storage_locations ({_at(r)})")
    if value is None or value == []:
        return Unknown(
            f"storage_locations is not set on {r.address}: Google stores it in the multi-region "
            "nearest its source; set storage_locations to an allowed region"
        )
    return _unknown_from(value, f"argument storage_locations of {r.address}")


def _loc_bigtable_first_cluster(r: Resource, scan: Scan, p: Mapping[str, Any]) -> Location | Unknown:
    clusters = blocks(r.attributes, "cluster")
    if clusters:
        return _arg_location(
            Resource(r.type, r.address, r.file, r.line, clusters[0], provider=r.provider),
            {"arg": ["zone"], "fallback": "provider-zone"},
            "gcp",
        )
    return _arg_location(r, {"arg": ["zone"], "fallback": "provider-zone"}, "gcp")


_GCP_LOCATION = re.compile(r"/locations/([^/]+)/")


def _loc_gcp_crypto_key(r: Resource, scan: Scan, p: Mapping[str, Any]) -> Location | Unknown:
    ring = r.attributes.get("key_ring")
    if isinstance(ring, Ref):
        return _or_unknown(_wrap(scan.location_of(ring.address), f"key ring {ring.address}"), Unknown(
            f"key ring {ring.address} has no location"
        ))
    if isinstance(ring, str):
        m = _GCP_LOCATION.search(ring + "/")
        if m and m.group(1).lower() == "global":
            return Location("gcp", ANY_REGION, f"key_ring {ring}: Cloud KMS global, every region ({_at(r)})")
        if m:
            return Location("gcp", m.group(1), f"key_ring {ring} ({_at(r)})")
        target = scan.find(ring, {"google_kms_key_ring": "name"})
        if target is not None:
            return _or_unknown(_wrap(scan.location_of(target.address), f"key ring {target.address}"), Unknown(
                f"key ring {target.address} has no location"
            ))
    return (
        _unknown_from(ring, f"key_ring of {r.address}")
        if ring is not None
        else Unknown(f"key_ring of {r.address} is not set")
    )


LOCATION_HANDLERS: dict[str, Callable[[Resource, Scan, Mapping[str, Any]], Location | Unknown]] = {
    "gcs_bucket": _loc_gcs_bucket,
    "spanner_config": _loc_spanner_config,
    "storage_locations": _loc_storage_locations,
    "bigtable_first_cluster": _loc_bigtable_first_cluster,
    "gcp_crypto_key": _loc_gcp_crypto_key,
}
