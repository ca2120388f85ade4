"""The data-store catalog: which resources hold user data (or the keys protecting it), where.

``classify`` turns loaded :class:`Resource` objects into policy-free :class:`DataStoreFacts`:
primary location with provenance, every copy elsewhere (replicas, geo pairs, backups, sinks),
encryption at rest as a level, and the customer keys involved. Per-type knowledge is data
(``datastores.yaml``, loaded once); the logic that is not declarative lives in small handlers
named from that file, so a reviewer can see every type's behaviour in one place and a test can
assert that every handler named exists.

Nothing here judges policy: an unknown region code is passed on as written and the rules ask
the region catalog about it, so an unknown code becomes ``unresolved`` there, never a pass.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import yaml

from checks.values import as_bool, blocks, first_block, get_path, is_known
from scanner.model import (
    Copy,
    DataStoreFacts,
    Encryption,
    KeyUse,
    Location,
    Ref,
    Resource,
    Unknown,
)

ROLES = ("data-store", "key", "attachment")
CLOUDS = ("aws", "gcp", "azure")
LEVELS = {e.value: e for e in Encryption}


# --------------------------------------------------------------------------- catalog data


@dataclass(frozen=True)
class TypeSpec:
    """One resource type's entry in ``datastores.yaml``."""

    type: str
    cloud: str
    role: str
    location: Mapping[str, Any]
    encryption: Mapping[str, Any]
    copies: tuple[Mapping[str, Any], ...] = ()
    attach: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StoreCatalog:
    """All type entries plus the types deliberately ignored (global, no user data)."""

    types: Mapping[str, TypeSpec]
    ignored: Mapping[str, str]

    def spec(self, resource_type: str) -> TypeSpec | None:
        return self.types.get(resource_type)

    def role(self, resource_type: str) -> str | None:
        """``data-store`` | ``key`` | ``attachment``; None for types that hold no user data."""
        spec = self.types.get(resource_type)
        return spec.role if spec else None


@functools.cache
def load_catalog() -> StoreCatalog:
    """Read ``datastores.yaml`` once; package data so an installed wheel carries it."""
    text = importlib_resources.files("checks").joinpath("datastores.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    types = {
        name: TypeSpec(
            type=name,
            cloud=entry["cloud"],
            role=entry["role"],
            location=entry["location"],
            encryption=entry["encryption"],
            copies=tuple(entry.get("copies") or ()),
            attach=entry.get("attach"),
        )
        for name, entry in data["types"].items()
    }
    return StoreCatalog(types=types, ignored=dict(data.get("ignored") or {}))


# --------------------------------------------------------------------------- small helpers


def _at(r: Resource) -> str:
    return f"{r.file}:{r.line}"


def _normalise_azure(code: str) -> str:
    # azurerm compares locations with location.Normalize(): lower-case, no spaces.
    return code.replace(" ", "").lower()


def _values(attrs: Any, path: str) -> list[Any]:
    """Every value at a dotted path, through *all* repeated blocks (replicas, rules)."""
    current: list[Any] = [attrs]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, Unknown):
                nxt.append(item)
                continue
            candidates = item if isinstance(item, list) else [item]
            for cand in candidates:
                if isinstance(cand, dict):
                    value = cand.get(part)
                    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                        nxt.extend(value)
                    elif (isinstance(value, dict) and part != path.split(".")[-1]) or value is not None:
                        nxt.append(value)
        current = nxt
    out: list[Any] = []
    for value in current:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


def _blocks_path(attrs: Any, path: str) -> list[dict[str, Any]]:
    """Nested blocks along a dotted path, flattening repeated blocks at every step."""
    current = [attrs] if isinstance(attrs, dict) else []
    for part in path.split("."):
        current = [b for item in current for b in blocks(item, part)]
    return current


def _tail(value: str) -> str:
    """The last segment of an ARN, Azure resource ID or Google resource name."""
    return re.split(r"[/:]", value.rstrip("/"))[-1]


def _partial_text(value: Any) -> str:
    """The spelling of a string the loader knows only in part (its ``Partial``), else ''."""
    text = getattr(value, "text", "") if isinstance(value, Unknown) else ""
    return text if isinstance(text, str) else ""


# a partial string that ends with one interpolated reference after an ARN/ID separator (or is only that)
_TAIL_REF = re.compile(r"^(?:.*[:/])?\$\{([^{}]+)\}$")


def _arn_region(value: str) -> str | None:
    parts = value.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return None


def _unknown_from(value: Any, what: str) -> Unknown:
    if isinstance(value, Unknown):
        return Unknown(f"{what}: {value.reason}")
    if isinstance(value, Ref):
        return Unknown(f"{what} is {value}, known only after apply")
    return Unknown(f"{what} has an unexpected value {value!r}")


def _or_unknown(value: Any, fallback: Unknown) -> Any:
    """``value`` unless it is None. Not ``value or fallback``: an Unknown is falsy and would lose its reason."""
    return value if value is not None else fallback


def _wrap(loc: Location | Unknown | None, note: str) -> Location | Unknown | None:
    """Add provenance to a location borrowed from another resource."""
    if isinstance(loc, Location):
        return Location(loc.cloud, loc.code, f"{loc.source}, {note}" if loc.source else note)
    if isinstance(loc, Unknown):
        return Unknown(f"{loc.reason} ({note})")
    return loc


# --------------------------------------------------------------------------- the scan index


class Scan:
    """Everything handlers may look up: resources by address and name, lazily computed locations.

    Locations are computed on demand and memoised, because a child (a container, a key) needs its
    parent's location wherever the parent is declared in the input order.
    """

    def __init__(self, resources: Sequence[Resource], regions: Any, stores: StoreCatalog) -> None:
        self.resources = list(resources)
        self.regions = regions
        self.stores = stores
        self.by_address: dict[str, Resource] = {r.address: r for r in self.resources}
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for r in self.resources:
            self.by_type[r.type].append(r)
        self.facts: dict[str, DataStoreFacts] = {}
        self._locations: dict[str, Location | Unknown | None] = {}
        self._busy: set[str] = set()
        self.encrypted: set[str] = set()  # addresses whose encryption is computed

    # -- lookups
    def find(self, value: Any, targets: Mapping[str, str]) -> Resource | None:
        """The resource of one of ``targets`` (type -> name attribute) that ``value`` designates.

        A :class:`Ref` joins by address; a string by the target's name attribute, trying the whole
        value and then its last ARN / resource-ID segment (``arn:aws:s3:::b`` -> ``b``).
        """
        if isinstance(value, Ref):
            res = self.by_address.get(value.address)
            return res if res is not None and res.type in targets else None
        named = getattr(value, "address", "") if isinstance(value, Unknown) else ""
        if isinstance(named, str) and named:
            # an unknown attribute read from a resource (the loader's ``Named``): it names that resource
            res = self.by_address.get(named)
            if res is not None and res.type in targets:
                return res
        partial = _partial_text(value)
        if partial:
            tail_ref = _TAIL_REF.match(partial)
            if tail_ref:
                # ``arn:aws:s3:::${aws_s3_bucket.x[0].id}``: the ARN/ID of the resource it interpolates
                # (cloudposse/s3-bucket replication destinations), whatever that resource's name is
                for rtype in targets:
                    for res in self.by_type.get(rtype, ()):
                        if tail_ref.group(1).startswith(res.address + "."):
                            return res
            # a name known only in part ("replica-${random_pet.this.id}"): the same spelling is the same name
            for candidate in dict.fromkeys((partial, _tail(partial))):
                for rtype, name_attr in targets.items():
                    for res in self.by_type.get(rtype, ()):
                        if _partial_text(res.attributes.get(name_attr)) == candidate:
                            return res
            return None
        if not isinstance(value, str) or not value:
            return None
        for candidate in dict.fromkeys((value, _tail(value))):
            for rtype, name_attr in targets.items():
                for res in self.by_type.get(rtype, ()):
                    if res.attributes.get(name_attr) == candidate:
                        return res
        return None

    def find_any(self, value: Any, cloud: str) -> Resource | None:
        """A resource of any catalogued type of ``cloud`` designated by ``value`` (by address or name)."""
        targets = {t: "name" for t, s in self.stores.types.items() if s.cloud == cloud}
        return self.find(value, targets)

    # -- locations
    def location_of(self, address: str) -> Location | Unknown | None:
        if address in self._locations:
            return self._locations[address]
        res = self.by_address.get(address)
        if res is None:
            return Unknown(f"{address} is not in the scanned configuration")
        if address in self._busy:  # a reference cycle in the input: say so instead of recursing
            return Unknown(f"the location of {address} depends on itself")
        spec = self.stores.spec(res.type)
        self._busy.add(address)
        try:
            loc = _resolve_location(res, spec, self) if spec else None
        finally:
            self._busy.discard(address)
        self._locations[address] = loc
        return loc

    def same_file(self, a: Resource, b: Resource) -> bool:
        return a.file == b.file


