"""Evaluate the expression AST of :mod:`scanner.loaders.hcl_parse` statically.

Values are plain Python (str, int, float, bool, None, list, dict) plus :class:`Unknown` (cannot be
known without running Terraform: the reason says why) and :class:`Ref` (a computed attribute of
another resource). Names (``var``, ``local``, resource types, ``module``...) are resolved by a
:class:`Scope` the loader builds, often to a :class:`Lazy` object so that only what an expression
actually touches gets evaluated (resource arguments, module outputs): this keeps the cost linear in
what is referenced rather than in the size of the repository.

Unknown fails closed: any operation or function with an Unknown operand yields Unknown with the
first reason; ``try``/``coalesce`` do not skip an Unknown (it might be the value Terraform picks).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scanner.limits import MAX_STRING, MAX_VALUE_UNITS, regex_cost_error
from scanner.model import Ref, Unknown


@dataclass(frozen=True)
class Partial(Unknown):
    """A string known only in part, e.g. ``"replica-${random_pet.this.id}"``.

    It is an :class:`Unknown` (it fails closed everywhere), but ``text`` spells it with the
    computed parts as references, so two values built from the same parts are recognisably the
    same name: a replication destination ``arn:aws:s3:::replica-${random_pet.this.id}`` joins the
    bucket named ``replica-${random_pet.this.id}``. Only templates make one; any other operation
    on it yields a plain Unknown.
    """

    text: str = ""


@dataclass(frozen=True)
class Named(Unknown):
    """An unknown attribute read from a resource: ``azurerm_cosmosdb_account.this.name`` when that name has a
    ``random_*`` suffix or another function of one.

    The value is unknown (it fails closed everywhere), but the reference still names ``address``, whatever its
    value: a child's ``account_name`` joins the account it refers to. Only a direct reference keeps it; any
    operation on it (a function, a template) yields a plain Unknown, which names nothing.
    """

    address: str = ""


@dataclass(frozen=True)
class Encoded(Unknown):
    """``jsonencode(x)`` of a value with unknown leaves: the JSON text is unknown, its structure is not.

    A bucket policy written ``jsonencode({Statement = [{Principal = {AWS = "..."}, Resource =
    aws_s3_bucket.b.arn}]})`` has no static text (the ARN exists after apply), but who it names is
    written in full. ``structure`` keeps the evaluated value (leaves may be :class:`Unknown` or
    :class:`Ref`) so a reader of policy documents sees the Principal; ``jsondecode`` of it gives the
    structure back. It is an :class:`Unknown` everywhere else (fails closed), and any operation on it
    (a template, a function other than ``jsondecode``) yields a plain Unknown.
    """

    structure: Any = field(default=None, compare=False, hash=False)


def _plain(u: Unknown) -> Unknown:
    return Unknown(u.reason) if isinstance(u, (Partial, Named, Encoded)) else u


class EvalError(Exception):
    """An expression Terraform itself would reject (type error, missing key); ``try``/``can`` catch it."""


class Lazy:
    """A value resolved on demand: a namespace (``var``), a resource, a module call.

    Subclasses override what they support; the defaults say the operation is invalid.
    """

    def attr(self, name: str) -> Any:
        raise EvalError(f"unsupported attribute {name!r}")

    def index(self, key: Any) -> Any:
        raise EvalError("value cannot be indexed")

    def collection(self) -> Any:
        """The value as a list/dict (elements may still be Lazy), for splats and for-expressions."""
        raise EvalError("value is not a collection")

    def materialise(self) -> Any:
        """The final plain value when the whole object flows into an attribute."""
        return self.collection()


class Scope:
    """Name resolution for one evaluation: ``lookup`` for global roots, ``names`` for iterators."""

    __slots__ = ("lookup", "names")

    def __init__(self, lookup: Callable[[str], Any], names: dict[str, Any] | None = None) -> None:
        self.lookup = lookup
        self.names = names or {}

    def child(self, names: dict[str, Any]) -> Scope:
        merged = dict(self.names)
        merged.update(names)
        return Scope(self.lookup, merged)

    def get(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        return self.lookup(name)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _opaque(v: Any) -> Unknown | None:
    """An Unknown standing for ``v`` when ``v`` has no static value (Unknown, or a computed Ref)."""
    if isinstance(v, Unknown):
        return _plain(v)
    if isinstance(v, Ref):
        return Unknown(f"{v} is known only after apply")
    return None


def _spend(budget: list[int], v: Any) -> None:
    """Charge one walked element (and long strings by length) against a walk's budget.

    Locals that each list the previous one twice share memory until a walk copies them, then
    double per level: without a budget 40 such lines exhaust memory (limits.MAX_VALUE_UNITS).
    """
    budget[0] -= 1 + (len(v) >> 4 if isinstance(v, str) else 0)
    if budget[0] < 0:
        raise EvalError(f"value too large to evaluate statically (over {MAX_VALUE_UNITS} elements)")


def first_unknown(v: Any, _budget: list[int] | None = None) -> Unknown | None:
    """The first Unknown/Ref found anywhere inside ``v`` (for functions that read every element)."""
    budget = [MAX_VALUE_UNITS] if _budget is None else _budget
    _spend(budget, v)
    u = _opaque(v)
    if u is not None:
        return u
    if isinstance(v, dict):
        for x in v.values():
            u = first_unknown(x, budget)
            if u is not None:
                return u
    elif isinstance(v, list):
        for x in v:
            u = first_unknown(x, budget)
            if u is not None:
                return u
    elif isinstance(v, Lazy):
        return first_unknown(v.materialise(), budget)
    return None


def materialise(v: Any, _budget: list[int] | None = None) -> Any:
    """Replace every Lazy inside ``v`` by its final value (within limits.MAX_VALUE_UNITS)."""
    budget = [MAX_VALUE_UNITS] if _budget is None else _budget
    _spend(budget, v)
    if isinstance(v, Lazy):
        v = v.materialise()
        if isinstance(v, Lazy):  # pragma: no cover - a Lazy must not materialise to itself
            return Unknown("value could not be materialised")
    if isinstance(v, dict):
        return {k: materialise(x, budget) for k, x in v.items()}
    if isinstance(v, list):
        return [materialise(x, budget) for x in v]
    return v


def _bounded(out: list[str]) -> None:
    """A template or function result must stay under limits.MAX_STRING characters."""
    if len(out[-1]) > 1024 and sum(map(len, out)) > MAX_STRING:
        raise EvalError(f"string longer than {MAX_STRING} characters: not evaluated statically")


def to_string(v: Any) -> str:
    """Terraform's string conversion (numbers without a trailing ``.0``, bools lower-case)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if v is None:
        raise EvalError("a null value cannot be converted to a string")
    raise EvalError(f"a {type(v).__name__} value cannot be converted to a string")


