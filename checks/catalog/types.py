"""The catalog data: each type's ``datastores.yaml`` entry, loaded once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import yaml

from scanner.model import (
    Encryption,
)

ROLES = ("data-store", "key", "attachment")


CLOUDS = ("aws", "gcp", "azure")


LEVELS = {e.value: e for e in Encryption}


@dataclass(frozen=True)
class TypeSpec:
    """One resource type's entry in ``datastores.yaml``."""

    type: str
    cloud: str
    role: str
    location: Mapping[str, Any]
    encryption: Mapping[str, Any]
    copies: tuple[Mapping[str, Any], ...] = ()
    attach: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StoreCatalog:
    """All type entries plus the types deliberately ignored (global, no user data)."""

    types: Mapping[str, TypeSpec]
    ignored: Mapping[str, str]

    def spec(self, resource_type: str) -> TypeSpec | None:
        return self.types.get(resource_type)

    def role(self, resource_type: str) -> str | None:
        """``data-store`` | ``key`` | ``attachment``; None for types that hold no user data."""
        spec = self.types.get(resource_type)
        return spec.role if spec else None


@functools.cache
def load_catalog() -> StoreCatalog:
    """Read ``datastores.yaml`` once; package data so an installed wheel carries it."""
    text = importlib_resources.files("checks").joinpath("datastores.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    types = {
        name: TypeSpec(
            type=name,
            cloud=entry["cloud"],
            role=entry["role"],
            location=entry["location"],
            encryption=entry["encryption"],
            copies=tuple(entry.get("copies") or ()),
            attach=entry.get("attach"),
        )
        for name, entry in data["types"].items()
    }
    return StoreCatalog(types=types, ignored=dict(data.get("ignored") or {}))
