"""The data-store catalog: the data file is consistent, and classify reads each important type right.

Resources are built in code the way the loader hands them over (evaluated attributes, blocks as
lists of dicts, ``Ref`` for computed attributes), so these tests pin the catalog's contract
without depending on HCL parsing.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.catalog import (
    ATTACH_HANDLERS,
    CLOUDS,
    COPY_HANDLERS,
    ENCRYPTION_HANDLERS,
    LEVELS,
    LOCATION_HANDLERS,
    ROLES,
    classify,
    load_catalog,
)
from checks.catalog.schema import UNRESOLVED
from checks.locate import ANY_REGION
from scanner.model import DataStoreFacts, Encryption, Location, ProviderContext, Ref, Resource, Unknown
from scanner.regions import catalog as region_catalog

AWS_EU = ProviderContext("aws", None, "eu-west-1", source="provider aws (main.tf:1)")
AWS_US = ProviderContext("aws", "virginia", "us-east-1", source="provider aws.virginia (main.tf:5)")
GOOGLE = ProviderContext(
    "google", None, "europe-west1", "europe-west1-b", source="provider google (main.tf:1)"
)
AZURE = ProviderContext("azurerm", source="provider azurerm (main.tf:1)")


def res(
    rtype: str,
    name: str,
    attrs: dict[str, Any] | None = None,
    provider: ProviderContext | None = None,
    line: int = 10,
    file: str = "main.tf",
) -> Resource:
    if provider is None:
        provider = {"aws": AWS_EU, "google": GOOGLE, "azurerm": AZURE}[rtype.split("_", 1)[0]]
    return Resource(rtype, f"{rtype}.{name}", file, line, attrs or {}, provider=provider)


def run(*resources: Resource) -> dict[str, DataStoreFacts]:
    return {f.resource.address: f for f in classify(list(resources), region_catalog())}


def code(loc: Any) -> str:
    assert isinstance(loc, Location), loc
    return loc.code


# --------------------------------------------------------------------------- the data file

CATALOG = load_catalog()


def test_every_type_declares_cloud_role_location_and_encryption() -> None:
    for name, spec in CATALOG.types.items():
        assert spec.cloud in CLOUDS, name
        assert spec.role in ROLES, name
        assert name.startswith({"aws": "aws_", "gcp": "google_", "azure": "azurerm_"}[spec.cloud]), name
        loc = spec.location
        assert (loc.get("not-applicable")) or loc.get("from") in (
            "region-arg+provider",
            "arg",
            "azure",
            "parent",
            "handler",
        ), name
        if loc.get("from") == "handler":
            assert loc["handler"] in LOCATION_HANDLERS, name
        if loc.get("from") == "parent":
            assert loc["via"] and loc["parents"] and set(loc["parents"]) <= set(CATALOG.types), name
        enc = spec.encryption
        assert (enc.get("not-applicable")) or {
            "default",
            "flag",
            "handler",
            "keys",
        } & set(enc), name
        if "handler" in enc:
            assert enc["handler"] in ENCRYPTION_HANDLERS, name
        if "default" in enc:
            assert enc["default"] in LEVELS or enc["default"] == UNRESOLVED, name
        for copy in spec.copies:
            assert copy["handler"] in COPY_HANDLERS, name
        if spec.role == "attachment":
            assert spec.attach and spec.attach["handler"] in ATTACH_HANDLERS, name
            assert set(spec.attach.get("targets") or {}) <= set(CATALOG.types), name
        else:
            assert spec.attach is None, name
        if spec.role == "key":
            assert "not-applicable" in enc, name


def test_every_handler_is_used_by_the_data() -> None:
    used: set[str] = set()
    for spec in CATALOG.types.values():
        used.update(c["handler"] for c in spec.copies)
        for part in (spec.location, spec.encryption, spec.attach or {}):
            if "handler" in part:
                used.add(part["handler"])
    every = set(LOCATION_HANDLERS) | set(ENCRYPTION_HANDLERS) | set(COPY_HANDLERS) | set(ATTACH_HANDLERS)
    assert every - used == set()


def test_ignored_types_are_not_also_catalogued() -> None:
    assert not set(CATALOG.ignored) & set(CATALOG.types)


# the data-holding types named in the reference tables (terraform-data-stores.md), cells included
REFERENCE_TYPES = [
    "aws_s3_bucket",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_replication_configuration",
    "aws_ebs_volume",
    "aws_ebs_encryption_by_default",
    "aws_ebs_default_kms_key",
    "aws_ebs_snapshot_copy",
    "aws_ami_copy",
    "aws_instance",
    "aws_efs_file_system",
    "aws_efs_replication_configuration",
    "aws_fsx_lustre_file_system",
    "aws_db_instance",
    "aws_db_instance_automated_backups_replication",
    "aws_db_snapshot_copy",
    "aws_rds_cluster",
    "aws_rds_global_cluster",
    "aws_dynamodb_table",
    "aws_dynamodb_table_replica",
    "aws_dynamodb_global_table",
    "aws_elasticache_replication_group",
    "aws_elasticache_global_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_memorydb_cluster",
    "aws_dax_cluster",
    "aws_docdb_cluster",
    "aws_docdb_global_cluster",
    "aws_neptune_global_cluster",
    "aws_neptune_cluster",
    "aws_redshift_cluster",
    "aws_redshift_snapshot_copy",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_kinesis_stream",
    "aws_msk_cluster",
    "aws_cloudwatch_log_group",
    "aws_backup_vault",
    "aws_backup_plan",
    "aws_kms_key",
    "aws_kms_replica_key",
    "aws_kms_replica_external_key",
    "aws_ecr_repository",
    "aws_ecr_replication_configuration",
    "aws_secretsmanager_secret",
    "aws_cloudtrail",
    "google_storage_bucket",
    "google_storage_bucket_object",
    "google_bigquery_dataset",
    "google_bigquery_table",
    "google_sql_database_instance",
    "google_spanner_instance",
    "google_spanner_database",
    "google_pubsub_topic",
    "google_compute_disk",
    "google_compute_region_disk",
    "google_compute_disk_async_replication",
    "google_compute_snapshot",
    "google_compute_image",
    "google_compute_machine_image",
    "google_compute_resource_policy",
    "google_filestore_instance",
    "google_redis_instance",
    "google_memorystore_instance",
    "google_bigtable_instance",
    "google_firestore_database",
    "google_alloydb_cluster",
    "google_kms_key_ring",
    "google_logging_project_bucket_config",
    "google_logging_project_sink",
    "google_dataproc_cluster",
    "google_artifact_registry_repository",
    "google_secret_manager_secret",
    "google_backup_dr_backup_vault",
    "azurerm_storage_account",
    "azurerm_storage_object_replication",
    "azurerm_storage_account_customer_managed_key",
    "azurerm_storage_container",
    "azurerm_storage_share",
    "azurerm_managed_disk",
    "azurerm_snapshot",
    "azurerm_linux_virtual_machine",
    "azurerm_windows_virtual_machine",
    "azurerm_mssql_server",
    "azurerm_mssql_database",
    "azurerm_mssql_server_transparent_data_encryption",
    "azurerm_mssql_failover_group",
    "azurerm_mssql_managed_instance",
    "azurerm_mssql_managed_instance_failover_group",
    "azurerm_postgresql_flexible_server",
    "azurerm_mysql_flexible_server",
    "azurerm_cosmosdb_account",
    "azurerm_cosmosdb_sql_database",
    "azurerm_cosmosdb_postgresql_cluster",
    "azurerm_mongo_cluster",
    "azurerm_redis_cache",
    "azurerm_redis_linked_server",
    "azurerm_managed_redis",
    "azurerm_recovery_services_vault",
    "azurerm_data_protection_backup_vault",
    "azurerm_data_protection_backup_vault_customer_managed_key",
    "azurerm_container_registry",
    "azurerm_eventhub_namespace",
    "azurerm_eventhub_namespace_disaster_recovery_config",
    "azurerm_eventhub_namespace_customer_managed_key",
    "azurerm_servicebus_namespace",
    "azurerm_servicebus_namespace_disaster_recovery_config",
    "azurerm_servicebus_namespace_customer_managed_key",
    "azurerm_kusto_cluster",
    "azurerm_kusto_cluster_customer_managed_key",
    "azurerm_synapse_workspace",
    "azurerm_log_analytics_workspace",
    "azurerm_log_analytics_data_export_rule",
    "azurerm_search_service",
    "azurerm_netapp_volume",
    "azurerm_key_vault",
    "azurerm_monitor_diagnostic_setting",
]


def test_every_reference_type_is_covered() -> None:
    missing = [t for t in REFERENCE_TYPES if t not in CATALOG.types]
    assert missing == []
    assert len(CATALOG.types) >= 100


def test_types_without_user_data_are_ignored() -> None:
    facts = run(res("aws_iam_role", "r", {"name": "x"}), res("aws_s3_bucket", "b", {"bucket": "b"}))
    assert list(facts) == ["aws_s3_bucket.b"]


# --------------------------------------------------------------------------- AWS


def test_aws_region_from_provider_and_resource_argument() -> None:
    facts = run(
        res("aws_s3_bucket", "a", {"bucket": "a"}, AWS_US),
        res("aws_s3_bucket", "b", {"bucket": "b", "region": "eu-central-1"}, AWS_US),
    )
    a, b = facts["aws_s3_bucket.a"].location, facts["aws_s3_bucket.b"].location
    assert a == Location("aws", "us-east-1", "provider aws.virginia (main.tf:5)")
    assert b == Location("aws", "eu-central-1", "argument region (main.tf:10)")


def test_provider_without_region_is_unknown_with_reason() -> None:
    p = ProviderContext("aws", None, Unknown("provider aws sets no region (AWS_REGION)"))
    loc = run(res("aws_sqs_queue", "q", {}, p))["aws_sqs_queue.q"].location
    assert isinstance(loc, Unknown) and "AWS_REGION" in loc.reason


def test_s3_defaults_and_sse_configuration_join_with_key_location() -> None:
    key = res("aws_kms_key", "us", {}, AWS_US)
    plain = res("aws_s3_bucket", "plain", {"bucket": "plain"})
    bucket = res("aws_s3_bucket", "docs", {"bucket": "docs"})
    sse = res(
        "aws_s3_bucket_server_side_encryption_configuration",
        "docs",
        {
            "bucket": Ref("aws_s3_bucket.docs", "id"),
            "rule": [
                {
                    "apply_server_side_encryption_by_default": [
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": Ref("aws_kms_key.us", "arn")}
                    ]
                }
            ],
        },
    )
    facts = run(key, plain, bucket, sse)
    assert "aws_s3_bucket_server_side_encryption_configuration.docs" not in facts  # folded into the bucket
    assert facts["aws_s3_bucket.plain"].encryption is Encryption.PROVIDER
    docs = facts["aws_s3_bucket.docs"]
    assert docs.encryption is Encryption.CUSTOMER
    assert [code(k.location) for k in docs.keys] == ["us-east-1"]
    assert facts["aws_kms_key.us"].role == "key" and not facts["aws_kms_key.us"].holds_user_data


@pytest.mark.parametrize(
    "algorithm,key,expected",
    [
        ("AES256", None, Encryption.PROVIDER),
        ("aws:kms", None, Encryption.PROVIDER),
        ("aws:kms", "alias/aws/s3", Encryption.PROVIDER),
        ("aws:kms", "arn:aws:kms:us-west-2:111122223333:key/abc", Encryption.CUSTOMER),
    ],
)
def test_sse_levels(algorithm: str, key: str | None, expected: Encryption) -> None:
    default = {"sse_algorithm": algorithm} | ({"kms_master_key_id": key} if key else {})
    facts = run(
        res("aws_s3_bucket", "b", {"bucket": "bkt"}),
        res(
            "aws_s3_bucket_server_side_encryption_configuration",
            "b",
            {"bucket": "bkt", "rule": [{"apply_server_side_encryption_by_default": [default]}]},
        ),
    )
    b = facts["aws_s3_bucket.b"]
    assert b.encryption is expected
    if expected is Encryption.CUSTOMER:
        assert code(b.keys[0].location) == "us-west-2"


def test_s3_replication_to_bucket_resolved_through_ref() -> None:
    src = res("aws_s3_bucket", "src", {"bucket": "src"}, line=3)
    dst = res("aws_s3_bucket", "dst", {"bucket": "dst"}, AWS_US, line=7)
    repl = res(
        "aws_s3_bucket_replication_configuration",
        "r",
        {
            "bucket": Ref("aws_s3_bucket.src", "id"),
            "rule": [
                {"status": "Enabled", "destination": [{"bucket": Ref("aws_s3_bucket.dst", "arn")}]},
                {"status": "Disabled", "destination": [{"bucket": "arn:aws:s3:::ignored"}]},
            ],
        },
        line=20,
    )
    facts = run(src, dst, repl)
    copies = facts["aws_s3_bucket.src"].copies
    assert len(copies) == 1
    assert code(copies[0].location) == "us-east-1" and copies[0].line == 20
    assert "aws_s3_bucket.dst" in copies[0].location.source
    assert facts["aws_s3_bucket.dst"].copies == []


def test_s3_replication_to_unscanned_arn_is_unknown_and_account_noted() -> None:
    facts = run(
        res("aws_s3_bucket", "src", {"bucket": "src"}),
        res(
            "aws_s3_bucket_replication_configuration",
            "r",
            {
                "bucket": "src",
                "rule": [{"destination": [{"bucket": "arn:aws:s3:::x", "account": "999999999999"}]}],
            },
        ),
    )
    src = facts["aws_s3_bucket.src"]
    loc = src.copies[0].location
    assert isinstance(loc, Unknown)
    assert loc.reason == "destination bucket arn:aws:s3:::x is not in the scanned configuration"
    assert "999999999999" in src.copies[0].note


def test_s3_replication_joins_a_partly_computed_bucket_name() -> None:
    from scanner.loaders.hcl_eval import Partial

    name = Partial("random_pet.this.id is known only after apply", "replica-${random_pet.this.id}")
    arn = Partial(name.reason, "arn:aws:s3:::replica-${random_pet.this.id}")
    other = Partial(name.reason, "origin-${random_pet.this.id}")
    facts = run(
        res("aws_s3_bucket", "src", {"bucket": other}),
        res("aws_s3_bucket", "dst", {"bucket": name}, AWS_US),
        res(
            "aws_s3_bucket_replication_configuration",
            "r",
            {"bucket": Ref("aws_s3_bucket.src", "id"), "rule": [{"destination": [{"bucket": arn}]},
                                                                 {"destination": [{"bucket": Partial("x", "y")}]}]},
        ),
    )
    first, second = facts["aws_s3_bucket.src"].copies
    assert code(first.location) == "us-east-1" and "aws_s3_bucket.dst" in first.location.source
    assert isinstance(second.location, Unknown) and "x" in second.location.reason


def test_rds_defaults_and_keys() -> None:
    facts = run(
        res("aws_db_instance", "plain", {"engine": "postgres"}),
        res("aws_db_instance", "on", {"storage_encrypted": True}),
        res("aws_db_instance", "alias", {"storage_encrypted": True, "kms_key_id": "alias/aws/rds"}),
        res(
            "aws_db_instance",
            "cmk",
            {"storage_encrypted": True, "kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"},
        ),
    )
    assert facts["aws_db_instance.plain"].encryption is Encryption.NONE
    assert "storage_encrypted not set" in facts["aws_db_instance.plain"].encryption_source
    assert facts["aws_db_instance.on"].encryption is Encryption.PROVIDER
    assert facts["aws_db_instance.alias"].encryption is Encryption.PROVIDER
    assert facts["aws_db_instance.cmk"].encryption is Encryption.CUSTOMER


def test_rds_cross_region_read_replica_is_a_copy_of_its_source() -> None:
    primary = res("aws_db_instance", "primary", {"identifier": "orders", "storage_encrypted": True}, line=2)
    replica = res(
        "aws_db_instance",
        "replica",
        {
            "replicate_source_db": Ref("aws_db_instance.primary", "arn"),
            "kms_key_id": "arn:aws:kms:us-east-1:1:key/k",
        },
        AWS_US,
        line=12,
    )
    facts = run(primary, replica)
    assert code(facts["aws_db_instance.replica"].location) == "us-east-1"
    copy = facts["aws_db_instance.primary"].copies[0]
    assert (copy.kind, code(copy.location), copy.line) == ("replica", "us-east-1", 12)


def test_rds_replica_of_unscanned_source_records_the_source_region() -> None:
    replica = res(
        "aws_db_instance", "replica", {"replicate_source_db": "arn:aws:rds:us-east-1:111122223333:db:orders"}
    )
    f = run(replica)["aws_db_instance.replica"]
    assert [(c.kind, code(c.location)) for c in f.copies] == [("replica-source", "us-east-1")]
    assert isinstance(f.encryption, Unknown)  # follows a source nobody can see


def test_dynamodb_replicas_and_replica_resource() -> None:
    table = res(
        "aws_dynamodb_table",
        "t",
        {
            "name": "orders",
            "replica": [
                {"region_name": "eu-central-1"},
                {"region_name": "us-west-2", "kms_key_arn": "arn:aws:kms:us-west-2:1:key/x"},
            ],
        },
    )
    rep = res(
        "aws_dynamodb_table_replica",
        "r",
        {"global_table_arn": Ref("aws_dynamodb_table.t", "arn")},
        AWS_US,
        line=30,
    )
    facts = run(table, rep)
    t = facts["aws_dynamodb_table.t"]
    assert [code(c.location) for c in t.copies] == ["eu-central-1", "us-west-2", "us-east-1"]
    assert t.encryption is Encryption.PROVIDER  # DynamoDB always encrypts
    assert [code(k.location) for k in t.keys] == ["us-west-2"]


def test_ebs_volume_follows_account_default_only_in_the_same_region() -> None:
    vol = res("aws_ebs_volume", "v", {"availability_zone": "eu-west-1a", "size": 10})
    assert run(vol)["aws_ebs_volume.v"].encryption is Encryption.NONE
    same = res("aws_ebs_encryption_by_default", "on", {"enabled": True})
    other = res("aws_ebs_encryption_by_default", "us", {}, AWS_US)
    assert run(vol, same)["aws_ebs_volume.v"].encryption is Encryption.PROVIDER
    assert run(vol, other)["aws_ebs_volume.v"].encryption is Encryption.NONE
    key = res("aws_ebs_default_kms_key", "k", {"key_arn": "arn:aws:kms:eu-west-1:1:key/k"})
    assert run(vol, same, key)["aws_ebs_volume.v"].encryption is Encryption.CUSTOMER


@pytest.mark.parametrize(
    "attrs,expected",
    [
        ({"engine": "redis"}, Encryption.NONE),
        ({"engine": "valkey"}, Encryption.PROVIDER),
        ({"engine": "redis", "at_rest_encryption_enabled": True}, Encryption.PROVIDER),
    ],
)
def test_elasticache_engine_defaults(attrs: dict[str, Any], expected: Encryption) -> None:
    f = run(res("aws_elasticache_replication_group", "g", attrs))["aws_elasticache_replication_group.g"]
    assert f.encryption is expected


def test_aws_tags_merge_provider_default_tags_under_resource_tags() -> None:
    p = ProviderContext("aws", None, "eu-west-1", default_tags={"team": "a", "env": "prod"})
    f = run(res("aws_s3_bucket", "b", {"tags": {"env": "dev"}}, p))["aws_s3_bucket.b"]
    assert f.tags == {"team": "a", "env": "dev"}


def test_backup_copy_action_region_from_arn_and_ref() -> None:
    vault = res("aws_backup_vault", "main", {"name": "main"})
    us_vault = res("aws_backup_vault", "us", {"name": "us"}, AWS_US)
    plan = res(
        "aws_backup_plan",
        "p",
        {
            "rule": [
                {
                    "target_vault_name": "main",
                    "copy_action": [
                        {"destination_vault_arn": "arn:aws:backup:ap-south-1:1:backup-vault:x"},
                        {"destination_vault_arn": Ref("aws_backup_vault.us", "arn")},
                    ],
                }
            ]
        },
    )
    facts = run(vault, us_vault, plan)
    assert [code(c.location) for c in facts["aws_backup_vault.main"].copies] == ["ap-south-1", "us-east-1"]


# --------------------------------------------------------------------------- Google


@pytest.mark.parametrize(
    "attrs,expected",
    [
        ({"location": "eu"}, "EU"),
        ({"location": "EUR5"}, "EUR5"),
        ({"location": "europe-west4"}, "europe-west4"),
        (
            {
                "location": "EU",
                "custom_placement_config": [{"data_locations": ["EUROPE-WEST1", "EUROPE-WEST4"]}],
            },
            "europe-west1+europe-west4",
        ),
    ],
)
def test_gcs_locations(attrs: dict[str, Any], expected: str) -> None:
    f = run(res("google_storage_bucket", "b", {"name": "b"} | attrs))["google_storage_bucket.b"]
    assert code(f.location) == expected
    assert f.encryption is Encryption.PROVIDER


def test_bigquery_defaults_to_us_and_table_inherits() -> None:
    ds = res("google_bigquery_dataset", "d", {"dataset_id": "analytics"})
    table = res("google_bigquery_table", "t", {"dataset_id": Ref("google_bigquery_dataset.d", "dataset_id")})
    facts = run(ds, table)
    loc = facts["google_bigquery_dataset.d"].location
    assert code(loc) == "US" and "default location US" in loc.source
    assert code(facts["google_bigquery_table.t"].location) == "US"


def test_location_style_types_have_no_provider_fallback() -> None:
    loc = run(res("google_kms_key_ring", "k", {"name": "k"}))["google_kms_key_ring.k"].location
    assert isinstance(loc, Unknown)
    disk = run(res("google_compute_disk", "d", {}))["google_compute_disk.d"].location
    assert code(disk) == "europe-west1-b"  # zonal: provider zone fallback


def test_cloud_sql_backup_location() -> None:
    def sql(backup: dict[str, Any], region: str = "europe-west1") -> DataStoreFacts:
        r = res(
            "google_sql_database_instance",
            "db",
            {"region": region, "settings": [{"backup_configuration": [backup]}]},
        )
        return run(r)["google_sql_database_instance.db"]

    # no location: the multi-region nearest the instance, the EU one for an EU region (issue 16 step 4)
    assert [code(c.location) for c in sql({"enabled": True}).copies] == ["EU"]
    # a US region backs up to the US multi-region (terraform-google-modules/sql-db examples in us-central1)
    assert [code(c.location) for c in sql({"enabled": True}, region="us-central1").copies] == ["US"]
    # elsewhere the nearest multi-region is not certain: unresolved
    unset = sql({"enabled": True}, region="australia-southeast1").copies
    assert len(unset) == 1 and isinstance(unset[0].location, Unknown)
    assert "backup_configuration.location" in unset[0].location.reason
    assert [code(c.location) for c in sql({"enabled": True, "location": "us"}).copies] == ["us"]
    assert sql({"enabled": False}).copies == []


def test_pubsub_topic_storage_policy() -> None:
    none = run(res("google_pubsub_topic", "t", {"name": "t"}))["google_pubsub_topic.t"]
    assert none.location is None
    assert isinstance(none.copies[0].location, Unknown)
    assert "allowed_persistence_regions" in none.copies[0].location.reason
    pinned = run(
        res(
            "google_pubsub_topic",
            "t",
            {"message_storage_policy": [{"allowed_persistence_regions": ["europe-west1", "us-east1"]}]},
        )
    )["google_pubsub_topic.t"]
    assert [code(c.location) for c in pinned.copies] == ["europe-west1", "us-east1"]


def test_secret_manager_auto_replication_is_any_region() -> None:
    f = run(res("google_secret_manager_secret", "s", {"replication": [{"auto": [{}]}]}))[
        "google_secret_manager_secret.s"
    ]
    assert code(f.copies[0].location) == ANY_REGION


def test_spanner_regional_config_and_crypto_key_ring_location() -> None:
    facts = run(
        res("google_spanner_instance", "i", {"config": "regional-europe-west1"}),
        res("google_kms_key_ring", "ring", {"name": "ring", "location": "us-central1"}),
        res("google_kms_crypto_key", "k", {"key_ring": Ref("google_kms_key_ring.ring", "id")}),
        res(
            "google_storage_bucket",
            "b",
            {
                "location": "EU",
                "encryption": [{"default_kms_key_name": Ref("google_kms_crypto_key.k", "id")}],
            },
        ),
    )
    assert code(facts["google_spanner_instance.i"].location) == "europe-west1"
    assert code(facts["google_kms_crypto_key.k"].location) == "us-central1"
    bucket = facts["google_storage_bucket.b"]
    assert bucket.encryption is Encryption.CUSTOMER and code(bucket.keys[0].location) == "us-central1"


# --------------------------------------------------------------------------- Azure


def storage(name: str, location: str, replication: str) -> Resource:
    return res(
        "azurerm_storage_account",
        name,
        {"name": name, "location": location, "account_replication_type": replication},
    )


@pytest.mark.parametrize(
    "location,replication,pair",
    [
        ("brazilsouth", "GRS", "southcentralus"),
        ("North Europe", "RAGZRS", "westeurope"),
        ("westeurope", "GRS", "northeurope"),
        ("westeurope", "LRS", None),
    ],
)
def test_azure_geo_redundancy_copies_to_the_pair(location: str, replication: str, pair: str | None) -> None:
    f = run(storage("sa", location, replication))["azurerm_storage_account.sa"]
    assert f.encryption is Encryption.PROVIDER
    assert [code(c.location) for c in f.copies] == ([pair] if pair else [])
    if pair:
        assert f.copies[0].kind == "geo-pair"


def test_azure_location_is_normalised_and_unpaired_grs_is_a_note() -> None:
    f = run(storage("sa", "Italy North", "GRS"))["azurerm_storage_account.sa"]
    assert code(f.location) == "italynorth"
    assert f.copies == [] and any("no paired region" in n for n in f.notes)


def test_azure_children_inherit_and_cmk_attachment_joins() -> None:
    sa = storage("docs", "westeurope", "LRS")
    container = res(
        "azurerm_storage_container", "c", {"storage_account_id": Ref("azurerm_storage_account.docs", "id")}
    )
    by_name = res("azurerm_storage_share", "s", {"storage_account_name": "docs"})
    vault = res("azurerm_key_vault", "kv", {"name": "kv", "location": "eastus"})
    key = res("azurerm_key_vault_key", "k", {"key_vault_id": Ref("azurerm_key_vault.kv", "id")})
    cmk = res(
        "azurerm_storage_account_customer_managed_key",
        "cmk",
        {
            "storage_account_id": Ref("azurerm_storage_account.docs", "id"),
            "key_vault_key_id": Ref("azurerm_key_vault_key.k", "id"),
        },
    )
    facts = run(sa, container, by_name, vault, key, cmk)
    assert code(facts["azurerm_storage_container.c"].location) == "westeurope"
    assert code(facts["azurerm_storage_share.s"].location) == "westeurope"
    docs = facts["azurerm_storage_account.docs"]
    assert docs.encryption is Encryption.CUSTOMER
    assert [code(k.location) for k in docs.keys] == ["eastus"]


def test_cosmos_geo_locations_and_default_geo_backup() -> None:
    f = run(
        res(
            "azurerm_cosmosdb_account",
            "c",
            {
                "location": "westeurope",
                "geo_location": [
                    {"location": "westeurope", "failover_priority": 0},
                    {"location": "East US", "failover_priority": 1},
                ],
            },
        )
    )["azurerm_cosmosdb_account.c"]
    assert [(c.kind, code(c.location)) for c in f.copies] == [
        ("replica", "eastus"),
        ("backup", "northeurope"),
    ]
    local = run(
        res(
            "azurerm_cosmosdb_account",
            "c",
            {"location": "westeurope", "backup": [{"type": "Periodic", "storage_redundancy": "Local"}]},
        )
    )["azurerm_cosmosdb_account.c"]
    assert local.copies == []


def test_mssql_database_backups_default_geo_and_geo_secondary() -> None:
    server = res("azurerm_mssql_server", "s", {"name": "s", "location": "brazilsouth"})
    db = res("azurerm_mssql_database", "db", {"server_id": Ref("azurerm_mssql_server.s", "id")})
    local = res(
        "azurerm_mssql_database",
        "local",
        {"server_id": Ref("azurerm_mssql_server.s", "id"), "storage_account_type": "Local"},
    )
    us = res("azurerm_mssql_server", "us", {"name": "us", "location": "eastus"})
    secondary = res(
        "azurerm_mssql_database",
        "sec",
        {
            "server_id": Ref("azurerm_mssql_server.us", "id"),
            "create_mode": "Secondary",
            "creation_source_database_id": Ref("azurerm_mssql_database.local", "id"),
            "storage_account_type": "Local",
        },
    )
    facts = run(server, db, local, us, secondary)
    d = facts["azurerm_mssql_database.db"]
    assert code(d.location) == "brazilsouth"
    assert [(c.kind, code(c.location)) for c in d.copies] == [("backup", "southcentralus")]
    assert [(c.kind, code(c.location)) for c in facts["azurerm_mssql_database.local"].copies] == [
        ("replica", "eastus")
    ]
    assert d.encryption is Encryption.PROVIDER


def test_recovery_vault_default_georedundant() -> None:
    f = run(res("azurerm_recovery_services_vault", "v", {"location": "northeurope"}))[
        "azurerm_recovery_services_vault.v"
    ]
    assert [code(c.location) for c in f.copies] == ["westeurope"]


def test_azure_unknown_location_is_unknown_not_a_pass() -> None:
    f = run(
        storage("sa", "westeurope", "GRS"), res("azurerm_managed_disk", "d", {"location": Unknown("var.loc")})
    )
    assert isinstance(f["azurerm_managed_disk.d"].location, Unknown)


def test_azure_cmk_attachment_by_vault_and_key_name_locates_the_vault() -> None:
    facts = run(
        res("azurerm_key_vault", "us", {"name": "kv-us", "location": "East US"}),
        res("azurerm_storage_account", "sa", {"name": "sa", "location": "westeurope",
                                              "account_replication_type": "LRS"}),
        res("azurerm_storage_account_customer_managed_key", "cmk",
            {"storage_account_id": Ref("azurerm_storage_account.sa", "id"),
             "key_vault_id": Ref("azurerm_key_vault.us", "id"), "key_name": "cmk"}),
    )
    sa = facts["azurerm_storage_account.sa"]
    assert sa.encryption is Encryption.CUSTOMER
    [key] = sa.keys
    assert code(key.location) == "eastus" and key.via == "key_vault_id"


# --------------------------------------------------------------------------- copies per type


def test_bigtable_clusters_first_is_home_others_are_replicas() -> None:
    facts = run(res("google_bigtable_instance", "bt", {"name": "bt", "cluster": [
        {"cluster_id": "a"}, {"cluster_id": "b", "zone": "us-central1-b"}, {"cluster_id": "c", "zone": Unknown("u")}]}))
    bt = facts["google_bigtable_instance.bt"]
    assert code(bt.location) == "europe-west1-b"  # provider zone for the first cluster
    assert [c.via for c in bt.copies] == ["cluster[1].zone", "cluster[2].zone"]
    assert code(bt.copies[0].location) == "us-central1-b" and isinstance(bt.copies[1].location, Unknown)


def test_ecr_and_efs_replication_destinations() -> None:
    facts = run(
        res("aws_ecr_replication_configuration", "r", {"replication_configuration": [{"rule": [
            {"destination": [{"region": "eu-west-1"}, {"region": "us-west-2"}]}]}]}),
        res("aws_efs_file_system", "fs", {"encrypted": True}, line=3),
        res("aws_efs_replication_configuration", "same", {"source_file_system_id": Ref("aws_efs_file_system.fs", "id"),
                                                          "destination": [{"availability_zone_name": "us-east-2b"}]},
            line=9),
        res("aws_efs_replication_configuration", "other", {"source_file_system_id": Ref("aws_efs_file_system.fs", "id"),
                                                           "destination": [{}]}, file="dr.tf"),
    )
    ecr = facts["aws_ecr_replication_configuration.r"]
    assert ecr.location is None and [code(c.location) for c in ecr.copies] == ["eu-west-1", "us-west-2"]
    az, same_region = facts["aws_efs_file_system.fs"].copies
    assert code(az.location) == "us-east-2" and az.line == 9
    # declared in another file: the copy points there, so a finding lands on the block that makes the copy
    assert code(same_region.location) == "eu-west-1" and same_region.file == "dr.tf"
    assert same_region.line == 10


def test_log_sinks_follow_their_destination() -> None:
    facts = run(
        res("google_storage_bucket", "logs", {"name": "logs", "location": "US"}),
        res("google_logging_project_sink", "gcs", {"destination": "storage.googleapis.com/logs"}),
        res("google_logging_project_sink", "lb", {
            "destination": "logging.googleapis.com/projects/p/locations/europe-west1/buckets/b"}),
        res("google_logging_project_sink", "ps", {"destination": "pubsub.googleapis.com/projects/p/topics/t"}),
        res("google_logging_project_sink", "ext", {"destination": "storage.googleapis.com/elsewhere"}),
    )
    assert code(facts["google_logging_project_sink.gcs"].copies[0].location) == "US"
    assert code(facts["google_logging_project_sink.lb"].copies[0].location) == "europe-west1"
    assert facts["google_logging_project_sink.ps"].copies == [] and facts["google_logging_project_sink.ps"].notes
    assert isinstance(facts["google_logging_project_sink.ext"].copies[0].location, Unknown)


def test_diagnostic_setting_destinations() -> None:
    facts = run(
        res("azurerm_storage_account", "sa", {"name": "sa", "location": "East US", "account_replication_type": "LRS"}),
        res("azurerm_log_analytics_workspace", "law", {"name": "law", "location": "westeurope"}),
        res("azurerm_monitor_diagnostic_setting", "d", {"storage_account_id": Ref("azurerm_storage_account.sa", "id"),
                                                        "log_analytics_workspace_id": Ref(
                                                            "azurerm_log_analytics_workspace.law", "id")}),
    )
    d = facts["azurerm_monitor_diagnostic_setting.d"]
    assert d.location is None and [code(c.location) for c in d.copies] == ["eastus", "westeurope"]
    assert {c.kind for c in d.copies} == {"sink"}


def test_failover_group_and_redis_linked_server_partners() -> None:
    facts = run(
        res("azurerm_mssql_server", "main", {"name": "main", "location": "westeurope"}),
        res("azurerm_mssql_server", "dr", {"name": "dr", "location": "eastus"}),
        res("azurerm_mssql_failover_group", "fg", {"server_id": Ref("azurerm_mssql_server.main", "id"),
                                                   "partner_server": [{"id": Ref("azurerm_mssql_server.dr", "id")}]},
            line=30),
        res("azurerm_redis_cache", "eu", {"name": "eu", "location": "westeurope"}),
        res("azurerm_redis_cache", "us", {"name": "us", "location": "eastus2"}),
        res("azurerm_redis_linked_server", "l1", {"target_redis_cache_name": "eu",
                                                  "linked_redis_cache_id": Ref("azurerm_redis_cache.us", "id")}),
        res("azurerm_redis_linked_server", "l2", {"target_redis_cache_name": "eu",
                                                  "linked_redis_cache_location": "North Europe"}),
    )
    [fg] = facts["azurerm_mssql_server.main"].copies
    assert code(fg.location) == "eastus" and fg.line == 30 and fg.kind == "replica"
    assert [code(c.location) for c in facts["azurerm_redis_cache.eu"].copies] == ["eastus2", "northeurope"]


def test_aurora_global_members_copy_to_each_other() -> None:
    facts = run(
        res("aws_rds_global_cluster", "g", {"global_cluster_identifier": "g"}),
        res("aws_rds_cluster", "p", {"global_cluster_identifier": Ref("aws_rds_global_cluster.g", "id"),
                                     "storage_encrypted": True}),
        res("aws_rds_cluster", "s", {"global_cluster_identifier": Ref("aws_rds_global_cluster.g", "id")}, AWS_US),
    )
    assert [code(c.location) for c in facts["aws_rds_cluster.p"].copies] == ["us-east-1"]
    assert [code(c.location) for c in facts["aws_rds_cluster.s"].copies] == ["eu-west-1"]
    assert facts["aws_rds_global_cluster.g"].location is None


def test_elasticache_global_members_and_secondary_inherits_encryption() -> None:
    facts = run(
        res("aws_elasticache_replication_group", "p",
            {"replication_group_id": "p", "at_rest_encryption_enabled": True}),
        res("aws_elasticache_global_replication_group", "g", {
            "primary_replication_group_id": Ref("aws_elasticache_replication_group.p", "id")}),
        res("aws_elasticache_replication_group", "s", {
            "global_replication_group_id": Ref("aws_elasticache_global_replication_group.g",
                                               "global_replication_group_id")},
            AWS_US),
        res("aws_elasticache_replication_group", "orphan", {"global_replication_group_id": "ldgnf-elsewhere"}),
    )
    assert [code(c.location) for c in facts["aws_elasticache_replication_group.p"].copies] == ["us-east-1"]
    assert [code(c.location) for c in facts["aws_elasticache_replication_group.s"].copies] == ["eu-west-1"]
    assert facts["aws_elasticache_replication_group.s"].encryption is Encryption.PROVIDER
    assert isinstance(facts["aws_elasticache_replication_group.orphan"].encryption, Unknown)


def test_aws_managed_key_known_only_by_alias_is_provider_managed() -> None:
    from scanner.loaders.hcl_eval import Partial

    arn = Partial("data source is not evaluated statically", "arn:aws:kms:eu-west-1:${account}:alias/aws/rds")
    facts = run(res("aws_db_instance", "db", {"storage_encrypted": True, "kms_key_id": arn}))
    db = facts["aws_db_instance.db"]
    assert db.encryption is Encryption.PROVIDER and db.keys == []


def test_sse_configuration_joins_a_directory_bucket() -> None:
    facts = run(
        res("aws_s3_directory_bucket", "d", {"bucket": "d--euw1-az1--x-s3"}),
        res("aws_s3_bucket_server_side_encryption_configuration", "e", {
            "bucket": Ref("aws_s3_directory_bucket.d", "id"),
            "rule": [{"apply_server_side_encryption_by_default": [
                {"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:us-east-1:1:key/k"}]}]}),
    )
    assert list(facts) == ["aws_s3_directory_bucket.d"]
    d = facts["aws_s3_directory_bucket.d"]
    assert d.encryption is Encryption.CUSTOMER and code(d.keys[0].location) == "us-east-1"