def _num(v: Any) -> int | float:
    if isinstance(v, bool):
        raise EvalError("a bool cannot be used as a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                raise EvalError(f"{v!r} is not a number") from None
    raise EvalError(f"a {type(v).__name__} value is not a number")


def _norm_num(x: float | int) -> int | float:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return int(x)
    return x


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v == "true":
        return True
    if v == "false":
        return False
    raise EvalError(f"{v!r} is not a bool")


def _coll(v: Any) -> Any:
    return v.collection() if isinstance(v, Lazy) else v


def _items(v: Any) -> list[tuple[Any, Any]]:
    """(key, value) pairs of a list (index keys) or a map (keys in lexical order, as Terraform)."""
    v = _coll(v)
    if isinstance(v, list):
        return list(enumerate(v))
    if isinstance(v, dict):
        return [(k, v[k]) for k in sorted(v)]
    raise EvalError(f"cannot iterate over a {type(v).__name__} value")


def get_attr(v: Any, name: str) -> Any:
    """``v.name`` on any value."""
    if isinstance(v, Lazy):
        return v.attr(name)
    if isinstance(v, Unknown):
        return _plain(v)
    if isinstance(v, Ref):
        return Ref(v.address, f"{v.attribute}.{name}" if v.attribute else name)
    if isinstance(v, dict):
        if name in v:
            return v[name]
        raise EvalError(f"object has no attribute {name!r}")
    if v is None:
        raise EvalError(f"attempt to get attribute {name!r} from a null value")
    raise EvalError(f"a {type(v).__name__} value has no attribute {name!r}")


def get_index(v: Any, key: Any) -> Any:
    """``v[key]`` on any value."""
    u = _opaque(key)
    if u is not None:
        return u
    if isinstance(v, Lazy):
        return v.index(key)
    if isinstance(v, Unknown):
        return _plain(v)
    if isinstance(v, Ref):
        return Ref(v.address, f"{v.attribute}[{json.dumps(key)}]")
    if isinstance(v, list):
        try:
            i = int(_num(key))
        except EvalError:
            raise EvalError(f"a list index must be a number, not {key!r}") from None
        if 0 <= i < len(v):
            return v[i]
        raise EvalError(f"index {i} out of range for a list of {len(v)} elements")
    if isinstance(v, dict):
        k = to_string(key)
        if k in v:
            return v[k]
        raise EvalError(f"the map has no element for key {k!r}")
    if v is None:
        raise EvalError("attempt to index a null value")
    raise EvalError(f"a {type(v).__name__} value cannot be indexed")


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------

def evaluate(expr: tuple, scope: Scope) -> Any:
    """Evaluate ``expr``; the result may hold Lazy values (see :func:`evaluate_value`)."""
    return _DISPATCH[expr[0]](expr, scope)


def evaluate_value(expr: tuple, scope: Scope) -> Any:
    """Evaluate to a final plain value; an invalid expression becomes ``Unknown`` with the error."""
    try:
        return materialise(evaluate(expr, scope))
    except EvalError as exc:
        return Unknown(f"expression error: {exc}")
    except RecursionError:
        return Unknown("expression nesting too deep")


def _e_lit(e: tuple, scope: Scope) -> Any:
    return e[1]


def _e_name(e: tuple, scope: Scope) -> Any:
    return scope.get(e[1])


def _e_get(e: tuple, scope: Scope) -> Any:
    return _apply_steps(evaluate(e[1], scope), e[2], scope)


def _apply_steps(v: Any, steps: tuple, scope: Scope) -> Any:
    for step in steps:
        if isinstance(v, Unknown):
            return v
        v = get_attr(v, step[1]) if step[0] == "a" else get_index(v, evaluate(step[1], scope))
    return v


def _e_splat(e: tuple, scope: Scope) -> Any:
    base = evaluate(e[1], scope)
    if isinstance(base, Unknown):
        return base
    if isinstance(base, Ref):
        return Ref(base.address, f"{base.attribute}[*]" if base.attribute else "[*]")
    coll = _coll(base)
    if coll is None:
        return []
    if not isinstance(coll, list):
        coll = [coll]  # a splat on a single value makes a one-element list
    return [_apply_steps(x, e[2], scope) for x in coll]


def _render(parts: tuple, scope: Scope, out: list[str], symbolic: list[Unknown] | None = None) -> Unknown | None:
    """Append the rendered parts to ``out``; an unknown part returns its Unknown, except that with
    ``symbolic`` a computed reference (or a Partial) is spelt ``${ref}`` and recorded there."""
    for p in parts:
        if isinstance(p, str):
            out.append(p)
            continue
        tag = p[0]
        if tag == "i":
            v = evaluate(p[1], scope)
            if isinstance(v, Lazy):
                v = v.materialise()
            if symbolic is not None and isinstance(v, (Ref, Partial)):
                symbolic.append(_opaque(v))  # type: ignore[arg-type]
                out.append(v.text if isinstance(v, Partial) else "${" + str(v) + "}")
                continue
            u = _opaque(v)
            if u is not None:
                return u
            out.append(to_string(v))
            _bounded(out)
        elif tag == "if":
            c = evaluate(p[1], scope)
            u = _opaque(c)
            if u is not None:
                return u
            u = _render(p[2] if _bool(c) else p[3], scope, out)
            if u is not None:
                return u
        elif tag == "for":
            coll = evaluate(p[3], scope)
            u = _opaque(coll)
            if u is not None:
                return u
            for k, v in _items(coll):
                names = {p[2]: v}
                if p[1]:
                    names[p[1]] = k
                u = _render(p[4], scope.child(names), out)
                if u is not None:
                    return u
    return None


def _e_tmpl(e: tuple, scope: Scope) -> Any:
    parts = e[1]
    if len(parts) == 1 and not isinstance(parts[0], str) and parts[0][0] == "i":
        return evaluate(parts[0][1], scope)  # "${x}" is x itself, not its string form
    out: list[str] = []
    symbolic: list[Unknown] = []
    u = _render(parts, scope, out, symbolic)
    if u is not None:
        return u
    if symbolic:
        return Partial(symbolic[0].reason, "".join(out))
    return "".join(out)


def _e_tuple(e: tuple, scope: Scope) -> Any:
    return [evaluate(x, scope) for x in e[1]]


def _e_obj(e: tuple, scope: Scope) -> Any:
    out: dict[str, Any] = {}
    for kexpr, vexpr in e[1]:
        k = evaluate(kexpr, scope)
        u = _opaque(k)
        if u is not None:
            return u  # an unknown key makes the whole object's shape unknown
        out[to_string(k)] = evaluate(vexpr, scope)
    return out


def _e_cond(e: tuple, scope: Scope) -> Any:
    c = evaluate(e[1], scope)
    u = _opaque(c)
    if u is not None:
        return u
    return evaluate(e[2] if _bool(c) else e[3], scope)


def _e_un(e: tuple, scope: Scope) -> Any:
    v = evaluate(e[2], scope)
    u = _opaque(v)
    if u is not None:
        return u
    if e[1] == "!":
        return not _bool(v)
    return _norm_num(-_num(v))


_UNSET = object()


def _never_null(v: Any) -> bool:
    """A computed reference (``aws_kms_key.k.arn``) or a template of one: Terraform's value is never null."""
    return isinstance(v, (Ref, Partial))


def _eq(a: Any, b: Any) -> bool:
    a, b = materialise(a), materialise(b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, str) != isinstance(b, str):
        return False
    return a == b


def _e_bin(e: tuple, scope: Scope) -> Any:
    op = e[1]
    a = evaluate(e[2], scope)
    b: Any = _UNSET
    if op in ("==", "!="):
        b = evaluate(e[3], scope)
        if (_never_null(a) and materialise(b) is None) or (_never_null(b) and materialise(a) is None):
            # a resource's computed id/ARN is never null (as in coalesce): ``var.key != null ? var.key : ...``
            # (terraform-google-modules/sql-db) is decided and keeps who the key is
            return op == "!="
    ua = _opaque(a)
    if op in ("&&", "||") and ua is None:
        # a known deciding left operand settles the result even when the right one is unknown
        if op == "&&" and not _bool(a):
            return False
        if op == "||" and _bool(a):
            return True
    if b is _UNSET:
        b = evaluate(e[3], scope)
    if ua is not None:
        return ua
    ub = _opaque(b)
    if ub is not None:
        return ub
    if op == "==":
        u = first_unknown(a) or first_unknown(b)
        return u if u is not None else _eq(a, b)
    if op == "!=":
        u = first_unknown(a) or first_unknown(b)
        return u if u is not None else not _eq(a, b)
    if op == "&&":
        return _bool(b)
    if op == "||":
        return _bool(b)
    x, y = _num(a), _num(b)
    if op == "+":
        return _norm_num(x + y)
    if op == "-":
        return _norm_num(x - y)
    if op == "*":
        return _norm_num(x * y)
    if op == "/":
        if y == 0:
            raise EvalError("division by zero")
        return _norm_num(x / y)
    if op == "%":
        if y == 0:
            raise EvalError("modulo by zero")
        return _norm_num(math.fmod(x, y))
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    if op == "<=":
        return x <= y
    if op == ">=":
        return x >= y
    raise EvalError(f"unsupported operator {op}")


def _e_for(e: tuple, scope: Scope) -> Any:
    _, kvar, vvar, coll_e, key_e, val_e, cond_e, grouping = e
    coll = evaluate(coll_e, scope)
    u = _opaque(coll)
    if u is not None:
        return u
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for k, v in _items(coll):
        names = {vvar: v}
        if kvar:
            names[kvar] = k
        inner = scope.child(names)
        if cond_e is not None:
            c = evaluate(cond_e, inner)
            u = _opaque(c)
            if u is not None:
                return u
            if not _bool(c):
                continue
        if key_e is None:
            out_list.append(evaluate(val_e, inner))
            continue
        key = evaluate(key_e, inner)
        u = _opaque(key)
        if u is not None:
            return u
        key = to_string(key)
        val = evaluate(val_e, inner)
        if grouping:
            out_map.setdefault(key, []).append(val)
        elif key in out_map:
            raise EvalError(f"duplicate key {key!r} in a for expression (use ... to group)")
        else:
            out_map[key] = val
    return out_list if key_e is None else out_map


def _e_call(e: tuple, scope: Scope) -> Any:
    name, arg_exprs, expand = e[1], e[2], e[3]
    if name in _JSON_FUNCS and len(arg_exprs) == 1 and not expand:
        return _JSON_FUNCS[name](materialise(evaluate(arg_exprs[0], scope)))
    if name == "replace" and len(arg_exprs) == 3 and not expand:
        args3 = [materialise(evaluate(a, scope)) for a in arg_exprs]
        doc = _replace_in_document(*args3)
        if doc is not None:
            return doc
        return _call_plain(name, args3)
    if name in _LAZY_FUNCS:
        return _LAZY_FUNCS[name](arg_exprs, scope)
    if name in ("sensitive", "nonsensitive") and len(arg_exprs) == 1 and not expand:
        # the value itself, unknowns and references included (sensitive(aws_kms_key.k.arn) still names the key)
        return evaluate(arg_exprs[0], scope)
    if name == "tostring" and len(arg_exprs) == 1 and not expand:
        v = evaluate(arg_exprs[0], scope)
        if isinstance(v, (Ref, Partial)):
            return v  # a computed id/ARN is already a string: tostring() keeps who it names
        return _call_plain(name, [v])
    if name == "lookup" and len(arg_exprs) == 3 and not expand:
        m, key, default = (evaluate(a, scope) for a in arg_exprs)
        if isinstance(default, (Ref, Partial)) and _opaque(m) is None and first_unknown(key) is None:
            # lookup(var.settings, "kms_key_id", aws_kms_key.this.arn): the default is a reference Terraform
            # returns whenever the key is absent, so it keeps naming its resource
            m = materialise(m)
            if isinstance(m, dict):
                return m.get(to_string(key), default)
        return _call_plain(name, [m, key, default])
    fn = _FUNCS.get(name)
    if fn is None:
        if name in _NONDETERMINISTIC:
            return Unknown(f"{name}() is only known when Terraform runs")
        return Unknown(f"function {name}() is not evaluated statically")
    args = [evaluate(a, scope) for a in arg_exprs]
    return _call_plain(name, args, expand)


def _call_plain(name: str, args: list[Any], expand: bool = False) -> Any:
    fn = _FUNCS[name]
    if expand and args:
        last = _coll(args[-1])
        u = _opaque(last)
        if u is not None:
            return u
        if not isinstance(last, list):
            raise EvalError(f"{name}(...): the expanded argument must be a list")
        args = args[:-1] + list(last)
    args = [materialise(a) for a in args]
    deep = name not in _SHALLOW
    for a in args:
        u = first_unknown(a) if deep else _opaque(a)
        if u is not None:
            return u
    try:
        return fn(*args)
    except _UnknownResult as exc:
        return exc.unknown
    except EvalError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, re.error, OverflowError) as exc:
        raise EvalError(f"{name}(): {exc}") from None


