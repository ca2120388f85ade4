"""RES005 workload-outside-allowed-regions: a Kubernetes workload that may run outside the allowed regions.

What it checks
    Every Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod and ReplicaSet: the regions its pods
    may be scheduled in. They come from ``nodeSelector`` and required ``nodeAffinity`` on
    ``topology.kubernetes.io/region`` or ``.../zone`` (and the deprecated ``failure-domain.beta``
    labels): node-selector terms are ORed, expressions in a term ANDed, and ``nodeSelector`` ANDed
    with both. An unpinned workload runs where its cluster is (``kubernetes.clusters`` in the policy,
    or ``--cluster-region`` for standard input and unmapped files). Every admitted region must be allowed.

Why it matters
    A workload processes user data where its pods run: a pod pinned to ``us-east-1`` reads EU
    records into memory and local disk in the US, whatever the database's region. A constraint that
    admits an open set of regions (``NotIn``, ``Exists``) cannot be shown to keep data in place, so
    it is reported as unresolved, never passed.

Example
    ``spec.template.spec.nodeSelector: {topology.kubernetes.io/region: us-east-1}`` under a policy of
    ``allowed_regions: [in:eu-locations]``.

How to fix
    Pin the workload with ``nodeSelector`` or a required ``nodeAffinity`` ``In`` on an allowed region
    (or zones of one), or deploy it to a cluster in an allowed region and record that cluster in the
    policy's ``kubernetes.clusters``. With ``kubernetes.require_placement: true`` every workload needs
    a known region: pin it or map its path to a cluster.

Controls
    NIST CSF 2.0 GV.OC-03, ID.AM-07; ISO/IEC 27001:2022 5.23, 5.34; SOC 2 CC6.1, CC9.2.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks import locate
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, DataStoreFacts, Location, Severity, Unknown, Violation


def check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield one violation per admitted region that is not allowed (or cannot be resolved)."""
    subject = f"workload {facts.resource.address}"
    placements: list[Location | Unknown | None] = [facts.location]
    placements += [c.location for c in facts.copies if c.kind == "placement"]
    if facts.location is None and len(placements) == 1:
        if getattr(ctx.policy, "require_placement", False):
            yield locate.unresolved_violation(
                subject,
                "it is not pinned to a region and no cluster region is known for this path, but the policy "
                "sets kubernetes.require_placement",
                "Pin it with nodeSelector topology.kubernetes.io/region, or map this path to a cluster in "
                "residency.yaml kubernetes.clusters (or pass --cluster-region).",
            )
        return
    for location in placements:
        if location is None:
            continue
        if isinstance(location, Unknown):
            reason = f"where its pods run cannot be told: {location.reason}"
            yield locate.unresolved_violation(subject, reason, _fix(ctx, facts.cloud))
            continue
        yield from _judge(subject, location, ctx)


def _fix(ctx: RuleContext, cloud: str) -> str:
    allowed = locate.suggestion(ctx, cloud) if cloud in ("aws", "gcp", "azure") else ""
    example = f" (e.g. {allowed})" if allowed else ""
    return (f"Pin the workload to an allowed region{example} with nodeSelector or a required nodeAffinity In "
            "on topology.kubernetes.io/region, or run it in a cluster in an allowed region.")


def _judge(subject: str, location: Location, ctx: RuleContext) -> Iterator[Violation]:
    """Judge one admitted region; a code of no known cloud is read in every cloud that has it."""
    readings = [location]
    if location.cloud not in ("aws", "gcp", "azure"):
        readings = [Location(r.cloud, location.code, location.source)
                    for r in ctx.catalog.resolve_any(location.code)]
        if not readings:
            yield locate.unresolved_violation(
                subject, f"{location.code!r} is not a region code of any cloud the scanner knows",
                "Use the cluster's region code (e.g. eu-west-1, europe-west4, westeurope) in the label.",
                location=location)
            return
    for reading in readings:
        yield from locate.location_violations(
            reading, ctx, category=Category.PLACEMENT, subject=subject, unresolved_subject=subject,
            unresolved_fix=_fix(ctx, reading.cloud), remediation=_fix(ctx, reading.cloud))


RULE = Rule(
    id="RES005",
    name="workload-outside-allowed-regions",
    category=Category.PLACEMENT,
    severity=Severity.HIGH,
    summary="A Kubernetes workload is pinned to, or its cluster is in, a region the policy does not allow.",
    check=check,
    roles=("workload",),
    controls=("NIST:GV.OC-03", "NIST:ID.AM-07", "ISO27001:5.23", "ISO27001:5.34", "SOC2:CC6.1", "SOC2:CC9.2"),
    doc=__doc__ or "",
    checkov_id="CKV_RES_5",
)
