"""Grant readers: who a resource lets reach a data store, as policy-free ``grant`` facts.

A grant is not a data store: a bucket policy, an ``*_iam_member`` or a role assignment holds no
data; it opens a store to principals. This module reads, per grant source, the store it opens
(as written: a reference, a name, an ARN or an id) and every principal it names with the actions
and conditions of the statement that names it. Which principal is acceptable, and where each one
sits, is RES006's business (:mod:`checks.rules.access`): nothing here reads the policy.

Documents come as JSON text (heredocs, plan JSON), as the evaluator's ``Encoded`` structure
(``jsonencode`` with unknown leaves, ``data "aws_iam_policy_document"``) or as an Unknown; a
document that cannot be read is kept as ``unreadable`` so the rule reports it (never a pass).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.iam_document import statements
from scanner.model import Ref, Resource, Unknown

__all__ = ["GRANT_TYPES", "Grant", "GrantFacts", "read_grants", "structure_of"]


@dataclass(frozen=True)
class Grant:
    """One principal a grant names, with what the statement lets it do.

    ``kind`` says how to read ``principal``: AWS ``Principal`` kinds (``AWS``, ``Service``,
    ``Federated``, ``CanonicalUser``), ``member`` (a GCP IAM member string) or ``object`` (an
    Azure principal id). ``principal`` is a str, or an Unknown/Ref the evaluator could not compute
    (a ``Partial`` spells it, e.g. ``arn:aws:iam::${self:aws}:root``). ``negated`` marks a
    ``NotPrincipal`` (an Allow with it opens the store to everyone else).
    """

    cloud: str
    kind: str
    principal: Any
    actions: tuple[Any, ...] = ()
    effect: str = "Allow"
    conditions: tuple[tuple[str, str, tuple[Any, ...]], ...] = ()
    negated: bool = False
    via: str = ""
    line: int | None = None
    except_actions: bool = False  # ``actions`` are a NotAction list: everything but them is granted
    file: str | None = None  # where the statement is written when not in the grant's file (a data source's)


@dataclass
class GrantFacts:
    """The grants of one resource and the store they open (as written; the rule looks it up)."""

    resource: Resource
    cloud: str
    store: Any
    store_types: tuple[str, ...]
    grants: list[Grant]
    unreadable: str | None = None
    role: str = "grant"
    holds_user_data: bool = False  # a grant opens a store; the inventory lists stores
    tags: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def structure_of(value: Any) -> Any:
    """The decoded document behind a policy value: the ``Encoded`` structure, the text, or the value."""
    structure = getattr(value, "structure", None) if isinstance(value, Unknown) else None
    return structure if structure is not None else value


def _unset_in_plan(r: Resource, attr: str) -> bool:
    """A store's own Optional+Computed grant argument that the plan's configuration does not set: a plan shows
    it known after apply (the grants are separate resources, or none), which is no unreadable policy."""
    configured = r.extra.get("configured_arguments")
    return isinstance(configured, list) and attr not in configured


def _line(r: Resource, key: str) -> int | None:
    key_lines = r.extra.get("key_lines") if isinstance(r.extra, dict) else None
    if isinstance(key_lines, Mapping) and key in key_lines:
        return int(key_lines[key])
    return None


def _statement_places(r: Resource, attr: str, value: Any, count: int) -> list[tuple[str | None, int | None]]:
    """(file, line) of each of a document's ``count`` statements: the ``statement`` block of a
    ``data "aws_iam_policy_document"`` (or ``binding`` of ``data "google_iam_policy"``), a heredoc's statement,
    else the argument's line, else None (the grant's own line). ``file`` is None for the grant's own file."""
    # scanner.loaders.policy_docs.PolicyText / PolicyEncoded carry it (read by name: a warm scan imports no loader)
    carried = getattr(value, "statement_lines", None)
    if isinstance(carried, tuple) and len(carried) == count:
        return [(w[0] if w[0] != r.file else None, w[1]) if w else (None, _line(r, attr)) for w in carried]
    documents = r.extra.get("document_lines") if isinstance(r.extra, dict) else None
    here = documents.get(attr) if isinstance(documents, Mapping) else None
    if here is not None:
        line, lines = here
        if lines is not None and len(lines) == count:
            return [(None, n) for n in lines]
        return [(None, line)] * count
    return [(None, _line(r, attr))] * count


