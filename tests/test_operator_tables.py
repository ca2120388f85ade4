"""Translation tables as data (scanner/loaders/data/*.yaml): strict loading and catalog coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.catalog import load_catalog
from scanner.loaders import azapi, kubernetes, operator_tables
from scanner.loaders.operator_tables import TableError, load_azapi_tables, load_operator_tables

DATA = Path(operator_tables.__file__).parent / "data"


def _with_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, text: str) -> None:
    """Point the table reader at a temporary data directory holding one edited file."""
    (tmp_path / "data").mkdir()
    for other in ("upbound_kinds.json", "kcc_kinds.json"):  # read by the same loader, unedited
        (tmp_path / "data" / other).write_text((DATA / other).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "data" / name).write_text(text, encoding="utf-8")

    class _Files:
        def joinpath(self, *parts: str) -> Path:
            return tmp_path.joinpath(*parts)

    monkeypatch.setattr(operator_tables.importlib_resources, "files", lambda _pkg: _Files())


def test_loaders_read_their_tables_from_the_data_files() -> None:
    ops = load_operator_tables()
    assert ops.families["upbound"] == kubernetes.UPBOUND_TYPES
    assert kubernetes.ACK_TYPES[("s3", "Bucket")] == "aws_s3_bucket"
    assert kubernetes.KCC_TYPES[("storage", "StorageBucket")] == "google_storage_bucket"
    assert kubernetes.ASO_TYPES[("storage", "StorageAccount")] == "azurerm_storage_account"
    assert kubernetes.UPBOUND_TYPES[("azure", "ResourceGroup")] == "azurerm_resource_group"
    assert ops.families["upbound"] == operator_tables.load_upbound_kinds()
    assert kubernetes._ASO_PARENT_ARGS["azurerm_mssql_database"] == "server_id"
    arm = load_azapi_tables()
    assert arm.arm_types == azapi.ARM_TYPES
    assert azapi.ARM_TYPES["microsoft.storage/storageaccounts"] == "azurerm_storage_account"
    assert azapi.REGISTRY_REPLICATION == "microsoft.containerregistry/registries/replications"
    assert "microsoft.network/" in azapi.NON_DATA_PREFIXES


def test_every_translated_type_is_catalogued_or_ignored() -> None:
    """A hand-listed entry whose type the catalog neither checks nor ignores would be a silent gap.

    The upbound table and the Terraform-based Config Connector kinds are derived (every kind, data or not):
    their types are judged like Terraform types, including the unknown-type note for data-holding types
    without an entry.
    """
    stores = load_catalog()
    ops = load_operator_tables()
    derived = {k: v.type for k, v in ops.kcc_derived.items()}
    translated = [(f"{family} {service}/{kind}", tf) for family, table in ops.families.items()
                  for (service, kind), tf in table.items()
                  if family != "upbound" and not (family == "kcc" and derived.get((service, kind)) == tf)]
    translated += [(f"azapi {arm}", tf) for arm, tf in load_azapi_tables().arm_types.items()]
    missing = [(where, tf) for where, tf in translated if tf not in stores.types and tf not in stores.ignored]
    assert not missing, f"translated but neither in datastores.yaml types: nor ignored: {missing}"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace("  s3:\n", "  s3:\n    Bucket: aws_s3_bucket\n", 1), "duplicate key 'Bucket'"),
        (lambda s: s + "kcc_extra:\n  x:\n    Y: z_z\n", "unknown sections ['kcc_extra']"),
        (lambda s: s.replace("\naso_parent_args:", "\naso_parent_arg:"), "missing sections ['aso_parent_args']"),
        (lambda s: s.replace("Bucket: aws_s3_bucket\n", "Bucket: aws-s3-bucket\n", 1), "does not match"),
        (lambda s: s.replace("Bucket: aws_s3_bucket\n", "bucket: aws_s3_bucket\n", 1), "key 'bucket'"),
        (lambda s: s.replace("Bucket: aws_s3_bucket\n", "Bucket: [aws_s3_bucket]\n", 1), "does not match"),
        (
            lambda s: s.replace("  azurerm_mssql_database: server_id\n", "  azurerm_nothing: server_id\n"),
            "not ASO-translated",
        ),
    ],
)
def test_operator_table_typos_fail_at_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, edit, message: str
) -> None:
    text = (DATA / "operators.yaml").read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text
    _with_file(monkeypatch, tmp_path, "operators.yaml", edited)
    with pytest.raises(TableError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_operator_tables()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace("non_data_prefixes:", "non_data_prefix:"), "unknown sections"),
        (
            lambda s: s.replace("microsoft.storage/storageaccounts:", "Microsoft.Storage/storageAccounts@2023-05-01:"),
            "does not match",
        ),
        (lambda s: s.replace("  - microsoft.network/\n", "  - network/\n"), "not an ARM namespace"),
        (lambda s: s.replace("  azurerm_key_vault_key: key_vault_id\n", "  azurerm_kv_key: key_vault_id\n"),
         "not types arm_types translates to"),
        (
            lambda s: s.replace(
                "  microsoft.sql/servers: azurerm_mssql_server\n",
                "  microsoft.sql/servers: azurerm_mssql_server\n  microsoft.sql/servers: azurerm_x_y\n",
            ),
            "duplicate key",
        ),
    ],
)
def test_azapi_table_typos_fail_at_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, edit, message: str) -> None:
    text = (DATA / "azapi.yaml").read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text
    _with_file(monkeypatch, tmp_path, "azapi.yaml", edited)
    with pytest.raises(TableError, match=message):
        load_azapi_tables()


# --- attribute mappings (data/operator_attributes.yaml) ---------------------------------------

ATTRS = (DATA / "operator_attributes.yaml").read_text(encoding="utf-8")


def test_the_kubernetes_loader_maps_fields_from_the_attribute_table() -> None:
    from scanner.loaders.operator_tables import load_attribute_tables

    assert load_attribute_tables() == kubernetes._ATTRIBUTES
    assert kubernetes._ATTRIBUTES["ack"]["aws_rds_cluster"] == kubernetes._ATTRIBUTES["ack"]["aws_db_instance"]
    named = {h for types in kubernetes._ATTRIBUTES.values() for f in types.values() for h in kubernetes._hooks_named(f)}
    assert named == set(kubernetes._HOOKS)  # every hook is used, and (checked at import) every hook named exists


ATTR_CASES = [
    ("    engine: engine\n", "    engine: {from: engine, iff: set}\n",
     r"ack\.aws_db_instance\.engine: from: unknown keys \['iff'\]"),
    ("    engine: engine\n", "    engine: {from: engine, ref: engine, kinds: [X]}\n",
     r"needs exactly one of from, first"),
    ("{from: storageEncrypted, if: present}", "{from: storageEncrypted, if: written}", r"if: 'written' is not one of"),
    ("{ref: keyRingRef, kinds: [KMSKeyRing], if: always}", "{ref: keyRingRef, if: always}",
     r"key_ring: ref: unknown keys \[\], missing keys \['kinds'\]"),
    ("  google_kms_key_ring:\n", "  google_kms_keyring:\n",
     r"kcc\.google_kms_keyring: not a type operators\.yaml translates"),
    ("\nkcc:\n", "\ngke:\n", r"unknown families \['gke'\]"),
    ("{first: [dbInstanceIdentifier, dbClusterIdentifier], else: name}",
     "{first: [dbInstanceIdentifier, dbClusterIdentifier], else: id}", r"else:/default: can only be 'name'"),
    ("    engine: engine\n", "    Engine: engine\n", r"argument 'Engine' does not match"),
    ("    replica: {each: replicationGroup, fields: {region_name: {from: regionName, if: always}}}",
     "    replica: {each: replicationGroup, fields: {}}", r"fields must be a non-empty mapping"),
]


@pytest.mark.parametrize(("old", "new", "message"), ATTR_CASES)
def test_attribute_table_typos_fail_at_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, old: str, new: str, message: str
) -> None:
    from scanner.loaders.operator_tables import load_attribute_tables

    translated = load_operator_tables()
    assert ATTRS.count(old) == 1, old
    _with_file(monkeypatch, tmp_path, "operator_attributes.yaml", ATTRS.replace(old, new))
    with pytest.raises(TableError, match=r"operator_attributes\.yaml: .*" + message):
        load_attribute_tables(translated=translated)


def test_upbound_kinds_are_derived_from_the_providers_generated_code() -> None:
    """tools/upbound_kinds.py read GetTerraformResourceType of every kind: the issue's missing kinds are there."""
    import json

    meta = json.loads((DATA / "upbound_kinds.json").read_text(encoding="utf-8"))["providers"]
    assert {c: m["source"] for c, m in meta.items()} == {
        "aws": "crossplane-contrib/provider-upjet-aws",
        "gcp": "crossplane-contrib/provider-upjet-gcp",
        "azure": "crossplane-contrib/provider-upjet-azure",
    }
    upbound = kubernetes.UPBOUND_TYPES
    backups = upbound[("rds.aws", "DBInstanceAutomatedBackupsReplication")]
    assert backups == "aws_db_instance_automated_backups_replication"
    assert ("rds.aws", "InstanceAutomatedBackupsReplication") not in upbound  # the old hand table's wrong name
    assert upbound[("elasticache.aws", "Cluster")] == "aws_elasticache_cluster"
    assert upbound[("elasticache.aws", "ServerlessCache")] == "aws_elasticache_serverless_cache"
    assert upbound[("s3.aws", "DirectoryBucket")] == "aws_s3_directory_bucket"
    assert upbound[("kafka.aws", "ServerlessCluster")] == "aws_msk_serverless_cluster"
    assert upbound[("rds.aws", "Instance")] == "aws_db_instance"  # no naming rule: Instance, not DBInstance
    assert len(upbound) > 2000


