"""Parse one Terraform file (HCL native syntax, ``*.tf.json``, tfvars) into plain picklable data.

The output (:class:`ParsedFile`) holds only tuples, dicts, lists, str/int/float/bool and small
dataclasses of those, so a cache can key it by content hash and worker processes can send it back.
Every parser quirk ends here: python-hcl2's lark tree (parsed ONCE with ``hcl2.parses_to_tree``,
which carries line numbers; its ``with_meta`` serialisation does not, see its issue #291) is walked
straight into our own expression AST; ``transform``/``serialize`` are never used because their
strings keep quotes and ``${...}`` wrappers and are lossy.

Expression AST (tuples, tag first)::

    ("lit", value)                         literal: str/int/float/bool/None
    ("tmpl", parts)                        template; a part is a str or ("i", expr) or
                                           ("if", cond, then_parts, else_parts) or
                                           ("for", key_var, value_var, coll, body_parts)
    ("name", ident)                        a bare identifier (var, local, each, aws_s3_bucket, ...)
    ("get", base, steps)                   traversal; a step is ("a", name) or ("i", expr)
    ("splat", base, steps)                 ``base[*].steps`` / ``base.*.steps``
    ("call", name, args, expand_last)
    ("cond", cond, then, else)
    ("bin", op, left, right)
    ("un", op, operand)
    ("tuple", items)
    ("obj", ((key_expr, value_expr), ...)) bare identifier keys become ("lit", name)
    ("for", key_var|None, value_var, coll, key_expr|None, value_expr, cond|None, grouping)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since 2.6, missing from typeshed
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

Expr = tuple


class ParseError(Exception):
    """A file that does not parse; the loader turns it into a ``parse`` Problem and goes on."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass
class Attr:
    """One ``name = expr`` attribute with the lines it spans."""

    name: str
    expr: Expr
    line: int
    end_line: int


@dataclass
class Block:
    """A block (``resource "t" "n" {...}``) with its 1-based first/last line."""

    type: str
    labels: tuple[str, ...]
    line: int
    end_line: int
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class ParsedFile:
    """One parsed file: top-level blocks, top-level attributes (tfvars) and comments by line."""

    filename: str
    syntax: str  # "hcl" | "json"
    blocks: list[Block] = field(default_factory=list)
    attrs: dict[str, Attr] = field(default_factory=dict)
    comments: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0


# --------------------------------------------------------------------------------------------
# HCL native syntax
# --------------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)


def _unescape(s: str) -> str:
    """HCL quoted-string escapes (``\\n``, ``\\"``, ``\\uXXXX``); unknown escapes kept verbatim."""
    if "\\" not in s:
        return s

    def rep(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] in "uU" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, "\\" + e)

    return _ESCAPE_RE.sub(rep, s)


def _parser():  # lazily: importing hcl2 costs time and only the HCL paths need it
    from hcl2.parser import parser

    return parser()


def _parse_tree(text: str, filename: str) -> Tree:
    try:
        return _parser().parse(text + "\n")  # hcl2.parses_to_tree does the same (lark issue #237)
    except UnexpectedInput as exc:
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        line = min(max(int(getattr(exc, "line", None) or 1), 1), max(last, 1))
        token = getattr(exc, "token", None)
        if token is not None and getattr(token, "type", "") == "$END":
            msg = "unexpected end of file (an unclosed block, bracket or string?)"
        else:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParseError(filename, line, msg) from None
    except LarkError as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise ParseError(filename, 1, msg) from None


