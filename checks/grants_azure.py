"""Azure grants on scopes and public storage: role assignments on a resource group / subscription / management
group, Azure Lighthouse delegations, cross-tenant replication and anonymous blob access.

* ``azurerm_role_assignment`` whose ``scope`` is a resource group, a subscription or a management group
  (an ARM id, or a reference to ``azurerm_resource_group``/``azurerm_subscription``/...): it reaches
  every store below that scope, so its store is a :class:`~checks.grants_scope.StoreScope` (one finding
  per store of the unit; a resource group matches a store's ``resource_group_name``). Role assignments
  on one store stay as :mod:`checks.grants` reads them.
* ``azurerm_lighthouse_definition``: the ``managing_tenant_id`` (a tenant, placed by
  ``principals.azure.tenants``) gets the roles of its ``authorization``/``eligible_authorization``
  blocks on its ``scope`` (the managed subscription or resource group; an assignment may narrow it to a
  resource group of that subscription, never widen it, so the definition's scope is what is judged).
* ``azurerm_storage_account`` with ``cross_tenant_replication_enabled = true`` (default ``false``,
  azurerm 4.x docs): object replication may copy its blobs to an account of any tenant.
* ``azurerm_storage_container`` whose ``container_access_type`` is ``blob`` or ``container`` (default
  ``private``): anonymous reads, when its account sets ``allow_nested_items_to_be_public = true``
  (default ``false``). An account outside the unit, or a flag not known statically, may allow it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from checks import grants
from checks.grants import Grant, GrantFacts
from checks.grants_scope import StoreScope, text_of
from scanner.model import Ref, Resource, Unknown

__all__ = ["TERRAFORM", "wide_scope"]

_Reader = Callable[[Resource], "GrantFacts | None"]

_MG = re.compile(r"/providers/Microsoft\.Management/managementGroups/([^/]+)/?", re.IGNORECASE)
_RG = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/?", re.IGNORECASE)
_SUB = re.compile(r"/subscriptions/([^/]+)/?", re.IGNORECASE)
_WIDE_TYPES = {"azurerm_resource_group": "resource-group", "azurerm_subscription": "subscription",
               "azurerm_management_group": "management-group"}


def wide_scope(scope: Any) -> StoreScope | None:
    """The scope of a role assignment when it is a resource group, subscription or management group."""
    if isinstance(scope, (Ref, Unknown)):
        address = getattr(scope, "address", "") or ""
        rtype = address.split("[")[0].rsplit(".", 2)[-2] if address.count(".") >= 1 else ""
        kind = _WIDE_TYPES.get(rtype)
        if kind is not None:
            return StoreScope("azure", kind, scope)
    text = text_of(scope)
    if text is None:
        return None
    for pattern, kind in ((_MG, "management-group"), (_RG, "resource-group"), (_SUB, "subscription")):
        if pattern.fullmatch(text):
            return StoreScope("azure", kind, scope)
    return None


def _role_assignment(r: Resource) -> GrantFacts | None:
    facts = grants.read_grants(r)
    if facts is not None:
        scope = wide_scope(r.attributes.get("scope"))
        if scope is not None:
            facts.store = scope
    return facts


def _lighthouse(r: Resource) -> GrantFacts | None:
    a = r.attributes
    roles: list[Any] = []
    for key in ("authorization", "eligible_authorization"):
        blocks = a.get(key)
        for b in blocks if isinstance(blocks, list) else ():
            if isinstance(b, Mapping):
                roles.append(b.get("role_definition_id"))
    g = Grant("azure", "tenant", a.get("managing_tenant_id"), tuple(roles), "Allow", (), False,
              "managing_tenant_id", grants._line(r, "managing_tenant_id"))
    scope = wide_scope(a.get("scope")) or StoreScope("azure", "subscription", a.get("scope"))
    return GrantFacts(r, "azure", scope, (), [g])


def _cross_tenant(r: Resource) -> GrantFacts | None:
    if r.attributes.get("cross_tenant_replication_enabled") is not True:
        return None  # default false (azurerm 4.x); unknown: RES002 reads replication, nothing opened here
    g = Grant("azure", "public", "any Azure AD tenant (cross_tenant_replication_enabled = true)",
              ("object replication",), "Allow", (), False, "cross_tenant_replication_enabled",
              grants._line(r, "cross_tenant_replication_enabled"))
    return GrantFacts(r, "azure", Ref(r.address), ("azurerm_storage_account",), [g])


def _container(r: Resource) -> GrantFacts | None:
    access = r.attributes.get("container_access_type")
    if access not in ("blob", "container") and not isinstance(access, (Unknown, Ref)):
        return None  # private (the default)
    account = r.attributes.get("storage_account_id", r.attributes.get("storage_account_name"))
    scope = StoreScope("azure", "public-container", (r.address, account), fallback=False)
    if not isinstance(access, str):
        return GrantFacts(r, "azure", scope, (), [], "its container_access_type is not known statically")
    what = ("read blobs",) if access == "blob" else ("list and read blobs",)
    g = Grant("azure", "public", f"anonymous (container_access_type = {access})", what,
              "Allow", (), False, "container_access_type", grants._line(r, "container_access_type"))
    return GrantFacts(r, "azure", scope, (), [g])


TERRAFORM: dict[str, _Reader] = {
    "azurerm_role_assignment": _role_assignment,
    "azurerm_lighthouse_definition": _lighthouse,
    "azurerm_storage_account": _cross_tenant,
    "azurerm_storage_container": _container,
}
