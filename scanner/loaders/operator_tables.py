"""Translation tables as data: operator kinds and ARM types -> catalog (Terraform) types.

The Kubernetes loader (Crossplane/upbound, ACK, Config Connector, ASO) and the azapi loader
translate what was written into the Terraform type ``checks/datastores.yaml`` knows. Which kind maps
to which type is data, kept in ``scanner/loaders/data/*.yaml`` (package data) so that adding a
translated type is one line there, and so that a derived table (issue 15) can replace the
hand-written one without touching code. The format is documented in each file's header.

Loading is strict, because a typo in a table would otherwise be a silently untranslated resource (a
data store the scanner never sees): a duplicate key, an unknown or missing section, a non-string
entry or a malformed type name raises :class:`TableError` naming the file and the entry, at import
time of the loader -- so every test run and every scan fails on it at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import yaml

_TF_TYPE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SERVICE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$")
_ARGUMENT = re.compile(r"^[a-z][a-z0-9_]*$")
_ARM_TYPE = re.compile(r"^microsoft\.[a-z0-9]+(/[a-z0-9]+)+$")
_ARM_PREFIX = re.compile(r"^microsoft\.[a-z0-9]+/([a-z0-9]+)?$")

OPERATOR_FAMILIES = ("upbound", "ack", "kcc", "aso")


class TableError(ValueError):
    """A translation table file does not have the documented shape."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise TableError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read(name: str) -> dict[str, Any]:
    text = importlib_resources.files("scanner.loaders").joinpath("data", name).read_text(encoding="utf-8")
    loader = _StrictLoader(text)  # what yaml.load does, with the strict safe loader (no yaml.load call)
    try:
        data = loader.get_single_data()
    except TableError as exc:
        raise TableError(f"scanner/loaders/data/{name}: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise TableError(f"scanner/loaders/data/{name}: the top level must be a mapping")
    return data


def _sections(name: str, data: dict[str, Any], expected: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(expected))
    missing = [k for k in expected if k not in data]
    if unknown or missing:
        raise TableError(
            f"scanner/loaders/data/{name}: unknown sections {unknown}, missing sections {missing} "
            f"(expected exactly {list(expected)})"
        )


def _str_map(where: str, value: Any, key_pattern: re.Pattern[str], value_pattern: re.Pattern[str]) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise TableError(f"{where}: must be a non-empty mapping")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key_pattern.match(key):
            raise TableError(f"{where}: key {key!r} does not match {key_pattern.pattern}")
        if not isinstance(item, str) or not value_pattern.match(item):
            raise TableError(f"{where}.{key}: value {item!r} does not match {value_pattern.pattern}")
        out[key] = item
    return out


@dataclass(frozen=True)
class KccKind:
    """A Terraform-based Config Connector kind (tools/kcc_kinds.py, from Config Connector's service mappings).

    ``name``: the Terraform argument the object's name (``spec.resourceID``, else ``metadata.name``) fills;
    ``refs``: dotted spec path of a reference key (``encryptionConfiguration.kmsKeyRef``) -> (the Terraform
    argument it fills, ``encryption_configuration.kms_key_name``; the kinds it may name).
    """

    type: str
    name: str | None
    refs: dict[str, tuple[str, tuple[str, ...]]]
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperatorTables:
    """``families[family][(service, Kind)]`` -> Terraform type; ASO child type -> parent argument.

    ``kcc_derived``: the derived Config Connector kinds (their spec is the Terraform schema in camelCase);
    a hand-listed kcc kind in operators.yaml wins over the derived type.
    """

    families: dict[str, dict[tuple[str, str], str]]
    aso_parent_args: dict[str, str]
    kcc_derived: dict[tuple[str, str], KccKind]


@dataclass(frozen=True)
class AzapiTables:
    """ARM type -> azurerm type; child type -> parent argument; replications; non-data prefixes."""

    arm_types: dict[str, str]
    parent_args: dict[str, str]
    registry_replication: str
    non_data_prefixes: tuple[str, ...]


def load_upbound_kinds(name: str = "upbound_kinds.json") -> dict[tuple[str, str], str]:
    """The derived upbound table (tools/upbound_kinds.py): (service, Kind) -> Terraform type, validated."""
    text = importlib_resources.files("scanner.loaders").joinpath("data", name).read_text(encoding="utf-8")
    data = json.loads(text)
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, dict) or not providers:
        raise TableError(f"scanner/loaders/data/{name}: needs a non-empty providers: mapping")
    table: dict[tuple[str, str], str] = {}
    for cloud, meta in providers.items():
        services = meta.get("services") if isinstance(meta, dict) else None
        if not isinstance(services, dict) or not services:
            raise TableError(f"scanner/loaders/data/{name}: {cloud}: needs a non-empty services: mapping")
        for service, kinds in services.items():
            if not isinstance(service, str) or not _SERVICE.match(service):
                raise TableError(f"{name}: {cloud}: service {service!r} does not match {_SERVICE.pattern}")
            for kind, tf_type in _str_map(f"{name}: {cloud}.{service}", kinds, _KIND, _TF_TYPE).items():
                if (service, kind) in table:
                    raise TableError(f"{name}: {service} {kind} appears under two providers")
                table[(service, kind)] = tf_type
    return table


