"""Judging one data flow against the allowed locations: the core the movement rule (RES007) words.

Why apart from the rule module: the rule needs the policy's ``movement``/``endpoints`` sections,
which another change adds; the judgement itself (where does this destination keep the data, and
is that inside the allowed set) only needs an :class:`AllowedSet`, the catalog and the declared
endpoints, so it is built and tested here first. It reads no syntax: destinations come from
:mod:`checks.flows` as written, hosts are located by :mod:`scanner.regions.endpoints`.

Every answer says where its location came from (bundled table entry and its source, the policy's
``endpoints:`` entry, the ARN's region, the referenced resource), so the message can name it.
A destination that cannot be located is ``unresolved`` with the fix, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checks.flows import Flow
from scanner.model import Location, Ref, Unknown
from scanner.regions import Catalog, Region
from scanner.regions.endpoints import DeclaredEndpoint, declare_hint, endpoint_table

if TYPE_CHECKING:
    from scanner.policy import AllowedSet

__all__ = ["FlowVerdict", "declared_from_policy", "judge_flow", "location_regions"]


@dataclass(frozen=True)
class FlowVerdict:
    """``status`` is ``allowed``, ``outside`` or ``unresolved``; ``outside`` lists the regions not allowed."""

    flow: Flow
    status: str
    destination: str
    location: str | None = None
    origin: str = ""
    outside: tuple[Region, ...] = ()
    reason: str = ""


def location_regions(cat: Catalog, location: str) -> tuple[Region, ...] | None:
    """Every region a location string (``country:DE``, ``in:eu-locations``, ``aws:eu-west-1``) may mean."""
    if cat.is_group(location):
        return cat.group_members(location)
    cloud, sep, code = location.partition(":")
    resolved = cat.resolve(cloud, code) if sep else None
    return resolved.members if resolved is not None else None


def _arn_location(arn: str) -> tuple[str | None, str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None, f"{arn!r} is not an ARN"
    partition, service, region = parts[1], parts[2], parts[3]
    if not region:
        return None, f"the {service} ARN {arn} names no region (the resource it names is not in this scan)"
    cloud = "aws" if partition.startswith("aws") else partition
    return f"{cloud}:{region}", f"the region in the ARN {arn}"


def _ref_location(ref: Ref, facts: Mapping[str, Any]) -> tuple[str | None, str]:
    target = facts.get(ref.address)
    location = getattr(target, "location", None)
    if isinstance(location, Location):
        return f"{location.cloud}:{location.code}", f"the location of {ref.address} ({location.source})"
    if isinstance(location, Unknown):
        return None, f"{ref} is a resource whose location cannot be told: {location.reason}"
    return None, f"{ref} is not a resource this scan locates"


def judge_flow(
    flow: Flow,
    allowed: AllowedSet,
    cat: Catalog,
    *,
    declared: Iterable[DeclaredEndpoint] = (),
    facts: Mapping[str, Any] | None = None,
) -> FlowVerdict:
    """Locate one flow's destination and judge it against ``allowed``."""
    dest = flow.destination
    if isinstance(dest, Unknown):
        return FlowVerdict(flow, "unresolved", "(not known statically)", reason=dest.reason)
    if isinstance(dest, Ref):
        location, origin = _ref_location(dest, facts or {})
        shown = str(dest)
    elif flow.kind == "id":
        reason = f"the resource id {dest} names no location and is not in this scan"
        return FlowVerdict(flow, "unresolved", dest, reason=reason)
    elif flow.kind == "arn":
        location, origin = _arn_location(dest)
        shown = dest
    else:
        match = endpoint_table().locate(dest, declared)
        shown = match.host
        location, origin = match.location, match.describe()
        if location is None:
            return FlowVerdict(flow, "unresolved", shown, origin=origin, reason=match.reason or declare_hint(shown))
    if location is None:
        return FlowVerdict(flow, "unresolved", shown, reason=origin)
    outside: list[Region] = []
    for part in (p.strip() for p in location.split(",")):
        country = part.partition(":")[2].upper() if part.startswith("country:") else None
        if country and country in allowed.countries:
            continue
        regions = location_regions(cat, part)
        if regions is None:
            return FlowVerdict(flow, "unresolved", shown, location, origin, reason=f"{part} is not a known location")
        if not regions:
            return FlowVerdict(
                flow, "outside", shown, location, origin, reason=f"{part} has no cloud region in the allowed set"
            )
        outside += [r for r in regions if not allowed.allows(r) and r not in outside]
    return FlowVerdict(flow, "outside" if outside else "allowed", shown, location, origin, tuple(outside))


def declared_from_policy(endpoints: Iterable[Any]) -> tuple[DeclaredEndpoint, ...]:
    """The policy's ``endpoints:`` entries (:class:`scanner.principals.Endpoint`) as matcher input.

    A place written as several entries keeps them all (comma-joined); the judgement covers each.
    """
    return tuple(
        DeclaredEndpoint(e.host, ", ".join(e.place.entries), e.place.source or f"policy endpoints: (line {e.line})")
        for e in endpoints
    )
