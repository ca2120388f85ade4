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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.loaders.hcl_eval import Encoded, Partial, first_unknown
from scanner.loaders.hcl_parse import Block
from scanner.loaders.jsonpos import loads_with_lines
from scanner.model import Unknown

__all__ = ["SELF_MARKS", "PolicyEncoded", "PolicyText", "aws_policy_document", "document_lines",
           "google_policy_data", "self_value", "statement_lines"]

#: Where one statement (or binding) is written: (file relative to the scan root, 1-based line), or None.
Where = tuple[str, int] | None


class PolicyText(str):
    """The JSON text a policy-document data source renders, remembering where each statement is written.

    A finding about one statement should point at the ``statement`` block that grants, not at the bucket
    policy that references ``data.aws_iam_policy_document.x.json`` (which may be in another file). The text
    is an ordinary ``str`` to everything else; ``statement_lines[i]`` is where ``Statement[i]`` (or
    ``bindings[i]``) is written. It rides on the value, so it survives variables, locals and module inputs.
    """

    statement_lines: tuple[Where, ...]

    def __new__(cls, text: str, lines: Sequence[Where]) -> PolicyText:
        out = super().__new__(cls, text)
        out.statement_lines = tuple(lines)
        return out

    def __reduce__(self) -> tuple[Any, ...]:  # the parse cache and worker pipes pickle it with its lines
        return (PolicyText, (str(self), self.statement_lines))


@dataclass(frozen=True)
class PolicyEncoded(Encoded):
    """:class:`Encoded` (a document with unknown leaves) with where each statement is written (see PolicyText)."""

    statement_lines: tuple[Where, ...] = field(default=(), compare=False, hash=False)


def statement_lines(value: Any) -> tuple[Where, ...] | None:
    """Where each statement of a data-source document is written, or None for any other value."""
    return value.statement_lines if isinstance(value, (PolicyText, PolicyEncoded)) else None


def _block_lines(block: Block | None, file: str | None, kind: str, count: int) -> list[Where]:
    """Where each of the ``count`` evaluated ``kind`` blocks of ``block`` is written, in evaluation order.

    Static blocks and ``dynamic`` ones are evaluated in the order written; a dynamic block's instances all
    point at it. With more than one dynamic block the split between them is not known: every statement
    then points at the data source itself.
    """
    if block is None or file is None:
        return [None] * count
    written = [b for b in block.blocks if b.type == kind or (b.type == "dynamic" and b.labels[:1] == (kind,))]
    dynamic = [b for b in written if b.type == "dynamic"]
    static = len(written) - len(dynamic)
    if len(dynamic) > 1 or (not dynamic and static != count) or count < static:
        return [(file, block.line)] * count
    out: list[Where] = []
    for b in written:
        n = count - static if b.type == "dynamic" else 1
        out.extend([(file, b.line)] * n)
    return out


