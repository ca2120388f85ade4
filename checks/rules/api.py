"""The rule plug-in API: what a rule module declares and what the engine hands its check.

A rule is one module under ``checks/rules/`` exposing ``RULE = Rule(...)``: identity (id, name,
category, severity, controls), its documentation in the fixed sections, the fact roles it judges,
its typed options and its ``check`` function. The engine routes each fact to the rules whose
``roles`` contain the fact's ``role``, and gives the check a :class:`RuleContext` holding the
policy slice, the catalog, the rule's options and every fact of the same unit (a Terraform root, a
plan, a manifest file), by address and by role: a rule that judges grants or data flows can see the
data stores they touch.

This module imports nothing from the rule modules or the registry, so rule modules import it
without a cycle.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scanner.model import Category, Resource, Severity, Violation

if TYPE_CHECKING:  # policy and regions are pure modules; rules only need their types here
    from scanner.policy import AllowedSet, Policy
    from scanner.regions import Catalog

#: The roles the classifier gives facts today (``DataStoreFacts.role``). New fact kinds (``grant``
#: for access, ``flow`` for data movement) add their role here and a rule lists it in ``roles``.
KNOWN_ROLES = ("data-store", "key", "workload", "grant", "flow")


class Fact(Protocol):
    """What the engine needs of any fact it routes: the resource it came from and its role.

    ``DataStoreFacts`` is one kind; a grant or a flow fact only has to carry these attributes
    (plus ``tags``/``notes``/``cloud``, read for exemptions and notes) to be routed to rules.
    """

    @property
    def resource(self) -> Resource: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class NoOptions:
    """The options of a rule that has none: ``rules.RES00x.options`` must then be empty."""


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may know besides its fact: the policy slice, catalog, options and unit.

    ``allowed`` is already the scope that applies to the resource's path; ``facts`` maps the
    addresses of the unit's facts (a replication destination, the bucket a grant names) so a rule
    never re-classifies; ``by_role`` lists the unit's facts per role (every grant, every flow).
    """

    policy: Policy
    allowed: AllowedSet
    catalog: Catalog
    facts: Mapping[str, Any] = field(default_factory=dict)
    options: Any = field(default_factory=NoOptions)
    by_role: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    #: the unit's path relative to the policy file, as scopes and ``terraform.roots`` globs match it
    #: (RES006 reads the root's ``self`` with it)
    policy_path: str = ""

    def unit_facts(self, role: str) -> tuple[Any, ...]:
        """Every fact of ``role`` in the unit being judged (empty when there is none)."""
        return self.by_role.get(role, ())


#: A check takes one fact of a role the rule lists and yields violations; the engine stamps them.
CheckFn = Callable[[Any, RuleContext], Iterator[Violation]]


def no_check(fact: Any, ctx: RuleContext) -> Iterator[Violation]:
    """Engine rules (RES900-RES902) are raised by the engine itself, never by a fact."""
    return iter(())


@dataclass(frozen=True)
class Rule:
    """A rule's identity, documentation and options; ``check`` holds all of its logic.

    ``options`` is a frozen dataclass type whose fields have defaults (yamllint's CONF/DEFAULT
    idea): the policy's ``rules.<id>.options`` mapping is validated against its fields when the
    policy is loaded, and the engine passes the instance as ``RuleContext.options``.
    ``roles=()`` marks an engine rule, whose findings the engine makes itself.
    """

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
    options: type = NoOptions

    def make_options(self, values: Mapping[str, Any] | None = None) -> Any:
        """The rule's options: defaults overridden by ``values`` (already validated by the policy)."""
        return self.options(**dict(values or {}))

    def option_fields(self) -> dict[str, tuple[type, Any]]:
        """Option name -> (type, default), for policy validation and the docs."""
        out: dict[str, tuple[type, Any]] = {}
        hints = _hints(self.options)
        for f in dataclasses.fields(self.options):
            default = f.default if f.default is not dataclasses.MISSING else None
            out[f.name] = (hints.get(f.name, object), default)
        return out


def _hints(cls: type) -> dict[str, type]:
    try:
        return {k: v for k, v in typing.get_type_hints(cls).items() if isinstance(v, type)}
    except (NameError, TypeError):  # an annotation that does not resolve: type left unchecked
        return {}
