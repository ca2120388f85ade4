"""RES006 on Azure scopes and public storage: role assignments on a resource group / subscription reach every
store below them, Lighthouse delegations are judged by the managing tenant, cross-tenant replication and
anonymous blob containers are public; an Azure Verified Module's role_assignments map is read through its module."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, REPO

ACCESS = FIXTURES / "terraform" / "access"
POLICY = ACCESS / "residency.yaml"
SCOPES = ACCESS / "azure_scopes"


def _scan(path: Path, policy: Path = POLICY) -> list:
    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES))
    return [f for f in report.findings if f.rule_id == "RES006"]


def test_failing() -> None:
    found = _scan(SCOPES / "failing")
    got = sorted((f.line, f.category.value, f.resource) for f in found)
    lake, public, vault = "azurerm_storage_account.lake", "azurerm_storage_container.public", "azurerm_key_vault.other"
    assert got == sorted([
        (17, "access", lake),  # cross_tenant_replication_enabled = true
        (27, "access", public),  # container_access_type = "blob" on an account allowing nested public items
        (42, "access", lake), (42, "access", public),  # the resource group's stores, not rg-other's vault
        (49, "unresolved", lake), (49, "unresolved", public), (49, "unresolved", vault),  # the subscription
        (56, "access", lake), (56, "access", public), (56, "access", vault),  # Lighthouse: a US managing tenant
    ])
    msgs = {(f.line, f.resource): f.message for f in found}
    assert "any Azure AD tenant" in msgs[(17, lake)]
    assert "anonymous (container_access_type = blob)" in msgs[(27, public)]
    assert "tenant 00000000-0000-0000-0000-00000000bbbb, mapped to country:US" in msgs[(56, vault)]


def test_passing() -> None:
    assert _scan(SCOPES / "passing") == []


def test_avm_key_vault_role_assignments() -> None:
    """Azure/terraform-azurerm-avm-res-keyvault-vault role_assignments: only the US object is a finding; the
    deploying identity (client config object_id) and the Irish object pass; strcontains() picks the role id."""
    (f,) = _scan(ACCESS / "azure_avm_keyvault")
    assert f.resource == "module.key_vault.azurerm_key_vault.this"
    assert "11111111-2222-3333-4444-555555555555" in f.message
    assert "roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6" in f.message


def test_container_access_type_not_known_is_unresolved(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    (tmp_path / "main.tf").write_text('''
variable "access" {}
resource "azurerm_storage_container" "c" {
  name                  = "c"
  storage_account_id    = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a"
  container_access_type = var.access
}
''')
    (f,) = _scan(tmp_path, tmp_path / "residency.yaml")
    assert f.category.value == "unresolved" and "container_access_type is not known statically" in f.message


def test_resource_group_by_literal_id(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    (tmp_path / "main.tf").write_text('''
resource "azurerm_key_vault" "a" {
  name                = "a"
  location            = "westeurope"
  resource_group_name = "rg-a"
  tenant_id           = "00000000-0000-0000-0000-00000000aaaa"
  sku_name            = "standard"
}
resource "azurerm_key_vault" "b" {
  name                = "b"
  location            = "westeurope"
  resource_group_name = "rg-b"
  tenant_id           = "00000000-0000-0000-0000-00000000aaaa"
  sku_name            = "standard"
}
resource "azurerm_role_assignment" "r" {
  scope                = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-A"
  role_definition_name = "Key Vault Secrets User"
  principal_id         = "11111111-2222-3333-4444-555555555555"
}
''')
    assert [f.resource for f in _scan(tmp_path, tmp_path / "residency.yaml")] == ["azurerm_key_vault.a"]


def test_strcontains_is_evaluated() -> None:
    from scanner.loaders.hcl_eval import _FUNCS

    assert _FUNCS["strcontains"]("/providers/Microsoft.Authorization/roleDefinitions/x", "/roleDefinitions") is True