def _text_statement_lines(text: str) -> list[int] | None:
    """1-based line of each statement object in a JSON policy text, or None when it is not one."""
    try:
        doc, lines = loads_with_lines(text, lambda p: len(p) < 2 or (len(p) == 2 and p[0] == "Statement"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, Mapping) or "Statement" not in doc:
        return None
    raw = doc["Statement"]
    if not isinstance(raw, list):
        return [lines.get(("Statement",), 1)]
    return [lines.get(("Statement", i), lines.get(("Statement",), 1)) for i in range(len(raw))]


def _heredoc_rows(expr: Any, text: str) -> bool:
    """True when line N of the rendered ``text`` is line N of the heredoc body: a literal, or a template whose
    interpolations added no newline (no directives, and the text has exactly its literal parts' newlines)."""
    if not isinstance(expr, tuple) or not expr:
        return False
    if expr[0] == "lit":
        return True
    if expr[0] != "tmpl" or any(isinstance(p, tuple) and p[0] != "i" for p in expr[1]):
        return False
    return text.count("\n") == sum(p.count("\n") for p in expr[1] if isinstance(p, str))


def document_lines(block: Block, attrs: Mapping[str, Any]) -> dict[str, tuple[int, tuple[int, ...] | None]]:
    """Per top-level argument holding a policy document: its line and, when derivable, each statement's.

    A heredoc's body starts on the line after ``policy = <<EOF``; a statement's line is that plus its line
    in the rendered text, when the text keeps the body's lines (see :func:`_heredoc_rows`). For
    ``jsonencode({...})`` (the parser keeps no line for an object constructor's items) and any other
    expression only the argument's line is known. Data-source documents carry their own lines (PolicyText).
    """
    out: dict[str, tuple[int, tuple[int, ...] | None]] = {}
    for name, attr in block.attrs.items():
        value = attrs.get(name)
        if isinstance(value, (PolicyText, PolicyEncoded)):
            continue
        if isinstance(value, Encoded):
            out[name] = (attr.line, None)
        elif isinstance(value, str) and '"Statement"' in value:
            rel = _text_statement_lines(value) if attr.end_line > attr.line else None
            if rel is not None and _heredoc_rows(attr.expr, value):
                out[name] = (attr.line, tuple(attr.line + n for n in rel))
            else:
                out[name] = (attr.line, None)
    return out


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
    """The (statement, where) pairs of a source/override document (JSON text, an Encoded structure or a
    decoded dict); a statement keeps where it was written when the document is another data source's."""
    lines = statement_lines(doc) or ()
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
    sts = list(raw) if isinstance(raw, list) else [raw]
    return [(st, lines[i] if i < len(lines) else None) for i, st in enumerate(sts)]


Placed = tuple[Any, Where]  # a statement and where it is written


def _merge(base: list[Placed], extra: list[Placed]) -> list[Placed]:
    """Statements of ``extra`` replace those of ``base`` with the same Sid; the rest are appended."""
    out = list(base)
    for st, where in extra:
        sid = st.get("Sid") if isinstance(st, Mapping) else None
        for i, (old, _) in enumerate(out):
            if sid and isinstance(old, Mapping) and old.get("Sid") == sid:
                out[i] = (st, where)
                break
        else:
            out.append((st, where))
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


def _merge_documents(statements: list[Placed], body: Mapping[str, Any], *keys: str) -> list[Placed] | Unknown:
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


def aws_policy_document(body: Mapping[str, Any], block: Block | None = None, file: str | None = None) -> Any:
    """``data "aws_iam_policy_document"``'s ``json``: the document text, or :class:`Encoded` with unknown leaves.

    Merging as the provider documents it: statements of ``source_policy_documents`` (and the legacy
    ``source_json``) first, this block's statements replacing those with the same ``sid``, then
    ``override_policy_documents`` (and ``override_json``) replacing by ``sid`` again. With ``block`` and
    ``file`` (the data source as parsed), the result remembers where each statement is written.
    """
    statements = _merge_documents([], body, "source_json", "source_policy_documents")
    if isinstance(statements, Unknown):
        return statements
    own = body.get("statement") or []
    if isinstance(own, Unknown):
        return own
    where = _block_lines(block, file, "statement", len(own))
    statements = _merge(statements, [(_statement(b), where[i]) for i, b in enumerate(own)])
    statements = _merge_documents(statements, body, "override_json", "override_policy_documents")
    if isinstance(statements, Unknown):
        return statements
    document: dict[str, Any] = {"Version": body.get("version") or "2012-10-17"}
    if body.get("policy_id"):
        document["Id"] = body["policy_id"]
    document["Statement"] = [st for st, _ in statements]
    return _encode(document, [w for _, w in statements])


def google_policy_data(body: Mapping[str, Any], block: Block | None = None, file: str | None = None) -> Any:
    """``data "google_iam_policy"``'s ``policy_data``: ``{"bindings": [{role, members, condition}]}``, remembering
    where each ``binding`` block is written when given the parsed ``block`` and its ``file``."""
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
    return _encode({"bindings": out}, _block_lines(block, file, "binding", len(out)))


def _encode(document: dict[str, Any], lines: Sequence[Where]) -> Any:
    u = first_unknown(document)
    if u is None:
        return PolicyText(json.dumps(document, separators=(",", ":")), lines)
    return PolicyEncoded(u.reason, document, tuple(lines))
