"""Every grant reader in one place: the resource-policy and store-IAM readers of :mod:`checks.grants`, the scope
readers of :mod:`checks.grants_gcp` (project/folder/organisation and service-account IAM) and the Kubernetes
ones of :mod:`checks.grants_kubernetes` (RBAC bindings, aws-auth).

The readers live in separate modules so each lane keeps its own block; the engine and the checkov adapter
ask this module only.
"""

from __future__ import annotations

from typing import Any

from checks import grants, grants_gcp
from checks.grants import GrantFacts
from checks.grants_kubernetes import is_kubernetes_grant, read_kubernetes_grants
from scanner.model import Resource

__all__ = ["GRANT_TYPES", "read_grants"]

_MORE = {**grants_gcp.TERRAFORM}

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
        labels: Any = r.attributes.get("labels")
        facts.tags = dict(labels) if isinstance(labels, dict) else {}
    return facts
