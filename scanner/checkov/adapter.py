"""checkov's view of a resource -> our model -> the same catalog and rules -> one verdict.

Nothing here imports checkov: the check classes in ``terraform.py`` / ``kubernetes.py`` hand this
module plain dicts and turn the :class:`Outcome` into a ``CheckResult``, so the translation and the
judging are tested without checkov installed. No rule logic lives here: facts come from
``checks.catalog.classify`` / ``checks.kubernetes`` (through ``scanner.engine.classify``); exemptions,
enabled rules, options, stamping (severity, blocking, ``unresolved: warn``) and waivers from the
engine's one judging path ``scanner.engine.judge``; the provider block's RES001 from
``checks.rules.placement.check_provider``. What is left here is translation and checkov's verdict.

What checkov cannot show a resource check
    checkov hands a check one resource's arguments; the provider configuration and the other
    resources are not in view. Two kinds of unknown therefore mean "out of checkov's view", not
    "unresolved", and produce no result (``UNKNOWN``) instead of a failure:

    * the provider's region: a resource without a location of its own is given the provider region
      :data:`PROVIDER_REGION`; the provider check (``CKV_RES_1`` on ``provider`` blocks) judges it;
    * a join to another resource (an encryption configuration's bucket, a key resource, a parent
      account): the catalog words every failed join "... is not in the scanned configuration".

    A variable checkov could not resolve stays unresolved and fails, as in the native scanner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from checks.catalog import load_catalog
from checks.flows import FLOW_TYPES
from checks.grant_sources import GRANT_TYPES
from checks.rules import RULES, RuleContext
from checks.rules.placement import RULE as PLACEMENT
from checks.rules.placement import check_provider
from scanner.checkov.policy_bundle import SCAN_ROOT
from scanner.engine import ScanOptions, classify, enabled, judge, policy_rel
from scanner.model import DESTINATION_SETTINGS, Category, Finding, ProviderContext, Ref, Resource, Unknown

#: Phrase carried by every unknown that stands for the provider configuration checkov does not show.
PROVIDER_MARK = "the provider configuration is not shown to checkov resource checks"
PROVIDER_REGION = Unknown(f"{PROVIDER_MARK}; the provider check CKV_RES_1 judges its region")
#: How a failed join to another resource or object is worded, by the catalog (``checks/catalog/``) and the
#: Kubernetes loader (an ACK object's region from its Namespace's annotation, an ASO owner): checkov shows a
#: check one resource, so every such join fails there. A test pins each phrase to the source that writes it.
JOIN_MARKS = {
    "not in the scanned configuration": "checks/catalog/index.py",
    "has no location": "checks/catalog/locations.py",  # a parent's location, when the catalog loses the reason
    "ACK controller default region is not in the manifests": "scanner/loaders/kubernetes.py",
    "which is not in the scan": "scanner/loaders/kubernetes.py",
    "is not in this scan": "checks/movement.py",  # a flow's destination: a store or resource checkov does not show
}
JOIN_MARK = "not in the scanned configuration"
OUT_OF_VIEW_MARKS = (PROVIDER_MARK, *JOIN_MARKS)

#: Provider local names whose ``region`` places the resources that set none of their own.
REGION_PROVIDERS = {"aws": "aws", "google": "gcp", "google-beta": "gcp"}


def _destination_mark(arg: str, what: str) -> Unknown:
    return Unknown(f"{PROVIDER_MARK}; its {arg} ({what}) is judged only by the native scan")


#: The providers whose argument decides where a resource sends data (RES007; scanner.model DESTINATION_SETTINGS)
#: and which no checkov provider check judges: their resources get no result in checkov rather than the
#: provider's default, which would fail a configuration that sets ``region = "EU"`` (newrelic) or ``api_url``
#: (datadog) in the provider block checkov does not show. A ``region`` so marked stands for the provider's
#: region; any other argument for that entry of its settings.
FLOW_REGION_PROVIDERS = {name: _destination_mark(arg, what)
                         for name, (arg, what) in DESTINATION_SETTINGS.items() if arg == "region"}
FLOW_SETTING_PROVIDERS = {name: {arg: _destination_mark(arg, what)}
                          for name, (arg, what) in DESTINATION_SETTINGS.items() if arg != "region"}

#: Data sources the native Terraform loader computes without the cloud (scanner/loaders/terraform.py
#: ``_DataValue``) whose values name principals: a policy built by data "aws_iam_policy_document" /
#: "google_iam_policy", and data "aws_elb_service_account" (the Region's Elastic Load Balancing log-delivery
#: account, from the data source's own ``region`` or the provider's, neither shown to a resource check).
#: checkov leaves each as a bare reference, so a RES006 finding that only says so is out of view (no result),
#: never a failure of a grant the native scan places.
OFFLINE_DATA_SOURCES = ("aws_iam_policy_document", "google_iam_policy", "aws_elb_service_account")

RESULT_PASSED, RESULT_FAILED, RESULT_UNKNOWN = "PASSED", "FAILED", "UNKNOWN"


@dataclass
class Outcome:
    """One check's verdict on one entity: a ``CheckResult`` name and the lines checkov shows as details."""

    result: str
    details: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