# --------------------------------------------------------------------------- locations


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


# --------------------------------------------------------------------------- keys


def _key_location(target: Resource, scan: Scan) -> Location | Unknown | None:
    if target.type == "aws_kms_alias":
        inner = target.attributes.get("target_key_id")
        if isinstance(inner, Ref) and inner.address in scan.by_address:
            return _key_location(scan.by_address[inner.address], scan)
        return _aws_region(target)
    if scan.stores.spec(target.type) is None:
        return Unknown(f"{target.address} is not a key type the scanner knows")
    return _wrap(scan.location_of(target.address), f"key {target.address}")


def _interpret_key(
    r: Resource, value: Any, via: str, scan: Scan, own: Location | Unknown | None
) -> tuple[Encryption | Unknown | None, KeyUse | None]:
    """Read one key reference: its level (AWS-managed aliases are provider-managed) and location."""
    if value is None or value == "" or value == []:
        return None, None
    if ":alias/aws/" in _partial_text(value):  # data.aws_kms_alias of an AWS-managed key
        return Encryption.PROVIDER, None
    if isinstance(value, Unknown):
        return Unknown(f"{via} is unknown: {value.reason}"), None
    if isinstance(value, Ref):
        target = scan.by_address.get(value.address)
        if target is None:
            loc: Location | Unknown | None = Unknown(f"key {value} is not in the scanned configuration")
        else:
            loc = _key_location(target, scan)
        return Encryption.CUSTOMER, KeyUse(str(value), loc, via)
    if not isinstance(value, str):
        return Unknown(f"{via} has an unexpected value {value!r}"), None
    if value.startswith("alias/aws/") or ":alias/aws/" in value:
        return Encryption.PROVIDER, None
    if value.startswith("arn:"):
        region = _arn_region(value)
        loc = (
            Location("aws", region, f"key ARN {value}")
            if region
            else Unknown(f"key ARN {value} has no region")
        )
        return Encryption.CUSTOMER, KeyUse(value, loc, via)
    if r.type.startswith("aws_"):
        # a bare key id or alias is looked up in the resource's own region
        return Encryption.CUSTOMER, KeyUse(value, _wrap(own, f"key {value} in the resource's region"), via)
    m = _GCP_LOCATION.search(value + "/")
    if r.type.startswith("google_") and m:
        return Encryption.CUSTOMER, KeyUse(value, Location("gcp", m.group(1), f"key name {value}"), via)
    vault = re.match(r"https://([^.]+)\.(vault|managedhsm)\.", value)
    if vault:
        target = scan.find(
            vault.group(1),
            {"azurerm_key_vault": "name", "azurerm_key_vault_managed_hardware_security_module": "name"},
        )
        loc = (
            _wrap(scan.location_of(target.address), f"key vault {target.address}")
            if target
            else Unknown(f"key vault {vault.group(1)} of {value} is not in the scanned configuration")
        )
        return Encryption.CUSTOMER, KeyUse(value, loc, via)
    target = scan.find(value, {"azurerm_disk_encryption_set": "name", "azurerm_key_vault": "name"})
    if target is not None:
        return Encryption.CUSTOMER, KeyUse(value, _key_location(target, scan), via)
    return Encryption.CUSTOMER, KeyUse(
        value, Unknown(f"key {value} is not in the scanned configuration"), via
    )


def _apply_keys(
    r: Resource, f: DataStoreFacts, scan: Scan, paths: Iterable[str], base: Encryption, base_source: str
) -> None:
    """Set ``f.encryption`` from key arguments on top of a base level (a key raises it)."""
    level: Encryption | Unknown = base
    source = base_source
    for path in paths:
        for value in _values(r.attributes, path):
            got, use = _interpret_key(r, value, path, scan, f.location)
            if use is not None:
                f.keys.append(use)
            if isinstance(got, Unknown):
                level, source = got, f"{path} is unknown"
            elif got is not None and not isinstance(level, Unknown) and got.rank >= level.rank:
                shown = value if isinstance(value, str) else (_partial_text(value) or str(value))
                level, source = got, f"{path} = {shown}"
    f.encryption, f.encryption_source = level, source


def _generic_encryption(r: Resource, f: DataStoreFacts, scan: Scan, spec: Mapping[str, Any]) -> None:
    keys = spec.get("keys") or ()
    if "flag" in spec:
        flag = spec["flag"]
        raw = get_path(r.attributes, flag)
        on = as_bool(raw)
        if isinstance(on, Unknown):
            f.encryption, f.encryption_source = Unknown(f"{flag}: {on.reason}"), f"{flag} is unknown"
            return
        if on is None:
            on = bool(spec.get("flag_default", False))
            source = f"{flag} not set (defaults to {str(on).lower()})"
        else:
            source = f"{flag} = {str(on).lower()}"
        if not on:
            f.encryption, f.encryption_source = Encryption.NONE, source
            return
        _apply_keys(r, f, scan, keys, Encryption.PROVIDER, source)
        return
    default = LEVELS[spec.get("default", "provider-managed")]
    _apply_keys(r, f, scan, keys, default, f"default for {r.type}")


# --------------------------------------------------------------------------- encryption handlers

Handler = Callable[[Resource, DataStoreFacts, "Scan", Mapping[str, Any]], None]