# ----------------------------------------------------------------------------- AWS documents
def _aws_document(r: Resource, attr: str) -> tuple[list[Grant], str | None]:
    value = r.attributes.get(attr)
    if value is None:
        return [], None
    doc = structure_of(value)
    if isinstance(doc, (Unknown, Ref)):
        reason = doc.reason if isinstance(doc, Unknown) else f"{doc} is known only after apply"
        return [], f"its {attr} is not known statically ({reason})"
    sts = statements(doc)
    if sts is None:
        return [], f"its {attr} is not an IAM policy document"
    grants: list[Grant] = []
    places = _statement_places(r, attr, value, len(sts))
    for i, st in enumerate(sts):
        via = f"{attr} Statement[{i}]" + (f" (Sid {st.sid})" if st.sid else "")
        file, line = places[i]
        for negated, table in ((False, st.principals), (True, st.not_principals)):
            for kind, principal in table.items():
                for who in principal:
                    grants.append(Grant("aws", kind, who, st.actions or st.not_actions, st.effect,
                                        st.conditions, negated, via, line,
                                        except_actions=not st.actions and bool(st.not_actions), file=file))
    return grants, None


def _aws(attr: str, store: Callable[[Resource], Any], types: tuple[str, ...], inline: bool = False) -> _Reader:
    """``inline``: the store's own Optional+Computed ``policy`` argument, which a plan shows as known after
    apply when the configuration does not set it (the policy is then a separate resource, or none)."""

    def read(r: Resource) -> GrantFacts | None:
        if inline and _unset_in_plan(r, attr):
            return None
        grants, unreadable = _aws_document(r, attr)
        if not grants and unreadable is None:
            return None
        return GrantFacts(r, "aws", store(r), types, grants, unreadable)

    return read


def _self(r: Resource) -> Any:
    return Ref(r.address)


# ----------------------------------------------------------------------------- AWS trust and sharing
def _trust(r: Resource) -> GrantFacts | None:
    """``aws_iam_role.assume_role_policy``: who may assume the role (it opens whatever the role can read; the
    finding is at the role)."""
    grants, unreadable = _aws_document(r, "assume_role_policy")
    if not grants and unreadable is None:
        return None
    return GrantFacts(r, "aws", _self(r), ("aws_iam_role",), grants, unreadable)


def _account(value: Any) -> Any:
    """An account id as text: checkov reads an unquoted-looking ``"012345678901"`` as the number 12345678901."""
    return f"{value:012d}" if isinstance(value, int) and not isinstance(value, bool) else value


def _aws_kind(value: Any) -> str:
    """A principal given as a plain argument: a service principal (``rds.amazonaws.com``) or an AWS one."""
    return "Service" if isinstance(value, str) and value.endswith(".amazonaws.com") else "AWS"


def _kms_grant(r: Resource) -> GrantFacts | None:
    """``aws_kms_grant``: ``grantee_principal`` may use the key for ``operations`` (RES006 follows the key to
    every store it protects)."""
    a = r.attributes
    ops = a.get("operations")
    actions = tuple(f"kms:{o}" if isinstance(o, str) else o for o in ops) if isinstance(ops, list) else ()
    who = a.get("grantee_principal")
    g = Grant("aws", _aws_kind(who), who, actions, "Allow", (), False, "grantee_principal",
              _line(r, "grantee_principal"))
    return GrantFacts(r, "aws", a.get("key_id"), ("aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"), [g])