# --------------------------------------------------------------------------- Terraform values

_INTERPOLATION = re.compile(r"\$\{")
# How checkov leaves a reference it could not render: ``var.x``, ``local.x``, ``data.t.n.a``, ``module.m.o``.
_SYMBOL = re.compile(r"^(?:var|local|data|module|each|count|path|terraform|self)\.[\w.\[\]\"'*-]+$")
# A computed attribute of another resource: ``aws_kms_key.eu.arn``, ``aws_s3_bucket.b[0].id``.
_RESOURCE_ATTR = re.compile(
    r"^(?P<address>(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*[a-z][a-z0-9]*_[a-z0-9_]+\.[\w-]+(?:\[[^\]]*\])?)"
    r"\.(?P<attr>[\w.\[\]\"'*-]+)$"
)
_CALL = re.compile(r"^[a-z_][\w]*\(.*\)$", re.S)
_MAP_ARGS = frozenset({"tags", "tags_all", "labels", "default_tags", "parameters", "annotations", "user_labels"})


# The caller's identity as checkov leaves it inside a string
# (``arn:aws:iam::data.aws_caller_identity.c.account_id:root``), spelt as the native loader spells the
# symbolic self (scanner.loaders.policy_docs.SELF_MARKS) so RES006 reads both alike.
_SELF_REFERENCE = re.compile(r"data\.(aws_caller_identity|azurerm_client_config|google_project|google_client_config)"
                             r"\.[\w-]+\.(account_id|tenant_id|subscription_id|object_id|number|project_id|project)\b")
_SELF_MARKS = {("aws_caller_identity", "account_id"): "${self:aws}",
               ("azurerm_client_config", "tenant_id"): "${self:azure}",
               ("azurerm_client_config", "subscription_id"): "${self:azure:subscription}",
               ("azurerm_client_config", "object_id"): "${self:azure:object}",
               ("google_project", "number"): "${self:gcp:number}", ("google_project", "project_id"): "${self:gcp}",
               ("google_client_config", "project"): "${self:gcp}"}


@dataclass(frozen=True)
class Spelt(Unknown):
    """A string checkov could not render whole: unknown, but spelt (``text``) as the native loader spells
    its ``Partial`` values: ``serviceAccount:${google_service_account.x.email}``, and the deploying identity
    as ``${self:aws}``, so RES006 reads both modes alike."""

    text: str = ""


class _NotSpelt(Exception):
    pass


_EMBEDDED = re.compile(r"\$\{([^{}]*)\}")


def _self_mark(m: re.Match[str]) -> str:
    return _SELF_MARKS.get((m.group(1), m.group(2)), m.group(0))