_DISPATCH: dict[str, Callable[[tuple, Scope], Any]] = {
    "lit": _e_lit, "name": _e_name, "get": _e_get, "splat": _e_splat, "tmpl": _e_tmpl,
    "tuple": _e_tuple, "obj": _e_obj, "cond": _e_cond, "un": _e_un, "bin": _e_bin,
    "for": _e_for, "call": _e_call,
}


# --------------------------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------------------------

def _f_try(arg_exprs: tuple, scope: Scope) -> Any:
    last: Exception | None = None
    for a in arg_exprs:
        try:
            v = materialise(evaluate(a, scope))
        except EvalError as exc:
            last = exc
            continue
        return v  # an Unknown here is returned as is: fail closed, it may be what Terraform picks
    raise EvalError(f"try(): no argument could be evaluated ({last})")


def _f_can(arg_exprs: tuple, scope: Scope) -> Any:
    if len(arg_exprs) != 1:
        raise EvalError("can() takes one argument")
    try:
        v = materialise(evaluate(arg_exprs[0], scope))
    except EvalError:
        return False
    u = first_unknown(v)
    return u if u is not None else True


def _f_coalesce(arg_exprs: tuple, scope: Scope) -> Any:
    for a in arg_exprs:
        v = materialise(evaluate(a, scope))
        if isinstance(v, (Ref, Partial, Encoded)):
            # a resource's computed id/ARN is never null or empty: Terraform picks it, so keep who it names
            # (``coalesce(var.kms_key_arn, aws_kms_key.this[0].arn)``, terraform-aws-modules/sqs); so is a
            # rendered policy document (``coalesce(var.policy, data.aws_iam_policy_document.this[0].json)``,
            # terraform-aws-modules/kms), whose statements (and symbolic self) stay readable
            return v
        u = _opaque(v)
        if u is not None:
            return u
        if v is not None and v != "":
            return v
    raise EvalError("coalesce(): no non-null, non-empty argument")