def _subtrees(children: list) -> list[Tree]:
    """Children that carry meaning (drop punctuation tokens and newline/comment runs)."""
    return [c for c in children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _name_of(node: Tree | Token) -> str:
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(_unescape(str(p.children[0])) for p in node.children if isinstance(p, Tree))
    tok = node.children[0]
    return str(tok)


class _Walker:
    """Turns the lark tree into the AST above; one instance per file (holds the file name)."""

    def __init__(self, filename: str, line_offset: int = 0) -> None:
        self.filename = filename
        self.line_offset = line_offset

    # ---- structure -------------------------------------------------------------------
    def body(self, body: Tree) -> tuple[dict[str, Attr], list[Block]]:
        attrs: dict[str, Attr] = {}
        blocks: list[Block] = []
        for child in body.children:
            if not isinstance(child, Tree):
                continue
            if child.data == "attribute":
                name = _name_of(child.children[0])
                expr = self.expr(child.children[-1])
                attrs[name] = Attr(name, expr, child.meta.line + self.line_offset,
                                   child.meta.end_line + self.line_offset)
            elif child.data == "block":
                blocks.append(self.block(child))
        return attrs, blocks

    def block(self, node: Tree) -> Block:
        kids = node.children
        btype = _name_of(kids[0])
        labels: list[str] = []
        body_node = None
        for k in kids[1:]:
            if isinstance(k, Tree):
                if k.data == "body":
                    body_node = k
                elif k.data != "new_line_or_comment":
                    labels.append(_name_of(k))
        attrs, blocks = self.body(body_node) if body_node is not None else ({}, [])
        return Block(btype, tuple(labels), node.meta.line + self.line_offset,
                     node.meta.end_line + self.line_offset, attrs, blocks)

    # ---- expressions -----------------------------------------------------------------
    def expr(self, node: Tree | Token) -> Expr:
        if isinstance(node, Token):  # should not happen with this grammar; be safe
            return ("lit", str(node))
        fn = getattr(self, "e_" + node.data, None)
        if fn is None:
            raise ParseError(self.filename, getattr(node.meta, "line", 1), f"unsupported syntax {node.data}")
        return fn(node)

    def e_expr_term(self, node: Tree) -> Expr:
        kids = _subtrees(node.children)
        return self.expr(kids[0])

    def e_int_lit(self, node: Tree) -> Expr:
        return ("lit", int(str(node.children[0])))

    def e_float_lit(self, node: Tree) -> Expr:
        return ("lit", float(str(node.children[0])))

    def e_literal_value(self, node: Tree) -> Expr:
        return ("lit", {"true": True, "false": False, "null": None}[str(node.children[0])])

    def e_identifier(self, node: Tree) -> Expr:
        return ("name", str(node.children[0]))

    e_keyword = e_identifier

    def e_string(self, node: Tree) -> Expr:
        raw: list = []
        for part in node.children:
            if not isinstance(part, Tree):
                continue
            inner = part.children[0]
            if isinstance(inner, Token):
                if inner.type == "ESCAPED_INTERPOLATION" or inner.type == "ESCAPED_DIRECTIVE":
                    raw.append(str(inner)[1:])
                else:
                    raw.append(_unescape(str(inner)))
            else:
                raw.append(self._template_piece(inner))
        return _assemble_template(raw, self.filename, node.meta.line + self.line_offset)

    def _template_piece(self, node: Tree) -> tuple:
        piece = self._template_piece_body(node)
        markers = [i for i, c in enumerate(node.children) if isinstance(c, Token) and c.type == "STRIP_MARKER"]
        if not markers:
            return piece
        left = any(i <= 1 for i in markers)
        right = any(i > 1 for i in markers)
        return ("~", piece, left, right)

    def _template_piece_body(self, node: Tree) -> tuple:
        kind = node.data
        exprs = [self.expr(c) for c in _subtrees(node.children)]
        if kind == "interpolation":
            return ("i", exprs[0])
        if kind == "template_if_start":
            return ("%if", exprs[0])
        if kind == "template_else":
            return ("%else",)
        if kind == "template_endif":
            return ("%endif",)
        if kind == "template_for_start":
            names = [e[1] for e in exprs[:-1]]
            key, val = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            return ("%for", key, val, exprs[-1])
        if kind == "template_endfor":
            return ("%endfor",)
        raise ParseError(self.filename, node.meta.line, f"unsupported template part {kind}")

    def e_template_string(self, node: Tree) -> Expr:
        s = str(node.children[0])
        return ("lit", _unescape(s[2:-2]))

    def e_heredoc_template(self, node: Tree) -> Expr:
        return self._heredoc(node, trim=False)

    def e_heredoc_template_trim(self, node: Tree) -> Expr:
        return self._heredoc(node, trim=True)

    def _heredoc(self, node: Tree, trim: bool) -> Expr:
        raw = str(node.children[0]).replace("\r\n", "\n")
        lines = raw.split("\n")
        body_lines = lines[1:-2]  # drop "<<EOT", the closing marker and the trailing ""
        if trim:
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
            cut = min(indents) if indents else 0
            body_lines = [ln[cut:] for ln in body_lines]
        text = "\n".join(body_lines) + ("\n" if body_lines else "")
        return parse_template(text, self.filename, node.meta.line + 1 + self.line_offset)

    def e_tuple(self, node: Tree) -> Expr:
        return ("tuple", tuple(self.expr(c) for c in _subtrees(node.children)))

    def e_object(self, node: Tree) -> Expr:
        items = []
        for elem in _subtrees(node.children):
            key_node, value_node = _subtrees(elem.children)
            kchild = _subtrees(key_node.children)
            if not kchild:  # keyword token used as key
                key: Expr = ("lit", str(key_node.children[0]))
            else:
                key = self.expr(kchild[0])
                # a bare identifier key is a literal string; a parenthesised one is an expression
                if key[0] == "name" and not _is_parenthesised(kchild[0]):
                    key = ("lit", key[1])
            items.append((key, self.expr(value_node)))
        return ("obj", tuple(items))

    def e_function_call(self, node: Tree) -> Expr:
        kids = node.children
        names = [str(k.children[0]) for k in kids if isinstance(k, Tree) and k.data == "identifier"]
        args: list[Expr] = []
        expand = False
        for k in kids:
            if isinstance(k, Tree) and k.data == "arguments":
                for a in k.children:
                    if isinstance(a, Token) and a.type == "ELLIPSIS":
                        expand = True
                    elif isinstance(a, Tree) and a.data != "new_line_or_comment":
                        args.append(self.expr(a))
        return ("call", "::".join(names), tuple(args), expand)

    def _step(self, node: Tree) -> tuple:
        if node.data == "get_attr":
            return ("a", _name_of(_subtrees(node.children)[0]))
        if node.data == "braces_index":
            return ("i", self.expr(_subtrees(node.children)[0]))
        if node.data == "short_index":
            return ("i", ("lit", int(str(node.children[-1]))))
        raise ParseError(self.filename, node.meta.line, f"unsupported traversal {node.data}")

    def _traverse(self, node: Tree) -> Expr:
        base_node, step_node = node.children[0], node.children[1]
        base = self.expr(base_node)
        step = self._step(step_node)
        if base[0] == "get" and not _is_parenthesised(base_node):
            return ("get", base[1], base[2] + (step,))
        return ("get", base, (step,))

    e_get_attr_expr_term = _traverse
    e_index_expr_term = _traverse

    def _splat(self, node: Tree) -> Expr:
        base = self.expr(node.children[0])
        steps = tuple(self._step(s) for s in _subtrees(node.children[1].children))
        return ("splat", base, steps)

    e_full_splat_expr_term = _splat

    def e_attr_splat_expr_term(self, node: Tree) -> Expr:
        """``base.*.attr[0]``: the legacy attribute-only splat takes only the attribute steps; an index ends it
        and applies to the resulting list (HCL native syntax spec, "Splat Operators"). python-hcl2's grammar
        puts the index inside the splat, which would read ``aws_s3_bucket.b.*.arn[0]`` (the first bucket's
        ARN, common in pre-0.12 modules) as every bucket's ARN indexed, i.e. an unresolved value."""
        splat = self._splat(node)
        steps = splat[2]
        cut = next((n for n, st in enumerate(steps) if st[0] != "a"), len(steps))
        if cut == len(steps):
            return splat
        return ("get", ("splat", splat[1], steps[:cut]), steps[cut:])

    def e_conditional(self, node: Tree) -> Expr:
        c, t, f = (self.expr(k) for k in _subtrees(node.children))
        return ("cond", c, t, f)

    def e_binary_op(self, node: Tree) -> Expr:
        left_node, term = _subtrees(node.children)[:2]
        op_node, right_node = _subtrees(term.children)
        op = str(op_node.children[0]).split("\n")[-1].strip()
        return ("bin", op, self.expr(left_node), self.expr(right_node))

    def e_unary_op(self, node: Tree) -> Expr:
        op = str(node.children[0])
        operand = self.expr(node.children[1])
        if op == "-" and operand[0] == "lit" and isinstance(operand[1], (int, float)):
            return ("lit", -operand[1])
        return ("un", op, operand)

    def _for_intro(self, node: Tree) -> tuple[str | None, str, Expr]:
        kids = _subtrees(node.children)
        names = [k.children[0] for k in kids if k.data == "identifier"]
        coll = self.expr(kids[-1])
        if len(names) == 2:
            return str(names[0]), str(names[1]), coll
        return None, str(names[0]), coll

    def e_for_tuple_expr(self, node: Tree) -> Expr:
        kids = _subtrees(node.children)
        kvar, vvar, coll = self._for_intro(kids[0])
        value = self.expr(kids[1])
        cond = self.expr(_subtrees(kids[2].children)[0]) if len(kids) > 2 else None
        return ("for", kvar, vvar, coll, None, value, cond, False)

    def e_for_object_expr(self, node: Tree) -> Expr:
        kids = _subtrees(node.children)
        kvar, vvar, coll = self._for_intro(kids[0])
        key = self.expr(kids[1])
        value = self.expr(kids[2])
        cond = self.expr(_subtrees(kids[3].children)[0]) if len(kids) > 3 else None
        grouping = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in node.children)
        return ("for", kvar, vvar, coll, key, value, cond, grouping)