def _spelt(text: str) -> Spelt | None:
    """``text`` with interpolated resource attributes kept as ``${ref}`` and the caller identity as its mark;
    None when it interpolates anything else (a variable, a local: plain unknown, as natively)."""

    def part(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        own = _SELF_REFERENCE.fullmatch(inner)
        if own and (own.group(1), own.group(2)) in _SELF_MARKS:
            return _SELF_MARKS[(own.group(1), own.group(2))]
        if _RESOURCE_ATTR.match(inner) and not _SYMBOL.match(inner):
            return "${" + inner + "}"
        raise _NotSpelt

    try:
        spelt = _EMBEDDED.sub(part, text)
    except _NotSpelt:
        return None
    spelt = _SELF_REFERENCE.sub(_self_mark, spelt)  # checkov also renders ``${data.x.y.a}`` as bare ``data.x.y.a``
    if spelt == text and not _EMBEDDED.search(text):
        return None  # nothing interpolated, no identity named: an ordinary string
    return Spelt(f"{text} has no value checkov could resolve (known only after apply)", spelt)


def terraform_value(value: Any) -> Any:
    """One checkov value in our conventions: unresolved expressions become :class:`Unknown` or :class:`Ref`."""
    if isinstance(value, str):
        text = value.strip()
        if ("${" in text or "data." in text) and (spelt := _spelt(text)) is not None:
            return spelt
        match = _RESOURCE_ATTR.match(text)
        if match and not _SYMBOL.match(text):
            return Ref(match.group("address"), match.group("attr"))
        if _SYMBOL.match(text) or _INTERPOLATION.search(text) or _CALL.match(text):
            return Unknown(f"{text} has no value checkov could resolve (a variable without a default or tfvars "
                           "value, a local, a data source or a module output)")
        return value
    if isinstance(value, list):
        return [terraform_value(v) for v in value]
    if isinstance(value, dict):
        return {k: terraform_value(v) for k, v in value.items() if not _dunder(k)}
    return value


def _dunder(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("__") and key.endswith("__")


def _is_block(value: Any) -> bool:
    """checkov wraps every argument of a block in a list; a map's values are not wrapped."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, list) for k, v in value.items() if not _dunder(k)
    )


def unwrap_terraform(conf: Mapping[str, Any]) -> dict[str, Any]:
    """checkov's ``conf`` (every argument a one-element list) -> attributes as the native loader gives them.

    Nested blocks become lists of dicts (a block written once too), map arguments dicts, single
    values bare; ``__address__`` and the other dunder keys are dropped.
    """
    out: dict[str, Any] = {}
    for key, raw in conf.items():
        if _dunder(key):
            continue
        out[key] = _argument(key, raw)
    return out


def _argument(key: str, raw: Any) -> Any:
    if not isinstance(raw, list):
        return terraform_value(raw)
    if raw and all(isinstance(v, dict) for v in raw) and key not in _MAP_ARGS and (
        len(raw) > 1 or _is_block(raw[0])
    ):
        return [unwrap_terraform(block) for block in raw]
    if len(raw) == 1:
        return terraform_value(raw[0])
    return terraform_value(raw)


def terraform_resource(conf: Mapping[str, Any], resource_type: str, file: str) -> Resource:
    """A Terraform resource as checkov shows it; the provider's region is :data:`PROVIDER_REGION`."""
    attributes = unwrap_terraform(conf)
    address = str(conf.get("__address__") or f"{resource_type}.unnamed")
    provider_address = str(conf.get("__provider_address__") or "")
    name, _, alias = provider_address.partition(".")
    own = resource_type.split("_", 1)[0]
    name = name or own
    if name != own and own in DESTINATION_SETTINGS:
        # checkov gives a resource without a ``provider`` argument another provider's address (a datadog
        # resource next to provider "aws" shows ``aws.default``); these providers' resources are theirs alone.
        name, alias = own, ""
    region = PROVIDER_REGION if name in REGION_PROVIDERS else FLOW_REGION_PROVIDERS.get(name)
    provider = ProviderContext(
        name=name,
        alias=None if alias in ("", "default") else alias,
        region=region,
        zone=region,
        source=f"provider {provider_address or name}",
        settings=dict(FLOW_SETTING_PROVIDERS.get(name, {})),
    )
    rel = clean_path(file)
    return Resource(
        type=resource_type,
        address=address,
        file=rel,
        line=int(conf.get("__start_line__") or 1),
        end_line=int(conf.get("__end_line__") or 0) or None,
        attributes=attributes,
        source="terraform",
        provider=provider,
        module_dir=_dirname(rel),
        root_dir=_dirname(rel),
    )


def clean_path(file: str) -> str:
    """checkov's file path (``/main.tf`` relative to the scanned directory) as a relative ``/`` path."""
    path = file.replace("\\", "/")
    while path.startswith(("./", "/")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path


def _dirname(path: str) -> str:
    head, _, _ = path.rpartition("/")
    return head or "."


# --------------------------------------------------------------------------- Kubernetes manifests

LoadKubernetes = Callable[..., Any]


def strip_lines(value: Any) -> Any:
    """checkov's manifest without its ``__startline__`` / ``__endline__`` keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in ("__startline__", "__endline__")}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def unwrap_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """checkov's manifest as written: no line keys, and ``metadata.annotations`` a mapping again
    (checkov turns it into a list of mappings to read its own ``checkov.io/skip`` annotations)."""
    out = strip_lines(manifest)
    meta = out.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), list):
        merged: dict[str, Any] = {}
        for item in meta["annotations"]:
            if isinstance(item, dict):
                merged.update(item)
        meta["annotations"] = merged
    return out


def kubernetes_resources(manifest: Mapping[str, Any], file: str, policy: Any,
                         load_kubernetes: LoadKubernetes) -> list[Resource]:
    """One manifest as the native Kubernetes loader reads it (translation of operator kinds included).

    ``load_kubernetes`` is the native loader's public entry point, handed in by the bootstrap: this
    package never imports a loader. The manifest goes through it as JSON text (JSON is YAML), so the
    translation is the loader's own; lines are checkov's.
    """
    rel = clean_path(file)
    line = int(manifest.get("__startline__") or 1)
    data = json.dumps(unwrap_manifest(manifest), default=str).encode("utf-8")

    def cluster_region(path: str) -> tuple[str | None, str | None, str] | None:
        cluster = policy.cluster_for(policy_rel(policy, SCAN_ROOT, path))
        if cluster is None:
            return None
        return cluster.region, cluster.cloud, f"policy kubernetes.clusters ({policy.path.name}:{cluster.line})"

    loaded = load_kubernetes([(rel, data)], cluster_region=cluster_region)
    out = []
    for resource in loaded.resources:
        resource.line = line
        resource.end_line = int(manifest.get("__endline__") or 0) or None
        out.append(resource)
    return out


# --------------------------------------------------------------------------- judging


def out_of_view(finding: Finding, resource: Resource | None = None) -> bool:
    """An unresolved finding that only says checkov cannot see the provider or another resource."""
    if finding.category is not Category.UNRESOLVED:
        return False
    if any(m in finding.message for m in OUT_OF_VIEW_MARKS):
        return True
    # checkov shows a data source the native loader evaluates offline only as a reference
    if finding.rule_id == "RES006" and "has no value checkov could resolve" in finding.message and any(
            f"data.{dtype}." in finding.message for dtype in OFFLINE_DATA_SOURCES):
        return True
    # A PersistentVolume that names a StorageClass is encrypted as that class says; checkov shows the
    # class to another check, so the volume's encryption is out of view here.
    return (resource is not None and resource.type == "PersistentVolume" and finding.rule_id in ("RES003", "RES004")
            and bool(_spec(resource).get("storageClassName")))


def _spec(resource: Resource) -> dict[str, Any]:
    spec = resource.attributes.get("spec")
    return spec if isinstance(spec, dict) else {}


_CACHE_SIZE = 64


def _key(resource: Resource) -> tuple[str, str, int, str]:
    """Same entity, same verdicts: the five checks of one entity share one classification."""
    return (resource.file, resource.address, resource.line, repr(resource.attributes))


class Judge:
    """The policy, loaded once per checkov process, applied to one entity for one rule at a time.

    Judging is the engine's :func:`scanner.engine.judge` (exemptions, enabled rules and their options,
    severity overrides, blocking, the policy's waivers matched relative to the policy file); this class
    only turns its findings into checkov's verdict.
    """

    def __init__(self, policy: Any, today: date | None = None) -> None:
        self.policy = policy
        self.today = today or date.today()
        self.options = ScanOptions(paths=[], today=self.today)
        self._cache: dict[tuple[str, str, int, str], dict[str, list[Finding]] | None] = {}
        self._notes: dict[tuple[tuple[str, str, int, str], str], list[str]] = {}

    def outcome(self, rule_id: str, resources: Iterable[Resource]) -> Outcome:
        """The verdict of ``rule_id`` on the resources one checkov entity stands for."""
        if not enabled(self.policy, rule_id):
            return Outcome(RESULT_UNKNOWN, [f"{rule_id} is switched off in the policy"])
        applies = False
        failed: list[str] = []
        passed: list[str] = []
        for resource in resources:
            key = _key(resource)
            if key not in self._cache:
                if len(self._cache) >= _CACHE_SIZE:  # checkov runs every check on one entity, then moves on
                    self._cache.clear()
                    self._notes.clear()
                self._cache[key] = self._judge(resource)
            by_rule = self._cache[key]
            if by_rule is None or rule_id not in by_rule:
                continue
            found = by_rule[rule_id]
            visible = [f for f in found if not out_of_view(f, resource)]
            if found and not visible:
                continue  # what the rule needs is outside checkov's view of this resource
            applies = True
            passed.extend(self._notes.get((key, rule_id), ()))
            _sort(visible, failed, passed)
        if failed:
            return Outcome(RESULT_FAILED, failed + passed)
        if not applies:
            return Outcome(RESULT_UNKNOWN)
        return Outcome(RESULT_PASSED, passed)

    def _judge(self, resource: Resource) -> dict[str, list[Finding]] | None:
        """Findings per rule that judged the resource, or None when it is no data store, key or workload."""
        facts = classify([resource], self.policy)
        if not facts:
            return None
        judged = judge(facts, self.policy, self.options, SCAN_ROOT, policy_waivers=False)
        out: dict[str, list[Finding]] = {rule_id: [] for rule_id in judged.judged | judged.exempt.keys()}
        for finding in judged.findings:
            if finding.rule_id in out:
                out[finding.rule_id].append(finding)
        key = _key(resource)
        for rule_id, why in judged.exempt.items():
            self._notes[(key, rule_id)] = [f"exempted by policy ({e})" for e in why]
        return out

    # ----------------------------------------------------------------- provider blocks
    def provider_outcome(self, name: str, conf: Mapping[str, Any], file: str) -> Outcome:
        """RES001 for a ``provider "aws"`` / ``provider "google"`` block: its region places every resource
        that sets none of its own, and checkov shows that region nowhere else."""
        cloud = REGION_PROVIDERS.get(name)
        if cloud is None or not enabled(self.policy, PLACEMENT.id):
            return Outcome(RESULT_UNKNOWN)
        rel = clean_path(file)
        address = str(conf.get("__address__") or name).replace(".default", "")
        line = int(conf.get("__start_line__") or 1)
        value = _argument("region", conf["region"]) if "region" in conf else None
        source = f"provider {address} ({rel}:{line})"
        directory = policy_rel(self.policy, SCAN_ROOT, _dirname(rel))
        root = self.policy.root_for(directory)
        if value is None and root is not None and root.region:
            value, source = root.region, f"policy terraform.roots ({self.policy.path.name}:{root.line})"
        ctx = RuleContext(policy=self.policy, allowed=self.policy.allowed_for(directory), catalog=self.policy.catalog)
        violations = check_provider(cloud, address, value, source, ctx)
        if violations is None:
            return Outcome(RESULT_UNKNOWN)
        fake = Resource(type=f"provider.{name}", address=f"provider.{address}", file=rel, line=line, attributes={})
        judged = judge([], self.policy, self.options, SCAN_ROOT, raised=[(PLACEMENT, v, fake) for v in violations],
                       policy_waivers=False)
        findings = [f for _, f in judged.raised]
        failed: list[str] = []
        passed: list[str] = []
        _sort(findings, failed, passed)
        return Outcome(RESULT_FAILED if failed else RESULT_PASSED, failed + passed, findings)


def _sort(findings: Iterable[Finding], failed: list[str], passed: list[str]) -> None:
    """checkov's detail lines: a waived or non-blocking finding is reported under a pass."""
    for finding in findings:
        text = f"{finding.rule_id} {finding.category.value}: {finding.message}"
        if finding.waiver is not None:
            until = f", expires {finding.waiver.expires}" if finding.waiver.expires else ""
            passed.append(f"waived by {finding.waiver.source} ({finding.waiver.reason}{until}): {text}")
        elif not finding.blocking:
            passed.append(f"reported, not blocking: {text}")
        else:
            failed.append(text)


# --------------------------------------------------------------------------- identity


def checkov_id(rule: Any) -> str:
    """``CKV_RES_<n>`` for ``RES00<n>``: the rule's own ``checkov_id`` where it carries one."""
    return rule.checkov_id or f"CKV_RES_{int(rule.id.removeprefix('RES'))}"


def check_name(rule: Any) -> str:
    """The one-line name checkov prints: the rule's summary, tagged with its residency id."""
    return f"{rule.summary.rstrip('.')} (residency {rule.id} {rule.name})"


def guideline(rule: Any) -> str:
    return f"Run `residency explain {rule.id}` (docs/rules.md#{rule.id.lower()}) for what it checks and how to fix it"


def terraform_rules() -> list[Any]:
    """Rules that judge Terraform data stores and keys (RES001-RES004), grants (RES006) and pipes (RES007)."""
    return [r for r in RULES.values() if set(r.roles) & {"data-store", "key", "grant", "flow"}]


def rule_types(rule: Any) -> list[str]:
    """The resource types a rule's checkov check runs on: the grant sources for RES006, the pipes the flow
    readers know for RES007 (a Firehose stream, a Pub/Sub subscription), else the catalog's."""
    if "grant" in rule.roles:
        return sorted(GRANT_TYPES)
    if "flow" in rule.roles:
        return sorted(FLOW_TYPES)
    return terraform_types()


def kubernetes_rules() -> list[Any]:
    """Rules that judge Kubernetes objects: the Terraform ones (operators, volumes, pipes) plus workloads."""
    return [r for r in RULES.values() if set(r.roles) & {"data-store", "key", "workload", "flow"}]


def terraform_types() -> list[str]:
    """Every resource type the data-store catalog knows (attachments too: alone, they are judged as themselves)."""
    return sorted(load_catalog().types)
