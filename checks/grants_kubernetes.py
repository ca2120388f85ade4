"""Kubernetes grant readers: RBAC bindings and the EKS ``aws-auth`` ConfigMap, as ``grant`` facts for RES006.

A ``RoleBinding``/``ClusterRoleBinding`` opens the cluster's data to its subjects when the role it binds
lets them read Secrets (``get``/``list``/``watch`` on ``secrets``) or run code next to the data (``create``
on ``pods``, which can mount any Secret or PersistentVolumeClaim of the namespace, or on ``pods/exec`` /
``pods/attach``, which read what a running pod has mounted; ``get`` on those two as well, since the
WebSocket protocol of ``kubectl exec`` is authorised as ``get`` on clusters before 1.35), or ``*``. What it
opens: the Secrets and volumes of the binding's namespace (a RoleBinding, also to a ClusterRole), or of
every namespace (a ClusterRoleBinding). Secrets are no data-store facts, so the finding is at the binding.

The role is the one the loader linked (:mod:`scanner.loaders.kubernetes_rbac`), its aggregated
ClusterRoles included, else a built-in ClusterRole: ``cluster-admin``, ``admin`` and ``edit`` include
Secrets and ``pods/exec``; ``view`` excludes both (the Kubernetes "User-facing roles" table). A role
that is neither is not known: the grant is unreadable (fail closed), unless every subject is a
ServiceAccount (those stay in the cluster: nothing to place).

The ``aws-auth`` ConfigMap maps IAM roles, users and accounts to Kubernetes users and groups; each
mapped IAM principal is a grant of what the bindings of its groups (``system:masters`` is
``cluster-admin``; everyone authenticated is in ``system:authenticated``) and its username open, judged
as the AWS principal it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.grants import Grant, GrantFacts
from scanner.model import Resource

__all__ = ["BINDING_TYPES", "BUILT_IN_ROLES", "is_kubernetes_grant", "read_kubernetes_grants", "role_opens"]

# the loader's types (scanner/loaders/kubernetes_rbac.py; checks never import a loader: the checkov process has none)
BINDING_TYPES = frozenset({"RoleBinding.rbac.authorization.k8s.io", "ClusterRoleBinding.rbac.authorization.k8s.io"})
_READ = frozenset({"get", "list", "watch", "*"})
_CREATE = frozenset({"create", "*"})
_EXEC = frozenset({"create", "get", "*"})  # get: WebSocket exec/attach (see the module doc)

#: What the built-in user-facing ClusterRoles open (kubernetes.io "Using RBAC Authorization",
#: "User-facing roles"): view reads most objects but not Secrets, and cannot exec.
BUILT_IN_ROLES: Mapping[str, tuple[str, ...]] = {
    "cluster-admin": ("* on *",),
    "admin": ("get/list/watch secrets", "create pods", "create pods/exec", "create pods/attach"),
    "edit": ("get/list/watch secrets", "create pods", "create pods/exec", "create pods/attach"),
    "view": (),
}
_MASTERS = "system:masters"  # bound to cluster-admin by the API server itself


def _strings(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def role_opens(rules: Iterable[Any]) -> list[str]:
    """What a role's rules allow that reaches the data, as ``verb resource`` phrases (empty: nothing)."""
    out: list[str] = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        groups, resources, verbs = (_strings(rule.get(k)) for k in ("apiGroups", "resources", "verbs"))
        if not groups & {"", "*"}:
            continue  # Secrets and pods are in the core group
        names = sorted(_strings(rule.get("resourceNames")))
        only = f" ({', '.join(names)})" if names else ""
        if "*" in resources and "*" in verbs:
            out.append("* on *" + only)
            continue
        for res, wanted in (("secrets", _READ), ("pods", _CREATE), ("pods/exec", _EXEC), ("pods/attach", _EXEC)):
            hit = verbs & wanted
            if (res in resources or "*" in resources) and hit:
                out.append(f"{'/'.join(sorted(hit))} {res}{only}")
    return list(dict.fromkeys(out))


def _role_actions(binding: Resource) -> tuple[list[str], str | None]:
    """What the binding's role opens, or why it cannot be said."""
    ref = binding.attributes.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    kind, name = str(ref.get("kind")), str(ref.get("name"))
    role = binding.extra.get("role")
    if isinstance(role, Resource):
        rules = list(role.attributes.get("rules") or ())
        aggregated = role.extra.get("aggregated")
        for other in aggregated if isinstance(aggregated, list) else ():
            rules.extend(other.attributes.get("rules") or ())
        if not rules and "aggregationRule" in role.attributes:
            return [], f"the rules of the {kind} {name} it binds are aggregated from ClusterRoles not in the scan"
        return role_opens(rules), None
    if kind == "ClusterRole" and name in BUILT_IN_ROLES:
        return list(BUILT_IN_ROLES[name]), None
    return [], f"the {kind} {name} it binds is not in the scan"


