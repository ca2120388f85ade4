"""Inline waivers: one directive syntax in Terraform comments and Kubernetes annotations.

    # residency:ignore RES001 reason="legacy bucket, DATA-12" expires=2025-12-31 approver="dpo"
    // residency:ignore RES001 reason="..."        /* residency:ignore RES001 reason="..." */
    metadata.annotations:
      residency.io/ignore.RES001: 'reason="..." expires=2025-12-31'

The parser is strict on purpose. A waiver switches a control off, so a typo must never widen or
silently drop it: an unknown key, a stray word, an unterminated quote or a date that is not
``YYYY-MM-DD`` makes the directive malformed (``WaiverSpec.error``), and :func:`validate` turns
that, a missing reason, an unknown rule id or a past expiry into the text of an RES902 finding.
Such a waiver waives nothing. Deciding that is the engine's job; this module only reads and
judges directives, so the same code serves the native engine and any other caller.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from scanner.model import Waiver

if TYPE_CHECKING:
    from scanner.policy import PolicyWaiver

DIRECTIVE = "residency:ignore"
ANNOTATION_PREFIX = "residency.io/ignore"
KEYS = ("reason", "expires", "approver")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<key>[A-Za-z_][\w-]*)=(?:
            "(?P<dq>(?:[^"\\]|\\.)*)"
          | '(?P<sq>(?:[^'\\]|\\.)*)'
          | (?P<bare>[^\s"']*)(?=\s|$)
        )
      | (?P<word>[^\s="']+)(?=\s|$)
    )""",
    re.VERBOSE | re.DOTALL,
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class WaiverSpec:
    """One waiver directive as written; ``error`` says why it is malformed (None when it is not)."""

    rule: str
    reason: str | None
    expires: date | None
    approver: str | None
    source: str  # "comment" | "annotation"
    file: str
    line: int
    error: str | None = None


def parse_comment(text: str, file: str, line: int) -> WaiverSpec | None:
    """Read a ``residency:ignore`` directive from one comment (``#``, ``//`` or ``/* */``).

    Returns None when the comment is not a directive, so ordinary comments cost nothing. The
    directive must open the comment: ``# see residency:ignore in the docs`` is prose, not a waiver.
    """
    body = _comment_body(text)
    if not body.startswith(DIRECTIVE):
        return None
    rest = body[len(DIRECTIVE):]
    if rest and not rest[0].isspace():
        return _malformed("", file, line, "comment",
                          f"expected a space and a rule id after {DIRECTIVE}, got {body.split()[0]!r}")
    return _parse_directive(rest, file, line, "comment", rule=None)


def from_comments(comments: Iterable[tuple[int, str]], file: str) -> list[WaiverSpec]:
    """Every directive among a resource's ``(line, comment text)`` pairs, in line order."""
    specs = [parse_comment(text, file, line) for line, text in sorted(comments, key=lambda c: c[0])]
    return [s for s in specs if s is not None]


def from_annotations(annotations: Mapping[str, str], file: str, line: int) -> list[WaiverSpec]:
    """Directives from Kubernetes annotations ``residency.io/ignore.RULE-ID: 'reason="..." ...'``.

    The bare key ``residency.io/ignore`` is read as a whole directive (``RULE-ID reason=...``),
    for tools that cannot put the rule id in the key. Other annotations are ignored.
    """
    specs = []
    for key in sorted(annotations):
        value = annotations[key]
        text = "" if value is None else str(value)
        if key == ANNOTATION_PREFIX:
            specs.append(_parse_directive(text, file, line, "annotation", rule=None))
        elif key.startswith(ANNOTATION_PREFIX + "."):
            rule = key[len(ANNOTATION_PREFIX) + 1:]
            specs.append(_parse_directive(text, file, line, "annotation", rule=rule))
    return specs


def validate(spec: WaiverSpec, known_rules: Collection[str], today: date) -> str | None:
    """Why this waiver waives nothing, or None when it applies.

    Every problem is listed at once (``unknown rule id 'RES01'; missing reason``) so one edit
    fixes the directive. A waiver on its expiry date still applies; the day after it does not.
    """
    problems: list[str] = []
    if spec.error:
        problems.append(spec.error)
    if spec.rule and spec.rule not in known_rules:
        hint = ""
        if spec.rule.upper() in known_rules:
            hint = f" (did you mean {spec.rule.upper()}?)"
        problems.append(f"unknown rule id {spec.rule!r}{hint}")
    if not spec.error and not (spec.reason and spec.reason.strip()):
        problems.append('missing reason (add reason="why this is acceptable")')
    if spec.expires is not None and today > spec.expires:
        problems.append(f"expired on {spec.expires.isoformat()}")
    return "; ".join(problems) or None


