"""RES001 data-store-outside-allowed-regions: a data store's primary location is not allowed.

What it checks
    Every resource the data-store catalog classifies as holding user data (buckets, disks,
    databases, caches, queues, warehouses, backup vaults, log stores): the location its data is
    written to, from the resource's own ``region``/``location``/``zone`` argument, a documented
    default (BigQuery ``US``), the parent it inherits from (an Azure container's account) or the
    provider configuration. A multi- or dual-region (``EU``, ``EUR5``, ``nam-eur-asia1``) passes
    only when every member region is allowed. A location that cannot be worked out statically,
    or a region code the scanner does not know, is reported as unresolved.

Why it matters
    Residency obligations (GDPR transfer rules, contracts, sector regulation) attach to where data
    is stored. A bucket in ``us-east-1`` or a dataset left on the ``US`` default moves personal
    data out of the approved jurisdiction the moment it is written.

Example
    Failing::

        provider "aws" {
          alias  = "virginia"
          region = "us-east-1"
        }
        resource "aws_s3_bucket" "exports" {
          provider = aws.virginia
          bucket   = "customer-exports"
        }

    Fixed::

        resource "aws_s3_bucket" "exports" {
          region = "eu-central-1"   # AWS provider v6, or a provider configuration in the EU
          bucket = "customer-exports"
        }

How to fix
    Set the resource's location argument (AWS v6 ``region``, Google ``location``/``region``/``zone``,
    Azure ``location``) or its provider configuration to an allowed region, and give variables a
    value the scanner can read (a default or a tfvars file) so the location is known.

Controls
    NIST CSF 2.0 GV.OC-03, GV.PO-01, ID.AM-07; ISO/IEC 27001:2022 5.23, 5.31, 5.34; SOC 2 CC6.1, C1.1.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources as importlib_resources
from typing import Any

from checks.locate import judge, location_violations, outside_violation, store_product, suggestion, unresolved_violation
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, DataStoreFacts, Location, Severity, Unknown, Violation

#: The location arguments the generic wording already names ("Set location ...", "the region argument").
_PLAIN_ARGS = frozenset({"location", "region", "zone"})


def _location_args(facts: DataStoreFacts) -> tuple[str, ...]:
    """The catalog entry's own location arguments when they are not the cloud's usual ones, else ().

    A Communication Services resource is placed by ``data_location``, a B2C directory by
    ``data_residency_location``, a Firestore database by ``location_id``: telling the user to "set
    location" there names an argument the type does not have. Terraform syntax, so not for manifests.
    """
    if facts.resource.source == "kubernetes":
        return ()
    from checks.catalog.types import load_catalog  # lazy: start-up (rule ids are read to check a policy)

    spec = load_catalog().spec(facts.resource.type)
    if spec is None or spec.location.get("from") != "arg":
        return ()
    args = tuple(str(a) for a in spec.location.get("arg") or ())
    return args if set(args) - _PLAIN_ARGS else ()


def _geography_codes(facts: DataStoreFacts) -> tuple[str, ...]:
    """The geographies the bundled table (scanner/regions/data/locations.json) defines for the store's product.

    Read from the package data, in table order, because the region catalog only resolves a code it is
    given; an Azure geography product (``communication``, ``aadb2c``) takes these words, not regions.
    """
    product = store_product(facts)
    if facts.cloud != "azure" or not product:
        return ()
    return tuple(code for code, products in _location_table() if product in products)


@functools.cache
def _location_table() -> tuple[tuple[str, frozenset[str]], ...]:
    base = importlib_resources.files("scanner.regions").joinpath("data").joinpath("locations.json")
    data = json.loads(base.read_text(encoding="utf-8"))
    return tuple(
        (rec["code"], frozenset(rec.get("products", ())))
        for rec in data["locations"]
        if rec.get("cloud") == "azure"
    )


def _geography_example(facts: DataStoreFacts, ctx: RuleContext, codes: tuple[str, ...]) -> str:
    """The first geography of the product whose every member region the policy allows, else ''."""
    product = store_product(facts)
    for code in codes:
        loc = ctx.catalog.resolve(facts.cloud, code, product=product)
        if loc is not None and loc.members and not ctx.allowed.disallowed(loc):
            return code
    return ""


def _geography_remediation(
    facts: DataStoreFacts, ctx: RuleContext, args: tuple[str, ...], codes: tuple[str, ...]
) -> str:
    """Name the entry's own geography argument, with a geography wholly inside the policy as the example."""
    names = " / ".join(args)
    set_args = f"Set {names}{_whichever(args)} to a geography whose every region is allowed by the policy"
    allowed = ctx.allowed.describe()
    example = _geography_example(facts, ctx, codes)
    if not example:
        return (
            f"{set_args} ({allowed}); no value of {names} in the bundled geography table lies wholly inside it, "
            "so keep this data in another service or waive the finding with a reason and an expiry."
        )
    return f"{set_args} ({allowed}) (e.g. {example})."