def load_kcc_kinds(name: str = "kcc_kinds.json") -> dict[tuple[str, str], KccKind]:
    """The derived Config Connector table (tools/kcc_kinds.py): (service, Kind) -> KccKind, validated."""
    text = importlib_resources.files("scanner.loaders").joinpath("data", name).read_text(encoding="utf-8")
    data = json.loads(text)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict) or not services:
        raise TableError(f"scanner/loaders/data/{name}: needs a non-empty services: mapping")
    table: dict[tuple[str, str], KccKind] = {}
    for service, kinds in services.items():
        if not isinstance(service, str) or not _SERVICE.match(service) or not isinstance(kinds, dict):
            raise TableError(f"{name}: service {service!r} does not match {_SERVICE.pattern}")
        for kind, entry in kinds.items():
            where = f"{name}: {service}.{kind}"
            if not _KIND.match(kind) or not isinstance(entry, dict) or not _TF_TYPE.match(str(entry.get("type"))):
                raise TableError(f"{where}: needs a Kind name and a Terraform type")
            alternatives = entry.get("alternatives", [])
            refs: dict[str, tuple[str, tuple[str, ...]]] = {}
            for path, ref in (entry.get("refs") or {}).items():
                if not isinstance(ref, dict) or not isinstance(ref.get("tf"), str) or not isinstance(
                    ref.get("kinds"), list
                ):
                    raise TableError(f"{where}.refs.{path}: needs tf: ARGUMENT and kinds: [Kind]")
                refs[path] = (ref["tf"], tuple(ref["kinds"]))
            if not isinstance(alternatives, list) or not all(_TF_TYPE.match(str(a)) for a in alternatives):
                raise TableError(f"{where}.alternatives: must be a list of Terraform types")
            name_arg = entry.get("name")
            if name_arg is not None and not _ARGUMENT.match(str(name_arg)):
                raise TableError(f"{where}.name: {name_arg!r} does not match {_ARGUMENT.pattern}")
            table[(service, kind)] = KccKind(entry["type"], name_arg, refs, tuple(alternatives))
    return table


def load_operator_tables(name: str = "operators.yaml") -> OperatorTables:
    """Read and validate the operator table file (see its header for the format); upbound is derived."""
    data = _read(name)
    hand = tuple(f for f in OPERATOR_FAMILIES if f != "upbound")
    _sections(name, data, (*hand, "aso_parent_args"))
    families: dict[str, dict[tuple[str, str], str]] = {"upbound": load_upbound_kinds()}
    for family in hand:
        services = data[family]
        if not isinstance(services, dict) or not services:
            raise TableError(f"{name}: {family}: must be a non-empty mapping of service -> kinds")
        table: dict[tuple[str, str], str] = {}
        for service, kinds in services.items():
            if not isinstance(service, str) or not _SERVICE.match(service):
                raise TableError(f"{name}: {family}: service {service!r} does not match {_SERVICE.pattern}")
            for kind, tf_type in _str_map(f"{name}: {family}.{service}", kinds, _KIND, _TF_TYPE).items():
                table[(service, kind)] = tf_type
        families[family] = table
    derived = load_kcc_kinds()
    families["kcc"] = {**{k: v.type for k, v in derived.items()}, **families["kcc"]}  # hand-listed wins
    parents = _str_map(f"{name}: aso_parent_args", data["aso_parent_args"], _TF_TYPE, _ARGUMENT)
    aso_types = set(families["aso"].values())
    stray = sorted(set(parents) - aso_types)
    if stray:
        raise TableError(f"{name}: aso_parent_args: {stray} are not ASO-translated types")
    return OperatorTables(families, parents, derived)


def load_azapi_tables(name: str = "azapi.yaml") -> AzapiTables:
    """Read and validate the azapi ARM table file (see its header for the format)."""
    data = _read(name)
    _sections(name, data, ("arm_types", "parent_args", "registry_replication", "non_data_prefixes"))
    arm_types = _str_map(f"{name}: arm_types", data["arm_types"], _ARM_TYPE, _TF_TYPE)
    parents = _str_map(f"{name}: parent_args", data["parent_args"], _TF_TYPE, _ARGUMENT)
    stray = sorted(set(parents) - set(arm_types.values()))
    if stray:
        raise TableError(f"{name}: parent_args: {stray} are not types arm_types translates to")
    replication = data["registry_replication"]
    if not isinstance(replication, str) or not _ARM_TYPE.match(replication):
        raise TableError(f"{name}: registry_replication: {replication!r} is not an ARM type")
    prefixes = data["non_data_prefixes"]
    if not isinstance(prefixes, list) or not prefixes:
        raise TableError(f"{name}: non_data_prefixes: must be a non-empty list")
    for prefix in prefixes:
        if not isinstance(prefix, str) or not (_ARM_PREFIX.match(prefix) or _ARM_TYPE.match(prefix)):
            raise TableError(f"{name}: non_data_prefixes: {prefix!r} is not an ARM namespace/ or type")
    return AzapiTables(arm_types, parents, replication, tuple(prefixes))


