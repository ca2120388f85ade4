"""Inline waiver directives: comments in three syntaxes, Kubernetes annotations, validation, policy match."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner import waivers
from scanner.waivers import WaiverSpec, from_annotations, from_comments, parse_comment, to_waiver, validate

KNOWN = {"RES001", "RES002", "RES902"}
TODAY = date(2025, 6, 1)


def problem(text: str) -> str | None:
    spec = parse_comment(text, "main.tf", 4)
    assert spec is not None
    return validate(spec, KNOWN, TODAY)


def test_valid_hash_comment() -> None:
    spec = parse_comment('# residency:ignore RES001 reason="legacy bucket, DATA-12" expires=2025-12-31 '
                         'approver="Data Protection Office"', "infra/main.tf", 4)
    assert spec == WaiverSpec(rule="RES001", reason="legacy bucket, DATA-12", expires=date(2025, 12, 31),
                              approver="Data Protection Office", source="comment", file="infra/main.tf",
                              line=4, error=None)
    assert validate(spec, KNOWN, TODAY) is None
    waiver = to_waiver(spec)
    assert waiver.reason == "legacy bucket, DATA-12"
    assert waiver.expires == "2025-12-31"
    assert waiver.approver == "Data Protection Office"
    assert waiver.source == "inline infra/main.tf:4"


@pytest.mark.parametrize("text", [
    '// residency:ignore RES001 reason="x"',
    '/* residency:ignore RES001 reason="x" */',
    '/*residency:ignore RES001 reason="x"*/',
    '/*\n * residency:ignore RES001\n * reason="x"\n */',
    '#residency:ignore RES001 reason="x"',
    "# residency:ignore RES001 reason='x'",
    'residency:ignore RES001 reason="x"',  # a loader that already stripped the marker
])
def test_comment_syntaxes(text: str) -> None:
    spec = parse_comment(text, "main.tf", 1)
    assert spec is not None and spec.rule == "RES001" and spec.reason == "x" and spec.error is None
    assert validate(spec, KNOWN, TODAY) is None


@pytest.mark.parametrize("text", [
    "# just a comment",
    "// bucket for uploads",
    "/* see residency:ignore in the docs */",
    "# TODO residency:ignore RES001 later",
    "",
])
def test_ordinary_comments_are_not_directives(text: str) -> None:
    assert parse_comment(text, "main.tf", 1) is None


def test_missing_reason() -> None:
    assert "missing reason" in problem("# residency:ignore RES001 expires=2025-12-31")
    assert "missing reason" in problem('# residency:ignore RES001 reason="  "')


def test_expired() -> None:
    assert problem('# residency:ignore RES001 reason="x" expires=2025-05-31') == "expired on 2025-05-31"
    assert problem('# residency:ignore RES001 reason="x" expires=2025-06-01') is None  # last valid day


def test_unknown_rule_id() -> None:
    assert problem('# residency:ignore RES999 reason="x"') == "unknown rule id 'RES999'"
    assert "did you mean RES001?" in problem('# residency:ignore res001 reason="x"')


def test_bad_date() -> None:
    for bad in ("2025-13-01", "31/12/2025", "20251231", "soon"):
        text = problem(f'# residency:ignore RES001 reason="x" expires={bad}')
        assert text is not None and "not a date (YYYY-MM-DD)" in text, bad


@pytest.mark.parametrize(("text", "fragment"), [
    ("# residency:ignore", "missing rule id"),
    ('# residency:ignore reason="x"', "missing rule id"),
    ('# residency:ignore RES001 reason="unterminated', "unterminated quote"),
    ('# residency:ignore RES001 reason=legacy bucket', "unexpected 'bucket'"),
    ('# residency:ignore RES001 RES002 reason="x"', "one rule per directive"),
    ('# residency:ignore RES001 reason="x" until=2025-12-31', "unknown key 'until'"),
    ('# residency:ignore RES001 reason="x" reason="y"', "reason given twice"),
    ('# residency:ignoreRES001 reason="x"', "expected a space"),
])
def test_malformed(text: str, fragment: str) -> None:
    spec = parse_comment(text, "main.tf", 9)
    assert spec is not None and spec.error is not None
    result = validate(spec, KNOWN, TODAY)
    assert result is not None and fragment in result and result.startswith("malformed waiver"), result


def test_reason_with_escaped_quote_and_bare_values() -> None:
    text = r'# residency:ignore RES001 reason="the \"eu\" copy" approver=dpo expires=2030-01-01'
    spec = parse_comment(text, "m.tf", 2)
    assert spec is not None and spec.reason == 'the "eu" copy' and spec.approver == "dpo"


def test_from_comments_keeps_directives_in_line_order() -> None:
    comments = [(12, '// residency:ignore RES002 reason="b"'), (3, "# plain"),
                (5, '# residency:ignore RES001 reason="a"')]
    specs = from_comments(comments, "main.tf")
    assert [(s.rule, s.line) for s in specs] == [("RES001", 5), ("RES002", 12)]


def test_annotations() -> None:
    annotations = {
        "residency.io/ignore.RES001": 'reason="cluster pinned by contract" expires=2025-12-31',
        "residency.io/ignore.RES002": "expires=2025-12-31",
        "residency.io/ignore": 'RES902 reason="bare key form"',
        "residency.io/owner": "team-data",
        "app.kubernetes.io/name": "db",
    }
    specs = {s.rule: s for s in from_annotations(annotations, "k8s/db.yaml", 7)}
    assert set(specs) == {"RES001", "RES002", "RES902"}
    first = specs["RES001"]
    assert (first.reason, first.expires, first.source, first.file, first.line) == (
        "cluster pinned by contract", date(2025, 12, 31), "annotation", "k8s/db.yaml", 7)
    assert validate(first, KNOWN, TODAY) is None
    assert "missing reason" in validate(specs["RES002"], KNOWN, TODAY)
    assert validate(specs["RES902"], KNOWN, TODAY) is None
    assert to_waiver(first).source == "inline k8s/db.yaml:7"


def test_annotation_with_unknown_rule_or_malformed_value() -> None:
    (spec,) = from_annotations({"residency.io/ignore.RES42": 'reason="x"'}, "a.yaml", 1)
    assert validate(spec, KNOWN, TODAY) == "unknown rule id 'RES42'"
    (spec,) = from_annotations({"residency.io/ignore.RES001": 'reason="x'}, "a.yaml", 1)
    assert "unterminated quote" in validate(spec, KNOWN, TODAY)


@given(st.text(max_size=80))
def test_parser_never_crashes(text: str) -> None:
    spec = parse_comment("# residency:ignore " + text, "f.tf", 1)
    assert spec is not None
    validate(spec, KNOWN, TODAY)
    assert parse_comment(text, "f.tf", 1) is None or text.lstrip("#/* \t\n").startswith("residency:ignore")
    for s in from_annotations({"residency.io/ignore.RES001": text}, "f.yaml", 1):
        validate(s, KNOWN, TODAY)


# ------------------------------------------------------------------------------ policy waivers


class FakePolicyWaiver:
    """Stands in for scanner.policy.PolicyWaiver where only matching semantics matter."""

    def __init__(self, rule: str, resource: str, expires: date | None = None) -> None:
        self.rule, self.resource, self.expires = rule, resource, expires

    def matches(self, rule_id: str, address: str, rel_path: str) -> bool:
        return rule_id == self.rule and address == self.resource


def test_match_policy_waiver_with_real_policy_waivers() -> None:
    from scanner.policy import PolicyWaiver

    ws = [
        PolicyWaiver(rule="RES001", resource='aws_s3_bucket.logs["us-east-1"]', reason="exact", expires=None,
                     approver=None, paths=(), line=10),
        PolicyWaiver(rule="RES001", resource="module.legacy.*", reason="glob", expires=None, approver=None,
                     paths=("legacy/**",), line=20),
    ]
    hit = waivers.match_policy_waiver
    assert hit(ws, "RES001", 'aws_s3_bucket.logs["us-east-1"]', "main.tf").reason == "exact"  # [ ] literal
    assert hit(ws, "RES001", 'aws_s3_bucket.logs["eu-west-1"]', "main.tf") is None
    assert hit(ws, "RES001", "module.legacy.aws_s3_bucket.a", "legacy/main.tf").reason == "glob"
    assert hit(ws, "RES001", "module.legacy.aws_s3_bucket.a", "other/main.tf") is None  # paths restrict
    assert hit(ws, "RES002", 'aws_s3_bucket.logs["us-east-1"]', "main.tf") is None


def test_match_policy_waiver_skips_expired_when_today_given() -> None:
    old = FakePolicyWaiver("RES001", "a.b", expires=date(2020, 1, 1))
    new = FakePolicyWaiver("RES001", "a.b", expires=date(2030, 1, 1))
    assert waivers.match_policy_waiver([old, new], "RES001", "a.b", "f.tf") is old  # engine pre-filters
    assert waivers.match_policy_waiver([old, new], "RES001", "a.b", "f.tf", today=TODAY) is new
