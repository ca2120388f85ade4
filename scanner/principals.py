"""The policy's access and movement sections: who sits where, and which hosts are where.

``principals:`` maps identities (AWS accounts and organisations, GCP projects and domains, Azure
tenants, subscriptions and objects, Kubernetes groups and users) to locations written in the same
vocabulary as ``allowed_regions`` (``country:IE``, ``in:eu-locations``, ``aws:eu-west-1``).
``endpoints:`` does the same for hosts that data is sent to. ``access:`` and ``movement:`` say
which locations those principals and destinations may be in (default: ``allowed_regions``) and
whether one the scanner cannot place fails or warns.

Read by :mod:`scanner.policy` through its validating reader, so errors carry ``FILE:LINE`` and
did-you-mean hints like the rest of the policy. Kept in a module of its own because the access
(RES006) and movement (RES007) rules both judge with it, and the policy module is a hot file.

Ids are strings. YAML reads an unquoted ``012345678901`` as a number and loses the leading zero
(or reads it as octal), so an id written as a number is an error that says to quote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import yaml

from scanner.regions import Catalog, Region
from scanner.regions.endpoints import match_declared


class AllowedSet(Protocol):
    """What :class:`Place` needs of ``scanner.policy.AllowedSet`` (a Protocol: policy imports this module)."""

    @property
    def countries(self) -> frozenset[str]: ...
    @property
    def regions(self) -> frozenset[tuple[str, str]]: ...
    @property
    def entries(self) -> tuple[str, ...]: ...

    def allows(self, region: Region) -> bool: ...


class _Reader(Protocol):
    """The validating YAML reader of ``scanner.policy`` (errors with FILE:LINE), as this module uses it."""

    label: str
    cat: Catalog

    def error(self, node: yaml.Node | None, message: str) -> None: ...
    def pairs(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None: ...
    def mapping(self, node: yaml.Node, where: str, keys: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, yaml.Node] | None: ...
    def seq(self, node: yaml.Node, where: str) -> list[yaml.Node] | None: ...
    def text(self, node: yaml.Node, where: str, *, required: bool = False) -> str | None: ...
    def choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str | None: ...
    def allowed(self, node: yaml.Node, where: str) -> Any: ...
    def compile(self, entries: list[tuple[str, yaml.Node]], where: str) -> Any: ...

__all__ = [
    "PRINCIPAL_KINDS",
    "Endpoint",
    "FlowPolicy",
    "Place",
    "Principals",
]

FLOW_KEYS = ("allowed", "unresolved")
ENDPOINT_KEYS = ("host", "location")
SELF_CLOUDS = ("aws", "gcp", "azure")

# Per cloud: the kinds of identity a policy can map, each with the shape its ids must have
# (None: any non-empty string) and the example shown when one does not.
_AWS_ACCOUNT = r"\d{12}"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GCP_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"

PRINCIPAL_KINDS: Mapping[str, Mapping[str, tuple[str | None, str]]] = MappingProxyType({
    "aws": MappingProxyType({
        "accounts": (_AWS_ACCOUNT, '"111122223333" (12 digits)'),
        "organizations": (r"o-[a-z0-9]{10,32}", "o-abc123def4"),
        "organizational_units": (r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}", "ou-ab12-cd34ef56"),
        # identity providers a role trusts (``Federated``): an OIDC provider's host and path as in its ARN
        # (``token.actions.githubusercontent.com``), a SAML provider's name, or a web identity host
        "federated": (r"[a-z0-9][a-z0-9.\-/_:]*", "token.actions.githubusercontent.com"),
    }),
    "gcp": MappingProxyType({
        "projects": (_GCP_PROJECT, "eu-prod (a project id)"),
        "domains": (_DOMAIN, "example.eu"),
    }),
    "azure": MappingProxyType({
        "tenants": (_GUID, '"00000000-0000-0000-0000-00000000aaaa" (a GUID)'),
        "subscriptions": (_GUID, '"00000000-0000-0000-0000-00000000aaaa" (a GUID)'),
        "objects": (_GUID, '"11111111-2222-3333-4444-555555555555" (a GUID)'),
    }),
    "kubernetes": MappingProxyType({
        "groups": (None, "eu-oncall"),
        "users": (None, "alice@example.eu"),
    }),
})
# What ``self`` names per cloud, and the kind of id it must be.
_SELF_KIND = {"aws": "accounts", "gcp": "projects", "azure": "tenants"}
# Ids compared case-insensitively (GUIDs, domains, project ids) are stored lower-case.
_FOLD = {("azure", "tenants"), ("azure", "subscriptions"), ("azure", "objects"), ("gcp", "domains"),
         ("gcp", "projects"), ("aws", "federated")}
_HOST = re.compile(r"(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass(frozen=True)
class Place:
    """Where the policy says a principal or host sits, with where the policy says so.

    ``regions`` are every catalog region the written entries cover; ``countries`` the countries
    named with ``country:XX``, kept apart because a country without cloud regions covers none.
    """

    entries: tuple[str, ...]
    regions: frozenset[Region] = field(repr=False)
    countries: frozenset[str] = field(repr=False)
    source: str = ""

    def describe(self) -> str:
        """The location as written, ``country:US``, for messages."""
        return ", ".join(self.entries)

    @property
    def jurisdictions(self) -> frozenset[str]:
        """Legal buckets of the regions covered (``eu``, ``us``), or the countries when none."""
        found = frozenset(r.jurisdiction for r in self.regions)
        return found or frozenset(c.lower() for c in self.countries)

    def inside(self, allowed: AllowedSet) -> bool:
        """Whether everywhere this place covers is allowed: the subset test used for regions.

        A country with no cloud regions is inside only when the allowed set names that country.
        """
        bare = {c for c in self.countries if not any(r.country == c for r in self.regions)}
        if bare - set(allowed.countries):
            return False
        return all(allowed.allows(r) for r in self.regions)


@dataclass(frozen=True)
class FlowPolicy:
    """``access:`` or ``movement:``: where principals/destinations may be, and how unknown is judged.

    ``allowed`` None means the section did not set it: use the path's ``allowed_regions``.
    ``unresolved_given`` says this section's ``unresolved`` wins over the policy's top-level
    ``unresolved:`` for this rule's findings (either way): the section wrote it, or, for ``access``,
    the policy has neither ``access:`` nor ``principals:`` (then ``warn``: nothing is placed yet).
    """

    allowed: AllowedSet | None = None
    unresolved: str = "fail"
    line: int = 0
    unresolved_given: bool = False


@dataclass(frozen=True)
class Endpoint:
    """One ``endpoints:`` entry: a host (exact, or ``*.`` for any subdomain) and its location."""

    host: str
    place: Place
    line: int = 0


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, eq=False)
class Principals:
    """``principals:``: per cloud, ``self`` and the id -> :class:`Place` maps of each kind."""

    self_ids: Mapping[str, str] = field(default_factory=_empty)
    maps: Mapping[tuple[str, str], Mapping[str, Place]] = field(default_factory=lambda: MappingProxyType({}))
    given: bool = False

    def place(self, cloud: str, kind: str, ident: str) -> Place | None:
        """Where ``ident`` of ``kind`` (``aws``/``accounts``) sits, or None when the policy does not say."""
        key = ident.lower() if (cloud, kind) in _FOLD else ident
        return self.maps.get((cloud, kind), {}).get(key)

    def self_id(self, cloud: str) -> str | None:
        """What the configuration's own identity resolves to (``data.aws_caller_identity``)."""
        return self.self_ids.get(cloud)