def _shared_accounts(action: str) -> _Reader:
    """``aws_db_snapshot``/``aws_db_cluster_snapshot`` ``shared_accounts``: account ids that may restore the
    snapshot, ``"all"`` for everyone (a public snapshot)."""

    def read(r: Resource) -> GrantFacts | None:
        accounts = r.attributes.get("shared_accounts")
        if accounts is None or accounts == [] or _unset_in_plan(r, "shared_accounts"):
            return None
        if isinstance(accounts, (Unknown, Ref)):
            return GrantFacts(r, "aws", _self(r), (r.type,), [],
                              f"its shared_accounts are not known statically ({_reason(accounts)})")
        if isinstance(accounts, str):
            accounts = [accounts]
        while isinstance(accounts, list) and len(accounts) == 1 and isinstance(accounts[0], list):
            accounts = accounts[0]  # a set written as one list inside another (checkov's view of it)
        grants = [Grant("aws", "AWS", "*" if acct == "all" else _account(acct), (action,), "Allow", (), False,
                        "shared_accounts", _line(r, "shared_accounts")) for acct in accounts]
        return GrantFacts(r, "aws", _self(r), (r.type,), grants)

    return read


def _permission(store_attr: str, action: str, types: tuple[str, ...]) -> _Reader:
    """``aws_snapshot_create_volume_permission`` / ``aws_ami_launch_permission``: one account (or, for an AMI,
    ``group = "all"``, an organisation or an organisational unit ARN) may use the snapshot or image."""

    def read(r: Resource) -> GrantFacts | None:
        a = r.attributes
        grants = []
        for key in ("account_id", "group", "organization_arn", "organizational_unit_arn"):
            v = a.get(key)
            if v is None or v == "":
                continue
            grants.append(Grant("aws", "AWS", "*" if (key == "group" and v == "all") else _account(v), (action,),
                                "Allow", (), False, key, _line(r, key)))
        return GrantFacts(r, "aws", a.get(store_attr), types, grants) if grants else None

    return read


def _ram_principal(r: Resource) -> GrantFacts | None:
    """``aws_ram_principal_association``: ``principal`` (an account, organisation/OU ARN, IAM ARN or service
    principal) gets the resources of ``resource_share_arn`` (RES006 follows the share's resource associations)."""
    who = _account(r.attributes.get("principal"))
    g = Grant("aws", _aws_kind(who), who, ("ram:share",), "Allow", (), False, "principal", _line(r, "principal"))
    return GrantFacts(r, "aws", r.attributes.get("resource_share_arn"), (), [g])


def _ram_resource(r: Resource) -> GrantFacts | None:
    """``aws_ram_resource_association``: no principal; links a share to the resource it shares (a link fact the
    principal association follows)."""
    return GrantFacts(r, "aws", r.attributes.get("resource_arn"), (), [])


_LF_STORES = (("table", ("aws_glue_catalog_table",)), ("table_with_columns", ("aws_glue_catalog_table",)),
              ("database", ("aws_glue_catalog_database",)), ("data_location", ("aws_s3_bucket",)),
              ("data_cells_filter", ("aws_glue_catalog_table",)))


def _lakeformation(r: Resource) -> GrantFacts | None:
    """``aws_lakeformation_permissions``: ``principal`` (an IAM ARN, an account id, an organisation/OU ARN, or
    ``IAM_ALLOWED_PRINCIPALS``, every IAM principal of the catalog's account) gets ``permissions`` on a Glue
    database/table or an S3 data location."""
    a = r.attributes
    perms = a.get("permissions")
    actions = tuple(f"lakeformation:{p}" if isinstance(p, str) else p for p in perms) if isinstance(perms, list) else ()
    store: Any = None
    types: tuple[str, ...] = ()
    for block, block_types in _LF_STORES:
        b = a.get(block)
        b = b[0] if isinstance(b, list) and b else b
        if isinstance(b, Mapping):
            store = b.get("arn") if block == "data_location" else (b.get("name") or b.get("table_name")
                                                                    or b.get("database_name"))
            types = block_types
            break
    if store is None:
        return None  # catalog, LF-tag or data-location-admin permissions open no store by themselves
    who = _account(a.get("principal"))
    g = Grant("aws", "AWS", who, actions, "Allow", (), False, "principal", _line(r, "principal"))
    return GrantFacts(r, "aws", store, types, [g])