def _f_coalescelist(arg_exprs: tuple, scope: Scope) -> Any:
    for a in arg_exprs:
        v = materialise(evaluate(a, scope))
        u = _opaque(v)
        if u is not None:
            return u
        if v:
            return v
    raise EvalError("coalescelist(): no non-empty list")


_LAZY_FUNCS = {"try": _f_try, "can": _f_can, "coalesce": _f_coalesce, "coalescelist": _f_coalescelist}


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if not isinstance(m, dict):
        raise EvalError("lookup() needs a map")
    k = to_string(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise EvalError(f"lookup(): no key {k!r} and no default")


def _element(lst: Any, idx: Any) -> Any:
    if not isinstance(lst, list) or not lst:
        raise EvalError("element() needs a non-empty list")
    return lst[int(_num(idx)) % len(lst)]


_VERB_RE = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([a-zA-Z%])")


def _format(fmt: Any, *args: Any) -> str:
    if not isinstance(fmt, str):
        raise EvalError("format() needs a string")
    it = iter(args)
    out: list[str] = []
    pos = 0
    for m in _VERB_RE.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        try:
            v = next(it)
        except StopIteration:
            raise EvalError("format(): not enough arguments") from None
        if verb in ("s", "v") and not (verb == "v" and "#" in flags):
            s = to_string(v) if not isinstance(v, (list, dict)) else json.dumps(v, separators=(",", ":"))
            if prec:
                s = s[: int(prec)]
        elif verb == "q" or (verb == "v" and "#" in flags):
            s = json.dumps(v, separators=(",", ":"))
        elif verb == "d":
            n = _num(v)
            if isinstance(n, float) and not n.is_integer():
                raise EvalError(f"format(): %d needs a whole number, not {n}")
            s = ("+" if "+" in flags and n >= 0 else "") + str(int(n))
        elif verb in ("f", "e", "E", "g", "G"):
            if prec and int(prec) > 1000:
                raise EvalError(f"format(): precision {prec} is too large")
            precision = f".{prec}" if prec else ("" if verb != "f" else ".6")
            spec = ("+" if "+" in flags else "") + precision + verb
            s = format(float(_num(v)), spec)
        elif verb == "t":
            s = "true" if _bool(v) else "false"
        elif verb in ("x", "X", "o", "b"):
            s = format(int(_num(v)), verb)
        else:
            raise EvalError(f"format(): unsupported verb %{verb}")
        if width and width != "*":
            w = int(width)
            if w > MAX_STRING:
                raise EvalError(f"format(): width {w} is over the {MAX_STRING}-character limit")
            if "-" in flags:
                s = s.ljust(w)
            elif "0" in flags and verb not in ("s", "q", "v", "t"):
                s = s.rjust(w, "0")
            else:
                s = s.rjust(w)
        out.append(s)
        _bounded(out)
    out.append(fmt[pos:])
    return "".join(out)


def _formatlist(fmt: Any, *args: Any) -> list[str]:
    n = None
    for a in args:
        if isinstance(a, list):
            if n is not None and len(a) != n:
                raise EvalError("formatlist(): list arguments must have the same length")
            n = len(a)
    if n is None:
        return [_format(fmt, *args)]
    return [_format(fmt, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


def _join(sep: Any, *lists: Any) -> Any:
    """``join`` keeps a computed reference's identity: ``join("", aws_s3_bucket.x[*].arn)`` over a
    one-instance resource is that bucket's ARN (cloudposse/s3-bucket replication), so it stays a
    :class:`Ref`; mixed with text it is a :class:`Partial` spelling the reference; a plain Unknown
    element makes the result unknown."""
    u = _opaque(sep)
    if u is not None:
        return u
    sep = to_string(sep)
    items: list[Any] = []
    for lst in lists:
        if not isinstance(lst, list):
            raise EvalError("join() needs lists")
        for x in lst:
            if isinstance(x, Partial) or (isinstance(x, Ref) and "[*]" not in x.attribute):
                items.append(x)
                continue
            u = first_unknown(x)
            if u is not None:
                return u
            items.append(to_string(x))
    symbolic = [x for x in items if isinstance(x, (Ref, Partial))]
    if symbolic:
        if len(items) == 1 and isinstance(items[0], Ref):
            return items[0]
        text = sep.join(x.text if isinstance(x, Partial) else "${" + str(x) + "}" if isinstance(x, Ref) else x
                        for x in items)
        return Partial(_plain(_opaque(symbolic[0]) or Unknown("")).reason, text)
    if sum(map(len, items)) + len(sep) * len(items) > MAX_STRING:
        raise EvalError(f"join() result longer than {MAX_STRING} characters")
    return sep.join(items)


def _split(sep: Any, s: Any) -> list[str]:
    sep, s = to_string(sep), to_string(s)
    if sep == "":
        return list(s)
    return s.split(sep)


_MAX_RE_PATTERN = 2000
_MAX_RE_INPUT = 200_000


def _compile(pattern: str, text: str) -> re.Pattern[str]:
    """RE2-flavoured pattern -> Python re, guarded against catastrophic backtracking on ``text``."""
    if len(pattern) > _MAX_RE_PATTERN:
        raise EvalError("regular expression too long to evaluate statically")
    problem = regex_cost_error(pattern, len(text))
    if problem is not None:
        raise EvalError(problem)
    return re.compile(pattern)


def _guard_input(s: str) -> str:
    if len(s) > _MAX_RE_INPUT:
        raise EvalError("input too long for a regular expression")
    return s


def _go_repl(repl: str) -> str:
    """Go's ``$1``/``${1}``/``${name}`` replacement syntax -> Python's ``\\g<1>``."""
    return re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>",
                  repl.replace("\\", "\\\\"))


def _replace(s: Any, sub: Any, repl: Any) -> str:
    s, sub, repl = to_string(s), to_string(sub), to_string(repl)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        pattern = _compile(sub[1:-1], _guard_input(s))
        if len(repl) * (len(s) + 1) > MAX_STRING and len(repl) * sum(1 for _ in pattern.finditer(s)) > MAX_STRING:
            raise EvalError(f"replace() result longer than {MAX_STRING} characters")
        return pattern.sub(_go_repl(repl), s)
    if len(s) + s.count(sub) * (len(repl) - len(sub)) > MAX_STRING:
        raise EvalError(f"replace() result longer than {MAX_STRING} characters")
    return s.replace(sub, repl)


def _match_value(m: re.Match[str]) -> Any:
    if m.re.groupindex:
        return {name: m.group(name) for name in m.re.groupindex}
    if m.re.groups:
        return list(m.groups())
    return m.group(0)


def _regex(pattern: Any, s: Any) -> Any:
    text = _guard_input(to_string(s))
    m = _compile(to_string(pattern), text).search(text)
    if m is None:
        raise EvalError("regex(): pattern did not match")
    return _match_value(m)


def _regexall(pattern: Any, s: Any) -> list[Any]:
    text = _guard_input(to_string(s))
    return [_match_value(m) for m in _compile(to_string(pattern), text).finditer(text)]


def _substr(s: Any, offset: Any, length: Any) -> str:
    s = to_string(s)
    off, ln = int(_num(offset)), int(_num(length))
    if off < 0:
        off = max(len(s) + off, 0)
    if off > len(s):
        raise EvalError("substr(): offset beyond the end of the string")
    return s[off:] if ln < 0 else s[off:off + ln]


def _title(s: Any) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), to_string(s))


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise EvalError("merge() needs maps or objects")
        out.update(m)
    return out