def _whichever(args: tuple[str, ...]) -> str:
    return " (whichever the resource uses)" if len(args) > 1 else ""


def remediation(facts: DataStoreFacts, ctx: RuleContext) -> str:
    """How to move this resource: which argument to set, with an allowed region as an example."""
    args = _location_args(facts)
    codes = _geography_codes(facts) if args else ()
    if codes:
        return _geography_remediation(facts, ctx, args, codes)
    example = suggestion(ctx, facts.cloud)
    eg = f" (e.g. {example})" if example else ""
    native_kind = facts.resource.source == "kubernetes" and "kubernetes_type" not in facts.resource.extra
    if args:  # the entry's own location argument (never a manifest's)
        how = f"Set {' / '.join(args)}{_whichever(args)} to a region that"
    elif native_kind and facts.resource.type in ("StorageClass", "PersistentVolume"):
        field = ("parameters.location or allowedTopologies" if facts.resource.type == "StorageClass"
                 else "spec.nodeAffinity")
        how = (f"Set {field} to a region (or zones of one), or deploy to a cluster (kubernetes.clusters in "
               "the policy) in a region, that")
    elif facts.resource.source == "kubernetes":
        how = "Set the manifest's region/location field (spec.forProvider.region, spec.location) to a region that"
    elif facts.cloud == "aws":
        how = (
            "Set the resource's region argument (AWS provider v6) or use a provider configuration "
            "whose region"
        )
    elif facts.cloud == "azure":
        how = "Set location (on the resource or the parent it inherits from) to a region that"
    else:
        how = "Set the location/region/zone argument (or the parent it inherits from) to a location that"
    return (
        f"{how} is allowed by the policy ({ctx.allowed.describe()}){eg}; "
        "every member of a multi-region must be."
    )


def _unresolved_fix(facts: DataStoreFacts) -> str:
    """How to make the location readable; names the entry's own argument when it is not the usual one."""
    args = _location_args(facts)
    if not args:
        return ("Give the location a value the scanner can read statically (a literal, a variable default "
                "or a tfvars value, a provider region) that is an allowed region code.")
    kind = "a geography of the provider's list" if _geography_codes(facts) else "an allowed region code"
    return (f"Give {' / '.join(args)} a value the scanner can read statically (a literal, a variable default "
            f"or a tfvars value) that is {kind}.")


def check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield one violation when the primary location is outside the allowed set or unknown."""
    if facts.location is None:
        return
    subject = facts.resource.address
    yield from location_violations(
        facts.location, ctx, category=Category.PLACEMENT,
        subject=f"Data store {subject}",
        unresolved_subject=f"the location of {subject}",
        unresolved_fix=_unresolved_fix(facts),
        remediation=remediation(facts, ctx),
        product=store_product(facts),
    )


def check_provider(cloud: str, address: str, value: Any, source: str, ctx: RuleContext) -> list[Violation] | None:
    """RES001 at a provider configuration judged on its own (checkov's provider check, which alone sees it).

    Its region places every resource that sets none of its own. ``value`` is the region as written (None
    when unset). None: not judged here (a Google provider without a region: every google resource names
    its location, or is judged unresolved itself); an AWS one without a region is unresolved.
    """
    if value is None and cloud == "gcp":
        return None
    if value is None:
        value = Unknown(f"{source} sets no region; it would come from the environment (AWS_REGION, profile)")
    subject = f"Provider configuration {address} (the region of every resource that sets none)"
    if isinstance(value, str) and value:
        verdict = judge(Location(cloud, value, source), ctx)
    else:
        verdict = judge(Unknown(value.reason if isinstance(value, Unknown) else f"region is {value!r}"), ctx)
    if verdict.unresolved is not None:
        return [unresolved_violation(f"the region of {subject}", verdict.unresolved,
                                     "Give the provider's region a value checkov can read (a literal or a "
                                     "variable default), or map the directory in terraform.roots.")]
    if not verdict.allowed:
        fix = (f"Set the provider's region to one allowed by the policy ({ctx.allowed.describe()}), or give each "
               "resource it manages an allowed region of its own (AWS provider v6 region argument).")
        return [outside_violation(verdict, ctx, category=Category.PLACEMENT, subject=subject, remediation=fix)]
    return []


RULE = Rule(
    id="RES001",
    name="data-store-outside-allowed-regions",
    category=Category.PLACEMENT,
    severity=Severity.HIGH,
    summary="A data store is placed in a region (or multi-region) the policy does not allow.",
    check=check,
    roles=("data-store",),
    controls=(
        "NIST:GV.OC-03",
        "NIST:GV.PO-01",
        "NIST:ID.AM-07",
        "ISO27001:5.23",
        "ISO27001:5.31",
        "ISO27001:5.34",
        "SOC2:CC6.1",
        "SOC2:C1.1",
    ),
    doc=__doc__ or "",
    checkov_id="CKV_RES_1",
)
