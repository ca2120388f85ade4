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


def _line(r: Resource, key: str) -> int | None:
    key_lines = r.extra.get("key_lines") if isinstance(r.extra, dict) else None
    if isinstance(key_lines, Mapping) and key in key_lines:
        return int(key_lines[key])
    return None


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
    for i, st in enumerate(sts):
        via = f"{attr} Statement[{i}]" + (f" (Sid {st.sid})" if st.sid else "")
        for negated, table in ((False, st.principals), (True, st.not_principals)):
            for kind, values in table.items():
                for value in values:
                    grants.append(Grant("aws", kind, value, st.actions or st.not_actions, st.effect,
                                        st.conditions, negated, via, _line(r, attr)))
    return grants, None


def _aws(attr: str, store: Callable[[Resource], Any], types: tuple[str, ...], inline: bool = False) -> _Reader:
    """``inline``: the store's own Optional+Computed ``policy`` argument, which a plan shows as known after
    apply when the configuration does not set it (the policy is then a separate resource, or none)."""

    def read(r: Resource) -> GrantFacts | None:
        configured = r.extra.get("configured_arguments")
        if inline and isinstance(configured, list) and attr not in configured:
            return None
        grants, unreadable = _aws_document(r, attr)
        if not grants and unreadable is None:
            return None
        return GrantFacts(r, "aws", store(r), types, grants, unreadable)

    return read


def _self(r: Resource) -> Any:
    return Ref(r.address)


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

        doc = structure_of(r.attributes.get("policy_data"))
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
        for i, b in enumerate(doc.get("bindings") or ()):
            if not isinstance(b, Mapping):
                return GrantFacts(r, "gcp", store, types, [], "a binding of its policy_data cannot be read")
            members = b.get("members")
            if isinstance(members, (Unknown, Ref)):
                return GrantFacts(r, "gcp", store, types, [],
                                  f"bindings[{i}].members is not known statically ({_reason(members)})")
            grants.extend(Grant("gcp", "member", m, (b.get("role"),), "Allow", _gcp_condition(b), False,
                                f"policy_data bindings[{i}]", _line(r, "policy_data"))
                          for m in members or ())
        return GrantFacts(r, "gcp", store, types, grants)

    return read


def _reason(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.reason
    if isinstance(value, Ref):
        return f"{value} is known only after apply"
    return "not a policy"


_Reader = Callable[[Resource], "GrantFacts | None"]

_S3 = ("aws_s3_bucket",)
_GCS = ("google_storage_bucket",)

_TERRAFORM: dict[str, _Reader] = {
    "aws_s3_bucket_policy": _aws("policy", lambda r: r.attributes.get("bucket"), _S3),
    "aws_s3_bucket": _aws("policy", _self, _S3, inline=True),
    "google_storage_bucket_iam_member": _gcp_member("bucket", _GCS),
    "google_storage_bucket_iam_binding": _gcp_member("bucket", _GCS),
    "google_storage_bucket_iam_policy": _gcp_policy("bucket", _GCS),
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

