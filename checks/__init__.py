"""The residency rules, registered explicitly (never by import side effect).

A rule is one small module exposing ``RULE``; the native engine and the checkov adapter both
call the same ``check`` function. Adding a rule means adding its module to ``_RULE_MODULES``;
a test asserts every module in this package with a ``RULE`` is registered, documented and has
fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from checks.engine_rules import engine_rules
from scanner.model import Category, DataStoreFacts, Severity, Violation

if TYPE_CHECKING:  # policy and regions are pure modules, imported lazily at run time
    from scanner.policy import AllowedSet, Policy
    from scanner.regions import Catalog


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may know besides the facts: the policy slice that applies, the catalog.

    ``allowed`` is already the scope that applies to the resource's path; ``facts`` lets a rule
    look at another data store by address (a replication destination) without re-classifying.
    """

    policy: Policy
    allowed: AllowedSet
    catalog: Catalog
    facts: Mapping[str, DataStoreFacts] = field(default_factory=dict)


CheckFn = Callable[[DataStoreFacts, RuleContext], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """A rule's identity and documentation; ``check`` holds all of its logic."""

    id: str
    name: str
    category: Category
    severity: Severity
    summary: str
    check: CheckFn
    roles: tuple[str, ...] = ("data-store",)
    controls: tuple[str, ...] = ()
    doc: str = ""
    checkov_id: str = ""
    examples: Mapping[str, Any] = field(default_factory=dict)


_RULE_MODULES = (
    "checks.placement",
    "checks.replication",
    "checks.encryption",
    "checks.key_placement",
    "checks.workload_placement",
)

# Engine-made findings have rules too, so they can be documented, switched, re-graded and waived.
ENGINE_RULES: dict[str, Rule] = engine_rules()  # type: ignore[assignment]


def _load() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for name in _RULE_MODULES:
        rule: Rule = import_module(name).RULE
        rules[rule.id] = rule
    rules.update(ENGINE_RULES)
    return dict(sorted(rules.items()))


RULES: dict[str, Rule] = _load()
