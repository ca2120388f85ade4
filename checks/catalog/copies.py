"""Copies elsewhere (replicas, geo pairs, backups, sinks) a data store makes: the copy handlers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.catalog.encryption import _interpret_key
from checks.catalog.index import (
    Handler,
    Scan,
    _arn_region,
    _at,
    _blocks_path,
    _normalise_azure,
    _or_unknown,
    _partial_text,
    _unknown_from,
    _values,
    _wrap,
)
from checks.values import as_bool, blocks, first_block, get_path, is_known
from scanner.model import (
    ANY_REGION,
    Copy,
    DataStoreFacts,
    Location,
    Ref,
    Resource,
    Unknown,
)


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


def _copy_block_regions(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    spec = scan.stores.spec(r.type)
    cloud = spec.cloud if spec else "aws"
    found = _blocks_path(r.attributes, p["blocks"])
    for i, block in enumerate(found):
        if i == 0 and p.get("skip_first"):
            continue  # the first block is the store's own location (``from: arg`` reads it)
        value = block.get(p["attr"])
        via = f"{p['blocks']}[{i}].{p['attr']}"
        if value is None:
            continue
        # an attribute may hold one region or a list of them (Security Lake replication regions)
        for j, one in enumerate(value if isinstance(value, list) else [value]):
            where = f"{via}[{j}]" if isinstance(value, list) else via
            if isinstance(one, str):
                loc: Location | Unknown = Location(cloud, one, f"argument {where} ({_at(r)})")
            else:
                loc = _unknown_from(one, f"argument {where} of {r.address}")
            _add_copy(f, Copy(p.get("kind", "replica"), loc, where))
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
    """``r`` is itself a copy of another resource: give that source a copy pointing here.

    ``when`` (argument -> values) limits it to resources that are copies by that setting (an MSSQL
    database with ``create_mode = Secondary``); ``any_store`` joins the source among every data-store
    type of the entry's cloud by that attribute, for arguments that take any of them (an Azure
    ``source_server_id``), else ``targets`` names the source types. ``via`` may be a dotted path
    through blocks (``replication_info_list.source_kafka_cluster_arn``).

    ``at`` (with ``at_targets``) places the copy where the resource that argument names lives
    instead of where ``r`` is: a copier that stores nothing itself (the MSK Replicator writes into
    ``target_kafka_cluster_arn``). Its copy is then one RES002, on the source when the source is
    scanned, else on ``r`` itself.
    """
    for arg, values in (p.get("when") or {}).items():
        setting = r.attributes.get(arg)
        if not (isinstance(setting, str) and setting in values):
            return
    value = get_path(r.attributes, p["via"])
    if value is None:
        return
    if "any_store" in p:
        stores = scan.stores.types.items()
        targets = {t: p["any_store"] for t, s in stores if s.cloud == f.cloud and s.role == "data-store"}
    else:
        targets = p["targets"]
    source = scan.find(value, targets)
    kind = p.get("kind", "replica")
    if "at" in p:
        loc = _copy_at(r, scan, p["at"], p["at_targets"], kind)
        if source is not None and source.address in scan.facts:
            _add_copy(scan.facts[source.address], Copy(kind, loc, f"{r.address}.{p['at']}", r.line, file=r.file))
        else:
            note = f"the replication source {p['via']} is not in the scanned configuration"
            _add_copy(f, Copy(kind, loc, p["at"], note=note))
        return
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


def _copy_at(r: Resource, scan: Scan, attr: str, targets: Mapping[str, str], kind: str) -> Location | Unknown:
    """Where the resource ``attr`` names lives: scanned, else its ARN's region, else unknown."""
    value = get_path(r.attributes, attr)
    if value is None:
        return Unknown(f"{r.address} names no {attr}")
    target = scan.find(value, targets)
    if target is not None:
        return _or_unknown(_wrap(scan.location_of(target.address), f"{kind} {target.address}"), Unknown(
            f"{target.address} has no location"
        ))
    region = _arn_region(value) if isinstance(value, str) else None
    if region:
        return Location("aws", region, f"argument {attr} {value} ({_at(r)})")
    if isinstance(value, (str, Ref)):
        return Unknown(f"{attr} {value} is not in the scanned configuration")
    return _unknown_from(value, attr)


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
    elif location is None and (nearest := _backup_multi_region(scan.location_of(r.address), scan)):
        # Cloud SQL stores backups without a location in the multi-region nearest the instance: for an instance
        # in an EU region that is the EU multi-region, in a US region the US one (issue 16 step 4;
        # terraform-google-modules/terraform-google-sql-db@25cf7833281c examples: us-central1 instances)
        region, multi = nearest
        source = f"default backup multi-region of {region} ({_at(r)})"
        _add_copy(f, Copy("backup", Location("gcp", multi, source), via))
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


# the multi-regions whose nearness is unambiguous: a region inside one of these groups backs up there
_BACKUP_MULTI_REGIONS = (("in:eu-locations", "EU"), ("in:us-locations", "US"))