def _eks_access_entry(r: Resource) -> GrantFacts | None:
    """``aws_eks_access_entry``: ``principal_arn`` authenticates to the cluster (with ``kubernetes_groups``; an
    access policy association or RBAC binding decides what it may then read)."""
    a = r.attributes
    groups = a.get("kubernetes_groups")
    actions = ("eks:access",) + (tuple(f"group:{x}" for x in groups if isinstance(x, str))
                                 if isinstance(groups, list) else ())
    g = Grant("aws", "AWS", a.get("principal_arn"), actions, "Allow", (), False, "principal_arn",
              _line(r, "principal_arn"))
    return GrantFacts(r, "aws", a.get("cluster_name"), ("aws_eks_cluster",), [g])


# ----------------------------------------------------------------------------- GCP IAM
def _gcp_member(store_attr: str, types: tuple[str, ...]) -> _Reader:
    """``*_iam_member`` (one ``member``) and ``*_iam_binding`` (``members``) of one role."""

    def read(r: Resource) -> GrantFacts | None:
        a = r.attributes
        members = a.get("members") if "members" in a else [a.get("member")]
        role = a.get("role")
        if isinstance(members, (Unknown, Ref)):
            return GrantFacts(r, "gcp", a.get(store_attr), types, [],
                              f"its members are not known statically ({_reason(members)})")
        grants = [Grant("gcp", "member", m, (role,), "Allow", _gcp_condition(a), False,
                        "member" if "member" in a else "members", _line(r, "member" if "member" in a else "members"))
                  for m in members or () if m is not None]
        return GrantFacts(r, "gcp", a.get(store_attr), types, grants)

    return read


def _gcp_condition(a: Mapping[str, Any]) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
    cond = a.get("condition")
    cond = cond[0] if isinstance(cond, list) and cond else cond
    if isinstance(cond, Mapping) and cond.get("expression") is not None:
        return (("cel", "expression", (cond.get("expression"),)),)
    return ()


def _gcp_policy(store_attr: str, types: tuple[str, ...]) -> _Reader:
    """``*_iam_policy``: ``policy_data`` from ``data "google_iam_policy"`` (or JSON text)."""

    def read(r: Resource) -> GrantFacts | None:
        import json

        raw = r.attributes.get("policy_data")
        doc = structure_of(raw)
        store = r.attributes.get(store_attr)
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                return GrantFacts(r, "gcp", store, types, [], "its policy_data is not JSON")
        if isinstance(doc, (Unknown, Ref)) or not isinstance(doc, Mapping):
            return GrantFacts(r, "gcp", store, types, [],
                              f"its policy_data is not known statically ({_reason(doc)})")
        grants: list[Grant] = []
        bindings = doc.get("bindings") or ()
        places = _statement_places(r, "policy_data", raw, len(bindings) if isinstance(bindings, list) else 0)
        for i, b in enumerate(bindings):
            if not isinstance(b, Mapping):
                return GrantFacts(r, "gcp", store, types, [], "a binding of its policy_data cannot be read")
            members = b.get("members")
            if isinstance(members, (Unknown, Ref)):
                return GrantFacts(r, "gcp", store, types, [],
                                  f"bindings[{i}].members is not known statically ({_reason(members)})")
            file, line = places[i] if i < len(places) else (None, _line(r, "policy_data"))
            grants.extend(Grant("gcp", "member", m, (b.get("role"),), "Allow", _gcp_condition(b), False,
                                f"policy_data bindings[{i}]", line, file=file)
                          for m in members or ())
        return GrantFacts(r, "gcp", store, types, grants)

    return read


def _bigquery_access(r: Resource) -> GrantFacts | None:
    """``google_bigquery_dataset.access`` blocks (and ``google_bigquery_dataset_access``): one member each."""
    if r.type == "google_bigquery_dataset" and _unset_in_plan(r, "access"):
        return None
    blocks = r.attributes.get("access") if r.type == "google_bigquery_dataset" else [r.attributes]
    if isinstance(blocks, (Unknown, Ref)):
        return GrantFacts(r, "gcp", _self(r), _BQ, [],
                          f"its access blocks are not known statically ({_reason(blocks)})")
    grants: list[Grant] = []
    for i, b in enumerate(blocks or ()):
        if not isinstance(b, Mapping):
            continue
        via = f"access[{i}]" if r.type == "google_bigquery_dataset" else "access"
        for key, prefix in (("user_by_email", "user:"), ("group_by_email", "group:"), ("domain", "domain:"),
                            ("iam_member", ""), ("special_group", "")):
            v = b.get(key)
            if v is None or v == "":
                continue
            if key == "special_group" and v != "allAuthenticatedUsers":
                continue  # projectOwners/Readers/Writers: the dataset's own project
            member = f"{prefix}{v}" if isinstance(v, str) else v
            grants.append(Grant("gcp", "member", member, (b.get("role"),), "Allow", (), False, via,
                                _line(r, "access")))
    if not grants:
        return None
    store = _self(r) if r.type == "google_bigquery_dataset" else r.attributes.get("dataset_id")
    return GrantFacts(r, "gcp", store, _BQ, grants)


