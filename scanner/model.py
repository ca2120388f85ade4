"""The normalised model every stage shares.

Loaders turn syntax into :class:`Resource` objects; the data-store catalog in ``checks/`` turns a
resource into :class:`DataStoreFacts`; rules turn facts into :class:`Violation` objects; the engine
stamps them into :class:`Finding` objects. Nothing here knows a parser's shapes: values are plain
Python (str, int, float, bool, None, list, dict) plus :class:`Unknown` and :class:`Ref`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """What kind of problem a finding is; stable strings in every output format."""

    PLACEMENT = "placement"
    REPLICATION = "replication"
    ENCRYPTION = "encryption"
    MOVEMENT = "movement"
    ACCESS = "access"
    UNRESOLVED = "unresolved"
    PARSE = "parse"
    WAIVER = "waiver"


class Severity(StrEnum):
    """Ordered severities; ``--fail-on`` compares with :meth:`rank`."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse, so ``a.rank >= threshold.rank`` means "at least as bad"."""
        return _SEVERITY_RANK[self.value]


_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class Encryption(StrEnum):
    """Encryption at rest as a level, so a policy minimum is a simple comparison."""

    NONE = "none"
    PROVIDER = "provider-managed"
    CUSTOMER = "customer-managed"

    @property
    def rank(self) -> int:
        return {"none": 0, "provider-managed": 1, "customer-managed": 2}[self.value]


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be determined statically, with the reason a human can act on.

    Unknown propagates through expressions; a rule that meets one where it needs a fact
    yields an ``unresolved`` violation carrying ``reason``. Never treat it as a pass.
    """

    reason: str

    def __bool__(self) -> bool:  # an Unknown must never pass an ``if`` silently as truthy data
        return False


@dataclass(frozen=True)
class AtLeast(Unknown):
    """An encryption level known only from below: at least ``floor``, maybe higher.

    A key argument whose value exists only after apply (``kms_master_key_id = module.kms.key_arn``
    with the module not on disk) can only raise the level the store's other settings already prove
    (SQS-managed SSE by default, ``storage_encrypted = true``, S3 Vectors' always-on SSE): the key
    selects *which* key encrypts, never whether. A policy minimum at or below ``floor`` is met;
    a higher one is still unresolved, because it is still an :class:`Unknown`.
    """

    floor: Encryption = Encryption.NONE

    def meets(self, minimum: Encryption) -> bool:
        return self.floor.rank >= minimum.rank


@dataclass(frozen=True)
class Ref:
    """A reference to another resource's computed attribute (``aws_s3_bucket.dst.arn``).

    The evaluator returns this where the value only exists after apply (ids, ARNs), so the
    catalog can still join the two resources (a replication destination, an encryption
    configuration's bucket) by ``address``.
    """

    address: str
    attribute: str = ""

    def __str__(self) -> str:
        return f"{self.address}.{self.attribute}" if self.attribute else self.address


#: ``Location.code`` for "any region the provider picks" (Secret Manager ``replication.auto``): the
#: catalog writes it, the judging side (``checks.locate``) expands it to every region of the cloud.
ANY_REGION = "*"


@dataclass(frozen=True)
class Location:
    """A location code as written (normalised) plus why the scanner believes it.

    ``code`` is a region (``eu-west-1``), a zone (``europe-west1-b``), a multi- or dual-region
    (``EU``, ``EUR4``, ``nam-eur-asia1``) or an Azure name (``westeurope``); the region catalog
    expands it to member regions. ``source`` is the provenance sentence used in messages, e.g.
    ``provider aws.virginia (main.tf:6)`` or ``argument location (main.tf:12)``.
    """

    cloud: str
    code: str
    source: str = ""


#: Providers whose own argument, not a cloud region, decides where their resources send data (RES007,
#: checks/flows.py): the argument, and what its value names. ``provider "datadog"`` ``api_url`` is the site
#: (not set: US1); ``provider "newrelic"`` ``region`` the data center (optional, not set: US). The loaders
#: read these providers' arguments; the checkov adapter, shown no provider block, marks the argument out of view.
DESTINATION_SETTINGS: dict[str, tuple[str, str]] = {
    "datadog": ("api_url", "the Datadog site the data goes to"),
    "newrelic": ("region", "where the data goes"),
}


@dataclass(frozen=True)
class ProviderContext:
    """What a Terraform resource inherits from the provider configuration that manages it.

    ``region``/``zone`` are a str, an :class:`Unknown` (region from the environment), or None
    (the provider has no such argument, e.g. azurerm). ``source`` is the provenance, e.g.
    ``provider aws.virginia (main.tf:6)``. ``settings`` are the block's other top-level arguments as
    evaluated (``api_url`` of ``provider "datadog"``): some providers' settings, not a region, decide
    where their resources send data (:data:`DESTINATION_SETTINGS`), and only a rule knows how to read it.
    """

    name: str  # provider local name: aws, google, azurerm
    alias: str | None = None
    region: str | Unknown | None = None
    zone: str | Unknown | None = None
    source: str = ""
    default_tags: dict[str, Any] | Unknown | None = None  # AWS provider default_tags.tags
    settings: dict[str, Any] = field(default_factory=dict)  # other top-level arguments, evaluated

    @property
    def address(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass
class Resource:
    """One resource instance, as loaded: Terraform (HCL or plan) or a Kubernetes object.

    ``attributes`` are the evaluated arguments: nested blocks are lists of dicts (a repeated
    block keeps its order), maps are dicts, unresolved values are :class:`Unknown`, computed
    attributes of other resources are :class:`Ref`. ``file`` is relative to the scan root.
    For Kubernetes objects ``attributes`` is the whole manifest and ``type`` is ``Kind[.group]``;
    cloud resources declared through Crossplane/ACK/KCC/ASO are translated by the loader to
    the Terraform type they mean (``aws_s3_bucket``) with snake_case attributes, so the one
    catalog serves both.
    """

    type: str
    address: str
    file: str
    line: int
    attributes: dict[str, Any]
    source: str = "terraform"  # terraform | plan | kubernetes
    provider: ProviderContext | None = None
    module_dir: str | None = None  # Terraform: directory of the module that declares it
    root_dir: str | None = None  # Terraform: root module directory (scopes match this)
    location_hint: Location | Unknown | None = None  # a loader-known location (k8s cluster, ACK annotation)
    end_line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # loader-specific facts (k8s kind, namespace)

    @property
    def declared_type(self) -> str:
        """The type as the user wrote it: a translated operator manifest or azapi_resource keeps its own."""
        return self.extra.get("kubernetes_type") or self.extra.get("terraform_type") or self.type


@dataclass(frozen=True)
class Copy:
    """A place a data store copies its data to: a replica, backup copy, paired region, sink."""

    kind: str  # replica | backup | geo-pair | sink | snapshot | key-replica | ...
    location: Location | Unknown
    via: str  # the argument path that makes the copy, e.g. ``replica[1].region_name``
    line: int | None = None
    note: str = ""
    file: str | None = None  # where the copy is declared when not in the data store's own file


@dataclass(frozen=True)
class KeyUse:
    """A customer-managed key that protects a data store; its own location matters too."""

    reference: str
    location: Location | Unknown | None
    via: str


@dataclass
class DataStoreFacts:
    """What the catalog reads out of a resource, in policy-free terms.

    ``location`` is None when the type has no location of its own (not applicable),
    ``encryption`` is None when encryption does not apply (a KMS key ring).
    """

    resource: Resource
    cloud: str
    holds_user_data: bool
    location: Location | Unknown | None
    role: str = "data-store"  # data-store | key | workload: which rules apply (Rule.roles)
    copies: list[Copy] = field(default_factory=list)
    encryption: Encryption | Unknown | None = None
    encryption_source: str = ""
    # How to reach each level on this type, e.g. {"provider-managed": "storage_encrypted = true"}: the
    # catalog knows the argument names, the encryption rule only words the remediation.
    encryption_fix: dict[str, str] = field(default_factory=dict)
    keys: list[KeyUse] = field(default_factory=list)
    tags: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Violation:
    """What a rule yields: the engine stamps rule id, severity, file and resource onto it."""

    category: Category
    message: str
    remediation: str
    region: str | None = None
    jurisdiction: str | None = None
    country: str | None = None
    provenance: str = ""
    line: int | None = None  # defaults to the resource's line
    file: str | None = None  # defaults to the resource's file (a copy declared elsewhere points there)
    # the resource the finding is about when it is not the fact's own: RES006 reports the store a grant
    # opens (file and line stay the grant's statement)
    subject: Resource | None = field(default=None, compare=False)
    # a rule grading one finding off its default (RES006: a write-only log delivery grant is below a read);
    # the policy's rules: <id>: severity still wins
    severity: Severity | None = None


@dataclass(frozen=True)
class Waiver:
    """An exemption that applied to a finding: where it came from and until when."""

    reason: str
    expires: str | None
    approver: str | None
    source: str  # "inline main.tf:4" | "policy residency.yaml:31" | "baseline"


@dataclass(frozen=True)
class Finding:
    """One reportable problem. Always carries file and line; ``fingerprint`` ignores the line."""

    rule_id: str
    rule_name: str
    category: Category
    severity: Severity
    resource: str
    resource_type: str
    file: str
    line: int
    message: str
    remediation: str
    region: str | None = None
    jurisdiction: str | None = None
    country: str | None = None
    provenance: str = ""
    blocking: bool = True
    waiver: Waiver | None = None
    controls: tuple[str, ...] = ()
    baseline: str | None = None  # "known" when matched by a baseline entry
    # Other places the finding is about: a plan finding shown at its .tf block keeps the plan entry here.
    related: tuple[tuple[str, int], ...] = ()
    # The (file, address) of the resource the finding is about, for waiver lookup; not part of any output.
    origin: tuple[str, str] | None = field(default=None, compare=False, repr=False)

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    @property
    def fingerprint(self) -> str:
        """Stable across line moves: rule, resource and file only."""
        import hashlib

        key = f"{self.rule_id}\x1f{self.resource}\x1f{self.file}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Note:
    """Something worth telling that is not a finding (a skipped Helm template, an exemption)."""

    file: str
    message: str
    resource: str | None = None


@dataclass
class LoadResult:
    """What a loader returns for its inputs: resources, and problems that become findings.

    ``problems`` are engine-level findings already shaped as (rule_id, Violation, file, line,
    resource address) tuples; the engine stamps them like rule output. Loaders never decide
    policy: a parse error is reported, never judged.
    """

    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files: int = 0


@dataclass(frozen=True)
class Problem:
    """A loader-side problem: a file that does not parse, a module source that cannot be read."""

    category: Category  # PARSE or UNRESOLVED
    file: str
    line: int
    message: str
    remediation: str
    resource: str = ""  # address when it concerns one (a module call), else empty
    resource_type: str = ""
    # a registry/git module call that is not on disk (no `terraform init`): its source as written, which the
    # policy's terraform.no_data_modules / registry_modules judge
    module_source: str = ""


@dataclass(frozen=True)
class RuleInfo:
    """What a reporter may say about a rule (SARIF descriptors, help): copied from the registry by the engine."""

    id: str
    name: str
    category: Category
    summary: str = ""
    doc: str = ""
    controls: tuple[str, ...] = ()


@dataclass
class Report:
    """The result of one scan, as every format sees it."""

    findings: list[Finding]
    notes: list[Note] = field(default_factory=list)
    files: int = 0
    resources: int = 0
    unknown_types: int = 0  # resources of a type the scanner cannot judge (scanner/unknown_types.py)
    data_stores: list[DataStoreFacts] = field(default_factory=list)  # facts, when kept (inventory)
    data_store_count: int | None = None  # how many data stores, when the facts are not kept (cached, merged)
    # the grant facts (role "grant": resource policies, IAM members, role assignments), when kept: the
    # inventory shows them as who can reach each store
    grants: list[Any] = field(default_factory=list)
    # the pipe facts (role "flow": delivery streams, subscriptions, exporters), when kept: the inventory
    # draws them as edges from the store or workload they read to their destination
    flows: list[Any] = field(default_factory=list)
    scan_root: str = "."
    policy_path: str | None = None
    fixed: list[dict[str, str]] = field(default_factory=list)  # baseline entries no longer found
    tool_version: str = ""
    category: str = "residency-guardrail"  # names this kind of scan (SARIF automationDetails, code scanning)
    shard: tuple[int, int] | None = None  # (I, N) of --shard I/N
    policy_digest: str = ""  # content digest of the policy: shards to merge must share it
    # Descriptors of the rules that fired (the engine attaches them), so reporters never import checks.
    rules: dict[str, RuleInfo] = field(default_factory=dict)

    @property
    def store_count(self) -> int:
        """Data stores scanned: the count when known, else the facts held."""
        return self.data_store_count if self.data_store_count is not None else len(self.data_stores)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]