def _toset(v: Any) -> list[Any] | None:
    if v is None:
        return None  # Terraform converts null to a null of the target type (Azure/avm-utl-regions)
    if not isinstance(v, list):
        raise EvalError("toset() needs a list")
    seen: list[Any] = []
    for x in v:
        if x not in seen:
            seen.append(x)
    if all(isinstance(x, str) for x in seen):
        return sorted(seen)  # Terraform orders a set of strings lexically
    return seen


def _tolist(v: Any) -> list[Any] | None:
    if v is None:
        return None  # Terraform converts null to a null of the target type (Azure/avm-utl-regions)
    if not isinstance(v, list):
        raise EvalError("tolist() needs a list or set")
    return list(v)


def _tomap(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None  # Terraform converts null to a null of the target type (Azure/avm-utl-regions)
    if not isinstance(v, dict):
        raise EvalError("tomap() needs a map or object")
    return dict(v)


def _tostring(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, dict)):
        raise EvalError("tostring() needs a primitive value")
    return to_string(v)


def _tonumber(v: Any) -> Any:
    return None if v is None else _norm_num(_num(v))


def _tobool(v: Any) -> Any:
    return None if v is None else _bool(v)


def _set_args(name: str, sets: tuple[Any, ...]) -> list[list[Any]]:
    """The sets of a set function as de-duplicated lists (a tuple or list converts to a set, as in Terraform)."""
    if not sets:
        raise EvalError(f"{name}() needs at least one set")
    out: list[list[Any]] = []
    for v in sets:
        if not isinstance(v, list):
            raise EvalError(f"{name}() needs sets")
        out.append(_toset(v) or [])
    return out


