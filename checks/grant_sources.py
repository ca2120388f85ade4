"""Every grant reader in one place: the resource-policy and store-IAM readers of :mod:`checks.grants`, the scope
readers of :mod:`checks.grants_gcp` (project/folder/organisation and service-account IAM), the Azure ones of
:mod:`checks.grants_azure` (wide role assignments, Lighthouse, cross-tenant replication, public containers)
and the Kubernetes ones of :mod:`checks.grants_kubernetes` (RBAC bindings, aws-auth).

The readers live in separate modules so each lane keeps its own block; the engine and the checkov adapter
ask this module only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from checks import grants, grants_azure, grants_gcp
from checks.grants import GrantFacts
from checks.grants_kubernetes import is_kubernetes_grant, read_kubernetes_grants
from checks.grants_scope import StoreScope
from scanner.model import Resource

__all__ = ["GRANT_TYPES", "link_grants", "read_grants"]

_MORE = {**grants_gcp.TERRAFORM, **grants_azure.TERRAFORM}

#: Every Terraform resource type a grant is read from.
GRANT_TYPES = frozenset(grants.GRANT_TYPES | set(_MORE))


def read_grants(r: Resource) -> GrantFacts | None:
    """The grant facts of one resource, or None when it names nobody (or is no grant source)."""
    if is_kubernetes_grant(r):
        return read_kubernetes_grants(r)
    reader = _MORE.get(r.type)
    if reader is None:
        return grants.read_grants(r)
    facts = reader(r)
    if facts is not None:
        labels: Any = r.attributes.get("labels" if facts.cloud == "gcp" else "tags")
        facts.tags = dict(labels) if isinstance(labels, dict) else {}
    return facts


def link_grants(facts: Iterable[GrantFacts], resources: Iterable[Resource], unit: Callable[[Resource], str]) -> None:
    """Give a resource-group scope named by reference (``azurerm_resource_group.rg.id``) that group's name, so
    it covers the stores whose ``resource_group_name`` is that name (the evaluator resolves ``.name`` to text)."""
    wanted = [f for f in facts if isinstance(f.store, StoreScope) and f.store.kind == "resource-group"
              and isinstance(getattr(f.store.ident, "address", None), str)]
    if not wanted:
        return
    groups = {(unit(r), r.address): r.attributes.get("name") for r in resources
              if r.type == "azurerm_resource_group"}  # data sources too (their address starts with data.)
    for f in wanted:
        name = groups.get((unit(f.resource), f.store.ident.address))
        if isinstance(name, str):
            f.store = dataclasses.replace(f.store, name=name)