# ----------------------------------------------------------------------------- Azure
def _azure_role_assignment(r: Resource) -> GrantFacts | None:
    """``azurerm_role_assignment``: ``principal_id`` (an object id) gets ``role_definition_name`` on ``scope``."""
    a = r.attributes
    role = a.get("role_definition_name") if a.get("role_definition_name") is not None else a.get("role_definition_id")
    g = Grant("azure", "object", a.get("principal_id"), (role,), "Allow", (), False, "principal_id",
              _line(r, "principal_id"))
    return GrantFacts(r, "azure", a.get("scope"), (), [g])


def _azure_access_policy(r: Resource) -> GrantFacts | None:
    """Key Vault access policies (the resource, and ``azurerm_key_vault.access_policy`` blocks): explicit
    ``tenant_id`` and ``object_id``; a tenant other than the deploying one is judged as that tenant."""
    inline = r.type == "azurerm_key_vault"
    if inline and _unset_in_plan(r, "access_policy"):
        return None
    blocks = r.attributes.get("access_policy") if inline else [r.attributes]
    if isinstance(blocks, (Unknown, Ref)):
        return GrantFacts(r, "azure", _self(r), _KV, [],
                          f"its access policies are not known statically ({_reason(blocks)})")
    grants: list[Grant] = []
    for i, b in enumerate(blocks or ()):
        if not isinstance(b, Mapping):
            continue
        perms = tuple(p for key in ("secret_permissions", "key_permissions", "certificate_permissions",
                                    "storage_permissions") for p in (b.get(key) or ()) if isinstance(p, str))
        for kind, key in (("tenant", "tenant_id"), ("object", "object_id")):
            via = f"access_policy[{i}].{key}" if inline else key
            grants.append(Grant("azure", kind, b.get(key), perms, "Allow", (), False, via,
                                _line(r, "access_policy" if inline else key)))
    if not grants:
        return None
    return GrantFacts(r, "azure", _self(r) if inline else r.attributes.get("key_vault_id"), _KV, grants)


