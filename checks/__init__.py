"""The residency rules (``checks.rules``) and the data-store catalog that classifies resources.

The registry lives in :mod:`checks.rules`; the names below stay importable from ``checks`` for
callers written before the move, resolved lazily so importing ``checks.catalog`` or
``checks.locate`` does not load every rule module.
"""

from __future__ import annotations

from typing import Any

_REEXPORTED = ("ENGINE_RULES", "RULES", "Rule", "RuleContext")


def __getattr__(name: str) -> Any:
    if name in _REEXPORTED:
        import checks.rules  # lazy: start-up (importing checks.catalog or checks.locate loads no rule)

        return getattr(checks.rules, name)
    raise AttributeError(f"module 'checks' has no attribute {name!r}")
