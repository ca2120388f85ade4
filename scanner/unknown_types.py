"""Resource types the scanner cannot judge are named, never skipped silently.

Why: the catalog judges the types it has entries for; a type outside it used to vanish without a word, so a
typo (`aws_dynamgdb_table`) or a type newer than the scanner exited 0. Against the complete type list of each
provider (checks/provider_types/), a type is one of:
  - catalogued (or a deliberate `ignored:` entry): judged as before, nothing said here;
  - listed and classified as holding no data (network, IAM, ...): nothing to judge, nothing said;
  - listed, holding or copying data, but not catalogued yet: a note (its placement is not checked), unless
    it is a pipe whose destinations checks/flows.py reads (RES007 judges those);
  - listed but unclassified (prevented by tests/test_provider_types.py): a note;
  - not listed at all: a note with "did you mean" the nearest listed type.
One note per type and unit, not per instance. With the policy's `terraform.unknown_types: fail` each is an
`unresolved` problem (RES901) as well. This is an engine concern: loaders only report what they read, and
the type lists are data in checks/.

Kubernetes operator objects get the same treatment. A translated object (Crossplane/upbound, ACK, Config
Connector, ASO) carries its Terraform type and is judged as that type, the note naming its kind. An object of
an operator API group whose kind the loader does not translate is named too: for upbound (whose table is
derived from every kind of the providers) it is a kind no provider has, with "did you mean"; for ACK, Config
Connector and ASO (hand-listed tables) it is named unless the Terraform type its kind spells is listed as
holding no data (``VPC.ec2.services.k8s.aws`` -> aws_vpc, ``ComputeNetwork`` -> google_compute_network).
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


def _flow_types() -> frozenset[str]:
    from checks.flows import FLOW_TYPES  # lazy: start-up (checks loads only when a scan meets an uncatalogued type)

    return FLOW_TYPES


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
    if cls in HOLDS_DATA and resource_type in _flow_types():
        return None  # a pipe with a destination reader: RES007 judges where it sends data (checks/flows.py)
    if cls in HOLDS_DATA:
        return "uncatalogued", (
            f"{resource_type} holds or copies data ({cls}) but the catalog has no entry "
            "for it yet: its location, copies and encryption are not checked."
        )
    return None


#: Kinds of the operators' own configuration (not cloud resources) in their API groups.
OPERATOR_CONFIG_KINDS = frozenset(
    {
        "ProviderConfig", "ProviderConfigUsage", "ClusterProviderConfig", "ClusterProviderConfigUsage",
        "StoreConfig", "ClusterStoreConfig", "AdoptedResource", "FieldExport", "IAMRoleSelector",
        "ConfigConnector", "ConfigConnectorContext", "ServiceMappingConfig",
    }
)
_FAMILY_NAMES = {
    ".aws.upbound.io": "upbound", ".gcp.upbound.io": "upbound", ".azure.upbound.io": "upbound",
    ".services.k8s.aws": "ack", ".cnrm.cloud.google.com": "kcc", ".azure.com": "aso",
}
_SILENT = frozenset({"no-data", "access-grant"})


def _snake(name: str) -> str:
    from scanner.loaders.kubernetes import snake  # lazy: start-up (the Kubernetes loader)

    return snake(name)


def _kind_guesses(family: str, service: str, kind: str) -> list[str]:
    """Terraform types a kind's name spells (``VPC`` in ec2 -> aws_vpc / aws_ec2_vpc)."""
    base = _snake(kind)
    if family == "ack":
        return [f"aws_{service}_{base}", f"aws_{base}"]
    if family == "kcc":
        guesses = [f"google_{base}"]
        if kind.lower().startswith(service):
            guesses.append(f"google_{service}_{_snake(kind[len(service):])}")
        return guesses
    return [f"azurerm_{base}"]


def _kind_verdict(kind: str, group: str) -> tuple[str, str] | None:
    """(kind, message) for an operator object the loader did not translate, else None."""
    from scanner.loaders.kubernetes import (  # lazy: start-up (the Kubernetes loader)
        ACK_TYPES,
        ASO_TYPES,
        KCC_TYPES,
        UPBOUND_TYPES,
        _family,
    )

    suffix = _family(group)
    family = _FAMILY_NAMES.get(suffix)
    if family is None or kind in OPERATOR_CONFIG_KINDS:
        return None
    table = {"upbound": UPBOUND_TYPES, "ack": ACK_TYPES, "kcc": KCC_TYPES, "aso": ASO_TYPES}[family]
    if family == "upbound":  # the service part as the tables spell it: s3.aws.m.upbound.io -> s3.aws
        service = group.removesuffix(".upbound.io").replace(".m.", ".").removesuffix(".m")
    else:
        service = group.removesuffix(suffix)
    same = sorted(k for (s, k) in table if s == service)
    near = difflib.get_close_matches(kind, same, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]}.{group}?" if near else ""
    name = f"{kind}.{group}"
    if family == "upbound":
        return "unknown-kind", (
            f"{name} is not a kind of the Crossplane upjet providers the scanner knows{hint} It is not checked."
        )
    from checks.type_lists import listed_types, type_classes  # lazy: start-up (type lists load on demand)

    listed = [t for t in _kind_guesses(family, service, kind) if t in listed_types()]
    if listed and type_classes().get(listed[0]) in _SILENT:
        return None
    spelled = f" (its name spells {listed[0]}, a {type_classes().get(listed[0])} type)" if listed else ""
    return "untranslated-kind", (
        f"{name} is not translated by the scanner{spelled}{hint or '.'} Its location, copies and encryption "
        "are not checked."
    )


def _translated_verdict(r: Resource) -> tuple[str, str] | None:
    verdict = _verdict(r.type)
    if verdict is None:
        return None
    # every _verdict message opens with the type: name the kind first, the type it translates to after
    return verdict[0], f"{r.extra['kubernetes_type']} ({r.type}){verdict[1].removeprefix(r.type)}"


def _resource_verdict(r: Resource) -> tuple[str, str] | None:
    if "terraform_type" in r.extra:
        return None  # azapi types are the azapi translator's concern
    if r.source != "kubernetes":
        return _verdict(r.type)
    if "kubernetes_type" in r.extra:
        return _translated_verdict(r)
    kind, api = r.extra.get("kind"), r.extra.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str) or "/" not in api:
        return None
    return _kind_verdict(kind, api.rsplit("/", 1)[0])


def find(resources: list[Resource], mode: str) -> UnknownTypes:
    """Notes (and, when ``mode`` is ``fail``, unresolved problems) for resources of types not judged."""
    out = UnknownTypes()
    verdicts: dict[str, tuple[str, str] | None] = {}
    seen: set[tuple[str, str]] = set()
    for r in resources:
        key_type = f"{r.type}|{r.extra.get('kubernetes_type', '')}" if r.source == "kubernetes" else r.type
        if key_type not in verdicts:
            verdicts[key_type] = _resource_verdict(r)
        verdict = verdicts[key_type]
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
