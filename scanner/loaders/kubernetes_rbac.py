"""Kubernetes RBAC objects linked across files: each binding to the role it names, ``aws-auth`` to the bindings.

Classification runs per manifest file, but a chart or a kustomize base keeps ``role.yaml`` apart from
``rolebinding.yaml``: RES006 needs the rules of the role a binding names to say what the binding grants.
Like StorageClasses for PersistentVolumes, the loader links by name (syntax, not policy):

* ``RoleBinding``/``ClusterRoleBinding`` -> ``extra["role"]``: the ``Role`` of that name in the binding's
  namespace, or the ``ClusterRole`` of that name (nearest first: same file, same directory, else the only
  one in the scan; an ambiguous name links nothing, so the reader says the role is not known);
* a ``ClusterRole`` with an ``aggregationRule`` -> ``extra["aggregated"]``: the ClusterRoles in the scan whose
  labels one of its ``clusterRoleSelectors`` matches (their rules are its rules, as the controller computes);
* the EKS ``kube-system/aws-auth`` ConfigMap -> ``extra["aws_auth"]``: its ``mapRoles``/``mapUsers``/
  ``mapAccounts`` strings parsed (a string that is not YAML becomes ``extra["aws_auth_problem"]``), and
  ``extra["bindings"]``: every binding in the ConfigMap's directory or below it (one cluster's manifests, as a
  repository lays them out; a sibling directory is another cluster), so the groups an IAM principal is mapped
  to can be followed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from scanner.model import Resource

#: The loader's bounded YAML parse (``parse_documents``): aliases in an embedded string are budgeted too.
ParseFn = Callable[[str], "tuple[list[tuple[Any, int]], bool]"]

__all__ = ["BINDING_TYPES", "ROLE_TYPES", "is_aws_auth", "link_rbac"]

_RBAC = ".rbac.authorization.k8s.io"
BINDING_TYPES = frozenset({"RoleBinding" + _RBAC, "ClusterRoleBinding" + _RBAC})
ROLE_TYPES = frozenset({"Role" + _RBAC, "ClusterRole" + _RBAC})
_AWS_AUTH_KEYS = ("mapRoles", "mapUsers", "mapAccounts")


def is_aws_auth(r: Resource) -> bool:
    """The EKS ``aws-auth`` ConfigMap (``kube-system``; a manifest without a namespace is applied there too)."""
    return (r.type == "ConfigMap" and r.extra.get("name") == "aws-auth"
            and r.extra.get("namespace") in (None, "kube-system"))


def _nearest(found: list[Resource], r: Resource) -> Resource | None:
    same = [c for c in found if c.file == r.file]
    folder = str(PurePosixPath(r.file).parent)
    near = same or [c for c in found if str(PurePosixPath(c.file).parent) == folder]
    pick = near or found
    return pick[0] if len(pick) == 1 else None


def _below(file: str, anchor: str) -> bool:
    """Whether ``file`` is in the directory of ``anchor`` or below it (one cluster's manifests, by layout)."""
    folder = PurePosixPath(anchor).parent
    return folder == PurePosixPath(".") or PurePosixPath(file).is_relative_to(folder)


def _labels_match(selector: Any, labels: Any) -> bool:
    wanted = selector.get("matchLabels") if isinstance(selector, Mapping) else None
    if not isinstance(wanted, Mapping) or not wanted or not isinstance(labels, Mapping):
        return False  # matchExpressions alone: not followed (the reader then sees no aggregated rules)
    return all(k in labels and str(labels[k]) == str(v) for k, v in wanted.items())


def link_rbac(resources: list[Resource], parse: ParseFn) -> None:
    """Set the links described in the module doc on the resources of one scan (in place)."""
    roles: dict[tuple[str, str | None, str], list[Resource]] = {}
    bindings: list[Resource] = []
    cluster_roles: list[Resource] = []
    for r in resources:
        if r.type in ROLE_TYPES:
            kind = r.type.partition(".")[0]
            ns = r.extra.get("namespace") if kind == "Role" else None
            roles.setdefault((kind, ns, str(r.extra.get("name"))), []).append(r)
            if kind == "ClusterRole":
                cluster_roles.append(r)
        elif r.type in BINDING_TYPES:
            bindings.append(r)
    for r in bindings:
        ref = r.attributes.get("roleRef") if isinstance(r.attributes, Mapping) else None
        if not isinstance(ref, Mapping):
            continue
        kind = str(ref.get("kind"))
        ns = r.extra.get("namespace") if kind == "Role" else None
        pick = _nearest(roles.get((kind, ns, str(ref.get("name"))), []), r)
        if pick is not None:
            r.extra["role"] = pick
    for r in cluster_roles:
        rule = r.attributes.get("aggregationRule")
        selectors = rule.get("clusterRoleSelectors") if isinstance(rule, Mapping) else None
        if isinstance(selectors, list):
            meta = {c.address: c.attributes.get("metadata") for c in cluster_roles}
            r.extra["aggregated"] = [c for c in cluster_roles if c is not r and any(
                _labels_match(s, (meta[c.address] or {}).get("labels") if isinstance(meta[c.address], Mapping)
                              else None) for s in selectors)]
    for r in resources:
        if is_aws_auth(r):
            _parse_aws_auth(r, parse)
            r.extra["bindings"] = [b for b in bindings if _below(b.file, r.file)]


def _parse_aws_auth(r: Resource, parse: ParseFn) -> None:
    data = r.attributes.get("data") if isinstance(r.attributes, Mapping) else None
    parsed: dict[str, Any] = {}
    for key in _AWS_AUTH_KEYS:
        text = data.get(key) if isinstance(data, Mapping) else None
        if text is None:
            continue
        if not isinstance(text, str):
            r.extra["aws_auth_problem"] = f"data.{key} is not a string"
            return
        try:
            documents, _ = parse(text)
        except (yaml.YAMLError, ValueError) as exc:  # the loader's limit error is a ValueError
            r.extra["aws_auth_problem"] = f"data.{key} is not YAML ({(str(exc).splitlines() or [''])[0]})"
            return
        value = documents[0][0] if documents else None
        parsed[key] = value if value is not None else []
    r.extra["aws_auth"] = parsed
