"""Location judging shared by every rule: resolve, compare with the allowed set, word it.

Each rule asks the same three questions of a :class:`Location` (what regions does this code mean,
which of them are not allowed, how do I say so with its provenance); answering them once here
keeps the four rules' messages consistent and means a fix to, say, custom dual-regions lands
everywhere at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scanner.model import ANY_REGION, Category, DataStoreFacts, Location, Unknown, Violation

if TYPE_CHECKING:
    from checks.rules.api import RuleContext
    from scanner.regions import Region, ResolvedLocation


def product_for(resource_type: str) -> str | None:
    """The region-catalog product of a GCP resource type, None when it does not matter.

    GCP spells some codes alike across products (Cloud Storage EUR5 vs Spanner eur5): the type-name
    prefixes in ``datastores.yaml`` (``clouds.gcp.products``) tell the region catalog which meaning applies.
    """
    from checks.catalog.types import load_catalog  # lazy: start-up (the rule ids are read to check a policy)

    return load_catalog().product_for(resource_type)


def store_product(facts: DataStoreFacts) -> str | None:
    """The product every location of one data store is judged with: its own, its copies', its keys'.

    One resolution for the findings (RES001/RES002/RES004) and the inventory, so the map and the
    findings never disagree: a code can name different places in different products (GCP ``EUR5`` is
    a Cloud Storage dual-region and a three-region Spanner configuration), and a lookup without a
    product gets the union of both.
    """
    return product_for(facts.resource.type)


@dataclass(frozen=True)
class Verdict:
    """One location judged: resolved members, the ones not allowed, or why it cannot be told."""

    location: Location | None
    resolved: ResolvedLocation | None = None
    outside: tuple[Region, ...] = ()
    unresolved: str | None = None

    @property
    def allowed(self) -> bool:
        return self.unresolved is None and not self.outside


def resolve(location: Location, catalog: Any, product: str | None = None) -> ResolvedLocation | None:
    """Expand a location code to its regions; ``a+b`` is a custom dual-region; None = unknown code."""
    if "+" in location.code:
        return catalog.custom_dual_region(location.cloud, location.code.split("+"))
    if product is not None:
        return catalog.resolve(location.cloud, location.code, product=product)
    return catalog.resolve(location.cloud, location.code)


def judge(location: Location | Unknown | None, ctx: RuleContext, product: str | None = None) -> Verdict:
    """Judge one location against ``ctx.allowed``. Unknown and unknown codes never pass."""
    if location is None:
        return Verdict(None)
    if isinstance(location, Unknown):
        return Verdict(None, unresolved=location.reason)
    if location.code == ANY_REGION:
        regions = ctx.catalog.all_regions(location.cloud)
        outside = tuple(r for r in regions if not ctx.allowed.allows(r))
        return Verdict(location, outside=outside)
    resolved = resolve(location, ctx.catalog, product)
    if resolved is None:
        return Verdict(location, unresolved=f"unknown region code {location.code} ({location.cloud})")
    return Verdict(location, resolved=resolved, outside=tuple(ctx.allowed.disallowed(resolved)))


def label(region: Region) -> str:
    """``us-east-1 (US East (N. Virginia), country US, jurisdiction us)``."""
    parts = [
        p
        for p in (
            region.name if region.name != region.code else "",
            f"country {region.country}" if region.country else "",
            f"jurisdiction {region.jurisdiction}",
        )
        if p
    ]
    return f"{region.code} ({', '.join(parts)})"


def describe(verdict: Verdict) -> str:
    """The whole location as the message shows it, naming the members that are outside."""
    if verdict.location is not None and verdict.location.code == ANY_REGION:
        return "automatic (any region)"
    if verdict.resolved is None:
        return verdict.location.code if verdict.location else "unknown"
    resolved = verdict.resolved
    if len(resolved.members) == 1 and verdict.outside:
        return label(verdict.outside[0])
    return resolved.describe()


def outside_text(verdict: Verdict, limit: int = 4) -> str:
    """The disallowed members, labelled: ``europe-west2 (London, country GB, jurisdiction uk)``."""
    shown = [label(r) for r in verdict.outside[:limit]]
    more = len(verdict.outside) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def provenance(location: Location | None) -> str:
    """``region us-east-1 from provider aws.virginia (main.tf:6)``."""
    if location is None:
        return ""
    code = "automatic (any region)" if location.code == ANY_REGION else location.code
    return f"region {code} from {location.source}" if location.source else f"region {code}"


# Widely available regions first, so a remediation names a region a team can actually deploy to
# rather than the alphabetically first one (which may be restricted or not yet open).
_COMMON = {
    "aws": ("eu-central-1", "eu-west-1", "eu-north-1", "eu-west-3", "us-east-1", "us-west-2", "eu-west-2",
            "ca-central-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1"),
    "gcp": ("europe-west1", "europe-west4", "europe-west3", "europe-north1", "us-central1", "us-east1",
            "europe-west2", "northamerica-northeast1", "australia-southeast1", "asia-northeast1"),
    "azure": ("westeurope", "northeurope", "germanywestcentral", "swedencentral", "francecentral", "eastus",
              "westus2", "uksouth", "canadacentral", "australiaeast", "japaneast"),
}


def suggestion(ctx: RuleContext, cloud: str) -> str:
    """An allowed region of the same cloud to name in a remediation, or '' when there is none."""
    key = (id(ctx.allowed), id(ctx.catalog), cloud)
    found = _SUGGESTIONS.get(key)
    if found is None or found[0] is not ctx.allowed:
        found = _SUGGESTIONS[key] = (ctx.allowed, _suggestion(ctx, cloud))
    return found[1]


# Remediations are worded for every finding; the answer depends only on the allowed set and cloud.
# The allowed set is kept in the value so a recycled id() can never return another policy's answer.
_SUGGESTIONS: dict[tuple[int, int, str], tuple[object, str]] = {}


def _suggestion(ctx: RuleContext, cloud: str) -> str:
    try:
        regions = ctx.catalog.all_regions(cloud)
    except ValueError:  # a cloud the catalog does not know
        return ""
    by_code = {r.code: r for r in regions}
    preferred = [by_code[c] for c in _COMMON.get(cloud, ()) if c in by_code]
    for region in (*preferred, *regions):
        if ctx.allowed.allows(region):
            return region.code
    return ""


def outside_violation(
    verdict: Verdict,
    ctx: RuleContext,
    *,
    category: Category,
    subject: str,
    remediation: str,
    line: int | None = None,
    file: str | None = None,
) -> Violation:
    """A placement-style violation: ``subject`` is in <location>: <members> not allowed (<set>)."""
    where = describe(verdict)
    offending = outside_text(verdict)
    if verdict.resolved is not None and len(verdict.resolved.members) == 1:
        body = f"{subject} is in {where}, outside the allowed regions ({ctx.allowed.describe()})"
    else:
        body = (
            f"{subject} is in {where}; {offending} "
            f"{'is' if len(verdict.outside) == 1 else 'are'} outside the allowed regions "
            f"({ctx.allowed.describe()})"
        )
    prov = provenance(verdict.location)
    first = verdict.outside[0] if verdict.outside else None
    return Violation(
        category=category,
        message=f"{body}; {prov}." if prov else f"{body}.",
        remediation=remediation,
        region=verdict.location.code
        if verdict.location and verdict.location.code != ANY_REGION
        else (first.code if first else None),
        jurisdiction=first.jurisdiction if first else None,
        country=first.country if first else None,
        provenance=prov,
        line=line,
        file=file,
    )


def unresolved_violation(
    subject: str,
    reason: str,
    remediation: str,
    line: int | None = None,
    location: Location | None = None,
    file: str | None = None,
) -> Violation:
    """What a rule yields when the fact it needs cannot be known statically."""
    return Violation(
        category=Category.UNRESOLVED,
        message=f"{subject} cannot be checked: {reason}.",
        remediation=remediation,
        region=location.code if location else None,
        provenance=provenance(location),
        line=line,
        file=file,
    )


def location_violations(
    location: Location | Unknown | None,
    ctx: RuleContext,
    *,
    category: Category,
    subject: str,
    unresolved_subject: str,
    unresolved_fix: str,
    remediation: str,
    product: str | None = None,
    line: int | None = None,
    file: str | None = None,
) -> Iterator[Violation]:
    """The one judging step every location rule shares: nothing when allowed, an ``unresolved``
    violation when the location cannot be told, else a violation naming what is outside the set."""
    verdict = judge(location, ctx, product)
    if verdict.unresolved is not None:
        yield unresolved_violation(
            unresolved_subject, verdict.unresolved, unresolved_fix, line=line,
            location=location if isinstance(location, Location) else None, file=file,
        )
    elif not verdict.allowed:
        yield outside_violation(verdict, ctx, category=category, subject=subject, remediation=remediation,
                                line=line, file=file)
