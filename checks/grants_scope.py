"""Grants that open every store of a scope: a GCP project, folder or organisation, a service account to impersonate.

A role on a project is a grant on each store of that project; a role on a service account lets its
members act as it, so it opens what the service account is granted. Such a grant names no one store:
its ``store`` is a :class:`StoreScope`, and RES006 asks :meth:`StoreScope.stores` which facts of the unit it
covers (one finding per store and principal). A scope that covers no store of the scan still reaches
whatever it contains elsewhere: the finding is then at the grant, worded with :meth:`StoreScope.describe`.

Matching is by what is written, failing towards more stores, never fewer: a store whose ``project`` is
not written (the provider's project) or not known statically may be in any project; a folder or
organisation covers every Google store of the unit (the projects under it are not known statically).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from scanner.model import Ref, Resource, Unknown

__all__ = ["StoreScope", "text_of"]

#: Opened stores of a grant fact: (store as written, the store's resource when in the unit), as RES006 computes.
OpenedFn = Callable[[Any, Any], "list[tuple[str, Resource | None]]"]


def text_of(value: Any) -> str | None:
    """A value as text: a str, a reference as ``${address.attr}``, a Partial's spelling; None when unknown."""
    if isinstance(value, str):
        return value
    if isinstance(value, Ref):
        return "${" + str(value) + "}"
    text = getattr(value, "text", None) if isinstance(value, Unknown) else None
    return text if isinstance(text, str) and text else None


_NOUN = {"project": "project", "folder": "folder", "organization": "organization",
         "service-account": "service account", "resource-group": "resource group", "subscription": "subscription",
         "management-group": "management group"}


@dataclass(frozen=True)
class StoreScope:
    """The stores a wide grant opens: ``kind`` ``project``/``folder``/``organization`` (``cloud`` gcp) or
    ``service-account`` (the account to impersonate); ``ident`` as written (str, Ref or Unknown)."""

    cloud: str
    kind: str
    ident: Any
    fallback: bool = True  # no store of the unit covered: the grant still reaches the scope (False: nothing)
    name: str | None = None  # a resource group named by reference: its name (checks.grant_sources.link_grants)

    def spelt(self) -> str:
        if isinstance(self.ident, Ref):
            return self.ident.address  # google_service_account.etl (its .name / .id)
        return text_of(self.ident) or "(not known statically)"

    def describe(self) -> str:
        if self.kind == "service-account":
            return f"what service account {self.spelt()} can reach"
        if self.kind == "public-container":
            return f"container {self.ident[0]}"
        return f"every store of {_NOUN.get(self.kind, self.kind)} {self.spelt()}"

    def stores(self, ctx: Any, opened: OpenedFn, depth: int = 0) -> list[tuple[str, Resource | None]]:
        """The unit's stores this scope covers (``ctx`` a RuleContext; ``opened`` RES006's opened stores)."""
        if self.kind == "service-account":
            return self._impersonated(ctx, opened, depth)
        if self.kind == "public-container":
            return _public_container(ctx, *self.ident)
        facts: Iterable[Any] = (*ctx.unit_facts("data-store"), *ctx.unit_facts("key"))
        own = ctx.policy.self_id(self.cloud, ctx.policy_path)
        return [(f.resource.address, f.resource) for f in facts if self.covers(f.resource, own)]

    def covers(self, store: Resource, self_project: str | None = None) -> bool:
        """Whether ``store`` is in the scope. ``self_project``: the project the root deploys into (the policy's
        ``principals.gcp.self`` or the root's ``self``), the project of a store that names none."""
        if self.cloud == "gcp":
            if not store.type.startswith("google_"):
                return False
            if self.kind != "project":
                return True  # a folder or organisation: any project of the unit may be under it
            theirs = _project(text_of(store.attributes.get("project")) or self_project, self_project)
            mine = _project(text_of(self.ident), self_project)
            return theirs is None or mine is None or theirs == mine or not _literal(theirs) or not _literal(mine)
        if self.cloud == "azure":
            if not store.type.startswith("azurerm_"):
                return False
            if self.kind != "resource-group":
                return True  # a subscription or management group: the unit's stores may all be in it
            return _same_group(self.ident, store.attributes.get("resource_group_name"), self.name)
        return False

    def _impersonated(self, ctx: Any, opened: OpenedFn, depth: int) -> list[tuple[str, Resource | None]]:
        """What the service account is granted in the unit: grants naming it as a member, followed once more
        for an account that may impersonate another (depth 2)."""
        needles = _account_needles(self.ident)
        if not needles or depth > 1:
            return []
        out: dict[str, tuple[str, Resource | None]] = {}
        for grant in ctx.unit_facts("grant"):
            if any(any(n in (text_of(g.principal) or "") for n in needles) for g in grant.grants):
                store = grant.store
                found = (store.stores(ctx, opened, depth + 1) if isinstance(store, StoreScope)
                         else opened(grant, ctx))
                for name, resource in found:
                    if resource is not None:
                        out.setdefault(resource.address, (name, resource))
        return list(out.values())


_SA_REF = re.compile(r"\$\{((?:module\.[^}]*\.)?google_service_account\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)\.")


def _same_group(scope: Any, group: Any, resolved: str | None = None) -> bool:
    """Whether a store's ``resource_group_name`` is the resource group a scope names (unknown: it may be)."""
    if isinstance(scope, Ref) and isinstance(group, Ref):
        return scope.address == group.address
    name = text_of(group)
    m = re.fullmatch(r"/subscriptions/[^/]+/resourceGroups/([^/]+)/?", text_of(scope) or "", re.IGNORECASE)
    mine = resolved if resolved is not None else m.group(1) if m is not None else None
    if name is None or mine is None or not _literal(name) or not _literal(mine):
        return True
    return name.lower() == mine.lower()


def _public_container(ctx: Any, container: str, account: Any) -> list[tuple[str, Resource | None]]:
    """A container whose access type is public is anonymous-readable unless its account disallows nested public
    items (``allow_nested_items_to_be_public``, default false); an account outside the unit may allow it."""
    fact = ctx.facts.get(container)
    own = fact.resource if fact is not None and getattr(fact, "role", "") == "data-store" else None
    parent = None
    if isinstance(account, Ref):
        found = ctx.facts.get(account.address)
        parent = found.resource if found is not None else None
    elif isinstance(account, str):
        parent = next((f.resource for f in ctx.unit_facts("data-store") if f.resource.type == "azurerm_storage_account"
                       and f.resource.attributes.get("name") == account), None)
    if parent is not None:
        allowed = parent.attributes.get("allow_nested_items_to_be_public")
        if allowed is False or allowed is None:
            return []
    return [(container, own)]


def _project(text: str | None, self_project: str | None) -> str | None:
    """A project as written, ``projects/`` dropped, the symbolic self resolved when the policy names it."""
    if text is None:
        return None
    text = text.removeprefix("projects/")
    if self_project is not None and re.fullmatch(r"\$\{self:gcp\}", text):
        return self_project
    return text


def _literal(text: str) -> bool:
    return "${" not in text


def _account_needles(ident: Any) -> tuple[str, ...]:
    """How a member names the service account: ``google_service_account.x.`` (a reference) or its email."""
    if isinstance(ident, Ref):
        return (ident.address + ".",)
    text = text_of(ident)
    if text is None:
        return ()
    refs = tuple(m + "." for m in _SA_REF.findall(text))
    if refs:
        return refs
    email = text.rsplit("/", 1)[-1]  # projects/p/serviceAccounts/<email>
    return (f"serviceAccount:{email}",) if "@" in email else ()
