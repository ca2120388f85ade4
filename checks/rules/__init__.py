"""The rule registry: every rule module imported directly, by name, in id order.

Adding a rule = one module in this package exposing ``RULE`` (see :mod:`checks.rules.api` and the
README's "How to add a rule") + one import line and one entry below + its fixtures. A test fails
when a module here is not registered, or a registered rule lacks docs or fixtures.
"""

from __future__ import annotations

from checks.rules import (
    access,
    encryption,
    invalid_waiver,
    key_placement,
    movement,
    placement,
    replication,
    unparseable_file,
    unresolved_input,
    workload_placement,
)
from checks.rules.api import KNOWN_ROLES, Fact, NoOptions, Rule, RuleContext, no_check

__all__ = ["ENGINE_RULES", "KNOWN_ROLES", "RULES", "Fact", "NoOptions", "Rule", "RuleContext", "no_check"]

_MODULES = (
    placement,  # RES001
    replication,  # RES002
    encryption,  # RES003
    key_placement,  # RES004
    workload_placement,  # RES005
    access,  # RES006
    movement,  # RES007
    unparseable_file,  # RES900
    unresolved_input,  # RES901
    invalid_waiver,  # RES902
)

RULES: dict[str, Rule] = dict(sorted((m.RULE.id, m.RULE) for m in _MODULES))
"""Every rule by id, the engine rules included."""

# Engine-made findings have rules too, so they can be documented, switched, re-graded and waived.
ENGINE_RULES: dict[str, Rule] = {rid: rule for rid, rule in RULES.items() if not rule.roles}