def _sse_rule(r: Resource, f: DataStoreFacts, scan: Scan, sse: Any, prefix: str) -> None:
    rule = first_block(sse, "rule")
    default = first_block(rule, "apply_server_side_encryption_by_default") if rule else None
    algorithm = default.get("sse_algorithm") if default else None
    if algorithm is None:
        f.encryption, f.encryption_source = Encryption.PROVIDER, "SSE-S3 is the default since 2023-01-05"
        return
    if not isinstance(algorithm, str):
        f.encryption, f.encryption_source = _unknown_from(algorithm, f"{prefix}sse_algorithm"), "unknown"
        return
    if algorithm == "AES256":
        f.encryption, f.encryption_source = Encryption.PROVIDER, f"{prefix}sse_algorithm = AES256 (SSE-S3)"
        return
    _apply_keys(
        Resource(r.type, r.address, r.file, r.line, default or {}, provider=r.provider),
        f,
        scan,
        ["kms_master_key_id"],
        Encryption.PROVIDER,
        f"{prefix}sse_algorithm = {algorithm} with the AWS-managed aws/s3 key",
    )


def _enc_s3_bucket(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    legacy = first_block(r.attributes, "server_side_encryption_configuration")
    if legacy:
        _sse_rule(r, f, scan, legacy, "server_side_encryption_configuration ")
    else:
        f.encryption, f.encryption_source = Encryption.PROVIDER, "SSE-S3 is the default since 2023-01-05"


def _att_s3_sse(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    f.keys[:] = [k for k in f.keys if not k.via.startswith("server_side_encryption_configuration")]
    _sse_rule(att, f, scan, att.attributes, f"{att.address}: ")


def _ebs_defaults(r: Resource, region: str | None, scan: Scan) -> tuple[bool, Any]:
    """Whether ``aws_ebs_encryption_by_default`` is on in ``region``, and its default key."""
    enabled, key = False, None
    for res in scan.by_type.get("aws_ebs_encryption_by_default", ()):
        loc = _aws_region(res)
        if (
            isinstance(loc, Location)
            and loc.code == region
            and as_bool(res.attributes.get("enabled")) is not False
        ):
            enabled = True
    for res in scan.by_type.get("aws_ebs_default_kms_key", ()):
        loc = _aws_region(res)
        if isinstance(loc, Location) and loc.code == region:
            key = res.attributes.get("key_arn")
    return enabled, key


def _enc_ebs(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """Volumes and instance disks: ``encrypted``, else the region's account default (if in the scan)."""
    region = f.location.code if isinstance(f.location, Location) else None
    by_default, default_key = _ebs_defaults(r, region, scan)
    if r.type == "aws_instance":
        devices = [("root_block_device.", b) for b in blocks(r.attributes, "root_block_device")] or [
            ("root_block_device.", {})
        ]
        devices += [
            (f"ebs_block_device[{i}].", b) for i, b in enumerate(blocks(r.attributes, "ebs_block_device"))
        ]
    else:
        devices = [("", r.attributes)]
    results: list[tuple[Encryption | Unknown, str]] = []
    for prefix, dev in devices:
        on = as_bool(dev.get("encrypted"))
        if isinstance(on, Unknown):
            results.append((Unknown(f"{prefix}encrypted: {on.reason}"), f"{prefix}encrypted is unknown"))
            continue
        if not on and not by_default:
            state = "= false" if on is False else "not set"
            results.append(
                (
                    Encryption.NONE,
                    f"{prefix}encrypted {state} and no enabled aws_ebs_encryption_by_default "
                    f"for {region or 'its region'} in the scanned configuration",
                )
            )
            continue
        own_key = dev.get("kms_key_id")
        key, key_via = (
            (own_key, f"{prefix}kms_key_id")
            if own_key is not None
            else (default_key, "aws_ebs_default_kms_key.key_arn")
        )
        base = f"{prefix}encrypted = true" if on else f"aws_ebs_encryption_by_default is enabled in {region}"
        level: Encryption | Unknown = Encryption.PROVIDER
        source = base
        if key is not None:
            got, use = _interpret_key(r, key, key_via, scan, f.location)
            if use is not None:
                f.keys.append(use)
            if got is not None:
                level, source = got, f"{key_via} = {key}"
        results.append((level, source))
    unknown = [x for x in results if isinstance(x[0], Unknown)]
    f.encryption, f.encryption_source = unknown[0] if unknown else min(results, key=lambda x: x[0].rank)  # type: ignore[union-attr]  # no Unknown here


def _enc_rds_instance(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    source_db = r.attributes.get("replicate_source_db")
    if source_db is None or r.attributes.get("kms_key_id"):
        _generic_encryption(
            r, f, scan, {"flag": "storage_encrypted", "flag_default": False, "keys": ["kms_key_id"]}
        )
        if source_db is not None and r.attributes.get("kms_key_id"):
            _apply_keys(r, f, scan, ["kms_key_id"], Encryption.PROVIDER, "read replica with its own key")
        return
    # a read replica's storage_encrypted is ignored: it follows its source
    target = scan.find(source_db, {"aws_db_instance": "identifier"})
    if target is not None and target.address in scan.facts:
        src = scan.facts[target.address]
        _ensure_encryption(target, src, scan)
        f.encryption = src.encryption
        f.encryption_source = f"read replica of {target.address}: {src.encryption_source}"
        f.keys.extend(src.keys)
    else:
        f.encryption = Unknown(
            f"read replica of {source_db}: its encryption follows the source, "
            "which is not in the scanned configuration"
        )
        f.encryption_source = "follows the replication source"


def _enc_rds_cluster(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    mode = r.attributes.get("engine_mode")
    keys = ["kms_key_id", "kms_key_arn"]
    _generic_encryption(
        r, f, scan, {"flag": "storage_encrypted", "flag_default": mode == "serverless", "keys": keys}
    )


def _enc_dynamodb(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    sse = first_block(r.attributes, "server_side_encryption")
    on = as_bool(sse.get("enabled")) if sse else None
    if on is True:
        _apply_keys(
            r,
            f,
            scan,
            ["server_side_encryption.kms_key_arn"],
            Encryption.PROVIDER,
            "server_side_encryption.enabled = true with the AWS-managed aws/dynamodb key",
        )
    else:
        f.encryption, f.encryption_source = (
            Encryption.PROVIDER,
            "DynamoDB always encrypts with an AWS-owned key",
        )


def _global_primary(r: Resource, scan: Scan) -> Resource | None:
    """The primary replication group of the Global Datastore ``r`` is a secondary member of."""
    gid = r.attributes.get("global_replication_group_id")
    if gid is None:
        return None
    glob = scan.by_address.get(gid.address) if isinstance(gid, Ref) else None
    if glob is None:
        glob = scan.find(gid, {"aws_elasticache_global_replication_group": "global_replication_group_id"})
    if glob is None:
        return None
    primary = scan.find(
        glob.attributes.get("primary_replication_group_id"),
        {"aws_elasticache_replication_group": "replication_group_id"},
    )
    return primary if primary is not None and primary is not r else None


def _enc_elasticache(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if r.attributes.get("global_replication_group_id") is not None and (
        r.attributes.get("at_rest_encryption_enabled") is None
    ):
        # a Global Datastore secondary inherits the at-rest encryption of the global group's primary
        primary = _global_primary(r, scan)
        if primary is not None and primary.address in scan.facts:
            src = scan.facts[primary.address]
            _ensure_encryption(primary, src, scan)
            f.encryption = src.encryption
            f.encryption_source = f"secondary of a Global Datastore; primary {primary.address}: {src.encryption_source}"
        else:
            f.encryption = Unknown(
                "a Global Datastore secondary inherits at-rest encryption from the global group's primary, "
                "which is not in the scanned configuration"
            )
            f.encryption_source = "follows the Global Datastore primary"
        if r.attributes.get("kms_key_id") is not None:
            _apply_keys(r, f, scan, ["kms_key_id"], Encryption.PROVIDER, "secondary with its own key")
        return
    engine = r.attributes.get("engine") or "redis"
    default = isinstance(engine, str) and engine.lower() == "valkey"
    _generic_encryption(
        r, f, scan, {"flag": "at_rest_encryption_enabled", "flag_default": default, "keys": ["kms_key_id"]}
    )
    if r.attributes.get("at_rest_encryption_enabled") is None:
        f.encryption_source += f" for engine {engine}"


def _enc_elasticache_cluster(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if r.attributes.get("replication_group_id") is not None:
        f.encryption, f.encryption_source = None, "follows its replication group"
        return
    f.encryption = Encryption.NONE
    f.encryption_source = (
        "a standalone aws_elasticache_cluster has no encryption at rest; use "
        "aws_elasticache_replication_group with at_rest_encryption_enabled"
    )


def _enc_sqs(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if r.attributes.get("kms_master_key_id") is not None:
        _apply_keys(r, f, scan, ["kms_master_key_id"], Encryption.PROVIDER, "")
        return
    on = as_bool(r.attributes.get("sqs_managed_sse_enabled"))
    if isinstance(on, Unknown):
        f.encryption, f.encryption_source = Unknown(f"sqs_managed_sse_enabled: {on.reason}"), "unknown"
    elif on is False:
        f.encryption, f.encryption_source = Encryption.NONE, "sqs_managed_sse_enabled = false"
    else:
        f.encryption, f.encryption_source = Encryption.PROVIDER, "SSE-SQS (sqs_managed_sse_enabled)"


def _enc_kinesis(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    kind = r.attributes.get("encryption_type")
    if isinstance(kind, str) and kind.upper() == "KMS":
        _apply_keys(r, f, scan, ["kms_key_id"], Encryption.PROVIDER, "encryption_type = KMS")
    elif kind is None or (isinstance(kind, str) and kind.upper() == "NONE"):
        f.encryption = Encryption.NONE
        f.encryption_source = (
            "encryption_type = NONE" if kind else "encryption_type not set (defaults to NONE)"
        )
    else:
        f.encryption, f.encryption_source = _unknown_from(kind, "encryption_type"), "unknown"


def _enc_gcs_object(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if first_block(r.attributes, "customer_encryption"):
        f.encryption, f.encryption_source = Encryption.CUSTOMER, "customer_encryption (customer-supplied key)"
        return
    if r.attributes.get("kms_key_name") is not None:
        _apply_keys(r, f, scan, ["kms_key_name"], Encryption.PROVIDER, "")
        return
    bucket = scan.find(r.attributes.get("bucket"), {"google_storage_bucket": "name"})
    if bucket is not None and bucket.address in scan.facts:
        src = scan.facts[bucket.address]
        _ensure_encryption(bucket, src, scan)
        f.encryption, f.encryption_source = (
            src.encryption,
            f"bucket {bucket.address}: {src.encryption_source}",
        )
        f.keys.extend(src.keys)
    else:
        f.encryption, f.encryption_source = Encryption.PROVIDER, "Google-managed encryption by default"


def _enc_gce_disk(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    block = first_block(r.attributes, p.get("block", "disk_encryption_key"))
    name = p.get("block", "disk_encryption_key")
    if block and (block.get("raw_key") is not None or block.get("rsa_encrypted_key") is not None):
        f.encryption, f.encryption_source = Encryption.CUSTOMER, f"{name} with a customer-supplied key"
        return
    _apply_keys(
        r,
        f,
        scan,
        [f"{name}.kms_key_self_link", f"{name}.kms_key_name"],
        Encryption.PROVIDER,
        "Google-managed encryption by default",
    )


def _enc_gce_instance(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if get_path(r.attributes, "boot_disk.disk_encryption_key_raw") is not None:
        f.encryption, f.encryption_source = Encryption.CUSTOMER, "boot_disk with a customer-supplied key"
        return
    _apply_keys(
        r,
        f,
        scan,
        ["boot_disk.kms_key_self_link"],
        Encryption.PROVIDER,
        "Google-managed encryption by default",
    )


def _enc_netapp(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    source = r.attributes.get("encryption_key_source")
    if source == "Microsoft.KeyVault":
        f.encryption, f.encryption_source = Encryption.CUSTOMER, "encryption_key_source = Microsoft.KeyVault"
    elif source is None or source == "Microsoft.NetApp":
        f.encryption, f.encryption_source = Encryption.PROVIDER, "Microsoft.NetApp platform-managed key"
    else:
        f.encryption, f.encryption_source = _unknown_from(source, "encryption_key_source"), "unknown"


def _att_azure_cmk(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    paths = ["key_vault_key_id", "managed_hsm_key_id", "key_vault_key_versionless_id"]
    if all(att.attributes.get(k) is None for k in paths):
        # the other documented form: key_vault_id (or key_vault_uri) + key_name; the vault locates the key
        paths = ["key_vault_id", "key_vault_uri"]
    _apply_keys(att, f, scan, paths, Encryption.PROVIDER, "platform-managed")
    f.encryption_source = f"{att.address}: {f.encryption_source}"


def _att_azure_tde(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    _apply_keys(
        att,
        f,
        scan,
        ["key_vault_key_id", "managed_hsm_key_id"],
        Encryption.PROVIDER,
        f"{att.address} without a key (service-managed TDE)",
    )


ENCRYPTION_HANDLERS: dict[str, Handler] = {
    "s3_bucket": _enc_s3_bucket,
    "ebs": _enc_ebs,
    "rds_instance": _enc_rds_instance,
    "rds_cluster": _enc_rds_cluster,
    "dynamodb": _enc_dynamodb,
    "elasticache": _enc_elasticache,
    "elasticache_cluster": _enc_elasticache_cluster,
    "sqs": _enc_sqs,
    "kinesis": _enc_kinesis,
    "gcs_object": _enc_gcs_object,
    "gce_disk": _enc_gce_disk,
    "gce_instance": _enc_gce_instance,
    "netapp": _enc_netapp,
}


# --------------------------------------------------------------------------- copy handlers


def _add_copy(owner: DataStoreFacts, copy: Copy) -> None:
    owner.copies.append(copy)


def _s3_destination(value: Any, scan: Scan) -> Location | Unknown:
    if isinstance(value, Ref):
        res = scan.by_address.get(value.address)
        if res is None or res.type != "aws_s3_bucket":
            return Unknown(f"destination bucket {value} is not in the scanned configuration")
        return _or_unknown(_wrap(scan.location_of(res.address), f"destination bucket {res.address}"), Unknown(
            f"destination bucket {res.address} has no location"
        ))
    if isinstance(value, str) or _partial_text(value):
        res = scan.find(value, {"aws_s3_bucket": "bucket"})
        if res is None:
            if not isinstance(value, str):
                return _unknown_from(value, "destination.bucket")
            return Unknown(f"destination bucket {value} is not in the scanned configuration")
        return _or_unknown(_wrap(scan.location_of(res.address), f"destination bucket {res.address}"), Unknown(
            f"destination bucket {res.address} has no location"
        ))
    return _unknown_from(value, "destination.bucket")


def _s3_rules(
    decl: Resource, owner: Resource, f: DataStoreFacts, scan: Scan, rules: list[dict[str, Any]], prefix: str
) -> None:
    for i, rule in enumerate(rules):
        if isinstance(rule.get("status"), str) and rule["status"].lower() == "disabled":
            continue
        dest = first_block(rule, "destination")
        if dest is None:
            continue
        via = f"{prefix}rule[{i}].destination.bucket"
        note = ""
        account = dest.get("account")
        if is_known(account):
            note = f"destination account {account} differs from the source account"
            f.notes.append(f"{via}: {note}")
        _add_copy(
            f,
            Copy(
                "replica", _s3_destination(dest.get("bucket"), scan), via, decl.line, note, file=decl.file
            ),
        )
        for value in _values(dest, "encryption_configuration.replica_kms_key_id"):
            _, use = _interpret_key(
                decl,
                value,
                f"{prefix}rule[{i}].destination.encryption_configuration.replica_kms_key_id",
                scan,
                None,
            )
            if use is not None:
                f.keys.append(use)


def _copy_s3_inline(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    legacy = first_block(r.attributes, "replication_configuration")
    if legacy:
        _s3_rules(r, r, f, scan, blocks(legacy, "rules"), "replication_configuration.")


def _att_s3_replication(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    _s3_rules(att, f.resource, f, scan, blocks(att.attributes, "rule"), f"{att.address}: ")


def _copy_block_regions(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    spec = scan.stores.spec(r.type)
    cloud = spec.cloud if spec else "aws"
    for i, block in enumerate(_blocks_path(r.attributes, p["blocks"])):
        value = block.get(p["attr"])
        via = f"{p['blocks']}[{i}].{p['attr']}"
        if value is None:
            continue
        if isinstance(value, str):
            loc: Location | Unknown = Location(cloud, value, f"argument {via} ({_at(r)})")
        else:
            loc = _unknown_from(value, f"argument {via} of {r.address}")
        _add_copy(f, Copy(p.get("kind", "replica"), loc, via))
        if p.get("key") and block.get(p["key"]) is not None:
            _, use = _interpret_key(
                r,
                block[p["key"]],
                f"{p['blocks']}[{i}].{p['key']}",
                scan,
                loc if isinstance(loc, Location) else None,
            )
            if use is not None:
                f.keys.append(use)


def _copy_reverse(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """``r`` is itself a copy of another resource: give that source a copy pointing here."""
    value = r.attributes.get(p["via"])
    if value is None:
        return
    source = scan.find(value, p["targets"])
    kind = p.get("kind", "replica")
    if source is not None and source.address in scan.facts:
        owner = scan.facts[source.address]
        loc = _or_unknown(_wrap(scan.location_of(r.address), f"{kind} {r.address}"), Unknown(
            f"{r.address} has no location"
        ))
        _add_copy(owner, Copy(kind, loc, f"{r.address}.{p['via']}", r.line, file=r.file))
        return
    region = _arn_region(value) if isinstance(value, str) else None
    if region:
        # the source lives outside the scan: this resource's data also lives in the source's region
        _add_copy(
            f,
            Copy(
                f"{kind}-source",
                Location("aws", region, f"argument {p['via']} {value} ({_at(r)})"),
                p["via"],
                note="the replication source is not in the scanned configuration",
            ),
        )
    else:
        f.notes.append(f"{p['via']} {value} is not in the scanned configuration")


def _copy_rds_read_replica(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if r.attributes.get("replicate_source_db") is None:
        return
    _copy_reverse(
        r,
        f,
        scan,
        {"via": "replicate_source_db", "kind": "replica", "targets": {"aws_db_instance": "identifier"}},
    )


def _global_id(value: Any) -> Any:
    return value.address if isinstance(value, Ref) else value


def _copy_global_members(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    mine = r.attributes.get("global_cluster_identifier")
    if mine is None or isinstance(mine, Unknown):
        return
    global_type = p["global"]
    gid = _global_id(mine)
    glob = scan.find(mine, {global_type: "global_cluster_identifier"})
    members = [
        c
        for c in scan.by_type.get(r.type, ())
        if c is not r and _global_id(c.attributes.get("global_cluster_identifier")) == gid
    ]
    if glob is not None:
        src = scan.find(glob.attributes.get("source_db_cluster_identifier"), {r.type: "arn"})
        if src is not None and src is not r and src not in members:
            members.append(src)
    for member in members:
        loc = _wrap(scan.location_of(member.address), f"global cluster member {member.address}")
        if loc is not None:
            _add_copy(f, Copy("replica", loc, f"global_cluster_identifier (member {member.address})"))


def _copy_elasticache_global(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    groups = scan.by_type.get("aws_elasticache_replication_group", ())
    globals_ = scan.by_type.get("aws_elasticache_global_replication_group", ())
    my_global = None
    for g in globals_:
        primary = g.attributes.get("primary_replication_group_id")
        if isinstance(primary, Ref) and primary.address == r.address:
            my_global = g
    mine = r.attributes.get("global_replication_group_id")
    if isinstance(mine, Ref) and mine.address in scan.by_address:
        my_global = scan.by_address[mine.address]
    if my_global is None:
        return
    members = []
    for g in groups:
        gid = g.attributes.get("global_replication_group_id")
        if g is not r and isinstance(gid, Ref) and gid.address == my_global.address:
            members.append(g)
    primary = my_global.attributes.get("primary_replication_group_id")
    if isinstance(primary, Ref) and primary.address != r.address and primary.address in scan.by_address:
        members.append(scan.by_address[primary.address])
    for member in members:
        loc = _wrap(scan.location_of(member.address), f"global datastore member {member.address}")
        if loc is not None:
            _add_copy(f, Copy("replica", loc, f"{my_global.address} (member {member.address})"))


def _copy_cloud_sql_backups(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    backup = get_path(r.attributes, "settings.backup_configuration")
    if not isinstance(backup, dict):
        return
    enabled = as_bool(backup.get("enabled"))
    if enabled is not True:
        return
    location = backup.get("location")
    via = "settings.backup_configuration.location"
    if isinstance(location, str) and location:
        _add_copy(f, Copy("backup", Location("gcp", location, f"argument {via} ({_at(r)})"), via))
    elif location is None and (eu_region := _eu_region(scan.location_of(r.address), scan)):
        # Cloud SQL stores backups without a location in the multi-region nearest the instance: for an instance
        # in an EU region that is the EU multi-region (issue 16 step 4; terraform-google-modules/sql-db examples)
        source = f"default backup multi-region of {eu_region} ({_at(r)})"
        _add_copy(f, Copy("backup", Location("gcp", "EU", source), via))
    elif location is None:
        _add_copy(
            f,
            Copy(
                "backup",
                Unknown(
                    "backups are enabled without settings.backup_configuration.location: Cloud SQL "
                    "then stores them in the multi-region nearest the instance; set location to an "
                    "allowed region"
                ),
                via,
            ),
        )
    else:
        _add_copy(f, Copy("backup", _unknown_from(location, via), via))


def _eu_region(loc: Location | Unknown | None, scan: Scan) -> str:
    """The code of ``loc`` when it is one GCP region (or zone) inside the EU (in:eu-locations), else ''."""
    if not isinstance(loc, Location) or loc.cloud != "gcp":
        return ""
    resolved = scan.regions.resolve("gcp", loc.code)
    if resolved is None or resolved.kind not in ("region", "zone"):
        return ""
    return loc.code if all("in:eu-locations" in m.groups for m in resolved.members) else ""


def _copy_cloud_sql_replica(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    if r.attributes.get("master_instance_name") is None:
        return
    _copy_reverse(
        r,
        f,
        scan,
        {
            "via": "master_instance_name",
            "kind": "replica",
            "targets": {"google_sql_database_instance": "name"},
        },
    )


def _copy_pubsub(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    via = "message_storage_policy.allowed_persistence_regions"
    regions = get_path(r.attributes, via)
    if regions is None:
        _add_copy(
            f,
            Copy(
                "message-storage",
                Unknown(
                    "the topic has no message_storage_policy, so messages may persist in any Google "
                    "Cloud region; set message_storage_policy.allowed_persistence_regions"
                ),
                via,
            ),
        )
        return
    if not isinstance(regions, list):
        _add_copy(f, Copy("message-storage", _unknown_from(regions, via), via))
        return
    for i, code in enumerate(regions):
        loc = (
            Location("gcp", code, f"argument {via} ({_at(r)})")
            if isinstance(code, str)
            else _unknown_from(code, f"{via}[{i}]")
        )
        _add_copy(f, Copy("message-storage", loc, f"{via}[{i}]"))


def _copy_secret_manager(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    replication = first_block(r.attributes, "replication")
    if replication is None:
        _add_copy(f, Copy("replica", Unknown("replication is not set"), "replication"))
        return
    if "auto" in replication and replication.get("auto") is not None:
        from checks.locate import ANY_REGION  # one sentinel shared with the judging side

        _add_copy(
            f,
            Copy(
                "replica",
                Location("gcp", ANY_REGION, f"replication.auto ({_at(r)})"),
                "replication.auto",
                note="automatic replication places payloads in any region",
            ),
        )
        return
    for i, rep in enumerate(_blocks_path(replication, "user_managed.replicas")):
        code = rep.get("location")
        via = f"replication.user_managed.replicas[{i}].location"
        loc = (
            Location("gcp", code, f"argument {via} ({_at(r)})")
            if isinstance(code, str)
            else _unknown_from(code, via)
        )
        _add_copy(f, Copy("replica", loc, via))


_SINK_PATTERNS = (
    (re.compile(r"^storage\.googleapis\.com/(.+)$"), {"google_storage_bucket": "name"}),
    (
        re.compile(r"^bigquery\.googleapis\.com/.*datasets/([^/]+)$"),
        {"google_bigquery_dataset": "dataset_id"},
    ),
    (
        re.compile(r"^logging\.googleapis\.com/.*buckets/([^/]+)$"),
        {"google_logging_project_bucket_config": "bucket_id"},
    ),
)


def _copy_logging_sink(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    dest = r.attributes.get("destination")
    if not isinstance(dest, str):
        _add_copy(f, Copy("sink", _unknown_from(dest, "destination"), "destination"))
        return
    if dest.startswith("pubsub.googleapis.com/"):
        f.notes.append(
            f"destination {dest}: messages persist where the topic's message_storage_policy allows"
        )
        return
    m = re.search(r"/locations/([^/]+)/buckets/", dest)
    for pattern, targets in _SINK_PATTERNS:
        hit = pattern.match(dest)
        if hit:
            target = scan.find(hit.group(1), targets)
            if target is not None:
                loc = _wrap(scan.location_of(target.address), f"sink destination {target.address}")
                loc = _or_unknown(loc, Unknown(f"{target.address} has no location"))
                _add_copy(f, Copy("sink", loc, "destination"))
                return
    if m:
        _add_copy(
            f, Copy("sink", Location("gcp", m.group(1), f"argument destination ({_at(r)})"), "destination")
        )
        return
    _add_copy(
        f,
        Copy("sink", Unknown(f"sink destination {dest} is not in the scanned configuration"), "destination"),
    )


def _copy_snapshot_schedule(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    policy = first_block(r.attributes, "snapshot_schedule_policy")
    if policy is None:
        return
    via = "snapshot_schedule_policy.snapshot_properties.storage_locations"
    values = _values(policy, "snapshot_properties.storage_locations")
    if not values:
        _add_copy(
            f,
            Copy(
                "snapshot",
                Unknown(
                    f"{via} is not set: scheduled snapshots go to the multi-region nearest the "
                    "disk; set it to an allowed region"
                ),
                via,
            ),
        )
    for value in values:
        loc = (
            Location("gcp", value, f"argument {via} ({_at(r)})")
            if isinstance(value, str)
            else _unknown_from(value, via)
        )
        _add_copy(f, Copy("snapshot", loc, via))


def _copy_bigtable_clusters(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    for i, cluster in enumerate(blocks(r.attributes, "cluster")[1:], start=1):
        zone = cluster.get("zone")
        via = f"cluster[{i}].zone"
        if zone is None:
            continue
        loc = (
            Location("gcp", zone, f"argument {via} ({_at(r)})")
            if isinstance(zone, str)
            else _unknown_from(zone, via)
        )
        _add_copy(f, Copy("replica", loc, via))


def _att_disk_async(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    secondary = get_path(att.attributes, "secondary_disk.disk")
    target = scan.find(secondary, {"google_compute_disk": "name", "google_compute_region_disk": "name"})
    if target is not None:
        loc = _wrap(scan.location_of(target.address), f"secondary disk {target.address}")
    else:
        loc = (
            _unknown_from(secondary, "secondary_disk.disk")
            if not isinstance(secondary, str)
            else Unknown(f"secondary disk {secondary} is not in the scanned configuration")
        )
    _add_copy(
        f,
        Copy(
            "replica",
            _or_unknown(loc, Unknown("secondary disk has no location")),
            f"{att.address}.secondary_disk",
            att.line, file=att.file,
        ),
    )


def _pair_copy(r: Resource, f: DataStoreFacts, scan: Scan, kind: str, why: str) -> None:
    """The geo-redundant copy in the Azure paired region of ``f.location``."""
    if not isinstance(f.location, Location):
        f.notes.append(f"{why}: copies to the paired region of a location that is not resolved")
        return
    code = f.location.code
    try:
        pair = scan.regions.azure_pair(code) if scan.regions is not None else None
    except KeyError:
        # an unknown code is reported unresolved by RES001; its pair cannot be known either
        f.notes.append(f"{why}: {code} is not a known Azure region, so its pair is unknown")
        return
    if pair is None:
        f.notes.append(f"{why}: {code} has no paired region, so no geo-redundant copy is made")
        return
    _add_copy(f, Copy(kind, Location("azure", pair.code, f"paired region of {code} ({why}, {_at(r)})"), why))


def _copy_azure_geo(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    attr = p["attr"]
    value = r.attributes.get(attr)
    default = p.get("default")
    if value is None:
        if default is None:
            return
        value, why = default, f"{attr} not set (defaults to {default})"
    elif isinstance(value, str):
        why = f"{attr} = {value}"
    else:
        _add_copy(f, Copy(p.get("kind", "geo-pair"), _unknown_from(value, attr), attr))
        return
    if value.upper() in {g.upper() for g in p["geo"]}:
        _pair_copy(r, f, scan, p.get("kind", "geo-pair"), why)


def _copy_azure_flexible_geo(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    on = as_bool(r.attributes.get("geo_redundant_backup_enabled"))
    if isinstance(on, Unknown):
        _add_copy(
            f,
            Copy(
                "backup",
                Unknown(f"geo_redundant_backup_enabled: {on.reason}"),
                "geo_redundant_backup_enabled",
            ),
        )
    elif on:
        _pair_copy(r, f, scan, "backup", "geo_redundant_backup_enabled = true")


def _copy_azure_reverse_replica(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    via = p["via"]
    if r.attributes.get(via) is None:
        return
    targets = {
        t: "name" for t, s in scan.stores.types.items() if s.cloud == "azure" and s.role == "data-store"
    }
    _copy_reverse(r, f, scan, {"via": via, "kind": "replica", "targets": targets})


def _copy_mssql_secondary(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    mode = r.attributes.get("create_mode")
    if not (isinstance(mode, str) and mode in ("Secondary", "OnlineSecondary")):
        return
    _copy_reverse(
        r,
        f,
        scan,
        {
            "via": "creation_source_database_id",
            "kind": "replica",
            "targets": {"azurerm_mssql_database": "name"},
        },
    )


def _copy_cosmos_geo(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    primary = f.location.code if isinstance(f.location, Location) else None
    for i, geo in enumerate(blocks(r.attributes, "geo_location")):
        value = geo.get("location")
        via = f"geo_location[{i}].location"
        if isinstance(value, str):
            code = _normalise_azure(value)
            if code == primary:
                continue
            loc: Location | Unknown = Location("azure", code, f"argument {via} ({_at(r)})")
        else:
            loc = _unknown_from(value, via)
        _add_copy(f, Copy("replica", loc, via))


def _copy_cosmos_backup(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    backup = first_block(r.attributes, "backup") or {}
    kind = backup.get("type")
    if isinstance(kind, str) and kind.lower() == "continuous":
        return
    redundancy = backup.get("storage_redundancy")
    if redundancy is None:
        _pair_copy(r, f, scan, "backup", "backup.storage_redundancy not set (defaults to Geo)")
    elif isinstance(redundancy, str):
        if redundancy.lower() == "geo":
            _pair_copy(r, f, scan, "backup", "backup.storage_redundancy = Geo")
    else:
        _add_copy(
            f,
            Copy(
                "backup", _unknown_from(redundancy, "backup.storage_redundancy"), "backup.storage_redundancy"
            ),
        )


def _copy_azure_block_location(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    for i, block in enumerate(blocks(r.attributes, p["blocks"])):
        value = block.get(p["attr"])
        via = f"{p['blocks']}[{i}].{p['attr']}"
        if value is None:
            continue
        loc = (
            Location("azure", _normalise_azure(value), f"argument {via} ({_at(r)})")
            if isinstance(value, str)
            else _unknown_from(value, via)
        )
        _add_copy(f, Copy(p.get("kind", "replica"), loc, via))


def _partner_location(value: Any, cloud: str, scan: Scan, what: str) -> Location | Unknown:
    target = scan.find_any(value, cloud)
    if target is not None:
        return _or_unknown(_wrap(scan.location_of(target.address), f"{what} {target.address}"), Unknown(
            f"{target.address} has no location"
        ))
    if isinstance(value, str):
        return Unknown(f"{what} {value} is not in the scanned configuration")
    return _unknown_from(value, what)


def _att_azure_partner(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    path = p["partner"]
    for value in _values(att.attributes, path) or [None]:
        if value is None:
            continue
        loc = _partner_location(value, "azure", scan, path)
        _add_copy(
            f, Copy(p.get("kind", "replica"), loc, f"{att.address}.{path}", att.line, file=att.file)
        )


def _att_azure_object_replication(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    value = att.attributes.get("destination_storage_account_id")
    target = scan.find(value, {"azurerm_storage_account": "name"})
    if target is not None:
        loc = _wrap(scan.location_of(target.address), f"destination account {target.address}")
    else:
        loc = (
            Unknown(f"destination storage account {value} is not in the scanned configuration")
            if isinstance(value, (str, Ref))
            else _unknown_from(value, "destination_storage_account_id")
        )
    _add_copy(
        f,
        Copy(
            "replica",
            _or_unknown(loc, Unknown("destination has no location")),
            f"{att.address}.destination_storage_account_id",
            att.line, file=att.file,
        ),
    )


def _att_redis_linked(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    value = att.attributes.get("linked_redis_cache_location")
    via = f"{att.address}.linked_redis_cache_location"
    if isinstance(value, str):
        loc: Location | Unknown = Location(
            "azure", _normalise_azure(value), f"argument linked_redis_cache_location ({_at(att)})"
        )
    else:
        loc = _partner_location(att.attributes.get("linked_redis_cache_id"), "azure", scan, "linked cache")
    _add_copy(f, Copy("replica", loc, via, att.line, file=att.file))


def _att_backup_copy(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    for i, rule in enumerate(blocks(att.attributes, "rule")):
        for j, action in enumerate(blocks(rule, "copy_action")):
            value = action.get("destination_vault_arn")
            via = f"{att.address}: rule[{i}].copy_action[{j}].destination_vault_arn"
            if isinstance(value, Ref):
                loc = _partner_location(value, "aws", scan, "destination vault")
            elif isinstance(value, str):
                region = _arn_region(value)
                loc = (
                    Location("aws", region, f"destination vault ARN {value} ({_at(att)})")
                    if region
                    else Unknown(f"destination_vault_arn {value} has no region")
                )
            else:
                loc = _unknown_from(value, "destination_vault_arn")
            _add_copy(f, Copy("backup", loc, via, att.line, file=att.file))


def _att_efs_replication(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    dest = first_block(att.attributes, "destination") or {}
    via = f"{att.address}.destination"
    region = dest.get("region")
    zone = dest.get("availability_zone_name")
    if isinstance(region, str):
        loc: Location | Unknown = Location("aws", region, f"argument destination.region ({_at(att)})")
    elif isinstance(zone, str):
        loc = Location(
            "aws",
            zone[:-1] if zone[-1:].isalpha() else zone,
            f"argument destination.availability_zone_name {zone} ({_at(att)})",
        )
    elif region is None and zone is None:
        loc = _or_unknown(_wrap(f.location, "same region as the source"), Unknown("source has no location"))
    else:
        loc = _unknown_from(region if region is not None else zone, "destination.region")
    _add_copy(f, Copy("replica", loc, via, att.line, file=att.file))
    if dest.get("kms_key_id") is not None:
        _, use = _interpret_key(
            att, dest["kms_key_id"], f"{via}.kms_key_id", scan, loc if isinstance(loc, Location) else None
        )
        if use is not None:
            f.keys.append(use)


def _att_redshift_copy(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    value = att.attributes.get("destination_region")
    loc = (
        Location("aws", value, f"argument destination_region ({_at(att)})")
        if isinstance(value, str)
        else _unknown_from(value, "destination_region")
    )
    _add_copy(f, Copy("snapshot", loc, f"{att.address}.destination_region", att.line, file=att.file))


def _copy_ref_location(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    value = r.attributes.get(p["attr"])
    if value is None:
        return
    target = scan.find(value, p["targets"])
    if target is not None:
        loc = _or_unknown(_wrap(scan.location_of(target.address), f"{p['attr']} {target.address}"), Unknown(
            f"{target.address} has no location"
        ))
    elif isinstance(value, (str, Ref)):
        loc = Unknown(f"{p['attr']} {value} is not in the scanned configuration")
    else:
        loc = _unknown_from(value, p["attr"])
    _add_copy(f, Copy(p.get("kind", "sink"), loc, p["attr"]))


def _noop(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """Account-wide settings read by another type's handler (``aws_ebs_encryption_by_default``)."""


COPY_HANDLERS: dict[str, Handler] = {
    "s3_inline_replication": _copy_s3_inline,
    "block_regions": _copy_block_regions,
    "reverse_copy": _copy_reverse,
    "rds_read_replica": _copy_rds_read_replica,
    "global_cluster_members": _copy_global_members,
    "elasticache_global_members": _copy_elasticache_global,
    "cloud_sql_backups": _copy_cloud_sql_backups,
    "cloud_sql_replica": _copy_cloud_sql_replica,
    "pubsub_storage": _copy_pubsub,
    "secret_manager_replication": _copy_secret_manager,
    "logging_sink": _copy_logging_sink,
    "snapshot_schedule_locations": _copy_snapshot_schedule,
    "bigtable_clusters": _copy_bigtable_clusters,
    "azure_geo": _copy_azure_geo,
    "azure_flexible_geo_backup": _copy_azure_flexible_geo,
    "azure_reverse_replica": _copy_azure_reverse_replica,
    "mssql_geo_secondary": _copy_mssql_secondary,
    "cosmos_geo_locations": _copy_cosmos_geo,
    "cosmos_backup": _copy_cosmos_backup,
    "azure_block_location": _copy_azure_block_location,
    "ref_location": _copy_ref_location,
}

ATTACH_HANDLERS: dict[str, Handler] = {
    "s3_sse_configuration": _att_s3_sse,
    "s3_replication_configuration": _att_s3_replication,
    "ebs": _noop,
    "efs_replication": _att_efs_replication,
    "redshift_snapshot_copy": _att_redshift_copy,
    "backup_copy_actions": _att_backup_copy,
    "disk_async_replication": _att_disk_async,
    "azure_cmk": _att_azure_cmk,
    "azure_tde": _att_azure_tde,
    "azure_partner": _att_azure_partner,
    "azure_object_replication": _att_azure_object_replication,
    "redis_linked_server": _att_redis_linked,
}


# --------------------------------------------------------------------------- classify


def _tags(r: Resource, cloud: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cloud == "aws" and r.provider is not None and isinstance(r.provider.default_tags, dict):
        out.update(r.provider.default_tags)
    own = r.attributes.get("labels" if cloud == "gcp" else "tags")
    if isinstance(own, dict):
        out.update(own)  # resource tags win over provider default_tags, as in the AWS provider
    return out


def _setting(path: str, value: str) -> str:
    """``encrypt_at_rest.enabled`` -> ``encrypt_at_rest { enabled = true }``: how it is written in HCL."""
    *blocks, leaf = path.split(".")
    text = f"{leaf} = {value}"
    for block in reversed(blocks):
        text = f"{block} {{ {text} }}"
    return text


def _encryption_fix(enc: Mapping[str, Any]) -> dict[str, str]:
    """The settings that reach each level, from the data (``fix:`` entries, else the flag and key paths)."""
    fix = {str(k): str(v) for k, v in (enc.get("fix") or {}).items()}
    if "flag" in enc:
        fix.setdefault(Encryption.PROVIDER.value, _setting(enc["flag"], "true"))
    keys = enc.get("keys") or ()
    if keys:
        fix.setdefault(Encryption.CUSTOMER.value, _setting(keys[0], "<customer-managed key>"))
    return fix


def _ensure_encryption(r: Resource, f: DataStoreFacts, scan: Scan) -> None:
    """Compute a facts object's encryption once (replicas read their source's first)."""
    if r.address in scan.encrypted:
        return
    scan.encrypted.add(r.address)
    spec = scan.stores.spec(r.type)
    if spec is None:
        return
    enc = spec.encryption
    f.encryption_fix = _encryption_fix(enc)
    if "not-applicable" in enc:
        f.encryption = None
        f.encryption_source = str(enc["not-applicable"])
    elif "handler" in enc:
        ENCRYPTION_HANDLERS[enc["handler"]](r, f, scan, enc)
    else:
        _generic_encryption(r, f, scan, enc)


def classify(
    resources: Sequence[Resource], catalog: Any = None, stores: StoreCatalog | None = None
) -> list[DataStoreFacts]:
    """Facts for every data store and key among ``resources``; other types are ignored.

    ``catalog`` is the region catalog (``scanner.regions.catalog()``): only Azure region pairs
    are read from it here, everything else is judged later by the rules. Attachments (an SSE
    configuration, a replication configuration) are folded into the resource they modify; an
    attachment whose target is not in the scan is reported as itself, so nothing is lost.
    """
    stores = stores or load_catalog()
    scan = Scan(resources, catalog, stores)
    ordered: list[DataStoreFacts] = []
    for r in scan.resources:
        spec = stores.spec(r.type)
        if spec is None or spec.role == "attachment":
            continue
        f = DataStoreFacts(
            resource=r,
            cloud=spec.cloud,
            holds_user_data=spec.role == "data-store",
            role=spec.role,
            location=scan.location_of(r.address),
            tags=_tags(r, spec.cloud),
        )
        scan.facts[r.address] = f
        ordered.append(f)
    for f in ordered:
        _ensure_encryption(f.resource, f, scan)
    for r in scan.resources:
        spec = stores.spec(r.type)
        if spec is None or spec.role != "attachment" or not spec.attach or not spec.attach.get("via"):
            continue
        target = None
        for via in spec.attach["via"]:
            value = get_path(r.attributes, via)
            target = scan.find(value, spec.attach.get("targets") or {})
            if target is not None:
                break
        handler = ATTACH_HANDLERS[spec.attach["handler"]]
        if target is not None and target.address in scan.facts:
            handler(r, scan.facts[target.address], scan, spec.attach)
            continue
        # orphan: keep what it says (a copy, a key) on a facts object of its own
        f = DataStoreFacts(
            resource=r,
            cloud=spec.cloud,
            holds_user_data=True,
            location=scan.location_of(r.address),
            tags=_tags(r, spec.cloud),
        )
        f.notes.append(
            f"the resource it configures ({', '.join(spec.attach['via'])}) is not in the scanned "
            "configuration"
        )
        handler(r, f, scan, spec.attach)
        scan.facts[r.address] = f
        ordered.append(f)
    for f in list(ordered):
        spec = stores.spec(f.resource.type)
        if spec is None or spec.role == "attachment":
            continue
        for copy_spec in spec.copies:
            COPY_HANDLERS[copy_spec["handler"]](f.resource, f, scan, copy_spec)
    return ordered


__all__ = [
    "ATTACH_HANDLERS",
    "COPY_HANDLERS",
    "ENCRYPTION_HANDLERS",
    "LOCATION_HANDLERS",
    "StoreCatalog",
    "TypeSpec",
    "classify",
    "load_catalog",
]