def _reason(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.reason
    if isinstance(value, Ref):
        return f"{value} is known only after apply"
    return "not a policy"


_Reader = Callable[[Resource], "GrantFacts | None"]

_S3 = ("aws_s3_bucket",)
_GCS = ("google_storage_bucket",)
_BQ = ("google_bigquery_dataset",)
_KV = ("azurerm_key_vault",)


def _arg(name: str) -> Callable[[Resource], Any]:
    return lambda r: r.attributes.get(name)


def _gcp_iam(prefix: str, store_attr: str, types: tuple[str, ...]) -> dict[str, _Reader]:
    """The three IAM resources of one GCP store type: ``_iam_member``, ``_iam_binding``, ``_iam_policy``."""
    return {f"{prefix}_iam_member": _gcp_member(store_attr, types),
            f"{prefix}_iam_binding": _gcp_member(store_attr, types),
            f"{prefix}_iam_policy": _gcp_policy(store_attr, types)}


_TERRAFORM: dict[str, _Reader] = {
    # AWS resource policies: the separate resource and the store's own (Optional+Computed) argument
    "aws_s3_bucket_policy": _aws("policy", _arg("bucket"), _S3),
    "aws_s3_bucket": _aws("policy", _self, _S3, inline=True),
    "aws_kms_key": _aws("policy", _self, ("aws_kms_key",), inline=True),
    "aws_kms_replica_key": _aws("policy", _self, ("aws_kms_replica_key",), inline=True),
    "aws_kms_external_key": _aws("policy", _self, ("aws_kms_external_key",), inline=True),
    "aws_kms_key_policy": _aws("policy", _arg("key_id"), ("aws_kms_key",)),
    "aws_sqs_queue_policy": _aws("policy", _arg("queue_url"), ("aws_sqs_queue",)),
    "aws_sqs_queue": _aws("policy", _self, ("aws_sqs_queue",), inline=True),
    "aws_sns_topic_policy": _aws("policy", _arg("arn"), ("aws_sns_topic",)),
    "aws_sns_topic": _aws("policy", _self, ("aws_sns_topic",), inline=True),
    "aws_secretsmanager_secret_policy": _aws("policy", _arg("secret_arn"), ("aws_secretsmanager_secret",)),
    "aws_secretsmanager_secret": _aws("policy", _self, ("aws_secretsmanager_secret",), inline=True),
    "aws_dynamodb_resource_policy": _aws("policy", _arg("resource_arn"), ("aws_dynamodb_table",)),
    "aws_ecr_repository_policy": _aws("policy", _arg("repository"), ("aws_ecr_repository",)),
    "aws_backup_vault_policy": _aws("policy", _arg("backup_vault_name"), ("aws_backup_vault",)),
    "aws_efs_file_system_policy": _aws("policy", _arg("file_system_id"), ("aws_efs_file_system",)),
    "aws_opensearch_domain_policy": _aws("access_policies", _arg("domain_name"), ("aws_opensearch_domain",)),
    # AWS trust and sharing (access: trust policies, key grants, snapshot/AMI/RAM shares, Lake Formation, EKS)
    "aws_iam_role": _trust,
    "aws_kms_grant": _kms_grant,
    "aws_db_snapshot": _shared_accounts("rds:RestoreDBInstanceFromDBSnapshot"),
    "aws_db_cluster_snapshot": _shared_accounts("rds:RestoreDBClusterFromSnapshot"),
    "aws_snapshot_create_volume_permission": _permission("snapshot_id", "ec2:CreateVolume",
                                                         ("aws_ebs_snapshot", "aws_ebs_snapshot_copy")),
    "aws_ami_launch_permission": _permission("image_id", "ec2:RunInstances",
                                             ("aws_ami", "aws_ami_copy", "aws_ami_from_instance")),
    "aws_ram_principal_association": _ram_principal,
    "aws_ram_resource_association": _ram_resource,
    "aws_lakeformation_permissions": _lakeformation,
    "aws_eks_access_entry": _eks_access_entry,
    # GCP IAM on stores
    **_gcp_iam("google_storage_bucket", "bucket", _GCS),
    **_gcp_iam("google_bigquery_dataset", "dataset_id", _BQ),
    **_gcp_iam("google_bigquery_table", "table_id", ("google_bigquery_table",)),
    **_gcp_iam("google_kms_crypto_key", "crypto_key_id", ("google_kms_crypto_key",)),
    **_gcp_iam("google_kms_key_ring", "key_ring_id", ("google_kms_key_ring",)),
    **_gcp_iam("google_secret_manager_secret", "secret_id", ("google_secret_manager_secret",)),
    **_gcp_iam("google_pubsub_topic", "topic", ("google_pubsub_topic",)),
    **_gcp_iam("google_spanner_database", "database", ("google_spanner_database",)),
    "google_bigquery_dataset": _bigquery_access,
    "google_bigquery_dataset_access": _bigquery_access,
    # Azure
    "azurerm_role_assignment": _azure_role_assignment,
    "azurerm_key_vault_access_policy": _azure_access_policy,
    "azurerm_key_vault": _azure_access_policy,
}

#: Every resource type a grant is read from.
GRANT_TYPES = frozenset(_TERRAFORM)


def read_grants(r: Resource) -> GrantFacts | None:
    """The grant facts of one resource, or None when it names nobody (or is no grant source)."""
    reader = _TERRAFORM.get(r.type)
    if reader is None:
        return None
    facts = reader(r)
    if facts is not None:
        tags = r.attributes.get("tags") if facts.cloud == "aws" else r.attributes.get("labels")
        facts.tags = dict(tags) if isinstance(tags, dict) else {}
    return facts