def _is_parenthesised(node: Tree) -> bool:
    return (isinstance(node, Tree) and node.data == "expr_term" and bool(node.children)
            and isinstance(node.children[0], Token) and node.children[0].type == "LPAR")


def _assemble_template(raw: list, filename: str, line: int) -> Expr:
    """Turn flat pieces (str, ("i", e), ("%if", c), ...) into a nested template expression."""
    raw = _strip_markers(raw)
    stack: list[tuple[tuple, list]] = [(("root",), [])]
    for piece in raw:
        cur = stack[-1][1]
        if isinstance(piece, str):
            if cur and isinstance(cur[-1], str):
                cur[-1] += piece
            elif piece:
                cur.append(piece)
            continue
        tag = piece[0]
        if tag == "i":
            cur.append(piece)
        elif tag in ("%if", "%for"):
            stack.append((piece, []))
        elif tag == "%else":
            head, parts = stack[-1]
            if head[0] != "%if" or len(head) > 2:
                raise ParseError(filename, line, "%{else} without %{if}")
            stack[-1] = ((*head, parts), [])
        elif tag == "%endif":
            head, parts = stack.pop() if len(stack) > 1 else (("root",), [])
            if head[0] != "%if":
                raise ParseError(filename, line, "%{endif} without %{if}")
            then_parts, else_parts = (head[2], parts) if len(head) > 2 else (parts, [])
            stack[-1][1].append(("if", head[1], tuple(then_parts), tuple(else_parts)))
        elif tag == "%endfor":
            head, parts = stack.pop() if len(stack) > 1 else (("root",), [])
            if head[0] != "%for":
                raise ParseError(filename, line, "%{endfor} without %{for}")
            stack[-1][1].append(("for", head[1], head[2], head[3], tuple(parts)))
    if len(stack) != 1:
        raise ParseError(filename, line, "unterminated template directive")
    parts = stack[0][1]
    if not parts:
        return ("lit", "")
    if len(parts) == 1 and isinstance(parts[0], str):
        return ("lit", parts[0])
    return ("tmpl", tuple(parts))