def _as_set(items: list[Any]) -> list[Any]:
    return sorted(items) if all(isinstance(x, str) for x in items) else items


def _setintersection(*sets: Any) -> list[Any]:
    """The set filters of Azure/avm-utl-regions (locals.filters.tf) combine through setintersection, so a region
    picked by name from it is known statically (not "setintersection() is not evaluated")."""
    first, *rest = _set_args("setintersection", sets)
    return _as_set([x for x in first if all(x in other for other in rest)])


def _setunion(*sets: Any) -> list[Any]:
    out: list[Any] = []
    for one in _set_args("setunion", sets):
        out.extend(x for x in one if x not in out)
    return _as_set(out)


def _setsubtract(a: Any, b: Any) -> list[Any]:
    left, right = _set_args("setsubtract", (a, b))
    return _as_set([x for x in left if x not in right])


def _all_any(pick: Callable[[Any], bool], name: str) -> Callable[[Any], bool]:
    def fn(lst: Any) -> bool:
        if not isinstance(lst, list):
            raise EvalError(f"{name}() needs a list")
        return pick(x is True or x == "true" for x in lst)
    return fn


def _basename(path: Any) -> str:
    text = to_string(path).rstrip("/")
    return text.rsplit("/", 1)[-1] if text else "."


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for lst in lists:
        if not isinstance(lst, list):
            raise EvalError("concat() needs lists")
        out.extend(lst)
    return out