def _backup_multi_region(loc: Location | Unknown | None, scan: Scan) -> tuple[str, str] | None:
    """(region, multi-region) when ``loc`` is one GCP region (or zone) inside the EU or the US, else None."""
    if not isinstance(loc, Location) or loc.cloud != "gcp":
        return None
    resolved = scan.regions.resolve("gcp", loc.code)
    if resolved is None or resolved.kind not in ("region", "zone"):
        return None
    for group, multi in _BACKUP_MULTI_REGIONS:
        if all(group in m.groups for m in resolved.members):
            return loc.code, multi
    return None


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
    # `auto {}` (provider 5+), or `automatic = true` (provider 4.x, and Config Connector's replication.automatic)
    if ("auto" in replication and replication.get("auto") is not None) or as_bool(replication.get("automatic")) is True:
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
    text = getattr(dest, "text", dest)  # a destination known in part (a Partial) keeps its service prefix
    if isinstance(text, str) and text.startswith("pubsub.googleapis.com/"):
        # a pipe to a topic, not a copy: RES007 judges it by the topic (checks/flows.py _logging_sink)
        f.notes.append(f"destination {text}: messages persist where the topic's message_storage_policy allows")
        return
    if not isinstance(dest, str):
        _add_copy(f, Copy("sink", _unknown_from(dest, "destination"), "destination"))
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
    """A copy per block at ``blocks`` (a dotted path through repeated blocks) whose ``attr`` names a location."""
    for i, block in enumerate(_blocks_path(r.attributes, p["blocks"])):
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


def _copy_ref_location(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """A copy where the resource ``attr`` names lives (``attr`` may be a dotted path through blocks)."""
    value = get_path(r.attributes, p["attr"])
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


def _copy_ref_regions(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """A copy per value of ``attr`` (a dotted path; one value or a list): a region name, an ARN, or
    a resource of ``targets`` located where it is (Aurora DSQL witness regions and peer clusters, an S3
    inventory's destination bucket). A scanned target wins over the ARN's region."""
    value = get_path(r.attributes, p["attr"])
    if value is None:
        return
    spec = scan.stores.spec(r.type)
    cloud = spec.cloud if spec else "aws"
    kind = p.get("kind", "replica")
    values = value if isinstance(value, list) else [value]
    for i, item in enumerate(values):
        via = f"{p['attr']}[{i}]" if isinstance(value, list) else p["attr"]
        target = scan.find(item, p.get("targets") or {}) if p.get("targets") else None
        loc: Location | Unknown
        if target is not None:
            loc = _or_unknown(_wrap(scan.location_of(target.address), f"{via} {target.address}"), Unknown(
                f"{target.address} has no location"
            ))
        elif isinstance(item, str) and _arn_region(item):
            loc = Location(cloud, _arn_region(item) or "", f"argument {via} {item} ({_at(r)})")
        elif isinstance(item, str) and ":" not in item:
            loc = Location(cloud, item, f"argument {via} ({_at(r)})")
        elif isinstance(item, (str, Ref)):
            loc = Unknown(f"{via} {item} is not in the scanned configuration")
        else:
            loc = _unknown_from(item, f"argument {via} of {r.address}")
        _add_copy(f, Copy(kind, loc, via))


def _copy_processing_zone(r: Resource, f: DataStoreFacts, scan: Scan, p: Mapping[str, Any]) -> None:
    """Where a model deployment may process prompts, read from its SKU name at ``attr``.

    Why a handler: the place depends on the deployment's own region, not on an argument naming one. A
    name starting with one of ``worldwide`` is processed in any region; one starting with one of
    ``zoned`` anywhere in the data zone (a group of ``zones``) holding the deployment's region, a copy
    per other member; a region in no listed zone is unresolved, never a pass. Other names stay put.
    """
    value = get_path(r.attributes, p["attr"])
    kind = p.get("kind", "processing")
    if value is None:
        return
    if not isinstance(value, str):
        _add_copy(f, Copy(kind, _unknown_from(value, p["attr"]), p["attr"]))
        return
    via = f"{p['attr']} = {value}"
    if value.startswith(tuple(p["worldwide"])):
        _add_copy(f, Copy(kind, Location(f.cloud, ANY_REGION, f"{via}, every region ({_at(r)})"), p["attr"]))
        return
    if not value.startswith(tuple(p["zoned"])):
        return
    loc = f.location
    region = scan.regions.region(f.cloud, loc.code) if isinstance(loc, Location) and scan.regions else None
    for group in p["zones"]:
        members = [m for m in scan.regions.group_members(group) if m.cloud == f.cloud] if region else []
        if region is not None and region in members:
            for m in members:
                if m != region:
                    where = f"{via}, data zone {group} of {region.code} ({_at(r)})"
                    _add_copy(f, Copy(kind, Location(f.cloud, m.code, where), p["attr"]))
            return
    what = loc.code if isinstance(loc, Location) else "an unresolved location"
    _add_copy(f, Copy(kind, Unknown(f"{via}: {what} is in none of the data zones {', '.join(p['zones'])}"), p["attr"]))


COPY_HANDLERS: dict[str, Handler] = {
    "s3_inline_replication": _copy_s3_inline,
    "block_regions": _copy_block_regions,
    "reverse_copy": _copy_reverse,
    "global_cluster_members": _copy_global_members,
    "elasticache_global_members": _copy_elasticache_global,
    "cloud_sql_backups": _copy_cloud_sql_backups,
    "pubsub_storage": _copy_pubsub,
    "secret_manager_replication": _copy_secret_manager,
    "logging_sink": _copy_logging_sink,
    "snapshot_schedule_locations": _copy_snapshot_schedule,
    "bigtable_clusters": _copy_bigtable_clusters,
    "azure_geo": _copy_azure_geo,
    "azure_flexible_geo_backup": _copy_azure_flexible_geo,
    "cosmos_geo_locations": _copy_cosmos_geo,
    "cosmos_backup": _copy_cosmos_backup,
    "azure_block_location": _copy_azure_block_location,
    "ref_location": _copy_ref_location,
    "ref_regions": _copy_ref_regions,
    "processing_zone": _copy_processing_zone,
}
