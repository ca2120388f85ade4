"""GCP grants on scopes: project, folder and organisation IAM, and service-account IAM (impersonation).

``google_project_iam_member``/``_binding``/``_policy`` (and the folder and organisation ones) grant a
role on every resource below the project, folder or organisation: a role that reaches data there opens
every store of that scope (:class:`checks.grants_scope.StoreScope`). Which roles reach data is a fact
about Google's predefined roles, kept here as data: the basic roles (``owner``, ``editor``, ``viewer``),
every role of a service that holds data (Cloud Storage, BigQuery, Cloud KMS, Secret Manager, Pub/Sub,
Spanner, Cloud SQL, Firestore/Datastore, Bigtable, Memorystore, AlloyDB, Filestore, Artifact Registry,
GKE, Backup and DR, Dataproc, Healthcare, Vertex AI), the roles that act as a service account
(``iam.serviceAccountUser``/``TokenCreator``/``workloadIdentityUser``...) and those that can grant
themselves any role (``resourcemanager.*IamAdmin``, ``iam.securityAdmin``). A custom role
(``projects/p/roles/r``, ``organizations/o/roles/r``) or a role not known statically may hold any
permission: it is read too (fail closed). Any other predefined role (``compute.networkAdmin``,
``logging.logWriter``) opens no store and is not read.

``google_service_account_iam_*`` lets its members act as the service account: every role on it is read,
and it opens what the service account is granted in the scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from checks.grants import GrantFacts, _gcp_member, _gcp_policy
from checks.grants_scope import StoreScope
from scanner.model import Resource

__all__ = ["TERRAFORM", "reaches_data"]

_DATA_SERVICES = (
    "storage", "storagetransfer", "bigquery", "bigquerydatatransfer", "cloudkms", "secretmanager", "pubsub",
    "spanner", "cloudsql", "datastore", "bigtable", "redis", "memcache", "alloydb", "file", "artifactregistry",
    "container", "backupdr", "dataproc", "healthcare", "aiplatform", "firebase", "firebasedatabase",
)
_DATA_ROLE = re.compile(
    r"roles/(?:owner|editor|viewer"
    r"|(?:" + "|".join(_DATA_SERVICES) + r")\.[A-Za-z]+"
    r"|iam\.(?:serviceAccountUser|serviceAccountTokenCreator|serviceAccountKeyAdmin|serviceAccountAdmin|"
    r"serviceAccountOpenIdTokenCreator|workloadIdentityUser|securityAdmin)"
    r"|resourcemanager\.(?:projectIamAdmin|folderIamAdmin|folderAdmin|organizationAdmin))"
)
_PREDEFINED = re.compile(r"roles/[A-Za-z0-9_.]+")


def reaches_data(role: Any) -> bool:
    """Whether a role granted on a project/folder/organisation can reach the data below it (module doc)."""
    if not isinstance(role, str):
        return True  # not known statically: may be any role
    if not _PREDEFINED.fullmatch(role):
        return True  # a custom role: any permission
    return bool(_DATA_ROLE.fullmatch(role))


_Reader = Callable[[Resource], "GrantFacts | None"]


def _scoped(read: _Reader, kind: str, ident_attr: str, data_roles_only: bool = True) -> _Reader:
    """A GCP IAM reader whose store is every store of the scope, keeping only the roles that reach data."""

    def reader(r: Resource) -> GrantFacts | None:
        facts = read(r)
        if facts is None:
            return None
        facts.store = scope = StoreScope("gcp", kind, r.attributes.get(ident_attr))
        if kind == "service-account":
            facts.grants = [replace(g, via=f"{g.via} (acts as service account {scope.spelt()})") for g in facts.grants]
        if data_roles_only:
            facts.grants = [g for g in facts.grants if any(reaches_data(a) for a in g.actions or (None,))]
            if not facts.grants and facts.unreadable is None:
                return None
        return facts

    return reader


def _iam(prefix: str, kind: str, ident_attr: str, data_roles_only: bool = True) -> dict[str, _Reader]:
    return {f"{prefix}_iam_member": _scoped(_gcp_member(ident_attr, ()), kind, ident_attr, data_roles_only),
            f"{prefix}_iam_binding": _scoped(_gcp_member(ident_attr, ()), kind, ident_attr, data_roles_only),
            f"{prefix}_iam_policy": _scoped(_gcp_policy(ident_attr, ()), kind, ident_attr, data_roles_only)}


TERRAFORM: dict[str, _Reader] = {
    **_iam("google_project", "project", "project"),
    **_iam("google_folder", "folder", "folder"),
    **_iam("google_organization", "organization", "org_id"),
    **_iam("google_service_account", "service-account", "service_account_id", data_roles_only=False),
}