def match_endpoint(endpoints: tuple[Endpoint, ...], host: str) -> Endpoint | None:
    """The policy entry for a host: an exact entry wins, then the longest matching glob."""
    return match_declared(endpoints, host)


# --------------------------------------------------------------------------- reading


def read_flow(r: _Reader, node: yaml.Node, where: str) -> FlowPolicy:
    """``access:`` / ``movement:`` -> :class:`FlowPolicy`."""
    m = r.mapping(node, where, FLOW_KEYS) or {}
    allowed = r.allowed(m["allowed"], f"{where}.allowed") if "allowed" in m else None
    unresolved = "fail"
    if "unresolved" in m:
        unresolved = r.choice(m["unresolved"], f"{where}.unresolved", ("fail", "warn")) or "fail"
    return FlowPolicy(allowed=allowed, unresolved=unresolved, line=node.start_mark.line + 1,
                      unresolved_given="unresolved" in m)


def read_id(r: _Reader, node: yaml.Node, where: str, cloud: str, kind: str) -> str | None:
    """An identity as a string in the shape its kind requires; numbers are refused with a hint."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS and not node.style:
        r.error(node, f"{where}: '{node.value}' is read as a number; quote ids (\"{node.value}\"): "
                      "YAML drops leading zeros and reads some digit strings as octal")
        return None
    value = r.text(node, where, required=True)
    if value is None:
        return None
    pattern, example = PRINCIPAL_KINDS[cloud][kind]
    folded = value.lower() if (cloud, kind) in _FOLD else value
    if pattern is not None and not re.fullmatch(pattern, folded):
        r.error(node, f"{where}: '{value}' is not a valid {cloud} {kind[:-1].replace('_', ' ')} id, "
                      f"e.g. {example}")
        return None
    return folded


def read_place(r: _Reader, node: yaml.Node, where: str) -> Place | None:
    """A location in ``allowed_regions`` vocabulary: one entry, or a list of entries."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not items:
        r.error(node, f"{where} is empty: give a location, e.g. country:IE or in:eu-locations")
        return None
    entries: list[tuple[str, yaml.Node]] = []
    for item in items:
        value = r.text(item, where, required=True)
        if value:
            entries.append((value, item))
    if len(entries) != len(items):
        return None
    compiled = r.compile(entries, where)
    if compiled is None:
        return None
    regions = frozenset(reg for cloud, code in compiled.regions if (reg := r.cat.region(cloud, code)))
    line = node.start_mark.line + 1
    return Place(entries=compiled.entries, regions=regions, countries=compiled.countries,
                 source=f"{where} ({r.label}:{line})")


