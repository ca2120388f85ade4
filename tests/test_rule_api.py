"""The rule plug-in API: the registry, typed options validated from the policy, routing by role.

The engine is driven with a hand-made rule (not registered) so these tests show what a new rule
module (RES006 access, RES007 movement) can rely on: its options arrive typed with defaults, and it
sees every fact of its unit by role, not only the fact it judges.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import checks.rules
from checks.rules import RULES, Rule, RuleContext
from checks.rules.api import KNOWN_ROLES, NoOptions
from scanner.engine import ScanOptions, evaluate
from scanner.model import Category, DataStoreFacts, Resource, Severity, Violation
from scanner.policy import PolicyError, load_policy

RULES_DIR = Path(checks.rules.__file__).parent


def _modules_with_rule() -> set[str]:
    """Rule modules found by reading the package's files, not by importing them."""
    out = set()
    for path in RULES_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "RULE" for t in n.targets)
               for n in tree.body):
            out.add(path.stem)
    return out


def test_every_rule_module_is_registered_once_by_a_direct_import() -> None:
    registered = {m.__name__.rsplit(".", 1)[1] for m in checks.rules._MODULES}
    assert _modules_with_rule() == registered
    assert len({m.RULE.id for m in checks.rules._MODULES}) == len(checks.rules._MODULES)
    assert "import_module" not in (RULES_DIR / "__init__.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_rule_declares_identity_docs_roles_and_options(rule: Rule) -> None:
    assert rule.id.startswith("RES") and rule.name and rule.summary and rule.controls
    assert set(rule.roles) <= set(KNOWN_ROLES)
    assert dataclasses.is_dataclass(rule.options) and rule.options.__dataclass_params__.frozen  # type: ignore[attr-defined]
    rule.make_options()  # every option has a default
    for section in ("What it checks", "Why it matters", "Example", "How to fix", "Controls"):
        assert section in rule.doc, f"{rule.id} doc lacks {section}"


@dataclasses.dataclass(frozen=True)
class _Opts:
    strict: bool = False
    limit: int = 3
    names: tuple[str, ...] = ()


_SEEN: list[tuple[object, tuple[str, ...]]] = []


def _grant_check(fact: object, ctx: RuleContext) -> Iterator[Violation]:
    _SEEN.append((ctx.options, tuple(f.resource.address for f in ctx.unit_facts("data-store"))))
    yield Violation(Category.PLACEMENT, "grant seen", "fix")


TEST_RULE = Rule("RES990", "test-grant", Category.PLACEMENT, Severity.LOW, "test", _grant_check,
                 roles=("grant",), options=_Opts)


def _policy(tmp_path: Path, rules_block: str) -> object:
    p = tmp_path / "residency.yaml"
    p.write_text("version: 1\nallowed_regions: [in:eu-locations]\n" + rules_block, encoding="utf-8")
    return load_policy(p, known_rules={**RULES, "RES990": TEST_RULE})


def test_options_are_validated_typed_and_defaulted(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "rules:\n  RES990:\n    options: {strict: true, names: [a, b]}\n")
    assert TEST_RULE.make_options(policy.rule_setting("RES990").options) == _Opts(True, 3, ("a", "b"))  # type: ignore[attr-defined]
    with pytest.raises(PolicyError) as err:
        _policy(tmp_path, "rules:\n  RES990:\n    options: {strikt: true, limit: many}\n")
    text = str(err.value)
    assert "unknown option 'strikt' in rules.RES990.options; did you mean 'strict'?" in text
    assert "rules.RES990.options.limit: expected a whole number" in text
    with pytest.raises(PolicyError, match="this rule has no options"):
        _policy(tmp_path, "rules:\n  RES001:\n    options: {x: 1}\n")


def test_engine_routes_facts_by_role_and_shows_the_whole_unit(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "rules:\n  RES990:\n    options: {limit: 7}\n")
    bucket = DataStoreFacts(Resource("aws_s3_bucket", "aws_s3_bucket.b", "main.tf", 1, {}, root_dir="."),
                            "aws", True, None)
    grant = DataStoreFacts(Resource("aws_s3_bucket_policy", "aws_s3_bucket_policy.p", "main.tf", 9, {},
                                    root_dir="."), "aws", False, None, role="grant")
    _SEEN.clear()
    findings, _ = evaluate([bucket, grant], policy, {"RES990": TEST_RULE}, ScanOptions(paths=[]), tmp_path)  # type: ignore[arg-type]
    assert [f.resource for f in findings] == ["aws_s3_bucket_policy.p"]  # only the grant was judged
    seen = list(_SEEN)
    assert seen == [(_Opts(limit=7), ("aws_s3_bucket.b",))]


def test_rules_without_options_get_no_options() -> None:
    assert all(r.options is NoOptions for r in RULES.values())  # none today: behaviour unchanged