def _strip_markers(raw: list) -> list:
    """Apply ``~`` strip markers: ``${~ x}`` / ``%{~ if}`` drop the whitespace (newlines too) before the
    sequence, ``${x ~}`` the whitespace after it, as Terraform does."""
    if not any(isinstance(p, tuple) and p[0] == "~" for p in raw):
        return raw
    out: list = []
    strip_next = False
    for piece in raw:
        if isinstance(piece, str):
            out.append(piece.lstrip(" \t\r\n") if strip_next else piece)
            strip_next = False
            continue
        if piece[0] == "~":
            _, inner, left, right = piece
            if left:
                for i in range(len(out) - 1, -1, -1):  # the literal text directly before
                    if not isinstance(out[i], str):
                        break
                    out[i] = out[i].rstrip(" \t\r\n")
                    if out[i]:
                        break
            out.append(inner)
            strip_next = right
            continue
        out.append(piece)
        strip_next = False
    return out


_TEMPLATE_START = re.compile(r"\$\$\{|%%\{|\$\{|%\{")


def _matching_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the interpolation opened just before ``start`` (string-aware)."""
    depth = 0
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text.startswith("${", i):  # nested template inside a string: skip it
                    i = _matching_brace(text, i + 2)
                i += 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def parse_expression(text: str, filename: str, line: int = 1) -> Expr:
    """Parse one HCL expression (used for heredoc/JSON interpolations and typed ``-var`` values)."""
    tree = _parse_tree("x = " + text.strip(), filename)
    walker = _Walker(filename, line - 1)
    attrs, _ = walker.body(tree.children[0])
    return attrs["x"].expr


def parse_template(text: str, filename: str, line: int = 1, unescape: bool = False) -> Expr:
    """Parse template text (heredoc body, JSON string) into a template expression."""
    if "${" not in text and "%{" not in text:
        return ("lit", _unescape(text) if unescape else text)
    raw: list = []
    pos = 0
    for m in _TEMPLATE_START.finditer(text):
        if m.start() < pos:
            continue
        lit = text[pos:m.start()]
        raw.append(_unescape(lit) if unescape else lit)
        tok = m.group()
        if tok in ("$${", "%%{"):
            raw.append(tok[1:])
            pos = m.end()
            continue
        end = _matching_brace(text, m.end())
        if end < 0:
            here = line + text.count("\n", 0, m.start())
            raise ParseError(filename, here, "unterminated template sequence")
        inner = text[m.end():end]
        here = line + text.count("\n", 0, m.start())
        body = inner.strip()
        left, right = body.startswith("~"), body.endswith("~") and len(body) > 1
        body = body[1:] if left else body
        body = body[:-1] if right else body
        piece = (("i", parse_expression(body, filename, here)) if tok == "${"
                 else _directive(body.strip(), filename, here))
        raw.append(("~", piece, left, right) if left or right else piece)
        pos = end + 1
    raw.append(_unescape(text[pos:]) if unescape else text[pos:])
    return _assemble_template(raw, filename, line)


def _directive(inner: str, filename: str, line: int) -> tuple:
    if inner == "else":
        return ("%else",)
    if inner == "endif":
        return ("%endif",)
    if inner == "endfor":
        return ("%endfor",)
    if inner.startswith("if "):
        return ("%if", parse_expression(inner[3:], filename, line))
    m = re.match(r"for\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*))?\s+in\s+(.*)$", inner, re.S)
    if m:
        key, val = (m.group(1), m.group(2)) if m.group(2) else (None, m.group(1))
        return ("%for", key, val, parse_expression(m.group(3), filename, line))
    raise ParseError(filename, line, f"unsupported template directive %{{{inner}}}")


def _comments(tree: Tree) -> list[tuple[int, str]]:
    """Comments with their 1-based line: from newline/comment tokens (and operators they merged into)."""
    out: list[tuple[int, str]] = []
    for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type in _COMMENT_CARRIERS):
        s = str(tok)
        if "#" not in s and "/" not in s:
            continue
        line = tok.line
        i, n = 0, len(s)
        while i < n:
            ch = s[i]
            if ch == "\n":
                line += 1
                i += 1
            elif ch == "#" or s.startswith("//", i):
                j = s.find("\n", i)
                j = n if j < 0 else j
                out.append((line, s[i:j].rstrip("\r")))
                i = j
            elif s.startswith("/*", i):
                j = s.find("*/", i + 2)
                j = n if j < 0 else j + 2
                out.append((line, s[i:j]))
                line += s.count("\n", i, j)
                i = j
            else:
                i += 1
    out.sort()
    return out


_COMMENT_CARRIERS = frozenset({"NL_OR_COMMENT", "DOUBLE_EQ", "NEQ", "LT", "GT", "LEQ", "GEQ", "ASTERISK",
                               "SLASH", "PERCENT", "DOUBLE_AMP", "DOUBLE_PIPE", "PLUS", "QMARK"})


def parse_hcl(text: str, filename: str) -> ParsedFile:
    """Parse an HCL native-syntax file (``*.tf``, ``*.tofu``) once: blocks, lines, comments."""
    tree = _parse_tree(text, filename)
    walker = _Walker(filename)
    attrs, blocks = walker.body(tree.children[0])
    return ParsedFile(filename, "hcl", blocks, attrs, _comments(tree), text.count("\n") + 1)


def parse_tfvars(text: str, filename: str) -> ParsedFile:
    """Parse a ``*.tfvars`` (HCL) or ``*.tfvars.json`` file: top-level attributes in ``attrs``.

    JSON variable files hold literal values (Terraform does not interpret templates in them).
    """
    if filename.endswith(".json"):
        node = _JsonReader(text, filename).read()
        if node[0] != "obj":
            raise ParseError(filename, 1, "a .tfvars.json file must hold a JSON object")
        attrs = {k: Attr(k, ("lit", _plain(v)), kl, _end(v, kl)) for k, kl, v in node[3]}
        return ParsedFile(filename, "json", [], attrs, [], text.count("\n") + 1)
    return parse_hcl(text, filename)


# --------------------------------------------------------------------------------------------
# Terraform JSON syntax (*.tf.json), with line numbers
# --------------------------------------------------------------------------------------------

# JSON nodes: ("obj", line, end_line, [(key, key_line, node), ...]) | ("arr", line, end_line, [node])
#             | ("val", line, value)
_NUMBER_RE = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_WS_RE = re.compile(r"[ \t\n\r]*")


class _JsonReader:
    """A tiny position-aware JSON reader: the stdlib decoder gives values but not their lines."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.nl = [i for i, c in enumerate(text) if c == "\n"]

    def line(self, pos: int) -> int:
        return bisect_right(self.nl, pos - 1) + 1

    def fail(self, pos: int, msg: str) -> ParseError:
        return ParseError(self.filename, self.line(pos), msg)

    def read(self) -> tuple:
        node, pos = self.value(_WS_RE.match(self.text, 0).end())  # type: ignore[union-attr]  # [ \t\n\r]* always matches
        pos = _WS_RE.match(self.text, pos).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
        if pos != len(self.text):
            raise self.fail(pos, "extra data after the JSON value")
        return node

    def value(self, pos: int) -> tuple[tuple, int]:
        t = self.text
        if pos >= len(t):
            raise self.fail(pos, "unexpected end of JSON")
        ch = t[pos]
        if ch == "{":
            return self.obj(pos)
        if ch == "[":
            return self.arr(pos)
        if ch == '"':
            try:
                s, end = scanstring(t, pos + 1)
            except ValueError as exc:
                raise self.fail(pos, f"bad JSON string: {exc}") from None
            return ("val", self.line(pos), s), end
        for word, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, pos):
                return ("val", self.line(pos), val), pos + len(word)
        m = _NUMBER_RE.match(t, pos)
        if m and m.end() > pos:
            num = float(m.group()) if (m.group(1) or m.group(2)) else int(m.group())
            return ("val", self.line(pos), num), m.end()
        raise self.fail(pos, f"unexpected character {ch!r} in JSON")

    def obj(self, pos: int) -> tuple[tuple, int]:
        t, start = self.text, pos
        items: list = []
        pos = _WS_RE.match(t, pos + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
        if t.startswith("}", pos):
            return ("obj", self.line(start), self.line(pos), items), pos + 1
        while True:
            if not t.startswith('"', pos):
                raise self.fail(pos, "expected a quoted key in JSON object")
            try:
                key, pos2 = scanstring(t, pos + 1)
            except ValueError as exc:  # an unterminated key in a truncated file
                raise self.fail(pos, f"bad JSON string: {exc}") from None
            kline = self.line(pos)
            pos = _WS_RE.match(t, pos2).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
            if not t.startswith(":", pos):
                raise self.fail(pos, "expected ':' in JSON object")
            node, pos = self.value(_WS_RE.match(t, pos + 1).end())  # type: ignore[union-attr]  # [ \t\n\r]* always matches
            items.append((key, kline, node))
            pos = _WS_RE.match(t, pos).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
            if t.startswith(",", pos):
                pos = _WS_RE.match(t, pos + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
                continue
            if t.startswith("}", pos):
                return ("obj", self.line(start), self.line(pos), items), pos + 1
            raise self.fail(pos, "expected ',' or '}' in JSON object")

    def arr(self, pos: int) -> tuple[tuple, int]:
        t, start = self.text, pos
        items: list = []
        pos = _WS_RE.match(t, pos + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
        if t.startswith("]", pos):
            return ("arr", self.line(start), self.line(pos), items), pos + 1
        while True:
            node, pos = self.value(pos)
            items.append(node)
            pos = _WS_RE.match(t, pos).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
            if t.startswith(",", pos):
                pos = _WS_RE.match(t, pos + 1).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches
                continue
            if t.startswith("]", pos):
                return ("arr", self.line(start), self.line(pos), items), pos + 1
            raise self.fail(pos, "expected ',' or ']' in JSON array")


def _plain(node: tuple) -> Any:
    if node[0] == "val":
        return node[2]
    if node[0] == "arr":
        return [_plain(n) for n in node[3]]
    return {k: _plain(v) for k, _, v in node[3]}


def _end(node: tuple, default: int) -> int:
    return node[2] if node[0] in ("obj", "arr") else default


# Block types whose labels nest as JSON object keys, with how many labels they take.
_JSON_LABELS = {"resource": 2, "data": 2, "module": 1, "provider": 1, "variable": 1, "output": 1,
                "locals": 0, "terraform": 0, "moved": 0, "import": 0, "check": 1, "removed": 0}
# Inside a body these keys are nested blocks, everything else is an attribute.
_JSON_META_BLOCKS = {"lifecycle", "provisioner", "connection", "dynamic", "content"}
# Attributes whose JSON strings are literal values, not templates.
_JSON_LITERAL_ATTRS = {("variable", "default"), ("variable", "type"), ("variable", "description")}


class _JsonConv:
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def expr(self, node: tuple, literal: bool = False) -> Expr:
        kind = node[0]
        if kind == "val":
            v = node[2]
            if isinstance(v, str) and not literal:
                return parse_template(v, self.filename, node[1])
            return ("lit", v)
        if kind == "arr":
            return ("tuple", tuple(self.expr(n, literal) for n in node[3]))
        items = []
        for k, kline, v in node[3]:
            if k == "//":
                continue
            kexpr = ("lit", k) if literal else parse_template(k, self.filename, kline)
            items.append((kexpr, self.expr(v, literal)))
        return ("obj", tuple(items))

    def bodies(self, node: tuple) -> list[tuple]:
        """A JSON block body is an object, or an array of objects (repeated blocks)."""
        if node[0] == "arr":
            return [n for n in node[3] if n[0] == "obj"]
        return [node] if node[0] == "obj" else []

    def body(self, btype: str, labels: tuple[str, ...], line: int, node: tuple) -> Block:
        blk = Block(btype, labels, line, _end(node, line))
        if node[0] != "obj":
            return blk
        for key, kline, value in node[3]:
            if key == "//":
                continue
            if btype == "locals" or key not in _JSON_META_BLOCKS or btype in ("variable", "output"):
                literal = (btype, key) in _JSON_LITERAL_ATTRS
                blk.attrs[key] = Attr(key, self.expr(value, literal), kline, _end(value, kline))
            elif key == "dynamic":
                for dname, dline, dval in (value[3] if value[0] == "obj" else []):
                    for b in self.bodies(dval):
                        blk.blocks.append(self.body("dynamic", (dname,), dline, b))
            elif key == "provisioner":
                for b in self.bodies(value):
                    for pname, pline, pval in b[3]:
                        for pb in self.bodies(pval):
                            blk.blocks.append(self.body("provisioner", (pname,), pline, pb))
            else:
                for b in self.bodies(value):
                    blk.blocks.append(self.body(key, (), kline, b))
        return blk

    def top(self, root: tuple) -> list[Block]:
        blocks: list[Block] = []
        if root[0] != "obj":
            raise ParseError(self.filename, 1, "a .tf.json file must hold a JSON object")
        for btype, bline, node in root[3]:
            if btype == "//":
                continue
            nlabels = _JSON_LABELS.get(btype, 0)
            self._nest(btype, (), nlabels, bline, node, blocks)
        return blocks

    def _nest(self, btype: str, labels: tuple, left: int, line: int, node: tuple, out: list[Block]) -> None:
        if left == 0:
            for b in self.bodies(node):
                out.append(self.body(btype, labels, line if node[0] == "obj" else b[1], b))
            return
        objs = [it for n in self.bodies(node) for it in n[3]]
        for key, kline, sub in objs:
            if key == "//":
                continue
            self._nest(btype, (*labels, key), left - 1, kline, sub, out)


def parse_tf_json(text: str, filename: str) -> ParsedFile:
    """Parse Terraform JSON syntax (``*.tf.json``, as CDKTF writes it) with block line numbers.

    A block's line is the line of its innermost label key (``"b": {`` under ``"aws_s3_bucket"``),
    which is where a reader looks for it. Strings are templates (``"${var.region}"``) as Terraform
    reads them; nested objects are kept as maps/lists, since JSON syntax cannot tell a nested block
    from a map without the provider schema (the catalog's ``blocks()`` accepts both).
    """
    root = _JsonReader(text, filename).read()
    blocks = _JsonConv(filename).top(root)
    return ParsedFile(filename, "json", blocks, {}, [], text.count("\n") + 1)


def static_ref(expr: Expr) -> str | None:
    """``aws.us`` / ``"aws.us"`` as a dotted string: meta-arguments that Terraform reads statically."""
    if expr[0] == "lit" and isinstance(expr[1], str):
        return expr[1]
    if expr[0] == "name":
        return expr[1]
    if expr[0] == "tmpl" and len(expr[1]) == 1 and isinstance(expr[1][0], tuple) and expr[1][0][0] == "i":
        return static_ref(expr[1][0][1])
    if expr[0] == "get":
        base = static_ref(expr[1])
        if base is None:
            return None
        parts = [base]
        for step in expr[2]:
            if step[0] != "a":
                return None
            parts.append(step[1])
        return ".".join(parts)
    return None


def parse_file(path_text: str, filename: str) -> ParsedFile:
    """Dispatch on the file name: ``.tf.json``/``.tfvars.json`` JSON, ``.tfvars`` vars, else HCL."""
    if filename.endswith((".tfvars", ".tfvars.json")):
        return parse_tfvars(path_text, filename)
    if filename.endswith(".json"):
        return parse_tf_json(path_text, filename)
    return parse_hcl(path_text, filename)


__all__ = [
    "Attr",
    "Block",
    "ParseError",
    "ParsedFile",
    "parse_expression",
    "parse_file",
    "parse_hcl",
    "parse_template",
    "parse_tf_json",
    "parse_tfvars",
    "static_ref",
]