def to_waiver(spec: WaiverSpec) -> Waiver:
    """The :class:`Waiver` a finding carries when this (valid) directive waives it."""
    return Waiver(
        reason=(spec.reason or "").strip(),
        expires=spec.expires.isoformat() if spec.expires else None,
        approver=spec.approver,
        source=f"inline {spec.file}:{spec.line}",
    )


def match_policy_waiver(waivers: Sequence[PolicyWaiver], rule: str, resource: str, file: str,
                        *, today: date | None = None) -> PolicyWaiver | None:
    """The first policy waiver covering ``rule`` on ``resource`` in ``file``, or None.

    Matching is the policy's own (:meth:`PolicyWaiver.matches`: exact address, an address
    without index covering its instances, ``*``/``?`` globs, path globs), so a scope and a waiver
    never disagree on what a glob means. With ``today`` given, expired waivers are skipped, so
    an expired entry cannot shadow a valid one further down.
    """
    for waiver in waivers:
        if today is not None and waiver.expires is not None and today > waiver.expires:
            continue
        if waiver.matches(rule, resource, file):
            return waiver
    return None


# --------------------------------------------------------------------------------------- parsing


def _comment_body(text: str) -> str:
    """The comment's text without its markers (``#``, ``//``, ``/* */`` and leading ``*``)."""
    body = text.strip()
    if body.startswith("/*"):
        body = body[2:]
        if body.endswith("*/"):
            body = body[:-2]
        # a block comment's continuation lines often start with " * "
        body = "\n".join(re.sub(r"^\s*\*(?!/)", "", ln) for ln in body.splitlines())
    elif body.startswith("//"):
        body = body[2:]
    elif body.startswith("#"):
        body = body[1:]
    return body.strip()


def _parse_directive(text: str, file: str, line: int, source: str, rule: str | None) -> WaiverSpec:
    """Parse ``[RULE-ID] key=value ...``; ``rule`` is given when the annotation key holds it."""
    values: dict[str, str] = {}
    words: list[str] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            fragment = text[pos:].strip()
            if fragment[:1] in "\"'" or re.match(r"[\w-]+=[\"']", fragment):
                problem = f"unterminated quote in {fragment[:40]!r}"
            else:
                problem = f"cannot read {fragment[:40]!r}"
            return _malformed(rule or (words[0] if words else ""), file, line, source, problem)
        pos = m.end()
        if m["word"] is not None:
            words.append(m["word"])
            continue
        key = m["key"]
        raw = m["dq"] if m["dq"] is not None else m["sq"] if m["sq"] is not None else m["bare"]
        value = re.sub(r"\\(.)", r"\1", raw, flags=re.DOTALL) if m["bare"] is None else raw
        if key not in KEYS:
            return _malformed(rule or (words[0] if words else ""), file, line, source,
                              f"unknown key {key!r} (expected {', '.join(KEYS)})")
        if key in values:
            return _malformed(rule or (words[0] if words else ""), file, line, source, f"{key} given twice")
        values[key] = value

    if rule is None:
        if not words:
            return _malformed("", file, line, source, f"missing rule id after {DIRECTIVE}")
        rule, words = words[0], words[1:]
    if not rule:
        return _malformed("", file, line, source, "missing rule id")
    if words:
        return _malformed(rule, file, line, source,
                          f"unexpected {' '.join(words)!r} (one rule per directive; quote the reason: "
                          'reason="...")')

    expires: date | None = None
    error: str | None = None
    if "expires" in values:
        raw_date = values["expires"].strip()
        try:
            if not _DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            expires = date.fromisoformat(raw_date)
        except ValueError:
            error = f"expires {raw_date!r} is not a date (YYYY-MM-DD)"
    reason = values.get("reason")
    approver = values.get("approver")
    return WaiverSpec(rule=rule, reason=reason, expires=expires, approver=approver or None, source=source,
                      file=file, line=line, error=error)


def _malformed(rule: str, file: str, line: int, source: str, error: str) -> WaiverSpec:
    return WaiverSpec(rule=rule, reason=None, expires=None, approver=None, source=source, file=file,
                      line=line, error=f"malformed waiver: {error}")
