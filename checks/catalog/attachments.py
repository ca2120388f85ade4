"""Attachments: resources that modify another (an SSE or replication configuration), folded into it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.catalog.copies import _add_copy, _s3_rules
from checks.catalog.encryption import _apply_keys, _interpret_key, _sse_rule
from checks.catalog.index import (
    Handler,
    Scan,
    _arn_region,
    _at,
    _normalise_azure,
    _or_unknown,
    _unknown_from,
    _values,
    _wrap,
)
from checks.values import blocks, first_block, get_path
from scanner.model import (
    Copy,
    DataStoreFacts,
    Encryption,
    Location,
    Ref,
    Resource,
    Unknown,
)


def _att_s3_sse(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    f.keys[:] = [k for k in f.keys if not k.via.startswith("server_side_encryption_configuration")]
    _sse_rule(att, f, scan, att.attributes, f"{att.address}: ")


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


def _att_s3_replication(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    _s3_rules(att, f.resource, f, scan, blocks(att.attributes, "rule"), f"{att.address}: ")


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


def _att_site_recovery(att: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """An Azure-to-Azure Site Recovery replication: the VM's replica lives in the target fabric's region.

    azurerm docs (site_recovery_fabric): a fabric is "a container within an Azure region"; its
    ``location`` (Required) is that region. A fabric holds no data and has no catalog entry, so its own
    argument is read here. The replica disks' key (``managed_disk.target_disk_encryption_set_id``) is
    not graded: a copy carries no encryption of its own in the report.
    """
    value = att.attributes.get("target_recovery_fabric_id")
    fabric = scan.find(value, {"azurerm_site_recovery_fabric": "name"})
    loc: Location | Unknown
    if fabric is not None:
        code = fabric.attributes.get("location")
        if isinstance(code, str) and code:
            loc = Location(
                "azure", _normalise_azure(code), f"argument location of target fabric {fabric.address} ({_at(fabric)})"
            )
        else:
            loc = (
                _unknown_from(code, f"argument location of target fabric {fabric.address}")
                if code is not None
                else Unknown(f"target fabric {fabric.address} sets no location")
            )
    elif isinstance(value, (str, Ref)):
        loc = Unknown(f"target_recovery_fabric_id {value} is not in the scanned configuration")
    else:
        loc = _unknown_from(value, "target_recovery_fabric_id")
    _add_copy(f, Copy("replica", loc, f"{att.address}.target_recovery_fabric_id", att.line, file=att.file))


def _noop(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """Account-wide settings read by another type's handler (``aws_ebs_encryption_by_default``)."""


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
    "site_recovery_replication": _att_site_recovery,
}
