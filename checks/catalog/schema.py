"""The shape of ``datastores.yaml``, checked when it is loaded.

Why: the catalog is data that several people edit, and a typo there used to be silent: an unknown key
was ignored (``vai:`` for ``via:`` reads no copies), a flow mapping with a comma in a value split it
into a second key (``{not-applicable: holds keys, not data}``), a misspelt handler failed only when a
resource of that type was scanned. Every such mistake now fails when the catalog is loaded, with the
file, line and entry named, before any resource is classified.

This module only describes shapes; the handler names are checked against the handler tables in
``checks/catalog/__init__.py`` (:func:`check_handlers`), which sit above it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import yaml

from scanner.model import Encryption

ROLES = ("data-store", "key", "attachment")
CLOUDS = ("aws", "gcp", "azure")
LEVELS = {e.value: e for e in Encryption}
#: ``default: unresolved`` (with ``reason:``): no documented default, so the scan says unresolved, never a pass
UNRESOLVED = "unresolved"

#: What a value must be, by name: (test, how the error words it).
_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "strs": (lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v), "a list of strings"),
    "names": (
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) and x for k, x in v.items()),
        "a mapping of type: name attribute",
    ),
    "map": (lambda v: isinstance(v, dict), "a mapping"),
    "maps": (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v), "a list of mappings"),
}

# key -> (kind, required). Handler parameters are listed per handler: a key a handler does not read is a typo.
ENTRY = {
    "cloud": ("str", True),
    "role": ("str", True),
    "location": ("map", True),
    "encryption": ("map", True),
    "copies": ("maps", False),
    "attach": ("map", False),
}
NOT_APPLICABLE = {"not-applicable": ("str", True)}
LOCATION_FROM: dict[str, dict[str, tuple[str, bool]]] = {
    "region-arg+provider": {},
    "arg": {
        "arg": ("strs", False),
        "fallback": ("str", False),
        "default": ("str", False),
        "strip_prefix": ("str", False),
        "worldwide": ("strs", False),
    },
    "azure": {},
    "parent": {"via": ("strs", True), "parents": ("names", True)},
    "handler": {"handler": ("str", True)},
}
FALLBACKS = ("provider-region", "provider-zone")
ENCRYPTION = {
    "default": ("str", False),
    "flag": ("str", False),
    "flag_default": ("bool", False),
    "keys": ("strs", False),
    "handler": ("str", False),
    "fix": ("map", False),
    "block": ("str", False),  # the block an encryption handler reads (gce_disk: boot_disk, attached_disk)
    "cases": ("maps", False),  # [{when: CONDITION, <an encryption spec>}]: the first that holds applies
    "reason": ("str", False),  # with default: unresolved, why (shown in the finding)
}
#: A ``cases:`` condition: exactly one of these (``equals`` holds one PATH: VALUE).
CASE_WHEN = {"set": ("str", False), "equals": ("map", False)}
#: Every copy handler (checks/catalog/copies.py) and the parameters it reads: a key it does not read is a typo.
COPY_PARAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "s3_inline_replication": {},
    "block_regions": {
        "attr": ("str", True),
        "blocks": ("str", True),
        "key": ("str", False),
        "kind": ("str", False),
        "skip_first": ("bool", False),  # the first block is the store's own location, not a copy
    },
    "reverse_copy": {
        "via": ("str", True),
        "kind": ("str", False),
        "targets": ("names", False),  # the source types; or:
        "any_store": ("str", False),  # every data-store type of the entry's cloud, joined by this attribute
        "when": ("map", False),  # argument -> the values that make this resource a copy (create_mode)
        "at": ("str", False),  # the copy lives where this argument's resource is, not where this resource is
        "at_targets": ("names", False),  # the types ``at`` may name (type -> name attribute)
    },
    "global_cluster_members": {"global": ("str", True)},
    "elasticache_global_members": {},
    "cloud_sql_backups": {},
    "pubsub_storage": {},
    "secret_manager_replication": {},
    "logging_sink": {},
    "snapshot_schedule_locations": {},
    "bigtable_clusters": {},
    "azure_geo": {"attr": ("str", True), "geo": ("strs", True), "default": ("str", False), "kind": ("str", False)},
    "azure_flexible_geo_backup": {},
    "cosmos_geo_locations": {},
    "cosmos_backup": {},
    "azure_block_location": {"attr": ("str", True), "blocks": ("str", True), "kind": ("str", False)},
    "ref_location": {"attr": ("str", True), "targets": ("names", True), "kind": ("str", False)},
    "ref_regions": {"attr": ("str", True), "targets": ("names", False), "kind": ("str", False)},
    "processing_zone": {
        "attr": ("str", True),
        "worldwide": ("strs", True),  # name prefixes processed in any region (Azure OpenAI Global*)
        "zoned": ("strs", True),  # name prefixes processed within the data zone (DataZone*)
        "zones": ("strs", True),  # the data zones, as region groups
        "kind": ("str", False),
    },
}
ATTACH = {
    "via": ("strs", True),
    "targets": ("names", False),
    "handler": ("str", True),
    "kind": ("str", False),
    "partner": ("str", False),
}
CLOUD_SECTION = {"prefixes": ("strs", True), "products": ("names", False)}
SECTIONS = {"clouds": ("map", True), "types": ("map", True), "ignored": ("map", False)}


class CatalogError(ValueError):
    """``datastores.yaml`` is malformed: the message starts with ``FILE:LINE:`` and names the entry."""


Path = tuple[str | int, ...]


def _line(text: str, path: Path) -> int | None:
    """The 1-based line of ``path`` in the YAML text (only computed when there is an error)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _dotted(path: Path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


class _Checker:
    def __init__(self, file: str, text: str) -> None:
        self.file, self.text = file, text

    def fail(self, path: Path, message: str) -> CatalogError:
        line = _line(self.text, path)
        where = f"{self.file}:{line}" if line else self.file
        return CatalogError(f"{where}: {_dotted(path)}: {message}")

    def keys(self, value: Any, path: Path, schema: Mapping[str, tuple[str, bool]]) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping, not {type(value).__name__}")
        for key in value:
            if key not in schema:
                known = ", ".join(sorted(schema)) or "none"
                hint = " (a comma in a {flow: mapping} value splits it: quote the value)" if value[key] is None else ""
                raise self.fail((*path, key), f"unknown key {key!r}{hint}; known: {known}")
        for key, (kind, required) in schema.items():
            if key not in value:
                if required:
                    raise self.fail(path, f"missing required key {key!r}")
                continue
            test, words = _KINDS[kind]
            if not test(value[key]):
                raise self.fail((*path, key), f"must be {words}, not {value[key]!r}")

    def one_of(self, value: str, path: Path, allowed: Collection[str]) -> None:
        if value not in allowed:
            raise self.fail(path, f"{value!r} is not one of {', '.join(allowed)}")


def _encryption(c: _Checker, enc: Any, path: Path, nested: bool = False) -> None:
    """One encryption spec: ``not-applicable:`` or the generic/handler keys (a case holds no cases)."""
    if isinstance(enc, dict) and "not-applicable" in enc:
        c.keys(enc, path, NOT_APPLICABLE)
        return
    c.keys(enc, path, {k: v for k, v in ENCRYPTION.items() if not (nested and k == "cases")})
    if not {"default", "flag", "handler", "keys"} & set(enc):
        raise c.fail(path, "needs one of default, flag, handler, keys (or not-applicable:)")
    if enc.get("default") == UNRESOLVED:
        if not enc.get("reason") or {"flag", "keys", "handler"} & set(enc):
            raise c.fail(path, "default: unresolved needs reason: and takes no flag, keys or handler")
    elif "reason" in enc:
        raise c.fail((*path, "reason"), "reason: goes with default: unresolved only")
    elif "default" in enc:
        c.one_of(enc["default"], (*path, "default"), LEVELS)
    for level in enc.get("fix") or {}:
        c.one_of(level, (*path, "fix", level), LEVELS)


def validate(data: Any, file: str, text: str) -> None:
    """Raise :class:`CatalogError` on the first shape error in the parsed ``datastores.yaml``."""
    c = _Checker(file, text)
    c.keys(data, (), SECTIONS)
    for cloud, section in data["clouds"].items():
        c.one_of(cloud, ("clouds", cloud), CLOUDS)
        c.keys(section, ("clouds", cloud), CLOUD_SECTION)
    types = data["types"]
    for name, reason in (data.get("ignored") or {}).items():
        if not isinstance(reason, str) or not reason:
            raise c.fail(("ignored", name), "must give the reason as a string (quote it if it holds ': ')")
        if name in types:
            raise c.fail(("ignored", name), "is also catalogued under types:")
    for name, entry in types.items():
        _entry(c, ("types", name), name, entry, data["clouds"], types)


def _entry(c: _Checker, at: Path, name: str, entry: Any, clouds: Mapping[str, Any], types: Mapping[str, Any]) -> None:
    c.keys(entry, at, ENTRY)
    cloud, role = entry["cloud"], entry["role"]
    c.one_of(cloud, (*at, "cloud"), list(clouds))
    c.one_of(role, (*at, "role"), ROLES)
    if not name.startswith(tuple(clouds[cloud]["prefixes"])):
        raise c.fail(at, f"a {cloud} type must start with {' or '.join(clouds[cloud]['prefixes'])}")
    loc = entry["location"]
    if "not-applicable" in loc:
        c.keys(loc, (*at, "location"), NOT_APPLICABLE)
    else:
        source = loc.get("from")
        if source not in LOCATION_FROM:
            raise c.fail((*at, "location"), f"needs from: one of {', '.join(LOCATION_FROM)} (or not-applicable:)")
        c.keys(loc, (*at, "location"), {"from": ("str", True), **LOCATION_FROM[source]})
        if "fallback" in loc:
            c.one_of(loc["fallback"], (*at, "location", "fallback"), FALLBACKS)
        _known_types(c, (*at, "location", "parents"), loc.get("parents"), types)
    enc = entry["encryption"]
    _encryption(c, enc, (*at, "encryption"))
    for i, case in enumerate(enc.get("cases") or ()):
        where = (*at, "encryption", "cases", i)
        when = case.get("when")
        if not isinstance(when, dict) or len(when) != 1:
            raise c.fail(where, "needs when: with exactly one of set: PATH or equals: {PATH: VALUE}")
        c.keys(when, (*where, "when"), CASE_WHEN)
        if "equals" in when and len(when["equals"]) != 1:
            raise c.fail((*where, "when", "equals"), "must hold exactly one PATH: VALUE")
        _encryption(c, {k: v for k, v in case.items() if k != "when"}, where, nested=True)
    if role == "key" and "not-applicable" not in enc:
        raise c.fail((*at, "encryption"), "a key is not data: its encryption must be not-applicable")
    for i, copy in enumerate(entry.get("copies") or ()):
        handler = copy.get("handler")
        if not isinstance(handler, str):
            raise c.fail((*at, "copies", i), "missing required key 'handler'")
        if handler not in COPY_PARAMS:
            raise c.fail(
                (*at, "copies", i, "handler"), f"unknown copies handler {handler!r}; known: {', '.join(COPY_PARAMS)}"
            )
        c.keys(copy, (*at, "copies", i), {"handler": ("str", True), **COPY_PARAMS[handler]})
        _known_types(c, (*at, "copies", i, "targets"), copy.get("targets"), types)
    if role == "attachment":
        if "attach" not in entry:
            raise c.fail(at, "an attachment needs attach: {via, handler}")
        c.keys(entry["attach"], (*at, "attach"), ATTACH)
        _known_types(c, (*at, "attach", "targets"), entry["attach"].get("targets"), types)
    elif "attach" in entry:
        raise c.fail((*at, "attach"), f"only an attachment has attach:, this entry's role is {role}")


def _known_types(c: _Checker, path: Path, targets: Mapping[str, str] | None, types: Mapping[str, Any]) -> None:
    for target in targets or {}:
        if target not in types:
            raise c.fail((*path, target), f"{target} is not a type of this catalog")


def check_handlers(types: Mapping[str, Any], file: str, text: str, tables: Mapping[str, Collection[str]]) -> None:
    """Every handler an entry names exists in its table (``location``/``encryption``/``copies``/``attach``)."""
    c = _Checker(file, text)
    for name, spec in types.items():
        named: list[tuple[Path, str, Any]] = [
            (("types", name, "location", "handler"), "location", spec.location.get("handler")),
            (("types", name, "encryption", "handler"), "encryption", spec.encryption.get("handler")),
            (("types", name, "attach", "handler"), "attach", (spec.attach or {}).get("handler")),
        ]
        named += [
            (("types", name, "copies", i, "handler"), "copies", cp["handler"]) for i, cp in enumerate(spec.copies)
        ]
        named += [
            (("types", name, "encryption", "cases", i, "handler"), "encryption", case.get("handler"))
            for i, case in enumerate(spec.encryption.get("cases") or ())
        ]
        for path, table, handler in named:
            if handler is not None and handler not in tables[table]:
                known = ", ".join(sorted(tables[table]))
                raise c.fail(path, f"unknown {table} handler {handler!r}; known: {known}")
