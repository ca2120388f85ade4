"""The data-store catalog: which resources hold user data (or the keys protecting it), where.

``classify`` turns loaded :class:`Resource` objects into policy-free :class:`DataStoreFacts`:
primary location with provenance, every copy elsewhere (replicas, geo pairs, backups, sinks),
encryption at rest as a level, and the customer keys involved. Per-type knowledge is data
(``datastores.yaml``, loaded once); the logic that is not declarative lives in small handlers
named from that file, so a reviewer can see every type's behaviour in one place and a test can
assert that every handler named exists.

Nothing here judges policy: an unknown region code is passed on as written and the rules ask
the region catalog about it, so an unknown code becomes ``unresolved`` there, never a pass.

One module per handler kind, each importing only the ones above it (tests/test_layers.py):
``types`` (the entries of ``datastores.yaml``), ``index`` (the :class:`Scan` every handler reads,
value helpers), ``locations``, ``encryption`` (and keys), ``copies``, ``attachments``; ``classify``
here runs them in that order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from checks.catalog.attachments import ATTACH_HANDLERS
from checks.catalog.copies import COPY_HANDLERS
from checks.catalog.encryption import ENCRYPTION_HANDLERS, _ensure_encryption
from checks.catalog.index import Scan
from checks.catalog.locations import LOCATION_HANDLERS, _resolve_location
from checks.catalog.schema import CatalogError, check_handlers
from checks.catalog.types import (
    CLOUDS,
    FILE,
    LEVELS,
    ROLES,
    StoreCatalog,
    TypeSpec,
    catalog_text,
    load_catalog,
    parse_catalog,
)
from checks.values import get_path
from scanner.model import DataStoreFacts, Resource


def _tags(r: Resource, cloud: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cloud == "aws" and r.provider is not None and isinstance(r.provider.default_tags, dict):
        out.update(r.provider.default_tags)
    own = r.attributes.get("labels" if cloud == "gcp" else "tags")
    if isinstance(own, dict):
        out.update(own)  # resource tags win over provider default_tags, as in the AWS provider
    return out


def classify(
    resources: Sequence[Resource], catalog: Any = None, stores: StoreCatalog | None = None
) -> list[DataStoreFacts]:
    """Facts for every data store and key among ``resources``; other types are ignored.

    ``catalog`` is the region catalog (``scanner.regions.catalog()``): only Azure region pairs
    are read from it here, everything else is judged later by the rules. Attachments (an SSE
    configuration, a replication configuration) are folded into the resource they modify; an
    attachment whose target is not in the scan is reported as itself, so nothing is lost.
    """
    stores = stores or load_catalog()
    scan = Scan(resources, catalog, stores, _resolve_location)
    ordered: list[DataStoreFacts] = []
    for r in scan.resources:
        spec = stores.spec(r.type)
        if spec is None or spec.role == "attachment":
            continue
        f = DataStoreFacts(
            resource=r,
            cloud=spec.cloud,
            holds_user_data=spec.role == "data-store",
            role=spec.role,
            location=scan.location_of(r.address),
            tags=_tags(r, spec.cloud),
        )
        scan.facts[r.address] = f
        ordered.append(f)
    for f in ordered:
        _ensure_encryption(f.resource, f, scan)
    for r in scan.resources:
        spec = stores.spec(r.type)
        if spec is None or spec.role != "attachment" or not spec.attach or not spec.attach.get("via"):
            continue
        target = None
        for via in spec.attach["via"]:
            value = get_path(r.attributes, via)
            target = scan.find(value, spec.attach.get("targets") or {})
            if target is not None:
                break
        handler = ATTACH_HANDLERS[spec.attach["handler"]]
        if target is not None and target.address in scan.facts:
            handler(r, scan.facts[target.address], scan, spec.attach)
            continue
        # orphan: keep what it says (a copy, a key) on a facts object of its own
        f = DataStoreFacts(
            resource=r,
            cloud=spec.cloud,
            holds_user_data=True,
            location=scan.location_of(r.address),
            tags=_tags(r, spec.cloud),
        )
        f.notes.append(
            f"the resource it configures ({', '.join(spec.attach['via'])}) is not in the scanned "
            "configuration"
        )
        handler(r, f, scan, spec.attach)
        scan.facts[r.address] = f
        ordered.append(f)
    for f in list(ordered):
        spec = stores.spec(f.resource.type)
        if spec is None or spec.role == "attachment":
            continue
        for copy_spec in spec.copies:
            COPY_HANDLERS[copy_spec["handler"]](f.resource, f, scan, copy_spec)
    return ordered


#: The handler names each part of an entry may use (``schema.check_handlers``).
HANDLER_TABLES: dict[str, Collection[str]] = {
    "location": LOCATION_HANDLERS,
    "encryption": ENCRYPTION_HANDLERS,
    "copies": COPY_HANDLERS,
    "attach": ATTACH_HANDLERS,
}


def check_catalog(stores: StoreCatalog, text: str = "", file: str = FILE) -> None:
    """Every handler the catalog names exists: :class:`CatalogError` (FILE:LINE, the entry) otherwise."""
    check_handlers(stores.types, file, text, HANDLER_TABLES)


# at import: a catalog naming a handler that does not exist fails here, not when a resource of that type is scanned
check_catalog(load_catalog(), catalog_text())

__all__ = [
    "ATTACH_HANDLERS",
    "CLOUDS",
    "COPY_HANDLERS",
    "ENCRYPTION_HANDLERS",
    "HANDLER_TABLES",
    "LEVELS",
    "LOCATION_HANDLERS",
    "ROLES",
    "CatalogError",
    "StoreCatalog",
    "TypeSpec",
    "check_catalog",
    "classify",
    "load_catalog",
    "parse_catalog",
]
