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
    assert kubernetes._ASO_PARENT_ARGS["azurerm_mssql_database"] == "server_id"
    arm = load_azapi_tables()
    assert arm.arm_types == azapi.ARM_TYPES
    assert azapi.ARM_TYPES["microsoft.storage/storageaccounts"] == "azurerm_storage_account"
    assert azapi.REGISTRY_REPLICATION == "microsoft.containerregistry/registries/replications"
    assert "microsoft.network/" in azapi.NON_DATA_PREFIXES


def test_every_translated_type_is_catalogued_or_ignored() -> None:
    """A table entry whose type the catalog neither checks nor ignores would be a silent gap."""
    stores = load_catalog()
    ops = load_operator_tables()
    translated = [(f"{family} {service}/{kind}", tf) for family, table in ops.families.items()
                  for (service, kind), tf in table.items()]
    translated += [(f"azapi {arm}", tf) for arm, tf in load_azapi_tables().arm_types.items()]
    missing = [(where, tf) for where, tf in translated if tf not in stores.types and tf not in stores.ignored]
    assert not missing, f"translated but neither in datastores.yaml types: nor ignored: {missing}"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace("  s3.aws:\n", "  s3.aws:\n    Bucket: aws_s3_bucket\n", 1), "duplicate key 'Bucket'"),
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
