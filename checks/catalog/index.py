"""What every handler reads: the scan index (:class:`Scan`) and small helpers over attribute values."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checks.catalog.types import StoreCatalog, TypeSpec
from checks.values import blocks
from scanner.model import (
    DataStoreFacts,
    Location,
    Ref,
    Resource,
    Unknown,
)


def _at(r: Resource) -> str:
    return f"{r.file}:{r.line}"


def _normalise_azure(code: str) -> str:
    # azurerm compares locations with location.Normalize(): lower-case, no spaces.
    return code.replace(" ", "").lower()


def _values(attrs: Any, path: str) -> list[Any]:
    """Every value at a dotted path, through *all* repeated blocks (replicas, rules)."""
    current: list[Any] = [attrs]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, Unknown):
                nxt.append(item)
                continue
            candidates = item if isinstance(item, list) else [item]
            for cand in candidates:
                if isinstance(cand, dict):
                    value = cand.get(part)
                    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                        nxt.extend(value)
                    elif (isinstance(value, dict) and part != path.split(".")[-1]) or value is not None:
                        nxt.append(value)
        current = nxt
    out: list[Any] = []
    for value in current:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


def _blocks_path(attrs: Any, path: str) -> list[dict[str, Any]]:
    """Nested blocks along a dotted path, flattening repeated blocks at every step."""
    current = [attrs] if isinstance(attrs, dict) else []
    for part in path.split("."):
        current = [b for item in current for b in blocks(item, part)]
    return current


def _tail(value: str) -> str:
    """The last segment of an ARN, Azure resource ID or Google resource name."""
    return re.split(r"[/:]", value.rstrip("/"))[-1]


def _partial_text(value: Any) -> str:
    """The spelling of a string the loader knows only in part (its ``Partial``), else ''."""
    text = getattr(value, "text", "") if isinstance(value, Unknown) else ""
    return text if isinstance(text, str) else ""


# a partial string that ends with one interpolated reference after an ARN/ID separator (or is only that)
_TAIL_REF = re.compile(r"^(?:.*[:/])?\$\{([^{}]+)\}$")


def _arn_region(value: str) -> str | None:
    parts = value.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return None


def _unknown_from(value: Any, what: str) -> Unknown:
    if isinstance(value, Unknown):
        return Unknown(f"{what}: {value.reason}")
    if isinstance(value, Ref):
        return Unknown(f"{what} is {value}, known only after apply")
    return Unknown(f"{what} has an unexpected value {value!r}")


def _or_unknown(value: Any, fallback: Unknown) -> Any:
    """``value`` unless it is None. Not ``value or fallback``: an Unknown is falsy and would lose its reason."""
    return value if value is not None else fallback


def _wrap(loc: Location | Unknown | None, note: str) -> Location | Unknown | None:
    """Add provenance to a location borrowed from another resource."""
    if isinstance(loc, Location):
        return Location(loc.cloud, loc.code, f"{loc.source}, {note}" if loc.source else note)
    if isinstance(loc, Unknown):
        return Unknown(f"{loc.reason} ({note})")
    return loc


#: How a type's entry becomes a location (``checks.catalog.locations._resolve_location``).
Locator = Callable[[Resource, TypeSpec, "Scan"], Location | Unknown | None]


class Scan:
    """Everything handlers may look up: resources by address and name, lazily computed locations.

    Locations are computed on demand and memoised, because a child (a container, a key) needs its
    parent's location wherever the parent is declared in the input order.
    """

    def __init__(
        self, resources: Sequence[Resource], regions: Any, stores: StoreCatalog, locate: Locator
    ) -> None:
        self.resources = list(resources)
        self._locate = locate  # ``locations.resolve_location``, passed in so this module stays below it
        self.regions = regions
        self.stores = stores
        self.by_address: dict[str, Resource] = {r.address: r for r in self.resources}
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for r in self.resources:
            self.by_type[r.type].append(r)
        self.facts: dict[str, DataStoreFacts] = {}
        self._locations: dict[str, Location | Unknown | None] = {}
        self._busy: set[str] = set()
        self.encrypted: set[str] = set()  # addresses whose encryption is computed

    # -- lookups
    def find(self, value: Any, targets: Mapping[str, str]) -> Resource | None:
        """The resource of one of ``targets`` (type -> name attribute) that ``value`` designates.

        A :class:`Ref` joins by address; a string by the target's name attribute, trying the whole
        value and then its last ARN / resource-ID segment (``arn:aws:s3:::b`` -> ``b``).
        """
        if isinstance(value, Ref):
            res = self.by_address.get(value.address)
            return res if res is not None and res.type in targets else None
        named = getattr(value, "address", "") if isinstance(value, Unknown) else ""
        if isinstance(named, str) and named:
            # an unknown attribute read from a resource (the loader's ``Named``): it names that resource
            res = self.by_address.get(named)
            if res is not None and res.type in targets:
                return res
        partial = _partial_text(value)
        if partial:
            tail_ref = _TAIL_REF.match(partial)
            if tail_ref:
                # ``arn:aws:s3:::${aws_s3_bucket.x[0].id}``: the ARN/ID of the resource it interpolates
                # (cloudposse/s3-bucket replication destinations), whatever that resource's name is
                for rtype in targets:
                    for res in self.by_type.get(rtype, ()):
                        if tail_ref.group(1).startswith(res.address + "."):
                            return res
            # a name known only in part ("replica-${random_pet.this.id}"): the same spelling is the same name
            for candidate in dict.fromkeys((partial, _tail(partial))):
                for rtype, name_attr in targets.items():
                    for res in self.by_type.get(rtype, ()):
                        if _partial_text(res.attributes.get(name_attr)) == candidate:
                            return res
            return None
        if not isinstance(value, str) or not value:
            return None
        for candidate in dict.fromkeys((value, _tail(value))):
            for rtype, name_attr in targets.items():
                for res in self.by_type.get(rtype, ()):
                    if res.attributes.get(name_attr) == candidate:
                        return res
        return None

    def find_any(self, value: Any, cloud: str) -> Resource | None:
        """A resource of any catalogued type of ``cloud`` designated by ``value`` (by address or name)."""
        targets = {t: "name" for t, s in self.stores.types.items() if s.cloud == cloud}
        return self.find(value, targets)

    # -- locations
    def location_of(self, address: str) -> Location | Unknown | None:
        if address in self._locations:
            return self._locations[address]
        res = self.by_address.get(address)
        if res is None:
            return Unknown(f"{address} is not in the scanned configuration")
        if address in self._busy:  # a reference cycle in the input: say so instead of recursing
            return Unknown(f"the location of {address} depends on itself")
        spec = self.stores.spec(res.type)
        self._busy.add(address)
        try:
            loc = self._locate(res, spec, self) if spec else None
        finally:
            self._busy.discard(address)
        self._locations[address] = loc
        return loc

    def same_file(self, a: Resource, b: Resource) -> bool:
        return a.file == b.file


Handler = Callable[[Resource, DataStoreFacts, "Scan", Mapping[str, Any]], None]
