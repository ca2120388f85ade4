"""Policy-document data sources computed the way their providers compute them, without the provider.

``data "aws_iam_policy_document"`` and ``data "google_iam_policy"`` read nothing from the cloud:
the provider only turns their blocks into JSON. Most real resource policies are written with
them, so leaving them Unknown loses every Principal. This module turns an evaluated block body
(nested blocks as lists of dicts, leaves possibly :class:`Unknown`/:class:`Ref`) into the JSON
text the provider would render or, when a leaf is unknown (a bucket ARN known after apply), an
:class:`Encoded` value that keeps the document's structure.

Syntax only: which principal is acceptable is the access rule's business.

Also here: the caller's own identity (``data.aws_caller_identity``, ``data.azurerm_client_config``,
``data.google_client_config``/``google_project``) spelt as a symbolic *self* (``${self:aws}``),
which the access rule resolves through the policy's ``principals.<cloud>.self`` or the root's
``self``. Terraform never renders ``${self:...}`` (``:`` is not valid in a reference), so the
spelling cannot collide with a real reference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scanner.loaders.hcl_eval import Encoded, Partial, first_unknown
from scanner.model import Unknown

__all__ = ["SELF_MARKS", "aws_policy_document", "google_policy_data", "self_value"]

#: data source type -> attribute -> the symbolic text it stands for.
SELF_MARKS: dict[str, dict[str, str]] = {
    "aws_caller_identity": {"account_id": "${self:aws}", "id": "${self:aws}", "arn": "${self:aws:arn}"},
    "azurerm_client_config": {"tenant_id": "${self:azure}", "subscription_id": "${self:azure:subscription}",
                              "object_id": "${self:azure:object}"},
    "google_client_config": {"project": "${self:gcp}"},
    "google_project": {"project_id": "${self:gcp}", "name": "${self:gcp}", "number": "${self:gcp:number}",
                       "id": "projects/${self:gcp}"},
}


def self_value(dtype: str, attr: str, address: str) -> Partial | None:
    """The symbolic self for ``data.<dtype>.<name>.<attr>``, or None when it is not an identity attribute."""
    mark = SELF_MARKS.get(dtype, {}).get(attr)
    if mark is None:
        return None
    return Partial(f"{address}.{attr} is the identity Terraform runs as (resolved by the policy's principals self)",
                   mark)


def _list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, Unknown):
        return value
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _one_or_list(values: Any) -> Any:
    """The provider writes a one-element list as a plain string (``"Action": "s3:GetObject"``)."""
    if isinstance(values, list) and len(values) == 1:
        return values[0]
    return values


def _principal_map(blocks: Any) -> Any:
    """``principals { type, identifiers }`` blocks -> ``{"AWS": [...], "Service": [...]}`` or ``"*"``."""
    if isinstance(blocks, Unknown):
        return blocks
    out: dict[str, Any] = {}
    for b in blocks:
        if not isinstance(b, Mapping):
            return Unknown("a principals block could not be evaluated")
        kind, ids = b.get("type"), _list(b.get("identifiers"))
        if isinstance(kind, Unknown) or not isinstance(kind, str):
            return kind if isinstance(kind, Unknown) else Unknown("principals type is not a string")
        if isinstance(ids, Unknown):
            out[kind] = ids
            continue
        existing = out.get(kind)
        out[kind] = (existing if isinstance(existing, list) else []) + ids
    if set(out) == {"*"} and out["*"] == ["*"]:
        return "*"
    return {k: _one_or_list(v) if isinstance(v, list) else v for k, v in out.items()}


def _conditions(blocks: Any) -> Any:
    if isinstance(blocks, Unknown):
        return blocks
    out: dict[str, dict[str, Any]] = {}
    for b in blocks:
        if not isinstance(b, Mapping):
            return Unknown("a condition block could not be evaluated")
        test, variable = b.get("test"), b.get("variable")
        if not isinstance(test, str) or not isinstance(variable, str):
            return Unknown("a condition's test or variable is not known statically")
        values = _list(b.get("values"))
        out.setdefault(test, {})[variable] = _one_or_list(values) if isinstance(values, list) else values
    return out


_STATEMENT_KEYS = (("sid", "Sid"), ("effect", "Effect"), ("actions", "Action"), ("not_actions", "NotAction"),
                   ("resources", "Resource"), ("not_resources", "NotResource"))


def _statement(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return Unknown("a statement block could not be evaluated")
    st: dict[str, Any] = {}
    for key, out in _STATEMENT_KEYS:
        v = block.get(key)
        if v is None or v == [] or v == "":
            continue
        st[out] = _one_or_list(_list(v)) if key not in ("sid", "effect") else v
    st.setdefault("Effect", "Allow")
    for key, out in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        if block.get(key):
            st[out] = _principal_map(block[key])
    if block.get("condition"):
        st["Condition"] = _conditions(block["condition"])
    return st


def _statements_of(doc: Any) -> Any:
    """The statements of a source/override document (JSON text, an Encoded structure or a decoded dict)."""
    if isinstance(doc, Encoded):
        doc = doc.structure
    elif isinstance(doc, Unknown):
        return doc
    elif isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return Unknown("a source/override policy document is not JSON")
    if not isinstance(doc, Mapping):
        return Unknown("a source/override policy document is not an object")
    raw = doc.get("Statement", [])
    return list(raw) if isinstance(raw, list) else [raw]


def _merge(base: list[Any], extra: list[Any]) -> list[Any]:
    """Statements of ``extra`` replace those of ``base`` with the same Sid; the rest are appended."""
    out = list(base)
    for st in extra:
        sid = st.get("Sid") if isinstance(st, Mapping) else None
        for i, old in enumerate(out):
            if sid and isinstance(old, Mapping) and old.get("Sid") == sid:
                out[i] = st
                break
        else:
            out.append(st)
    return out


def _documents(body: Mapping[str, Any], *keys: str) -> Any:
    docs: list[Any] = []
    for key in keys:
        v = body.get(key)
        if v is None:
            continue
        if isinstance(v, list):
            docs.extend(v)
        elif isinstance(v, Unknown) and key.endswith("documents"):
            return v
        else:
            docs.append(v)
    return docs


def _merge_documents(statements: list[Any], body: Mapping[str, Any], *keys: str) -> list[Any] | Unknown:
    """Merge the statements of the documents named by ``keys`` into ``statements`` (by Sid), in order.

    Sources and overrides merge the same way, only at different moments; an unknown document makes the
    whole result unknown, since any of its statements could replace one that is known.
    """
    docs = _documents(body, *keys)
    if isinstance(docs, Unknown):
        return docs
    for doc in docs:
        sts = _statements_of(doc)
        if isinstance(sts, Unknown):
            return sts
        statements = _merge(statements, sts)
    return statements


def aws_policy_document(body: Mapping[str, Any]) -> Any:
    """``data "aws_iam_policy_document"``'s ``json``: the document text, or :class:`Encoded` with unknown leaves.

    Merging as the provider documents it: statements of ``source_policy_documents`` (and the legacy
    ``source_json``) first, this block's statements replacing those with the same ``sid``, then
    ``override_policy_documents`` (and ``override_json``) replacing by ``sid`` again.
    """
    statements = _merge_documents([], body, "source_json", "source_policy_documents")
    if isinstance(statements, Unknown):
        return statements
    own = body.get("statement") or []
    if isinstance(own, Unknown):
        return own
    statements = _merge(statements, [_statement(b) for b in own])
    statements = _merge_documents(statements, body, "override_json", "override_policy_documents")
    if isinstance(statements, Unknown):
        return statements
    document: dict[str, Any] = {"Version": body.get("version") or "2012-10-17"}
    if body.get("policy_id"):
        document["Id"] = body["policy_id"]
    document["Statement"] = statements
    return _encode(document)


def google_policy_data(body: Mapping[str, Any]) -> Any:
    """``data "google_iam_policy"``'s ``policy_data``: ``{"bindings": [{role, members, condition}]}``."""
    bindings = body.get("binding") or []
    if isinstance(bindings, Unknown):
        return bindings
    out: list[Any] = []
    for b in bindings:
        if not isinstance(b, Mapping):
            return Unknown("a binding block could not be evaluated")
        entry: dict[str, Any] = {"role": b.get("role"), "members": _list(b.get("members"))}
        cond = b.get("condition")
        if cond:
            entry["condition"] = cond[0] if isinstance(cond, list) else cond
        out.append(entry)
    return _encode({"bindings": out})


def _encode(document: dict[str, Any]) -> Any:
    u = first_unknown(document)
    if u is None:
        return json.dumps(document, separators=(",", ":"))
    return Encoded(u.reason, document)
