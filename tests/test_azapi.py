"""azapi_resource -> azurerm types: the table, body translation (v2 object, v1 jsonencode), parents, fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.catalog import classify, load_catalog
from scanner.loaders.azapi import ARM_TYPES, UNMAPPED_TYPE, arm_type, translate_azapi
from scanner.loaders.terraform import TerraformOptions, load_terraform
from scanner.model import Encryption, Location, Ref, Resource, Unknown
from scanner.regions import catalog as region_catalog


def load(tmp_path: Path, hcl: str) -> dict[str, Resource]:
    (tmp_path / "main.tf").write_text(hcl, encoding="utf-8")
    result = load_terraform([tmp_path], tmp_path, TerraformOptions())
    assert not result.problems, result.problems
    return {r.address: r for r in result.resources}


def facts(resources: dict[str, Resource]) -> dict:
    return {f.resource.address: f for f in classify(list(resources.values()), region_catalog())}


def azapi(address: str, attrs: dict) -> Resource:
    return Resource("azapi_resource", address, "main.tf", 1, attrs)


def test_every_table_type_is_catalogued_or_ignored() -> None:
    stores = load_catalog()
    for arm, tf in ARM_TYPES.items():
        assert arm == arm.lower() and "@" not in arm
        assert tf in stores.types or tf in stores.ignored, (arm, tf)
    assert stores.spec(UNMAPPED_TYPE) is not None


@pytest.mark.parametrize("raw, expected", [
    ("Microsoft.Storage/storageAccounts@2023-05-01", "microsoft.storage/storageaccounts"),
    ("microsoft.storage/STORAGEACCOUNTS", "microsoft.storage/storageaccounts"),
    ("notatype", None),
    (Unknown("x"), None),
])
def test_arm_type_is_case_insensitive_without_api_version(raw, expected) -> None:
    assert arm_type(raw) == expected


def test_storage_v2_object_body(tmp_path: Path) -> None:
    res = load(tmp_path, '''
resource "azapi_resource" "sa" {
  type      = "Microsoft.Storage/storageAccounts@2023-05-01"
  name      = "st1"
  parent_id = "/subscriptions/x/resourceGroups/rg"
  location  = "West Europe"
  body = {
    sku = { name = "Standard_RAGZRS" }
    properties = { encryption = { keySource = "Microsoft.Keyvault",
                   keyvaultproperties = { keyvaulturi = "https://kv1.vault.azure.net/", keyname = "k" } } }
  }
}
resource "azapi_resource" "kv" {
  type      = "Microsoft.KeyVault/vaults@2023-07-01"
  name      = "kv1"
  parent_id = "/subscriptions/x/resourceGroups/rg"
  location  = "eastus"
  body      = { properties = { tenantId = "t" } }
}
''')
    sa = res["azapi_resource.sa"]
    assert sa.type == "azurerm_storage_account"
    assert sa.extra["terraform_type"] == "azapi_resource"
    assert sa.extra["arm_type"] == "microsoft.storage/storageaccounts"
    assert sa.attributes["account_replication_type"] == "RAGZRS"
    assert sa.attributes["customer_managed_key"] == [{"key_vault_key_id": "https://kv1.vault.azure.net/keys/k"}]
    f = facts(res)["azapi_resource.sa"]
    assert f.location == Location("azure", "westeurope", f.location.source)
    assert [c.location.code for c in f.copies] == ["northeurope"]
    assert f.encryption is Encryption.CUSTOMER
    assert f.keys[0].location.code == "eastus"  # the key vault declared with azapi too


def test_cosmos_v1_jsonencode_body_and_child_through_parent_id(tmp_path: Path) -> None:
    res = load(tmp_path, '''
resource "azurerm_resource_group" "rg" {
  name     = "rg"
  location = "westeurope"
}
resource "azapi_resource" "acct" {
  type      = "Microsoft.DocumentDB/databaseAccounts@2024-05-15"
  name      = "acct"
  parent_id = azurerm_resource_group.rg.id
  body = jsonencode({
    properties = {
      locations    = [{ locationName = "westeurope" }, { locationName = "Germany West Central" }]
      backupPolicy = { type = "Continuous" }
    }
  })
}
resource "azapi_resource" "db" {
  type      = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15"
  name      = "db"
  parent_id = azapi_resource.acct.id
  body      = { properties = { resource = { id = "db" } } }
}
''')
    acct, db = res["azapi_resource.acct"], res["azapi_resource.db"]
    assert acct.attributes["location"] == "westeurope"  # no location: the resource group's
    assert acct.attributes["backup"] == [{"type": "Continuous"}]
    assert db.type == "azurerm_cosmosdb_sql_database"
    assert db.attributes["account_name"] == Ref("azapi_resource.acct", "id")
    fs = facts(res)
    assert [c.location.code for c in fs["azapi_resource.acct"].copies] == ["germanywestcentral"]
    assert fs["azapi_resource.db"].location.code == "westeurope"


def test_sql_database_defaults_to_geo_backups_and_flexible_geo_backup() -> None:
    server = azapi("azapi_resource.s", {"type": "Microsoft.Sql/servers@2023-08-01-preview", "name": "s",
                                         "location": "brazilsouth", "body": {}})
    db = azapi("azapi_resource.d", {"type": "Microsoft.Sql/servers/databases@2023-08-01-preview", "name": "d",
                                     "parent_id": Ref("azapi_resource.s", "id"), "body": {}})
    pg = azapi("azapi_resource.p", {"type": "Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01", "name": "p",
                                     "location": "brazilsouth",
                                     "body": {"properties": {"backup": {"geoRedundantBackup": "Disabled"}}}})
    translate_azapi([server, db, pg])
    assert db.attributes["server_id"] == Ref("azapi_resource.s", "id")
    assert "storage_account_type" not in db.attributes
    assert pg.attributes["geo_redundant_backup_enabled"] is False
    fs = {f.resource.address: f for f in classify([server, db, pg], region_catalog())}
    assert [c.location.code for c in fs["azapi_resource.d"].copies] == ["southcentralus"]
    assert fs["azapi_resource.p"].copies == []


def test_registry_replication_is_folded_into_the_registry() -> None:
    reg = azapi("azapi_resource.r", {"type": "Microsoft.ContainerRegistry/registries@2023-07-01", "name": "r",
                                      "location": "westeurope", "body": {"sku": {"name": "Premium"}}})
    rep = azapi("azapi_resource.rep", {"type": "Microsoft.ContainerRegistry/registries/replications@2023-07-01",
                                        "name": "eastus", "location": "eastus",
                                        "parent_id": Ref("azapi_resource.r", "id")})
    translate_azapi([rep, reg])  # order does not matter
    assert reg.attributes["georeplications"] == [{"location": "eastus"}]
    assert rep.type == "azapi_resource"  # not a store of its own
    f = classify([reg, rep], region_catalog())
    assert [x.resource.address for x in f] == ["azapi_resource.r"]
    assert f[0].copies[0].location.code == "eastus"


def test_unknown_types_data_store_unless_clearly_not() -> None:
    vnet = azapi("a.vnet", {"type": "Microsoft.Network/virtualNetworks@2023-11-01", "location": "eastus"})
    ident = azapi("a.id", {"type": "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31",
                           "location": "eastus"})
    glob = azapi("a.fd", {"type": "Microsoft.Cdn/profiles@2024-02-01", "location": "global"})
    child = azapi("a.c", {"type": "Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01",
                          "parent_id": "/subscriptions/x/.../blobServices/default", "body": {}})
    other = azapi("a.app", {"type": "Microsoft.AppConfiguration/configurationStores@2023-03-01",
                            "location": "eastus", "body": {"properties": {"encryption": {
                                "keyVaultProperties": {"keyIdentifier": "https://kv9.vault.azure.net/keys/k"}}}}})
    computed = azapi("a.any", {"type": Unknown("var.type has no value"), "location": "eastus"})
    translate_azapi([vnet, ident, glob, child, other, computed])
    assert [r.type for r in (vnet, ident, glob, child)] == ["azapi_resource"] * 4
    assert other.type == computed.type == UNMAPPED_TYPE
    fs = {f.resource.address: f for f in classify([vnet, ident, glob, child, other, computed], region_catalog())}
    assert set(fs) == {"a.app", "a.any"}
    assert fs["a.app"].location.code == "eastus"
    assert fs["a.app"].encryption is Encryption.CUSTOMER
    assert fs["a.any"].encryption is Encryption.PROVIDER


def test_unknown_body_makes_copies_unknown_not_absent() -> None:
    sa = azapi("a.sa", {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "location": "westeurope",
                        "body": Unknown("var.body has no value")})
    nosku = azapi("a.nosku", {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "location": "westeurope",
                              "body": {}})
    translate_azapi([sa, nosku])
    fs = {f.resource.address: f for f in classify([sa, nosku], region_catalog())}
    assert isinstance(fs["a.sa"].copies[0].location, Unknown)
    assert isinstance(fs["a.nosku"].copies[0].location, Unknown)


def test_findings_show_azapi_resource_as_type() -> None:
    from types import SimpleNamespace

    from scanner.engine import ScanOptions, stamp
    from scanner.model import Category, Severity, Violation
    from scanner.policy import load_policy
    from tests.conftest import BUNDLED_POLICY

    sa = azapi("a.sa", {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "location": "uksouth",
                        "body": {"sku": {"name": "Standard_LRS"}}})
    translate_azapi([sa])
    rule = SimpleNamespace(id="RES001", name="x", severity=Severity.HIGH, controls=())
    finding = stamp(rule, Violation(Category.PLACEMENT, "m", "r"), sa, load_policy(BUNDLED_POLICY),
                    ScanOptions(paths=[]))
    assert finding.resource_type == "azapi_resource"
