"""The data-residency inventory: where every data store, its copies and its keys live, judged by policy.

Findings say what is wrong; the inventory says what *is*: one entry per data store (address, type,
file:line, cloud, regions, jurisdictions, countries, encryption) with the places its data is
copied to and the keys that protect it, each marked allowed / disallowed / unresolved under the
policy scope that applies to the data store's path. Auditors ask for exactly this (NIST CSF
ID.AM-07, ISO/IEC 27001 5.9), and a map drawn from it shows at a glance which replication arrows
leave the approved jurisdictions.

The inventory is built from ``Report.data_stores`` (the facts the catalog produced) plus the
policy, never from syntax; locations are judged by ``checks.locate.judge`` so the map and the
findings cannot disagree. Formats live in :mod:`scanner.report.inventory_formats`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.locate import ANY_REGION, judge, store_product
from checks.rules import RuleContext
from checks.rules.access import opened_stores, reaches
from checks.rules.movement import judge_flows
from scanner.engine import exemption_for, policy_rel, scope_path, unit_key
from scanner.model import AtLeast, DataStoreFacts, Encryption, Finding, Location, Ref, Resource, Unknown

if TYPE_CHECKING:
    from checks.rules import RuleContext
    from scanner.model import Report
    from scanner.policy import Policy

#: Status of a place: its members all allowed, some not allowed, or cannot be told statically.
ALLOWED, DISALLOWED, UNRESOLVED, NOT_APPLICABLE = "allowed", "disallowed", "unresolved", "not-applicable"
#: Status of a principal open to anyone (``"*"``, ``allUsers``).
PUBLIC = "public"

#: Map group of places that cannot be placed in a jurisdiction (Unknown value, unknown region code).
UNRESOLVED_GROUP = "unresolved"
#: Map group of data stores without a location of their own (a Velero BackupStorageLocation, a
#: StorageClass whose cluster region is not known): their copies say where the data goes.
NO_LOCATION_GROUP = "no-location"
#: Map group of the pipes and workloads that send data somewhere and read no scanned data store.
PIPE_GROUP = "pipes"
#: Map group of places spanning more jurisdictions than fit in a readable group name.
MULTIPLE_GROUP = "multiple"
_MAX_JOINED = 3
_BUCKETS = (UNRESOLVED_GROUP, NO_LOCATION_GROUP)


@dataclass(frozen=True)
class Place:
    """One location judged: what it expands to and whether the applicable policy allows all of it."""

    status: str
    cloud: str | None = None
    code: str | None = None
    kind: str | None = None  # region | zone | multi-region | dual-region | custom-dual-region | any-region
    regions: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    disallowed_regions: tuple[str, ...] = ()
    disallowed_jurisdictions: tuple[str, ...] = ()
    description: str = ""
    provenance: str = ""
    reason: str | None = None  # why it is unresolved / not applicable

    @property
    def group(self) -> str:
        """The map group (subgraph) the place is drawn in: one jurisdiction, ``eu+uk``, or a bucket.

        A location spanning two or three jurisdictions (a custom dual-region) keeps them in its
        name so the map shows the crossing; more than that (``nam-eur-asia1``, any region) goes to
        ``multiple`` and the node label lists them.
        """
        if self.status == NOT_APPLICABLE:
            return NO_LOCATION_GROUP
        if self.status == UNRESOLVED or not self.jurisdictions:
            return UNRESOLVED_GROUP
        if len(self.jurisdictions) > _MAX_JOINED:
            return MULTIPLE_GROUP
        return "+".join(self.jurisdictions)

    @property
    def label(self) -> str:
        """Short text for a map node or table cell: ``aws eu-west-1`` or ``unknown``."""
        if self.code is None:
            return "no location" if self.status == NOT_APPLICABLE else "unknown"
        return f"{self.cloud} {self.code}" if self.cloud else self.code


@dataclass(frozen=True)
class CopyEntry:
    """A place the data store copies its data to (replica, backup, geo-pair, sink ...)."""

    kind: str
    via: str
    place: Place
    line: int | None = None
    note: str = ""


@dataclass(frozen=True)
class KeyEntry:
    """A customer-managed key protecting the data store, with its own location judged."""

    reference: str
    via: str
    place: Place


@dataclass(frozen=True)
class AccessEntry:
    """A principal that can reach the data store, through which grant, judged like RES006 judges it.

    ``status``: allowed (mapped inside ``access.allowed``, the deploying identity, the provider),
    disallowed (mapped outside), public, or unresolved (not placed by the policy's ``principals:``).
    """

    principal: str
    status: str
    actions: tuple[str, ...]
    grant: str  # address of the resource holding the grant
    via: str  # the statement, member or argument inside it
    file: str
    line: int
    location: str = ""  # where the policy maps the principal, as written (country:US)
    provenance: str = ""
    reason: str = ""
    jurisdictions: tuple[str, ...] = ()  # of the mapped location: the map group its node is drawn in

    @property
    def group(self) -> str:
        """The map group of the principal's node: its jurisdictions, ``multiple`` when public, else unresolved."""
        if self.status == PUBLIC:
            return MULTIPLE_GROUP
        if not self.jurisdictions:
            return UNRESOLVED_GROUP
        return "+".join(self.jurisdictions) if len(self.jurisdictions) <= _MAX_JOINED else MULTIPLE_GROUP


@dataclass(frozen=True)
class FlowEntry:
    """One destination a pipe sends data to, judged like RES007 judges it: an edge of the map.

    ``source`` is the data store the pipe reads when it is in this scan (``source_kind``
    ``data-store``; the edge starts at that store's node), else the pipe or workload itself
    (``pipe``: a Firehose stream with no scanned source, an OpenTelemetry Collector ConfigMap).
    ``status``: allowed, disallowed (outside ``movement.allowed``) or unresolved.
    """

    pipe: str  # address of the resource holding the destination
    type: str
    file: str
    line: int
    source: str
    source_kind: str  # data-store | pipe
    destination: str
    what: str
    via: str
    status: str
    location: str = ""  # where the destination is, as the policy vocabulary writes it (country:US)
    provenance: str = ""  # bundled table entry, policy endpoints:, the ARN's region, the referenced resource
    reason: str = ""
    jurisdictions: tuple[str, ...] = ()  # of the destination's place: the map group its node is drawn in
    disallowed_regions: tuple[str, ...] = ()
    source_file: str = ""  # the file of the source data store (an address repeats across roots)

    @property
    def group(self) -> str:
        """The map group of the destination node: its jurisdictions, else unresolved."""
        if self.status == UNRESOLVED or not self.jurisdictions:
            return UNRESOLVED_GROUP
        return "+".join(self.jurisdictions) if len(self.jurisdictions) <= _MAX_JOINED else MULTIPLE_GROUP


@dataclass(frozen=True)
class DataStoreEntry:
    """One data store as the inventory shows it."""

    address: str
    type: str
    file: str
    line: int
    source: str
    cloud: str
    role: str
    place: Place
    allowed_regions: str  # the policy entries that apply to this path, as written
    encryption: str  # none | provider-managed | customer-managed | unknown | not-applicable
    encryption_source: str = ""
    encryption_reason: str | None = None
    encryption_meets_minimum: bool | None = None
    copies: tuple[CopyEntry, ...] = ()
    keys: tuple[KeyEntry, ...] = ()
    findings: tuple[Finding, ...] = ()  # by line, then rule; a waived one keeps its waiver
    exemption: str | None = None  # e.g. "tag data-classification=public": rules skipped it
    access: tuple[AccessEntry, ...] = ()  # who can reach it, from the grants of its unit

    @property
    def id(self) -> str:
        """What identifies it across files: Terraform addresses repeat across root modules."""
        return f"{self.file}:{self.address}"


@dataclass(frozen=True)
class Inventory:
    """Every data store of one scan, plus summaries by jurisdiction and by cloud."""

    data_stores: tuple[DataStoreEntry, ...]
    scan_root: str = "."
    policy_path: str | None = None
    allowed_regions: str = ""
    encryption_minimum: str = ""
    tool_version: str = ""
    by_jurisdiction: dict[str, dict[str, int]] = field(default_factory=dict)
    by_cloud: dict[str, dict[str, object]] = field(default_factory=dict)
    flows: tuple[FlowEntry, ...] = ()  # every pipe's destinations, by file and line

    @property
    def copies(self) -> list[tuple[DataStoreEntry, CopyEntry]]:
        return [(d, c) for d in self.data_stores for c in d.copies]

    @property
    def totals(self) -> dict[str, int]:
        stores = self.data_stores
        copies = self.copies
        return {
            "data_stores": len(stores),
            "copies": len(copies),
            "keys": sum(len(d.keys) for d in stores),
            "disallowed_data_stores": sum(d.place.status == DISALLOWED for d in stores),
            "disallowed_copies": sum(c.place.status == DISALLOWED for _, c in copies),
            "unresolved_data_stores": sum(d.place.status == UNRESOLVED for d in stores),
            "unresolved_copies": sum(c.place.status == UNRESOLVED for _, c in copies),
            "access": sum(len(d.access) for d in stores),
            "disallowed_access": sum(a.status in (DISALLOWED, PUBLIC) for d in stores for a in d.access),
            "unresolved_access": sum(a.status == UNRESOLVED for d in stores for a in d.access),
            "findings": sum(len(d.findings) for d in stores),
            "waived_findings": sum(f.waived for d in stores for f in d.findings),
            "flows": len(self.flows),
            "disallowed_flows": sum(f.status == DISALLOWED for f in self.flows),
            "unresolved_flows": sum(f.status == UNRESOLVED for f in self.flows),
        }


def build_inventory(report: Report, policy: Policy) -> Inventory:
    """Judge every data store of ``report`` (and its copies and keys) under ``policy``.

    Each data store is judged under the scope for its path, exactly as the rules do, so a copy to
    ``us-east-1`` is red on the map precisely when RES002 would flag it (waivers aside: the map
    shows where data goes; a waiver is shown next to it, not hidden).
    """
    root = Path(report.scan_root)
    contexts: dict[str, RuleContext] = {}
    by_resource: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in report.findings:
        # A plan finding shown at its .tf block belongs to the plan's data store (its origin).
        by_resource[f.origin if f.related and f.origin else (f.file, f.resource)].append(f)

    entries = []
    for fact in report.data_stores:
        scope = scope_path(fact.resource)
        ctx = contexts.get(scope)
        if ctx is None:
            allowed = policy.allowed_for(policy_rel(policy, root, scope))
            ctx = contexts[scope] = RuleContext(policy=policy, allowed=allowed, catalog=policy.catalog)
        entries.append(_entry(fact, ctx, policy, by_resource.get((fact.resource.file, fact.resource.address), [])))
    entries = _with_access(entries, report, policy, root)
    entries.sort(key=lambda e: (e.file, e.line, e.address))
    return Inventory(
        data_stores=tuple(entries),
        scan_root=report.scan_root,
        policy_path=report.policy_path,
        allowed_regions=policy.allowed.describe(),
        encryption_minimum=policy.encryption_minimum.value,
        tool_version=report.tool_version,
        by_jurisdiction=_by_jurisdiction(entries),
        by_cloud=_by_cloud(entries),
        flows=_flows(report, policy, root),
    )


# --- one data store ---------------------------------------------------------------------------


def _entry(fact: DataStoreFacts, ctx: RuleContext, policy: Policy, findings: list[Finding]) -> DataStoreEntry:
    r = fact.resource
    product = store_product(fact)  # the one resolution the rules use too
    level, reason = _encryption(fact.encryption)
    meets = None
    if isinstance(fact.encryption, Encryption):
        meets = fact.encryption.rank >= policy.encryption_minimum.rank
    elif isinstance(fact.encryption, AtLeast) and fact.encryption.meets(policy.encryption_minimum):
        meets = True  # as RES003 judges it: the unknown key can only raise the level
    return DataStoreEntry(
        address=r.address,
        type=r.declared_type,
        file=r.file,
        line=r.line,
        source=r.source,
        cloud=fact.cloud,
        role=fact.role,
        place=judge_place(fact.location, ctx, product),
        allowed_regions=ctx.allowed.describe(),
        encryption=level,
        encryption_source=fact.encryption_source,
        encryption_reason=reason,
        encryption_meets_minimum=meets,
        copies=tuple(CopyEntry(c.kind, c.via, judge_place(c.location, ctx, product), c.line, c.note)
                     for c in fact.copies),
        keys=tuple(KeyEntry(k.reference, k.via, judge_place(k.location, ctx, product)) for k in fact.keys),
        findings=tuple(sorted(findings, key=lambda f: (f.line, f.rule_id))),
        exemption=exemption_for(policy, fact),
    )


_REACH_STATUS = {"ok": ALLOWED, "outside": DISALLOWED, "public": PUBLIC, "unresolved": UNRESOLVED}


def _with_access(entries: list[DataStoreEntry], report: Report, policy: Policy, root: Path) -> list[DataStoreEntry]:
    """Attach to each store the principals its unit's grants let reach it (RES006's own judgement)."""
    if not report.grants:
        return entries
    stores: dict[str, dict[str, DataStoreFacts]] = defaultdict(dict)
    by_role: dict[str, dict[str, list[DataStoreFacts]]] = defaultdict(lambda: defaultdict(list))
    for fact in report.data_stores:
        unit = unit_key(fact.resource)
        stores[unit][fact.resource.address] = fact
        by_role[unit][fact.role].append(fact)
    for grant in report.grants:  # RAM principal associations follow their share's resource associations
        by_role[unit_key(grant.resource)]["grant"].append(grant)
    found: dict[tuple[str, str], list[AccessEntry]] = defaultdict(list)
    for grant in report.grants:
        r = grant.resource
        unit = unit_key(r)
        scope = scope_path(r)
        rel = policy_rel(policy, root, scope)
        ctx = RuleContext(policy=policy, allowed=policy.allowed_for(rel), catalog=policy.catalog, facts=stores[unit],
                          by_role={k: tuple(v) for k, v in by_role[unit].items()}, policy_path=rel)
        subjects = [s for _, s in opened_stores(grant, ctx) if s is not None]  # outside the scan: findings name it
        for subject, reach in ((s, reach) for reach in reaches(grant, ctx) for s in subjects):
            v, g = reach.verdict, reach.grant
            found[(subject.file, subject.address)].append(AccessEntry(
                principal=v.who, status=_REACH_STATUS[v.status], actions=reach.actions, grant=r.address,
                via=g.via, file=r.file, line=g.line or r.line,
                location=v.place.describe() if v.place is not None else "",
                provenance=v.place.source if v.place is not None else "", reason=v.reason,
                jurisdictions=tuple(sorted(v.place.jurisdictions)) if v.place is not None else ()))
    return [dataclasses.replace(e, access=tuple(found[(e.file, e.address)])) if (e.file, e.address) in found else e
            for e in entries]


def _source_store(read: object, stores: dict[str, DataStoreFacts]) -> Resource | None:
    """The scanned data store a pipe reads: a reference to it, or its name as the evaluator computed
    it (``log_group_name = aws_cloudwatch_log_group.app.name`` is the literal name)."""
    if isinstance(read, Ref):
        fact = stores.get(read.address)
        return fact.resource if fact is not None else None
    if isinstance(read, str) and read:
        for fact in stores.values():
            attrs = fact.resource.attributes
            if any(attrs.get(key) == read for key in ("name", "bucket", "arn")):
                return fact.resource
    return None


_FLOW_STATUS = {"allowed": ALLOWED, "outside": DISALLOWED, "unresolved": UNRESOLVED}


def _flows(report: Report, policy: Policy, root: Path) -> tuple[FlowEntry, ...]:
    """Every pipe's destinations, judged by RES007's own judgement under the pipe's policy scope."""
    if not report.flows:
        return ()
    stores: dict[str, dict[str, DataStoreFacts]] = defaultdict(dict)
    for fact in report.data_stores:
        stores[unit_key(fact.resource)][fact.resource.address] = fact
    out = []
    for facts in report.flows:
        r = facts.resource
        unit = unit_key(r)
        rel = policy_rel(policy, root, scope_path(r))
        ctx = RuleContext(policy=policy, allowed=policy.allowed_for(rel), catalog=policy.catalog,
                          facts=stores[unit], policy_path=rel)
        source, source_kind, source_file = r.address, "pipe", r.file
        store = _source_store(facts.source, stores[unit])
        if store is not None:
            source, source_kind, source_file = store.address, "data-store", store.file
        for verdict, _allowed in judge_flows(facts, ctx):
            flow = verdict.flow
            jurisdictions = tuple(sorted(verdict.place.jurisdictions)) if verdict.place is not None else ()
            regions = tuple(f"{x.cloud}:{x.code}" for x in verdict.outside)
            out.append(FlowEntry(
                pipe=r.address, type=r.declared_type, file=r.file, line=flow.line or r.line, source=source,
                source_kind=source_kind, destination=verdict.destination, what=flow.what, via=flow.via,
                status=_FLOW_STATUS[verdict.status], location=verdict.location or "", provenance=verdict.origin,
                reason=verdict.reason, jurisdictions=jurisdictions, disallowed_regions=regions,
                source_file=source_file))
    out.sort(key=lambda f: (f.file, f.line, f.pipe, f.destination))
    return tuple(out)


def judge_place(location: Location | Unknown | None, ctx: RuleContext, product: str | None = None) -> Place:
    """One location as a :class:`Place`, judged by the same helper the rules use."""
    if location is None:
        return Place(NOT_APPLICABLE, reason="the resource type has no location of its own")
    if isinstance(location, Unknown):
        return Place(UNRESOLVED, reason=location.reason)
    verdict = judge(location, ctx, product)
    outside = verdict.outside
    common: dict[str, Any] = {"cloud": location.cloud, "code": location.code, "provenance": location.source,
              "disallowed_regions": tuple(r.code for r in outside),
              "disallowed_jurisdictions": tuple(sorted({r.jurisdiction for r in outside}))}
    if verdict.unresolved is not None:
        return Place(UNRESOLVED, reason=verdict.unresolved, description=location.code, **common)
    if location.code == ANY_REGION:
        members = ctx.catalog.all_regions(location.cloud)
        kind, description = "any-region", "automatic (any region the provider picks)"
    else:
        assert verdict.resolved is not None
        members, kind, description = verdict.resolved.members, verdict.resolved.kind, verdict.resolved.describe()
    if verdict.resolved is not None:  # the catalog's spelling, so EUROPE-WEST4 and europe-west4 are one place
        common["code"] = verdict.resolved.code
    return Place(
        DISALLOWED if outside else ALLOWED,
        kind=kind,
        regions=tuple(dict.fromkeys(m.code for m in members)),
        jurisdictions=tuple(sorted({m.jurisdiction for m in members})),
        countries=tuple(sorted({m.country for m in members if m.country})),
        description=description,
        **common,
    )


def _encryption(value: Encryption | Unknown | None) -> tuple[str, str | None]:
    if value is None:
        return NOT_APPLICABLE, None
    if isinstance(value, Unknown):
        return "unknown", value.reason
    return value.value, None


# --- summaries --------------------------------------------------------------------------------


def _by_jurisdiction(entries: list[DataStoreEntry]) -> dict[str, dict[str, int]]:
    """Per jurisdiction: data stores and copies that may hold data there, and how many are not allowed.

    A multi-region location counts in each jurisdiction it spans; unresolved places count under
    ``unresolved``, data stores without a location of their own under ``no-location``.
    "disallowed" counts entries with a disallowed region in that jurisdiction.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)

    def add(place: Place, what: str) -> None:
        keys = place.jurisdictions if place.group not in _BUCKETS else (place.group,)
        for j in keys:
            counts[j][what] += 1
            if j in place.disallowed_jurisdictions:
                counts[j][f"disallowed_{what}"] += 1

    for e in entries:
        add(e.place, "data_stores")
        for c in e.copies:
            add(c.place, "copies")
    keys = ("data_stores", "disallowed_data_stores", "copies", "disallowed_copies")
    return {j: {k: counts[j][k] for k in keys} for j in sorted(counts, key=group_order)}


def _by_cloud(entries: list[DataStoreEntry]) -> dict[str, dict[str, object]]:
    """Per cloud: how many data stores, in which regions and jurisdictions, how many not allowed."""
    out: dict[str, dict[str, object]] = {}
    for cloud in sorted({e.cloud for e in entries}):
        mine = [e for e in entries if e.cloud == cloud]
        out[cloud] = {
            "data_stores": len(mine),
            "disallowed_data_stores": sum(e.place.status == DISALLOWED for e in mine),
            "unresolved_data_stores": sum(e.place.status == UNRESOLVED for e in mine),
            "copies": sum(len(e.copies) for e in mine),
            "regions": sorted({r for e in mine for r in e.place.regions}),
            "jurisdictions": sorted({j for e in mine for j in e.place.jurisdictions}),
        }
    return out


def group_order(group: str) -> tuple[int, str]:
    """Sort key for map groups, shared by every format: jurisdictions, then the buckets, unresolved last."""
    return ({MULTIPLE_GROUP: 1, PIPE_GROUP: 2, NO_LOCATION_GROUP: 2, UNRESOLVED_GROUP: 3}.get(group, 0), group)
