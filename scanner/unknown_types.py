"""Resource types the scanner cannot judge are named, never skipped silently.

Why: the catalog judges the types it has entries for; a type outside it used to vanish without a word, so a
typo (`aws_dynamgdb_table`) or a type newer than the scanner exited 0. Against the complete type list of each
provider (checks/provider_types/), a type is one of:
  - catalogued (or a deliberate `ignored:` entry): judged as before, nothing said here;
  - listed and classified as holding no data (network, IAM, ...): nothing to judge, nothing said;
  - listed, holding or copying data, but not catalogued yet: a note (its placement is not checked);
  - listed but unclassified (prevented by tests/test_provider_types.py): a note;
  - not listed at all: a note with "did you mean" the nearest listed type.
One note per type and unit, not per instance. With the policy's `terraform.unknown_types: fail` each is an
`unresolved` problem (RES901) as well. This is an engine concern: loaders only report what they read, and
the type lists are data in checks/.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from checks.catalog import load_catalog
from checks.type_lists import listed_types, provider_list, type_classes
from scanner.model import Category, Note, Problem, Resource

PREFIXES = {"aws_": "aws", "google_": "google", "azurerm_": "azurerm"}
HOLDS_DATA = frozenset({"data-store", "copy-maker"})


@dataclass
class UnknownTypes:
    """What a scan could not judge: notes, problems (under `fail`) and the number of resources concerned."""

    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    resources: int = 0


def _provider(resource_type: str) -> str | None:
    return next((p for prefix, p in PREFIXES.items() if resource_type.startswith(prefix)), None)


def suggestion(resource_type: str) -> str | None:
    """The nearest listed type of the same provider, or None."""
    provider = _provider(resource_type)
    if provider is None:
        return None
    candidates = [t for t in listed_types() if t.startswith(provider + "_")]
    close = difflib.get_close_matches(resource_type, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


def _verdict(resource_type: str) -> tuple[str, str] | None:
    """(kind, message) for a type that is not judged, else None."""
    stores = load_catalog()
    if stores.spec(resource_type) is not None or resource_type in stores.ignored:
        return None
    provider = _provider(resource_type)
    if provider is None:
        return None
    meta = provider_list(provider)
    version = f"hashicorp/{provider} {meta['version']}"
    if resource_type not in listed_types():
        near = suggestion(resource_type)
        hint = f"; did you mean {near}?" if near else " (a typo, or a type newer than the scanner's list)"
        return "unknown", f"{resource_type} is not a resource type of {version}{hint} It is not checked."
    cls = type_classes().get(resource_type)
    if cls is None:
        return "unclassified", f"{resource_type} ({version}) is not classified yet: it is not checked."
    if cls in HOLDS_DATA:
        return "uncatalogued", (
            f"{resource_type} holds or copies data ({cls}) but the catalog has no entry "
            "for it yet: its location, copies and encryption are not checked."
        )
    return None


def find(resources: list[Resource], mode: str) -> UnknownTypes:
    """Notes (and, when ``mode`` is ``fail``, unresolved problems) for resources of types not judged."""
    out = UnknownTypes()
    verdicts: dict[str, tuple[str, str] | None] = {}
    seen: set[tuple[str, str]] = set()
    for r in resources:
        if r.source == "kubernetes" or "terraform_type" in r.extra:
            continue  # translated kinds and azapi types are the translators' concern
        if r.type not in verdicts:
            verdicts[r.type] = _verdict(r.type)
        verdict = verdicts[r.type]
        if verdict is None:
            continue
        out.resources += 1
        key = (r.root_dir or r.file, r.type)
        if key in seen:
            continue
        seen.add(key)
        out.notes.append(Note(r.file, verdict[1], r.address))
        if mode == "fail":
            out.problems.append(
                Problem(
                    Category.UNRESOLVED,
                    r.file,
                    r.line,
                    verdict[1],
                    "Fix the type name, or waive this finding until the scanner knows the type "
                    "(terraform.unknown_types: note reports it without failing).",
                    resource=r.address,
                    resource_type=r.type,
                )
            )
    return out