__all__ = [
    "OPERATOR_FAMILIES",
    "AzapiTables",
    "KccKind",
    "OperatorTables",
    "TableError",
    "load_azapi_tables",
    "load_kcc_kinds",
    "load_operator_tables",
    "load_upbound_kinds",
]


# --------------------------------------------------------------------------------------------
# Attribute mappings (data/operator_attributes.yaml): operator spec fields -> Terraform arguments.

ATTRIBUTE_FAMILIES = ("ack", "kcc", "aso")
#: operation key -> the keys it may carry (and which of them are required); see the file's header.
_OPERATIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "from": (frozenset({"from", "if", "list", "str", "equals", "default"}), frozenset({"from"})),
    "first": (frozenset({"first", "else", "else_ref", "str"}), frozenset({"first"})),
    "ref": (frozenset({"ref", "kinds", "if"}), frozenset({"ref", "kinds"})),
    "ack_key": (frozenset({"ack_key"}), frozenset({"ack_key"})),
    "external_or_name": (frozenset({"external_or_name"}), frozenset({"external_or_name"})),
    "aso_ref": (frozenset({"aso_ref"}), frozenset({"aso_ref"})),
    "block": (frozenset({"block", "fields", "require", "always", "when"}), frozenset({"block", "fields"})),
    "each": (frozenset({"each", "fields", "where_dict", "where_truthy", "nonempty"}), frozenset({"each", "fields"})),
}
_CONDITIONS = {"from": ("set", "truthy", "present", "always"), "ref": ("truthy", "always")}


def _operation(where: str, op: Any) -> None:
    if isinstance(op, str):
        return  # FIELD: copy when set
    if not isinstance(op, dict):
        raise TableError(f"{where}: an operation is a field name or a mapping, not {op!r}")
    kinds = [k for k in _OPERATIONS if k in op]
    if len(kinds) != 1:
        raise TableError(f"{where}: needs exactly one of {', '.join(_OPERATIONS)}, has {sorted(op)}")
    allowed, required = _OPERATIONS[kinds[0]]
    unknown = sorted(set(op) - allowed)
    missing = sorted(required - set(op))
    if unknown or missing:
        raise TableError(f"{where}: {kinds[0]}: unknown keys {unknown}, missing keys {missing}")
    if "if" in op and op["if"] not in _CONDITIONS[kinds[0]]:
        raise TableError(f"{where}: if: {op['if']!r} is not one of {', '.join(_CONDITIONS[kinds[0]])}")
    if op.get("else", "name") != "name" or ("default" in op and op["default"] != "name"):
        raise TableError(f"{where}: else:/default: can only be 'name' (the object's metadata.name)")
    if "fields" in op:
        _fields(where, op["fields"])


def _fields(where: str, fields: Any) -> None:
    if not isinstance(fields, dict) or not fields:
        raise TableError(f"{where}: fields must be a non-empty mapping of argument -> operation")
    for arg, op in fields.items():
        if arg == "hook":
            if not isinstance(op, str):
                raise TableError(f"{where}.hook: must name a hook")
        elif arg == "*":
            if not (isinstance(op, dict) and set(op) == {"snake_except"} and isinstance(op["snake_except"], list)):
                raise TableError(f"{where}.*: must be {{snake_except: [fields]}}")
        elif not isinstance(arg, str) or not _ARGUMENT.match(arg):
            raise TableError(f"{where}: argument {arg!r} does not match {_ARGUMENT.pattern}")
        else:
            _operation(f"{where}.{arg}", op)


def load_attribute_tables(
    name: str = "operator_attributes.yaml", translated: OperatorTables | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """family -> Terraform type -> (argument -> operation), validated; each type must be one the family translates."""
    data = _read(name)
    unknown = sorted(set(data) - set(ATTRIBUTE_FAMILIES))
    if unknown:
        raise TableError(f"{name}: unknown families {unknown}; known: {', '.join(ATTRIBUTE_FAMILIES)}")
    families = (translated or load_operator_tables()).families
    for family, types in data.items():
        if not isinstance(types, dict):
            raise TableError(f"{name}: {family}: must be a mapping of Terraform type -> fields")
        for tf_type, fields in types.items():
            if tf_type not in set(families[family].values()):
                raise TableError(f"{name}: {family}.{tf_type}: not a type operators.yaml translates for {family}")
            _fields(f"{name}: {family}.{tf_type}", fields)
    return data
