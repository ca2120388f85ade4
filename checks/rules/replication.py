"""RES002 replication-outside-allowed-regions: a replica, backup copy or geo pair is not allowed.

What it checks
    Every place a data store copies its data to, as the catalog reads it: S3 replication
    destinations (resolved to the destination bucket's region), DynamoDB and Secrets Manager
    replicas, cross-region RDS read replicas and automated-backup replication, Aurora/DocumentDB/
    Neptune global cluster members, AWS Backup copy actions, EFS and ECR replication, KMS replica
    keys, GCS dual-regions, Cloud SQL backups and replicas, Pub/Sub message storage, Secret
    Manager replication, log sinks, Azure geo-redundant storage (the fixed paired region), Cosmos
    DB ``geo_location`` and Geo backups, Azure SQL geo backups and geo-secondaries, failover
    groups, Recovery Services vaults and ACR geo-replications, MSK replications (the source
    cluster's copy where the target cluster is; one finding per replication, RES007 does not
    repeat it). Defaults that copy silently count
    (Azure SQL ``storage_account_type`` defaults to ``Geo``). One violation per copy.

Why it matters
    A replica is a full copy of the data. A bucket in ``eu-west-1`` replicating to ``us-east-1``,
    or a storage account in ``brazilsouth`` with ``GRS`` (paired with ``southcentralus``), transfers
    the data out of the jurisdiction just as surely as storing it there.

Example
    Failing::

        resource "azurerm_storage_account" "docs" {
          location                 = "brazilsouth"
          account_tier             = "Standard"
          account_replication_type = "GRS"   # paired region: southcentralus (United States)
        }

    Fixed::

        resource "azurerm_storage_account" "docs" {
          location                 = "brazilsouth"
          account_tier             = "Standard"
          account_replication_type = "ZRS"   # copies stay in the region
        }

How to fix
    Point the replica, backup copy or sink at an allowed region, or switch geo-redundant options
    to an in-region one (``LRS``/``ZRS``, ``LocallyRedundant``, SQL ``storage_account_type =
    "Local"``/``"Zone"``, Cosmos ``storage_redundancy = "Local"``); set Pub/Sub
    ``allowed_persistence_regions``, Secret Manager ``user_managed`` replicas and Cloud SQL
    ``backup_configuration.location`` explicitly.

Controls
    NIST CSF 2.0 GV.OC-03, ID.AM-08, PR.DS-02, PR.DS-11; ISO/IEC 27001:2022 5.14, 5.23, 8.13, 8.14;
    SOC 2 CC6.7, A1.2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from checks.locate import location_violations, store_product, suggestion
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, Copy, DataStoreFacts, Severity, Violation

_NOUN = {
    "replica": "replica",
    "replica-source": "replication source",
    "backup": "backup copy",
    "geo-pair": "geo-redundant copy",
    "sink": "sink destination",
    "snapshot": "snapshot copy",
    "key-replica": "key replica",
    "message-storage": "message storage",
}


def _remediation(copy: Copy, facts: DataStoreFacts, ctx: RuleContext) -> str:
    example = suggestion(ctx, facts.cloud)
    eg = f" (e.g. {example})" if example else ""
    if copy.kind in ("geo-pair", "backup") and facts.cloud == "azure":
        return (
            f"Use in-region redundancy for {copy.via} (LRS/ZRS, LocallyRedundant, Local/Zone), or move the "
            f"resource to a region whose pair is allowed ({ctx.allowed.describe()})."
        )
    return (
        f"Point {copy.via} at a location allowed by the policy ({ctx.allowed.describe()}){eg}, or remove "
        "the copy."
    )


def check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield one violation per copy whose location is not allowed, or cannot be told."""
    address = facts.resource.address
    for copy in facts.copies:
        noun = _NOUN.get(copy.kind, copy.kind)
        for v in location_violations(
            copy.location, ctx, category=Category.REPLICATION,
            subject=f"The {noun} of {address} ({copy.via})",
            unresolved_subject=f"the {copy.kind} destination of {address} ({copy.via})",
            unresolved_fix="Make the destination visible to the scanner (declare it in the scanned configuration, "
            "or give its location a static value) and keep it in an allowed region.",
            remediation=_remediation(copy, facts, ctx),
            line=copy.line,
            file=copy.file if copy.line else None,
            product=store_product(facts),
        ):
            if copy.note and v.category is Category.REPLICATION:
                v = dataclasses.replace(v, message=f"{v.message} Note: {copy.note}.")
            yield v


RULE = Rule(
    id="RES002",
    name="replication-outside-allowed-regions",
    category=Category.REPLICATION,
    severity=Severity.HIGH,
    summary=(
        "A replica, backup copy, geo-redundant pair or sink puts a copy of the data outside the "
        "allowed regions."
    ),
    check=check,
    roles=("data-store", "key"),
    controls=(
        "NIST:GV.OC-03",
        "NIST:ID.AM-08",
        "NIST:PR.DS-02",
        "NIST:PR.DS-11",
        "ISO27001:5.14",
        "ISO27001:5.23",
        "ISO27001:8.13",
        "ISO27001:8.14",
        "SOC2:CC6.7",
        "SOC2:A1.2",
    ),
    doc=__doc__ or "",
    checkov_id="CKV_RES_2",
)
