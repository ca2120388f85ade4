"""The catalog data: each type's ``datastores.yaml`` entry, loaded once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from typing import Any

import yaml

from checks.catalog.schema import CLOUDS, LEVELS, ROLES, CatalogError, validate

FILE = "checks/datastores.yaml"


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
    #: Terraform type-name prefixes per cloud (``clouds.<cloud>.prefixes``).
    prefixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: (type-name prefix, region-catalog product) of every cloud (``clouds.<cloud>.products``): GCP codes spelled
    #: alike across products, Azure geography products (``communication``, ``aadb2c``).
    products: tuple[tuple[str, str], ...] = ()

    def spec(self, resource_type: str) -> TypeSpec | None:
        return self.types.get(resource_type)

    def role(self, resource_type: str) -> str | None:
        """``data-store`` | ``key`` | ``attachment``; None for types that hold no user data."""
        spec = self.types.get(resource_type)
        return spec.role if spec else None

    def terraform_prefixes(self) -> tuple[str, ...]:
        """Every cloud's type-name prefixes: a Kubernetes resource with one is an operator's cloud resource."""
        return tuple(p for ps in self.prefixes.values() for p in ps)

    def product_for(self, resource_type: str) -> str | None:
        """The region-catalog product of a type (GCP spells some codes alike across products), else None."""
        for prefix, product in self.products:
            if resource_type.startswith(prefix):
                return product
        return None


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader that refuses a duplicate mapping key (PyYAML keeps the last one silently)."""


def _mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # ``<<: *anchor``: keys written beside it override the merged ones, as YAML says
        key = loader.construct_object(key_node)
        if key in seen:
            raise CatalogError(f"{FILE}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return dict(loader.construct_mapping(node))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_catalog(text: str, file: str = FILE) -> StoreCatalog:
    """Validate (:mod:`checks.catalog.schema`) and build the catalog; :class:`CatalogError` names FILE:LINE."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{file}: not valid YAML: {exc}") from None
    validate(data, file, text)
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
    clouds = data["clouds"]
    return StoreCatalog(
        types=types,
        ignored=dict(data.get("ignored") or {}),
        prefixes={cloud: tuple(section["prefixes"]) for cloud, section in clouds.items()},
        products=tuple(
            (prefix, product)
            for section in clouds.values()
            for prefix, product in (section.get("products") or {}).items()
        ),
    )


def catalog_text() -> str:
    """The shipped ``datastores.yaml``; package data so an installed wheel carries it."""
    return importlib_resources.files("checks").joinpath("datastores.yaml").read_text(encoding="utf-8")


@functools.cache
def load_catalog() -> StoreCatalog:
    """Read and validate ``datastores.yaml`` once."""
    return parse_catalog(catalog_text())


__all__ = [
    "CLOUDS",
    "LEVELS",
    "ROLES",
    "CatalogError",
    "StoreCatalog",
    "TypeSpec",
    "catalog_text",
    "load_catalog",
    "parse_catalog",
]