def test_derived_upbound_types_are_provider_types() -> None:
    """Nearly every derived type is in the provider lists; the rest are judged by the unknown-type note."""
    from checks.type_lists import listed_types

    types = set(kubernetes.UPBOUND_TYPES.values())
    unlisted = sorted(types - listed_types())
    assert len(unlisted) < len(types) * 0.05, unlisted


def test_derived_kcc_kinds_are_real_google_types() -> None:
    """Each derived Config Connector kind names a type of the google provider list (or google-beta)."""
    from checks.type_lists import listed_types

    ops = load_operator_tables()
    assert len(ops.kcc_derived) > 100
    wrong = sorted(
        (s, k, t) for (s, k), e in ops.kcc_derived.items() for t in (e.type, *e.alternatives) if t not in listed_types()
    )
    assert not wrong, wrong
    table = ops.kcc_derived[("bigquery", "BigQueryTable")]
    assert table.type == "google_bigquery_table" and table.name == "table_id"
    key = ("encryption_configuration.kms_key_name", ("KMSCryptoKey",))
    assert table.refs["encryptionConfiguration.kmsKeyRef"] == key
    # hand-listed kinds win over the derived type (ComputeDisk picks zonal or regional in a hook)
    assert ops.families["kcc"][("compute", "ComputeDisk")] == "google_compute_disk"