def _subjects(binding: Resource) -> list[Mapping[str, Any]]:
    subjects = binding.attributes.get("subjects")
    return [s for s in subjects if isinstance(s, Mapping)] if isinstance(subjects, list) else []


def _name_line(subject: Mapping[str, Any]) -> int | None:
    """The line of a subject's ``name`` (the loader's LineDict), else of the subject."""
    lines = getattr(subject, "key_lines", None) or {}
    return lines.get("name") or getattr(subject, "line", None) or None


def _scope(binding: Resource) -> str:
    if binding.type.startswith("ClusterRoleBinding"):
        return "Secrets and volumes in every namespace"
    ns = binding.extra.get("namespace")
    return f"Secrets and volumes in namespace {ns}" if ns else "Secrets and volumes in the namespace it is applied to"


def _binding(r: Resource) -> GrantFacts | None:
    subjects = _subjects(r)
    people = [s for s in subjects if s.get("kind") != "ServiceAccount"]
    actions, unknown = _role_actions(r)
    if unknown is not None:
        # ServiceAccounts stay in the cluster: a binding of only those needs no role to be judged
        return GrantFacts(r, "kubernetes", _scope(r), (), [], unknown) if people else None
    if not actions:
        return None
    grants = [Grant("kubernetes", str(s.get("kind", "")).lower(), s.get("name"), tuple(actions), "Allow", (), False,
                    f"subjects[{i}]", _name_line(s))
              for i, s in enumerate(subjects)]
    return GrantFacts(r, "kubernetes", _scope(r), (), grants)


def _aws_auth(r: Resource) -> GrantFacts | None:
    store = "Secrets and volumes of the cluster"
    problem = r.extra.get("aws_auth_problem")
    if problem:
        return GrantFacts(r, "aws", store, (), [], str(problem))
    parsed = r.extra.get("aws_auth")
    parsed = parsed if isinstance(parsed, Mapping) else {}
    bindings = [b for b in r.extra.get("bindings") or () if isinstance(b, Resource) and b.type in BINDING_TYPES]
    data = r.attributes.get("data")
    key_lines = getattr(data, "key_lines", None) or {}
    grants: list[Grant] = []
    unknown: list[str] = []
    for key, arn_key in (("mapRoles", "rolearn"), ("mapUsers", "userarn"), ("mapAccounts", "")):
        entries = parsed.get(key) or []
        if not isinstance(entries, list):
            unknown.append(f"data.{key} is not a list")
            continue
        for i, entry in enumerate(entries):
            if arn_key:
                if not isinstance(entry, Mapping):
                    continue
                principal, username = entry.get(arn_key), entry.get("username")
                groups = _strings(entry.get("groups"))
            else:
                principal, username, groups = str(entry), None, set()
            groups.add("system:authenticated")
            for via, actions, why in _group_access(groups, username, bindings):
                if why:
                    unknown.append(f"{via}: {why}")
                elif actions:
                    grants.append(Grant("aws", "AWS", principal, tuple(actions), "Allow", (), False,
                                        f"data.{key}[{i}] -> {via}", key_lines.get(key)))
    if not grants and not unknown:
        return None
    return GrantFacts(r, "aws", store, (), grants, "; ".join(dict.fromkeys(unknown)) or None)


def _group_access(groups: set[str], username: Any, bindings: list[Resource]) -> Iterable[tuple[str, list[str], str]]:
    """(how, what it opens, why unknown) for every binding an aws-auth entry's groups or username reach."""
    if _MASTERS in groups:
        yield f"group {_MASTERS} (cluster-admin)", list(BUILT_IN_ROLES["cluster-admin"]), ""
    for b in bindings:
        for s in _subjects(b):
            kind, name = s.get("kind"), s.get("name")
            if (kind == "Group" and name in groups) or (kind == "User" and username is not None and name == username):
                actions, why = _role_actions(b)
                yield f"{str(kind).lower()} {name} -> {b.address} ({_scope(b)})", actions, why or ""


def _is_aws_auth(r: Resource) -> bool:
    """The aws-auth ConfigMap, as the loader marked it when it parsed its data."""
    return r.type == "ConfigMap" and ("aws_auth" in r.extra or "aws_auth_problem" in r.extra)


def is_kubernetes_grant(r: Resource) -> bool:
    """Whether ``r`` is a Kubernetes object this module reads (a binding, or ``aws-auth``)."""
    return r.source == "kubernetes" and (r.type in BINDING_TYPES or _is_aws_auth(r))


def read_kubernetes_grants(r: Resource) -> GrantFacts | None:
    """The grant facts of a RoleBinding, ClusterRoleBinding or aws-auth ConfigMap, None when it opens nothing."""
    if r.type in BINDING_TYPES:
        return _binding(r)
    if _is_aws_auth(r):
        return _aws_auth(r)
    return None
