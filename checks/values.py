"""Small readers over normalised attribute values, shared by the catalog and the rules.

They exist so that no catalog entry re-implements "is this a block list or a single block" or
"is this value known": plan JSON gives a single nested block as a dict, HCL as a one-item list.
"""

from __future__ import annotations

from typing import Any

from scanner.model import Ref, Unknown


def blocks(attrs: dict[str, Any] | Any, name: str) -> list[dict[str, Any]]:
    """The nested blocks called ``name`` as a list of dicts (empty when absent or unknown)."""
    if not isinstance(attrs, dict):
        return []
    value = attrs.get(name)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def first_block(attrs: dict[str, Any] | Any, name: str) -> dict[str, Any] | None:
    """The first nested block called ``name``, or None."""
    found = blocks(attrs, name)
    return found[0] if found else None


def get_path(attrs: Any, path: str) -> Any:
    """Follow a dotted path through blocks (first block at each step): ``encrypt_at_rest.enabled``.

    Returns None when a step is missing and the :class:`Unknown` itself when a step is unknown,
    so callers can tell "not written" from "cannot be known".
    """
    current = attrs
    for part in path.split("."):
        if isinstance(current, Unknown):
            return current
        if isinstance(current, list):
            current = current[0] if current else None
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    if isinstance(current, list) and len(current) == 1 and isinstance(current[0], dict):
        return current[0]
    return current


def is_known(value: Any) -> bool:
    """True for a concrete value: not None, not Unknown, not a Ref."""
    return value is not None and not isinstance(value, (Unknown, Ref))


def as_bool(value: Any) -> bool | Unknown | None:
    """Terraform and Kubernetes write booleans as bools or strings ("true"); None when unset."""
    if value is None or isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, Ref):
        return Unknown(f"{value} is only known after apply")
    return Unknown(f"{value!r} is not a boolean")