def read_principals(r: _Reader, node: yaml.Node) -> Principals:
    """``principals:`` -> :class:`Principals`, every id and location validated."""
    clouds = r.mapping(node, "principals", tuple(PRINCIPAL_KINDS)) or {}
    self_ids: dict[str, str] = {}
    maps: dict[tuple[str, str], Mapping[str, Place]] = {}
    for cloud, cnode in clouds.items():
        kinds = PRINCIPAL_KINDS[cloud]
        keys = (("self",) if cloud in _SELF_KIND else ()) + tuple(kinds)
        m = r.mapping(cnode, f"principals.{cloud}", keys) or {}
        if "self" in m:
            ident = read_id(r, m["self"], f"principals.{cloud}.self", cloud, _SELF_KIND[cloud])
            if ident:
                self_ids[cloud] = ident
        for kind in kinds:
            if kind not in m:
                continue
            where = f"principals.{cloud}.{kind}"
            out: dict[str, Place] = {}
            for _name, knode, vnode in r.pairs(m[kind], where) or ():
                ident = read_id(r, knode, f"{where} key", cloud, kind)
                place = read_place(r, vnode, f"{where}.{knode.value}")
                if ident and place:
                    out[ident] = place
            maps[(cloud, kind)] = MappingProxyType(out)
    return Principals(self_ids=MappingProxyType(self_ids), maps=MappingProxyType(maps), given=True)


def read_self_ids(r: _Reader, node: yaml.Node, where: str) -> Mapping[str, str]:
    """``terraform.roots[].self``: ``{aws: account, gcp: project, azure: tenant}`` for one root."""
    m = r.mapping(node, where, SELF_CLOUDS) or {}
    out: dict[str, str] = {}
    for cloud, vnode in m.items():
        ident = read_id(r, vnode, f"{where}.{cloud}", cloud, _SELF_KIND[cloud])
        if ident:
            out[cloud] = ident
    return MappingProxyType(out)


def read_endpoints(r: _Reader, node: yaml.Node) -> tuple[Endpoint, ...]:
    """``endpoints:`` -> entries, each host exact or ``*.`` glob, duplicates refused."""
    out: list[Endpoint] = []
    first: dict[str, int] = {}
    for i, item in enumerate(r.seq(node, "endpoints") or ()):
        where = f"endpoints[{i}]"
        m = r.mapping(item, where, ENDPOINT_KEYS, required=ENDPOINT_KEYS)
        if m is None or not set(ENDPOINT_KEYS) <= m.keys():
            continue
        host = r.text(m["host"], f"{where}.host", required=True)
        place = read_place(r, m["location"], f"{where}.location")
        if host is None:
            continue
        host = host.lower().rstrip(".")
        if "://" in host or "/" in host or ":" in host:
            r.error(m["host"], f"{where}.host: '{host}' is not a host name; write the host alone, "
                               "without scheme, port or path")
            continue
        if not _HOST.fullmatch(host):
            hint = " ('*.' is allowed only as the first label)" if "*" in host else ""
            r.error(m["host"], f"{where}.host: '{host}' is not a host name or '*.' glob{hint}")
            continue
        line = item.start_mark.line + 1
        if host in first:
            r.error(m["host"], f"{where}.host: '{host}' is listed twice (first on line {first[host]})")
            continue
        first[host] = line
        if place:
            out.append(Endpoint(host=host, place=place, line=line))
    return tuple(out)