def _contains(lst: Any, v: Any) -> bool:
    if not isinstance(lst, list):
        raise EvalError("contains() needs a list or set")
    return any(_eq(x, v) for x in lst)


def _keys(m: Any) -> list[str]:
    if not isinstance(m, dict):
        raise EvalError("keys() needs a map or object")
    return sorted(m)


def _values(m: Any) -> list[Any]:
    if not isinstance(m, dict):
        raise EvalError("values() needs a map or object")
    return [m[k] for k in sorted(m)]


def _length(v: Any) -> int:
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise EvalError("length() needs a string, list or map")


def _flatten(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise EvalError("flatten() needs a list")
    out: list[Any] = []
    for x in v:
        if isinstance(x, Ref) and "[*]" not in x.attribute:
            out.append(x)  # a computed attribute (an ARN, an id) is one element, as in Terraform
            continue
        u = _opaque(x)
        if u is not None:
            raise _UnknownResult(u)
        if isinstance(x, list):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


class _UnknownResult(EvalError):
    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason)
        self.unknown = unknown


def _distinct(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise EvalError("distinct() needs a list")
    out: list[Any] = []
    for x in v:
        if x not in out:
            out.append(x)
    return out


def _zipmap(ks: Any, vs: Any) -> dict[str, Any]:
    if not isinstance(ks, list) or not isinstance(vs, list) or len(ks) != len(vs):
        raise EvalError("zipmap() needs two lists of the same length")
    return {to_string(k): v for k, v in zip(ks, vs, strict=True)}


def _compact(v: Any) -> list[Any]:
    """Drops null and "" elements. A policy document with unknown leaves (:class:`Encoded`) or a partly known
    string (:class:`Partial`) is a non-empty string, so it is kept (terraform-aws-modules/s3-bucket combines
    its policies with ``compact([...json, ...])``); any other unknown element might be "": the result is unknown."""
    if not isinstance(v, list):
        raise EvalError("compact() needs a list")
    for x in v:
        if isinstance(x, (Encoded, Partial)):
            continue
        u = first_unknown(x)
        if u is not None:
            raise _UnknownResult(u)
    return [x for x in v if x is not None and x != ""]


def _one(v: Any) -> Any:
    if not isinstance(v, list):
        raise EvalError("one() needs a list or set")
    if len(v) > 1:
        raise EvalError("one(): the list has more than one element")
    return v[0] if v else None


def _range(*args: Any) -> list[int | float]:
    nums = [_num(a) for a in args]
    start: int | float
    limit: int | float
    step: int | float
    if len(nums) == 1:
        start, limit, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, limit, step = nums[0], nums[1], 1 if nums[1] >= nums[0] else -1
    elif len(nums) == 3:
        start, limit, step = nums
    else:
        raise EvalError("range() takes 1 to 3 arguments")
    if step == 0:
        raise EvalError("range(): step must not be zero")
    out: list[int | float] = []
    x = start
    while (x < limit) if step > 0 else (x > limit):
        out.append(_norm_num(x))
        if len(out) > 1024:
            raise EvalError("range() would produce more than 1024 elements")
        x += step
    return out


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        if not args:
            raise EvalError("needs at least one number")
        return _norm_num(pick(_num(a) for a in args))

    return fn


def _jsondecode(s: Any) -> Any:
    try:
        return json.loads(to_string(s))
    except json.JSONDecodeError as exc:
        raise EvalError(f"jsondecode(): {exc}") from None


def _f_jsonencode(v: Any) -> Any:
    """The JSON text, or an :class:`Encoded` keeping the structure when some leaf is unknown."""
    u = first_unknown(v)
    if u is None:
        return json.dumps(v, separators=(",", ":"), sort_keys=True)
    if isinstance(v, Encoded):  # jsonencode(jsonencode(x)) is a string of a string: nothing to keep
        return _plain(v)
    if isinstance(v, (dict, list)):
        return Encoded(u.reason, v)
    return u


def _f_jsondecode(v: Any) -> Any:
    """``jsondecode(jsonencode(x))`` is ``x`` even when ``x`` has unknown leaves."""
    if isinstance(v, Encoded):
        return v.structure
    u = _opaque(v)
    if u is not None:
        return u
    return _jsondecode(v)


_JSON_FUNCS: dict[str, Callable[[Any], Any]] = {"jsonencode": _f_jsonencode, "jsondecode": _f_jsondecode}


def _replace_in_document(doc: Any, sub: Any, repl: Any) -> Any:
    """``replace()`` on a policy document whose replacement is not known (terraform-aws-modules/s3-bucket swaps
    ``_S3_BUCKET_ARN_`` placeholders in its rendered policy): an :class:`Encoded` whose leaves holding ``sub``
    spell the replacement as a reference; None when this is not such a call (the ordinary path then applies)."""
    if not isinstance(sub, str) or not sub or sub.startswith("/"):
        return None  # a regex replace is not modelled on documents
    structure = doc.structure if isinstance(doc, Encoded) else None
    if structure is None and isinstance(doc, str) and sub in doc and _opaque(repl) is not None:
        try:
            structure = json.loads(doc)
        except ValueError:
            return None
        if not isinstance(structure, (dict, list)):
            return None
    if structure is None:
        return None
    u = _opaque(repl)
    spelt = repl.text if isinstance(repl, Partial) else ("${" + str(repl) + "}" if isinstance(repl, Ref) else None)

    def walk(v: Any) -> Any:
        if isinstance(v, str) and sub in v:
            if u is None:
                return v.replace(sub, to_string(repl))
            return Partial(u.reason, v.replace(sub, spelt)) if spelt is not None else u
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    out = walk(structure)
    reason = first_unknown(out)
    return Encoded(reason.reason, out) if reason is not None else json.dumps(out, separators=(",", ":"))


def _slice(lst: Any, start: Any, end: Any) -> list[Any]:
    if not isinstance(lst, list):
        raise EvalError("slice() needs a list")
    return lst[int(_num(start)):int(_num(end))]


def _index(lst: Any, v: Any) -> int:
    if not isinstance(lst, list):
        raise EvalError("index() needs a list")
    for i, x in enumerate(lst):
        if _eq(x, v):
            return i
    raise EvalError("index(): value not found")


def _sort(lst: Any) -> list[str]:
    if not isinstance(lst, list):
        raise EvalError("sort() needs a list")
    return sorted(to_string(x) for x in lst)


_FUNCS: dict[str, Callable[..., Any]] = {
    "lookup": _lookup,
    "element": _element,
    "lower": lambda s: to_string(s).lower(),
    "upper": lambda s: to_string(s).upper(),
    "title": _title,
    "format": _format,
    "formatlist": _formatlist,
    "join": _join,
    "split": _split,
    "replace": _replace,
    "substr": _substr,
    "trimspace": lambda s: to_string(s).strip(),
    "trimprefix": lambda s, p: to_string(s).removeprefix(to_string(p)),
    "trimsuffix": lambda s, p: to_string(s).removesuffix(to_string(p)),
    "trim": lambda s, chars: to_string(s).strip(to_string(chars)),
    "chomp": lambda s: to_string(s).rstrip("\r\n"),
    "strrev": lambda s: to_string(s)[::-1],
    "merge": _merge,
    "toset": _toset,
    "tolist": _tolist,
    "tomap": _tomap,
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "concat": _concat,
    "contains": _contains,
    "keys": _keys,
    "values": _values,
    "length": _length,
    "flatten": _flatten,
    "distinct": _distinct,
    "zipmap": _zipmap,
    "compact": _compact,
    "one": _one,
    "regex": _regex,
    "regexall": _regexall,
    "startswith": lambda s, p: to_string(s).startswith(to_string(p)),
    "endswith": lambda s, p: to_string(s).endswith(to_string(p)),
    "strcontains": lambda s, p: to_string(p) in to_string(s),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
    "jsondecode": _jsondecode,
    "range": _range,
    "min": _minmax(min),
    "max": _minmax(max),
    "abs": lambda n: _norm_num(abs(_num(n))),
    "ceil": lambda n: math.ceil(_num(n)),
    "floor": lambda n: math.floor(_num(n)),
    "slice": _slice,
    "index": _index,
    "reverse": lambda lst: list(reversed(lst)) if isinstance(lst, list) else _fail("reverse() needs a list"),
    "sort": _sort,
    "sum": lambda lst: _norm_num(sum(_num(x) for x in lst)),
    "setintersection": _setintersection,
    "setunion": _setunion,
    "setsubtract": _setsubtract,
    "alltrue": _all_any(all, "alltrue"),
    "anytrue": _all_any(any, "anytrue"),
    "basename": _basename,
    # sensitivity changes how Terraform shows a value, never the value (modules wrap ids and names in them)
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
}

# Functions whose arguments may hold Unknown elements without making the result unknown:
# they move elements around without reading them.
_SHALLOW = frozenset({"lookup", "element", "merge", "concat", "keys", "length", "values", "tolist",
                      "tomap", "one", "slice", "reverse", "zipmap", "flatten", "join", "compact"})

_NONDETERMINISTIC = frozenset({"timestamp", "plantimestamp", "uuid", "uuidv5", "bcrypt", "file", "filebase64",
                               "templatefile", "fileexists", "fileset", "filemd5", "filesha256", "filesha1",
                               "filebase64sha256", "filebase64sha512", "filesha512", "abspath", "pathexpand"})


def _fail(msg: str) -> Any:
    raise EvalError(msg)


def call_function(name: str, *args: Any) -> Any:
    """Call one of the modelled functions directly (tests, and the loader's type conversions)."""
    try:
        return _FUNCS[name](*args)
    except _UnknownResult as exc:
        return exc.unknown


__all__ = ["Encoded", "EvalError", "Lazy", "Named", "Partial", "Scope", "call_function", "evaluate", "evaluate_value",
           "first_unknown", "get_attr", "get_index", "materialise", "to_string"]
