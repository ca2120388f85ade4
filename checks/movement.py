"""Judging one data flow against the allowed locations: the core the movement rule (RES007) words.

Why apart from the rule module: the judgement (where does this destination keep the data, and is
that inside the allowed set) needs only an :class:`AllowedSet`, the catalog and the policy's
``endpoints:``, so it is tested on its own; the rule words its answers. It reads no syntax:
destinations come from :mod:`checks.flows` as written, hosts are located by the policy's
``endpoints:`` (a :class:`scanner.principals.Place` each) and then :mod:`scanner.regions.endpoints`.
Every location becomes a ``Place`` and is judged by :meth:`Place.inside`, the access rule's test.

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
from scanner.principals import Endpoint, Place, Principals, match_endpoint
from scanner.regions import Catalog, Region
from scanner.regions.endpoints import declare_hint, endpoint_table, host_of

if TYPE_CHECKING:
    from scanner.policy import AllowedSet

__all__ = ["FlowVerdict", "judge_flow", "location_regions", "place_of"]


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
    place: Place | None = None  # where the destination is (the inventory's map group), when located


def location_regions(cat: Catalog, location: str) -> tuple[Region, ...] | None:
    """Every region a location string (``country:DE``, ``in:eu-locations``, ``aws:eu-west-1``) may mean."""
    if cat.is_group(location):
        return cat.group_members(location)
    cloud, sep, code = location.partition(":")
    resolved = cat.resolve(cloud, code) if sep else None
    return resolved.members if resolved is not None else None


def _arn_location(arn: str, facts: Mapping[str, Any]) -> tuple[str | None, str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None, f"{arn!r} is not an ARN"
    partition, service, region = parts[1], parts[2], parts[3]
    if not region:
        if service == "s3" and parts[5]:  # arn:aws:s3:::bucket names a bucket, maybe one of this scan
            bucket = parts[5].split("/", 1)[0]
            location, origin = _named_location(bucket, (("aws_s3_bucket", "bucket"),), facts)
            if location is not None:
                return location, origin
        return None, f"the {service} ARN {arn} names no region (the resource it names is not in this scan)"
    cloud = "aws" if partition.startswith("aws") else partition
    return f"{cloud}:{region}", f"the region in the ARN {arn}"


def _fact_location(address: str, target: Any) -> tuple[str | None, str]:
    location = getattr(target, "location", None)
    if isinstance(location, Location):
        return f"{location.cloud}:{location.code}", f"the location of {address} ({location.source})"
    if isinstance(location, Unknown):
        return None, f"{address} is a resource whose location cannot be told: {location.reason}"
    copies = getattr(target, "copies", None) if location is None else None
    if copies:  # a store with no location of its own (a Pub/Sub topic) keeps data where its copies are
        for c in copies:
            if isinstance(c.location, Unknown):
                return None, f"{address} keeps data where {c.via} says, which cannot be told: {c.location.reason}"
        codes = dict.fromkeys(f"{c.location.cloud}:{c.location.code}" for c in copies)
        return ", ".join(codes), f"where {address} keeps its data ({', '.join(dict.fromkeys(c.via for c in copies))})"
    return None, f"{address} is not in this scan (no data store or located resource of that address)"


def _ref_location(flow: Flow, ref: Ref, facts: Mapping[str, Any]) -> tuple[str | None, str]:
    target = facts.get(ref.address)
    if target is None and flow.located is not None:
        return flow.located
    return _fact_location(str(ref), target)


def _named_location(
    name: str, targets: tuple[tuple[str, str], ...], facts: Mapping[str, Any]
) -> tuple[str | None, str]:
    """The location of the scanned resource of one of ``targets`` whose attribute holds ``name``."""
    for fact in facts.values():
        r = getattr(fact, "resource", None)
        if r is None or getattr(fact, "role", None) == "flow":
            continue
        for rtype, attr in targets:
            value = r.attributes.get(attr) if r.type == rtype else None
            if value is not None and (value == name or getattr(value, "text", None) == name):
                return _fact_location(r.address, fact)
    kinds = " or ".join(t for t, _ in targets)
    return None, f"{name!r} names a {kinds} that is not in this scan"


def place_of(cat: Catalog, location: str, source: str = "") -> Place | None:
    """A location string of the host table, an ARN or a located resource as a policy :class:`Place`.

    None when the catalog does not know it. ``country:XX`` keeps the country apart from its
    regions, as the policy reader does, so a country without cloud regions is judged by name.
    """
    entries = tuple(e.strip() for e in location.split(","))  # several: a store's copies (where it keeps data)
    regions: set[Region] = set()
    countries: set[str] = set()
    for entry in entries:
        members = location_regions(cat, entry)
        if members is None:
            return None
        regions.update(members)
        prefix, _, code = entry.partition(":")
        if prefix == "country":
            countries.add(code.upper())
    return Place(entries=entries, regions=frozenset(regions), countries=frozenset(countries), source=source)


def _locate(
    flow: Flow, dest: str | Ref, cat: Catalog, endpoints: Iterable[Endpoint], facts: Mapping[str, Any]
) -> tuple[str, Place | None, str]:
    """(destination as shown, its place or None, where the place came from or why there is none)."""
    if isinstance(dest, Ref):
        location, origin = _ref_location(flow, dest, facts)
        shown = str(dest)
    elif flow.kind == "name":
        location, origin = _named_location(dest, flow.targets, facts)
        shown = dest
    elif flow.kind == "arn":
        location, origin = _arn_location(dest, facts)
        shown = dest
    else:
        host = host_of(dest)
        declared = match_endpoint(tuple(endpoints), host) if host else None
        if declared is not None:
            return host or dest, declared.place, f"declared in {declared.place.source} ({declared.host})"
        match = endpoint_table().locate(dest)
        if match.location is None:
            return match.host, None, match.reason or declare_hint(match.host)
        location, origin, shown = match.location, match.describe(), match.host
    if location is None:
        return shown, None, origin
    place = place_of(cat, location, origin)
    return shown, place, origin if place is not None else f"{location} is not a known location"


#: Where CloudFront's edge caches are, per price class, as AWS's CloudFront pricing page groups edge
#: locations (Price Class 100: North America, Europe, Israel; 200: also Africa, the Middle East and
#: Asia; All: also South America and Oceania). Countries the region catalog has stand for each area
#: (not every country with an edge location is listed): every class includes the United States.
_PRICE_CLASS_100 = "country:US, country:CA, country:MX, in:eu-locations, country:GB, country:IL"
_PRICE_CLASS_200 = (_PRICE_CLASS_100
                    + ", country:ZA, country:AE, country:JP, country:HK, country:SG, country:KR, country:IN")
_WORLDWIDE = _PRICE_CLASS_200 + ", country:BR, country:AU"
#: Edge networks by the key a flow of kind ``edge`` names: (what the finding calls them, where they cache, source).
#: CloudFront's keys are its price classes. Azure CDN / Front Door and Google Cloud CDN / Media CDN offer no
#: setting that keeps the cache in a region (their geo-filtering limits who is served, not where responses are
#: cached, as CloudFront's geo_restriction does), so they cache worldwide: every price class's stand-in countries.
_EDGE_NETWORKS: dict[str, tuple[str, str, str]] = {
    **{pc: (f"CloudFront edge locations ({pc})", where, f"CloudFront edge locations of {pc} (AWS price classes)")
       for pc, where in (("PriceClass_100", _PRICE_CLASS_100), ("PriceClass_200", _PRICE_CLASS_200),
                         ("PriceClass_All", _WORLDWIDE))},
    "azure-cdn": ("Azure CDN edge locations (worldwide)", _WORLDWIDE,
                  "Azure CDN points of presence, worldwide (learn.microsoft.com/azure/cdn/cdn-pop-locations)"),
    "azure-front-door": ("Azure Front Door edge locations (worldwide)", _WORLDWIDE,
                         "Azure Front Door points of presence, worldwide "
                         "(learn.microsoft.com/azure/frontdoor/edge-locations-by-abbreviation)"),
    "google-cloud-cdn": ("Cloud CDN edge caches (worldwide)", _WORLDWIDE,
                         "Google's globally distributed edge points of presence (cloud.google.com/cdn/docs/overview)"),
    "google-media-cdn": ("Media CDN edge caches (worldwide)", _WORLDWIDE,
                         "Google's global edge-caching infrastructure (cloud.google.com/media-cdn/docs/overview)"),
}
_EDGE_NOTE = ("edge caches include locations outside the allowed regions at every price class or tier; where that "
              "is accepted, lower RES007's severity in the policy (rules: {RES007: {severity: low}}) or waive the "
              "resource by address (waivers: [{rule: RES007, resource: aws_cloudfront_distribution.*, ...}])")


def _arn_owner(flow: Flow, principals: Principals | None, self_id: str | None) -> tuple[str, Place] | None:
    """The policy's place of the account owning an ARN destination, when that is another account.

    Without a ``self`` the scanner cannot tell the configuration's own account from another's, so
    only a mapped account other than ``self`` counts; an unmapped one is judged by region alone.
    """
    if flow.kind != "arn" or principals is None or not isinstance(flow.destination, str):
        return None
    parts = flow.destination.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    if not account or account == self_id:
        return None
    place = principals.place("aws", "accounts", account)
    return (account, place) if place is not None else None


def judge_flow(
    flow: Flow,
    allowed: AllowedSet,
    cat: Catalog,
    *,
    endpoints: Iterable[Endpoint] = (),
    facts: Mapping[str, Any] | None = None,
    principals: Principals | None = None,
    self_id: str | None = None,
) -> FlowVerdict:
    """Locate one flow's destination and judge it against ``allowed``.

    ``endpoints`` are the policy's ``endpoints:`` entries; they win over the bundled host table.
    An ARN of another AWS account the policy's ``principals:`` places (``self_id`` being the
    configuration's own account) must be inside on both counts: its region and its owner.
    The judgement is :meth:`Place.inside`, the subset test the access rule uses too.
    """
    dest = flow.destination
    if isinstance(dest, Unknown):
        return FlowVerdict(flow, "unresolved", "(not known statically)", reason=dest.reason)
    if flow.kind == "id" and not isinstance(dest, Ref):
        reason = f"the resource id {dest} names no location and is not in this scan"
        return FlowVerdict(flow, "unresolved", dest, reason=reason)
    if flow.kind == "edge" and isinstance(dest, str):
        network = _EDGE_NETWORKS.get(dest)
        if network is None:
            return FlowVerdict(flow, "unresolved", dest, reason=f"price_class {dest!r} is not a known price class")
        label, edges, source = network
        edge_place = place_of(cat, edges, source)
        if edge_place is not None and edge_place.inside(allowed):
            return FlowVerdict(flow, "allowed", label, edges, edge_place.source, place=edge_place)
        outside = tuple(sorted({r for r in (edge_place.regions if edge_place else ()) if not allowed.allows(r)},
                               key=lambda r: (r.cloud, r.code)))
        return FlowVerdict(flow, "outside", label, edges, source, outside, _EDGE_NOTE, place=edge_place)
    shown, place, origin = _locate(flow, dest, cat, endpoints, facts or {})
    if place is None:
        return FlowVerdict(flow, "unresolved", shown, reason=origin)
    places = [place]
    location = place.describe()
    owner = _arn_owner(flow, principals, self_id)
    if owner is not None:
        account, owner_place = owner
        places.append(owner_place)
        location += f", owned by account {account} in {owner_place.describe()}"
        origin += f"; the owner's place from {owner_place.source or 'principals:'}"
    if all(p.inside(allowed) for p in places):
        return FlowVerdict(flow, "allowed", shown, location, origin, place=place)
    outside = tuple(sorted({r for p in places for r in p.regions if not allowed.allows(r)},
                           key=lambda r: (r.cloud, r.code)))
    reason = "" if outside else f"{location} has no cloud region in the allowed set"
    return FlowVerdict(flow, "outside", shown, location, origin, outside, reason, place=place)
