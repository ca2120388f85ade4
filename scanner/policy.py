"""Load and validate ``residency.yaml`` into an immutable :class:`Policy`.

The policy is parsed once, validated completely, and frozen: rules and the engine only ever see
the result, never YAML. Every problem is reported as ``FILE:LINE: problem`` (lines come from the
YAML node marks, so a typo deep inside a waiver points at its own line), all problems of a file
at once, and never as a traceback. A policy that does not validate is a usage error (exit 2): a
scanner that silently ignored a misspelt key would pass things the author meant to forbid.

Schema, version 1
=================

``version`` (required)
    Always ``1``. Lets later versions change meaning without silently misreading old files.

``allowed_regions`` (required, non-empty list)
    Where data may live, for every path not covered by a more specific scope. Each entry is one of

    * ``in:<group>``: a region group from the catalog, e.g. ``in:eu-locations``,
      ``in:eea-locations``, ``in:us-locations`` (``residency regions`` lists them);
    * ``country:<CC>``: every region in that country, ISO 3166-1 alpha-2 (``country:DE``;
      the United Kingdom is ``country:GB``);
    * ``<cloud>:<code>``: one region or multi-/dual-region of one cloud, ``aws:eu-west-1``,
      ``gcp:europe-west4``, ``gcp:EU``, ``azure:westeurope`` (clouds: ``aws``, ``gcp``, ``azure``);
    * ``<code>``: a bare code, which matches that code in every cloud that has it.

    Zones are not accepted: name their region. Allowing a multi- or dual-region code (``gcp:EU``)
    allows that location and the regions it stores data in. A multi- or dual-region resource is
    allowed only when every member region is allowed (or its code itself is listed).

``scopes`` (optional list)
    Per-path overrides: ``{paths: [glob, ...], allowed_regions: [...]}``. For a path, the scope
    whose matching glob is longest (most specific) wins; ties go to the scope listed first; paths
    no scope matches use the top-level ``allowed_regions``.

``encryption`` (optional mapping)
    ``{minimum: none | provider-managed | customer-managed}``; default ``provider-managed``.

``unresolved`` (optional)
    ``fail`` (default) or ``warn``: whether a location the scanner cannot determine statically
    blocks. Unknown is never a pass; ``warn`` only makes it non-blocking.

``exclude`` (optional list of globs)
    Paths not scanned. ``**/.git/**``, ``**/.terraform/**`` and ``**/node_modules/**`` are always
    added.

``rules`` (optional mapping)
    Per rule id: ``{enabled: true|false, severity: critical|high|medium|low|info}``, e.g.
    ``{RES001: {enabled: false}, RES003: {severity: low}}``.

``regions`` (optional list)
    Extends the region catalog with regions it does not know yet (a region launched after this
    release): ``{cloud, code, country, name?}`` with ``country`` an ISO 3166-1 alpha-2 code. Its
    jurisdiction and groups follow from the country, and the new code is valid everywhere in the
    policy and in scans.

``exempt`` (optional mapping)
    ``{tags: {key: [values]}, labels: {key: [values]}}``: a resource carrying one of these is not
    checked (the engine reports a note instead). ``tags`` are AWS tags (including the provider's
    ``default_tags``) and Azure tags; ``labels`` are GCP labels and Kubernetes labels. A single
    string is accepted for a one-value list. Values compare exactly, as strings.

``waivers`` (optional list)
    ``{rule, resource, reason, expires?, approver?, paths?}``. ``resource`` is an address
    (``aws_s3_bucket.legacy`` also covers its instances ``aws_s3_bucket.legacy[0]``) or a glob
    where ``*`` and ``?`` are the only wildcards (``aws_s3_bucket.legacy*``); ``reason`` is
    required; ``expires`` is a date ``YYYY-MM-DD`` after which the waiver waives nothing; ``paths``
    limits the waiver to files matching these globs, relative to the policy file's directory (like
    ``exclude`` and ``scopes``).

``terraform`` (optional mapping)
    ``{roots: [{paths: [...], region: <code>, var_files: [...]}]}``: for root modules whose provider
    takes its region from the environment (``AWS_REGION``), the region it is deployed to, and the
    ``.tfvars`` files (relative to the root) that a deployment uses. Longest matching glob wins.
    ``unknown_types: note | fail`` (default ``note``): a resource type that no provider list knows (a typo,
    or a type newer than the lists), or a listed data-holding type the catalog does not judge yet, is named
    in a note with a "did you mean"; with ``fail`` each is also an ``unresolved`` finding. The ``terraform``
    block is the one place for such Terraform-wide settings: add new keys to ``_TERRAFORM_KEYS``.
    ``registry_modules: fail | warn`` (default ``fail``): a registry or git module call that is not on disk (no
    ``terraform init``) is one RES901 finding per call; ``warn`` shows it without blocking (pre-commit, where
    nobody ran init). ``no_data_modules: [source, ...]``: registry sources (``terraform-aws-modules/vpc/aws``,
    also covering its ``//modules/x``) the policy declares hold no data store: a missing call of one is a note,
    not a finding. Either way a data store that reads an unknown value from the missing module (a key ARN, a
    region) stays unresolved: only the module call itself is relaxed, never the stores around it.

``kubernetes`` (optional mapping)
    ``{clusters: [{paths: [...], region: <code>, cloud: aws|gcp|azure}], require_placement: bool}``:
    which cluster (so which region) manifests under these paths are applied to. With
    ``require_placement: true`` a workload under no cluster mapping is unresolved.

``access`` (optional mapping)
    ``{allowed: [...], unresolved: fail|warn}``: where principals that can reach a data store may
    sit (RES006). ``allowed`` takes the ``allowed_regions`` vocabulary and defaults to the path's
    ``allowed_regions``; ``unresolved`` (default: the top-level ``unresolved:``) says whether a
    principal the policy does not place blocks. A policy with neither ``access:`` nor
    ``principals:`` places no principal, so its unplaced principals are shown without blocking.

``principals`` (optional mapping)
    Who sits where, per cloud; each value is a location in the ``allowed_regions`` vocabulary
    (one entry or a list). A principal is inside ``access.allowed`` when everywhere its location
    covers is allowed (the subset test used for regions). Ids are strings: quote numeric ones.

    * ``aws``: ``self`` (account id ``data.aws_caller_identity`` resolves to), ``accounts``,
      ``organizations`` (``o-...``, matched through ``aws:PrincipalOrgID``),
      ``organizational_units`` (``ou-...``, matched through ``aws:PrincipalOrgPaths``), ``federated``
      (identity providers a role trusts: an OIDC provider host such as ``token.actions.githubusercontent.com``,
      a SAML provider name);
    * ``gcp``: ``self`` (project id), ``projects`` (service-account emails name their project),
      ``domains`` (``user:``/``group:``/``domain:`` members);
    * ``azure``: ``self`` (tenant id), ``tenants``, ``subscriptions``, ``objects`` (principal ids);
    * ``kubernetes``: ``groups``, ``users``.

    ``terraform.roots[].self`` (``{aws, gcp, azure}``) overrides ``self`` for roots deploying
    into another account, project or tenant.

``movement`` (optional mapping)
    ``{allowed: [...], unresolved: fail|warn}`` like ``access``, for where data may be sent (RES007).
    ``unresolved`` written here wins over the top-level ``unresolved`` for RES007's findings.

``endpoints`` (optional list)
    ``{host, location}``: where a destination host is. ``host`` is exact or ``*.`` followed by a
    domain (any subdomain, not the domain itself); an exact entry wins over globs, a longer glob
    over a shorter one, and policy entries over the bundled host table.

A section whose rule this release does not have is validated and accepted, with a note in the
report saying it is not judged yet.

Globs
=====
Paths are relative to the directory holding the policy file, with ``/`` separators. ``**`` matches
any number of directories (including none), ``*`` and ``?`` match within one path segment,
``[abc]`` is a character class. A pattern is anchored at the policy directory: ``*.tf`` matches
only top-level files, ``**/*.tf`` matches them everywhere. ``dir/**`` matches ``dir`` itself and
everything below it, and a trailing ``/`` means the same.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from scanner.errors import ResidencyError
from scanner.limits import yaml_nesting_error
from scanner.model import Encryption, Severity
from scanner.principals import (
    Endpoint,
    FlowPolicy,
    Principals,
    read_endpoints,
    read_flow,
    read_principals,
    read_self_ids,
)
from scanner.regions import Catalog, Region, ResolvedLocation, catalog

__all__ = [
    "STARTER_POLICY",
    "AllowedSet",
    "Cluster",
    "Policy",
    "PolicyError",
    "PolicyWaiver",
    "RuleSetting",
    "Scope",
    "TerraformRoot",
    "find_policy",
    "glob_match",
    "load_policy",
    "policy_from_regions",
]

CLOUDS = ("aws", "gcp", "azure")
POLICY_NAMES = ("residency.yaml", ".residency.yaml")
DEFAULT_EXCLUDE = ("**/.git/**", "**/.terraform/**", "**/node_modules/**")
DEFAULT_ENCRYPTION = Encryption.PROVIDER
UNRESOLVED_MODES = ("fail", "warn")

# Spellings people reach for that mean one of our clouds: say which one instead of "unknown".
_CLOUD_ALIASES = {"google": "gcp", "gcloud": "gcp", "gce": "gcp", "azurerm": "azure", "amazon": "aws"}
# Country spellings that are not ISO 3166-1 alpha-2 but are commonly written.
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


# --------------------------------------------------------------------------- globs


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob to a regex; ``**`` crosses directories, ``*`` does not.

    Written by hand because ``fnmatch`` lets ``*`` cross ``/`` and ``PurePath.full_match`` is
    Python 3.13+.
    """
    pattern = pattern.replace("\\", "/")
    if pattern.endswith("/"):
        pattern += "**"
    segs = [s for s in pattern.split("/") if s not in ("", ".")]
    collapsed: list[str] = []
    for seg in segs:  # "**/**" is just "**"
        if not (seg == "**" and collapsed and collapsed[-1] == "**"):
            collapsed.append(seg)
    out: list[str] = []
    last = len(collapsed) - 1
    for i, seg in enumerate(collapsed):
        if seg == "**":
            if i == 0:
                out.append(".*" if i == last else "(?:[^/]+/)*")
            else:
                out.append("(?:/.*)?" if i == last else "(?:/[^/]+)*/")
            continue
        if i > 0 and collapsed[i - 1] != "**":
            out.append("/")
        out.append(_segment_regex(seg))
    return re.compile("".join(out))


def _segment_regex(seg: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in seg[i + 2 :]:
            end = seg.index("]", i + 2)
            body = seg[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\").replace("^", "\\^")
            out.append(f"[{'^/' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _norm_path(rel_path: str) -> str:
    p = rel_path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.strip("/")
    return "" if p == "." else p


def glob_match(pattern: str, rel_path: str) -> bool:
    """Whether ``rel_path`` (relative, ``/``-separated) matches ``pattern`` (see module docs)."""
    return _glob_regex(pattern).fullmatch(_norm_path(rel_path)) is not None


def _longest_match(patterns: Iterable[str], rel_path: str) -> int:
    """Length of the longest pattern matching ``rel_path``, -1 when none does."""
    best = -1
    for pattern in patterns:
        if len(pattern) > best and glob_match(pattern, rel_path):
            best = len(pattern)
    return best


@lru_cache(maxsize=1024)
def _address_regex(pattern: str) -> re.Pattern[str]:
    # Addresses contain [ ] and quotes, so only * and ? are wildcards here.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body)


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class AllowedSet:
    """The set of places data may live, compiled from policy entries against the catalog.

    ``entries`` keep the text as written so messages quote the policy back to its author.
    Membership is precomputed as ``(cloud, code)`` keys of regions, plus the groups and
    countries named, so a region added by ``regions:`` (which the extended catalog puts in its
    groups) is judged like a built-in one.
    """

    entries: tuple[str, ...]
    regions: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False)
    locations: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False)
    groups: frozenset[str] = field(default=frozenset(), repr=False)
    countries: frozenset[str] = field(default=frozenset(), repr=False)

    def allows(self, region: Region) -> bool:
        """Whether data may live in this one region."""
        if (region.cloud, region.code) in self.regions:
            return True
        if self.countries and (region.country or "").upper() in self.countries:
            return True
        return bool(self.groups and _group_names(region.groups) & self.groups)

    def disallowed(self, loc: ResolvedLocation) -> tuple[Region, ...]:
        """Members of ``loc`` that are not allowed; empty means allowed.

        A multi- or dual-region stores data in every member, so it is allowed only when every
        member is, unless its code itself was allowed. A location with no known members cannot
        be shown to be allowed, so it comes back as one placeholder region (fail closed).
        """
        if (loc.cloud, loc.code) in self.locations:
            return ()
        if not loc.members:
            return (_placeholder_region(loc),)
        return tuple(m for m in loc.members if not self.allows(m))

    def describe(self) -> str:
        """The entries as written: ``in:eu-locations, aws:eu-west-1``."""
        return ", ".join(self.entries)


def _group_names(groups: Iterable[str]) -> set[str]:
    """A region's groups under both spellings, ``in:eu-locations`` and ``eu-locations``."""
    out: set[str] = set()
    for g in groups:
        out.add(g)
        out.add(g[3:] if g.startswith("in:") else f"in:{g}")
    return out


def _placeholder_region(loc: ResolvedLocation) -> Region:
    return Region(
        cloud=loc.cloud, code=loc.code, name=loc.code, country="", jurisdiction="unknown",
        display_name=f"{loc.code} (member regions unknown)", pair=None, groups=frozenset(),
    )


@dataclass(frozen=True)
class Scope:
    """Allowed regions for the paths matching ``paths``."""

    paths: tuple[str, ...]
    allowed: AllowedSet
    line: int = 0


@dataclass(frozen=True)
class PolicyWaiver:
    """A waiver written in the policy file; the engine decides validity (expiry) and applies it."""

    rule: str
    resource: str
    reason: str
    expires: date | None
    approver: str | None
    paths: tuple[str, ...]
    line: int

    def matches(self, rule_id: str, address: str, rel_path: str) -> bool:
        """Whether this waiver covers ``rule_id`` on ``address`` in file ``rel_path``.

        A plain address also covers its instances (``x.y`` covers ``x.y[0]``), the way
        Terraform treats an address without an index; expiry is not checked here.
        """
        if rule_id != self.rule:
            return False
        if self.paths and not any(glob_match(p, rel_path) for p in self.paths):
            return False
        if address == self.resource or address.startswith(self.resource + "["):
            return True
        return _address_regex(self.resource).fullmatch(address) is not None


@dataclass(frozen=True)
class TerraformRoot:
    """Deployment facts for root modules the code alone does not tell (env-configured region)."""

    paths: tuple[str, ...]
    region: str | None
    var_files: tuple[str, ...]
    line: int = 0
    self_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Cluster:
    """The cluster (hence region) that manifests under ``paths`` are applied to."""

    paths: tuple[str, ...]
    region: str
    cloud: str | None
    line: int = 0


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class RuleSetting:
    """Per-rule switch and severity override; the default changes nothing."""

    enabled: bool = True
    severity: Severity | None = None
    # ``rules.<id>.options``, validated against the rule's option fields when the registry is known.
    options: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated policy. Immutable: mappings are read-only views, sequences are tuples.

    Compared and hashed by identity (``eq=False``): the read-only mappings are unhashable, and
    callers key caches and contexts by the policy object.
    """

    path: Path | None
    base_dir: Path
    allowed: AllowedSet
    scopes: tuple[Scope, ...] = ()
    encryption_minimum: Encryption = DEFAULT_ENCRYPTION
    unresolved: str = "fail"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    rules: Mapping[str, RuleSetting] = field(default_factory=_empty)
    exempt_tags: Mapping[str, frozenset[str]] = field(default_factory=_empty)
    exempt_labels: Mapping[str, frozenset[str]] = field(default_factory=_empty)
    waivers: tuple[PolicyWaiver, ...] = ()
    terraform_roots: tuple[TerraformRoot, ...] = ()
    unknown_types: str = "note"
    registry_modules: str = "fail"
    no_data_modules: tuple[str, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    require_placement: bool = False
    access: FlowPolicy = field(default_factory=FlowPolicy)
    movement: FlowPolicy = field(default_factory=FlowPolicy)
    principals: Principals = field(default_factory=Principals)
    endpoints: tuple[Endpoint, ...] = ()
    notes: tuple[tuple[int, str], ...] = ()
    catalog: Catalog = field(default_factory=catalog, compare=False, repr=False)

    def allowed_for(self, rel_path: str) -> AllowedSet:
        """The allowed set for a file or directory: the most specific matching scope, else top level."""
        best, best_len = self.allowed, -1
        for scope in self.scopes:
            n = _longest_match(scope.paths, rel_path)
            if n > best_len:
                best, best_len = scope.allowed, n
        return best

    def access_allowed_for(self, rel_path: str) -> AllowedSet:
        """Where principals that reach a store may sit: ``access.allowed``, else the path's regions."""
        allowed = self.access.allowed
        return allowed if isinstance(allowed, AllowedSet) else self.allowed_for(rel_path)

    def movement_allowed_for(self, rel_path: str) -> AllowedSet:
        """Where data may be sent: ``movement.allowed``, else the path's regions."""
        allowed = self.movement.allowed
        return allowed if isinstance(allowed, AllowedSet) else self.allowed_for(rel_path)

    def self_id(self, cloud: str, rel_dir: str) -> str | None:
        """The account/project/tenant a root deploys into: its ``terraform.roots`` ``self``, else
        ``principals.<cloud>.self``; None when the policy does not say."""
        root = self.root_for(rel_dir)
        if root is not None and cloud in root.self_ids:
            return root.self_ids[cloud]
        return self.principals.self_id(cloud)

    def root_for(self, rel_dir: str) -> TerraformRoot | None:
        """The ``terraform.roots`` entry for a root module directory, most specific glob first."""
        return _most_specific(self.terraform_roots, rel_dir)

    def cluster_for(self, rel_path: str) -> Cluster | None:
        """The ``kubernetes.clusters`` entry for a manifest, most specific glob first."""
        return _most_specific(self.clusters, rel_path)

    def exemption(self, tags: Mapping[str, Any], labels: Mapping[str, Any]) -> str | None:
        """Why a resource is exempt (``tag data-classification=public``), or None.

        Only known string-like values count: an Unknown tag value never exempts (fail closed).
        """
        for kind, wanted, have in (("tag", self.exempt_tags, tags), ("label", self.exempt_labels, labels)):
            if not have or not wanted:
                continue
            for key in sorted(wanted):
                value = _tag_text(have.get(key)) if key in have else None
                if value is not None and value in wanted[key]:
                    return f"{kind} {key}={value}"
        return None

    def data_free_module(self, source: str) -> str | None:
        """The ``terraform.no_data_modules`` entry that names this module source, if any.

        Registry addresses compare case-insensitively without the ``registry.terraform.io/`` host, and an
        entry covers the module's subdirectories (``terraform-aws-modules/vpc/aws//modules/vpc-endpoints``),
        as Terraform reads one package for them; a git source compares as written, before any ``//`` or ``?``.
        """
        def base(s: str) -> str:
            s = s.strip().lower().removeprefix("registry.terraform.io/")
            scheme, sep, rest = s.rpartition("://")
            rest = rest.split("?", 1)[0].split("//", 1)[0]
            return (scheme + sep + rest).rstrip("/")

        wanted = base(source)
        return next((e for e in self.no_data_modules if base(e) == wanted), None)

    def is_excluded(self, rel_path: str) -> bool:
        """Whether a path is excluded from scanning (defaults included)."""
        return any(glob_match(p, rel_path) for p in self.exclude)

    def rule_setting(self, rule_id: str) -> RuleSetting:
        """The ``rules:`` entry for a rule, or the default (enabled, rule's own severity)."""
        return self.rules.get(rule_id, RuleSetting())


def _tag_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _most_specific(items: Iterable[Any], rel_path: str) -> Any:
    best, best_len = None, -1
    for item in items:
        n = _longest_match(item.paths, rel_path)
        if n > best_len:
            best, best_len = item, n
    return best


# --------------------------------------------------------------------------- errors


class PolicyError(ResidencyError):
    """A policy that does not validate; ``problems`` holds each ``FILE:LINE: problem`` line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _suggest(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


_TAG_NAMES = {
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _TAG_NAMES.get(node.tag, "a scalar")


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


# --------------------------------------------------------------------------- reading


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TOP_KEYS = (
    "version", "allowed_regions", "scopes", "encryption", "unresolved", "exclude", "rules",
    "regions", "exempt", "waivers", "terraform", "kubernetes", "access", "movement", "principals",
    "endpoints",
)
# Sections read by a rule that may not be in this release: accepted with a note, never rejected.
_SECTION_RULES = {"access": ("RES006",), "principals": ("RES006", "RES007"), "movement": ("RES007",),
                  "endpoints": ("RES007",)}
_SCOPE_KEYS = ("paths", "allowed_regions")
_REQUIRED_HINTS = {
    "version": " (add 'version: 1')",
    "reason": ": every waiver needs a reason saying why the exception is acceptable",
    "allowed_regions": ": list at least one region or group, e.g. [in:eu-locations]",
}
_ENCRYPTION_KEYS = ("minimum",)
_RULE_KEYS = ("enabled", "severity", "options")
_REGION_KEYS = ("cloud", "code", "country", "name")
_EXEMPT_KEYS = ("tags", "labels")
_WAIVER_KEYS = ("rule", "resource", "reason", "expires", "approver", "paths")
_TERRAFORM_KEYS = ("roots", "unknown_types", "registry_modules", "no_data_modules")
UNKNOWN_TYPE_MODES = ("note", "fail")
REGISTRY_MODULE_MODES = ("fail", "warn")
_ROOT_KEYS = ("paths", "region", "var_files", "self")
_KUBERNETES_KEYS = ("clusters", "require_placement")
_CLUSTER_KEYS = ("paths", "region", "cloud")


class _Reader:
    """Validates composed YAML nodes, collecting every problem with its line."""

    def __init__(self, label: str, cat: Catalog) -> None:
        self.label = label
        self.cat = cat
        self.problems: list[tuple[int, str]] = []

    # -- reporting
    def error(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        self.problems.append((line, message))

    def raise_if_any(self) -> None:
        if self.problems:
            seen: list[str] = []
            for line, msg in sorted(self.problems, key=lambda p: p[0]):
                text = f"{self.label}:{line}: {msg}" if line else f"{self.label}: {msg}"
                if text not in seen:
                    seen.append(text)
            raise PolicyError(seen)

    # -- shapes
    def pairs(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """Key/value nodes of a mapping, rejecting non-string and duplicate keys."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where}: expected a mapping, got {_kind(node)}")
            return None
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        first: dict[str, int] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or knode.value == "":
                self.error(knode, f"{where}: keys must be plain strings")
                continue
            name = knode.value
            if name in first:
                self.error(knode, f"duplicate key '{name}' in {where} (first given on line {first[name]})")
                continue
            first[name] = knode.start_mark.line + 1
            out.append((name, knode, vnode))
        return out

    def mapping(
        self, node: yaml.Node, where: str, keys: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node] | None:
        """A mapping restricted to ``keys``; null values count as absent."""
        pairs = self.pairs(node, where)
        if pairs is None:
            return None
        out: dict[str, yaml.Node] = {}
        for name, knode, vnode in pairs:
            if name not in keys:
                hint = _suggest(name, keys) or f" (valid keys: {', '.join(keys)})"
                self.error(knode, f"unknown key '{name}' in {where}{hint}")
                continue
            if not _is_null(vnode):
                out[name] = vnode
            elif name in required:
                dotted = name if where == "the top level" else f"{where}.{name}"
                self.error(knode, f"{dotted} is empty{_REQUIRED_HINTS.get(name, ': it needs a value')}")
        given = {name for name, _, _ in pairs}
        for name in required:
            if name not in given:
                self.error(node, f"missing required key '{name}' in {where}{_REQUIRED_HINTS.get(name, '')}")
        return out

    def seq(self, node: yaml.Node, where: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{where}: expected a list, got {_kind(node)}")
            return None
        return list(node.value)

    def text(self, node: yaml.Node, where: str, *, required: bool = False) -> str | None:
        """A scalar as the text written, so ``01`` or ``yes`` stay what the author typed."""
        if not isinstance(node, yaml.ScalarNode) or _is_null(node):
            self.error(node, f"{where}: expected a string, got {_kind(node)}")
            return None
        value = node.value.strip()
        if required and not value:
            self.error(node, f"{where}: must not be empty")
            return None
        return value

    def strings(self, node: yaml.Node, where: str) -> tuple[str, ...]:
        items = self.seq(node, where)
        if items is None:
            return ()
        out = [self.text(item, f"{where} entry", required=True) for item in items]
        return tuple(s for s in out if s)

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return bool(yaml.SafeLoader.bool_values.get(node.value.lower(), False))
        self.error(node, f"{where}: expected true or false, got {_kind(node)} '{_show(node)}'")
        return None

    def choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(node, where)
        if value is None:
            return None
        if value not in choices:
            self.error(
                node, f"{where}: '{value}' is not one of {', '.join(choices)}{_suggest(value, choices)}"
            )
            return None
        return value

    def when(self, node: yaml.Node, where: str) -> date | None:
        if isinstance(node, yaml.ScalarNode) and node.tag in (
            "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:str"
        ):
            raw = node.value.strip()
            try:
                if len(raw) == 10:
                    return date.fromisoformat(raw)
                return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
            except ValueError:
                pass
        self.error(node, f"{where}: '{_show(node)}' is not a valid date; write YYYY-MM-DD, e.g. 2026-12-31")
        return None

    # -- policy parts
    def compile(self, entries: list[tuple[str, yaml.Node]], where: str) -> AllowedSet | None:
        """Entries in the ``allowed_regions`` vocabulary, each problem reported at its own node."""
        return compile_allowed(entries, self.cat, lambda n, m: self.error(n, f"{where}: {m}"))

    def allowed(self, node: yaml.Node, where: str) -> AllowedSet | None:
        if isinstance(node, yaml.ScalarNode) and not _is_null(node):  # the commonest slip: no brackets
            self.error(node, f"{where}: expected a list, got a string; write [{node.value}]")
            return None
        items = self.seq(node, where)
        if items is None:
            return None
        if not items:
            self.error(node, f"{where} is empty: list at least one region or group, e.g. [in:eu-locations]")
            return None
        entries: list[tuple[str, yaml.Node | None]] = []
        for item in items:
            value = self.text(item, f"{where} entry", required=True)
            if value:
                entries.append((value, item))
        return compile_allowed(entries, self.cat, lambda n, m: self.error(n, f"{where}: {m}"))

    def region_code(self, node: yaml.Node, where: str, cloud: str | None) -> str | None:
        code = self.text(node, where, required=True)
        if code is None:
            return None
        if cloud is not None:
            found = [loc for loc in [self.cat.resolve(cloud, code)] if loc is not None]
        else:
            found = list(self.cat.resolve_any(code))
        if not found:
            in_cloud = f" in {cloud}" if cloud else " in any cloud"
            hint = _elsewhere(self.cat, code, cloud, "set cloud: {other}") if cloud else _did_you_mean(self.cat, code)
            self.error(node, f"{where}: '{code}' is not a region code{in_cloud}{hint}")
            return None
        return code


def _show(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else _kind(node)


def _elsewhere(cat: Catalog, code: str, cloud: str, fix: str = "write {other}:{code}") -> str:
    """Hint for a code given under the wrong cloud, else the nearest codes of the right one."""
    others = [loc.cloud for loc in cat.resolve_any(code) if loc.cloud != cloud]
    if others:
        return f"; it is a {' and '.join(others)} code: {fix.format(other=others[0], code=code)}"
    return _did_you_mean(cat, code, cloud)


def _did_you_mean(cat: Catalog, code: str, cloud: str | None = None) -> str:
    try:
        near = list(cat.suggest(code, n=3, cloud=cloud) if cloud else cat.suggest(code, n=3))
    except Exception:  # suggestions are a courtesy; never let them hide the real error
        near = []
    return f"; did you mean {', '.join(near)}?" if near else ""


def compile_allowed(
    entries: list[tuple[str, Any]], cat: Catalog, report: Any
) -> AllowedSet | None:
    """Turn written entries into an :class:`AllowedSet`; ``report(node, message)`` gets each problem.

    Kept separate from the YAML reader so ``--allowed-regions`` is validated by the same code.
    """
    regions: set[tuple[str, str]] = set()
    locations: set[tuple[str, str]] = set()
    groups: set[str] = set()
    countries: set[str] = set()
    ok = True
    for entry, node in entries:
        prefix, sep, rest = entry.partition(":")
        prefix_l = prefix.lower()
        if sep and prefix_l == "in":
            members = _group(cat, entry)
            if members is None:
                # The per-region groups (in:europe-west1-locations) would drown the list.
                shown = [g for g in cat.groups() if g.startswith("in:") and _is_named_group(cat, g)]
                hint = _suggest(entry, [g for g in cat.groups() if g.startswith("in:")])
                report(node, f"unknown region group '{entry}'{hint or f' (known groups: {_clip(shown)})'}")
                ok = False
                continue
            groups.update(_group_names([entry.lower()]))
            regions.update((r.cloud, r.code) for r in members)
        elif sep and prefix_l == "country":
            cc = rest.strip().upper()
            if cc in _COUNTRY_ALIASES:
                iso = _COUNTRY_ALIASES[cc]
                report(node, f"'{entry}' is not an ISO 3166-1 country code; use country:{iso}")
                ok = False
                continue
            if not cat.is_group(f"country:{cc}"):
                report(node, f"'{entry}' is not an ISO 3166-1 country code (two letters, e.g. country:DE)")
                ok = False
                continue
            # A real country without regions is accepted: it allows nothing today, by intent.
            countries.add(cc)
            regions.update((r.cloud, r.code) for r in cat.group_members(f"country:{cc}"))
        elif sep:
            cloud = _CLOUD_ALIASES.get(prefix_l, prefix_l)
            if cloud not in CLOUDS:
                hint = _suggest(prefix_l, CLOUDS)
                report(
                    node,
                    f"unknown prefix '{prefix}:' in '{entry}'{hint} "
                    f"(use in:<group>, country:<CC>, aws:, gcp: or azure:)",
                )
                ok = False
                continue
            if cloud != prefix:
                report(node, f"unknown cloud '{prefix}' in '{entry}'; write {cloud}:{rest}")
                ok = False
                continue
            loc = cat.resolve(cloud, rest)
            if loc is None:
                report(node, f"'{rest}' is not a region of {cloud}{_elsewhere(cat, rest, cloud)}")
                ok = False
                continue
            ok &= _add_location(loc, entry, node, report, regions, locations)
        else:
            found = list(cat.resolve_any(entry))
            if not found:
                report(node, f"'{entry}' is not a region code in any cloud{_did_you_mean(cat, entry)}")
                ok = False
                continue
            for loc in found:
                ok &= _add_location(loc, entry, node, report, regions, locations)
    if not ok:
        return None
    return AllowedSet(
        entries=tuple(e for e, _ in entries),
        regions=frozenset(regions),
        locations=frozenset(locations),
        groups=frozenset(groups),
        countries=frozenset(countries),
    )


def _add_location(
    loc: ResolvedLocation, entry: str, node: Any, report: Any,
    regions: set[tuple[str, str]], locations: set[tuple[str, str]],
) -> bool:
    if loc.kind == "zone":
        region = loc.members[0].code if loc.members else "its region"
        report(node, f"'{entry}' is a zone; allowed_regions takes regions: use {region}")
        return False
    locations.add((loc.cloud, loc.code))
    regions.update((r.cloud, r.code) for r in loc.members)
    return True


def _group(cat: Catalog, entry: str) -> tuple[Region, ...] | None:
    """Members of ``in:<group>``, whichever spelling the catalog keys its groups by."""
    for name in (entry, entry[3:]):
        if name and cat.is_group(name):
            return tuple(cat.group_members(name))
    return None


def _is_named_group(cat: Catalog, name: str) -> bool:
    region = name[3:].removesuffix("-locations")
    return cat.region("gcp", region) is None


def _clip(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


# --------------------------------------------------------------------------- loading


def _compose(text: str, label: str) -> yaml.Node | None:
    deep = yaml_nesting_error(text)  # before composing: libyaml's composer recurses in C
    if deep is not None:
        raise PolicyError([f"{label}:{deep[0]}: {deep[1]}"])
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}" if mark is not None else "1"
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        ctx = exc.context_mark
        if ctx is not None and mark is not None and ctx.line != mark.line:
            problem += f" (the construct starts on line {ctx.line + 1})"
        raise PolicyError([f"{label}:{line}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"{label}:1: YAML error: {exc}"]) from None


def load_policy(path: Path, known_rules: Collection[str] | None = None) -> Policy:
    """Read, validate and freeze a policy file.

    Raises :class:`PolicyError` (a :class:`ResidencyError`) listing every problem as
    ``FILE:LINE: problem``. ``known_rules`` enables checking rule ids in ``rules:`` and
    ``waivers:``; without it any id is accepted (the policy module does not import the rules).
    """
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResidencyError(f"{label}: policy file not found") from None
    except UnicodeDecodeError:
        raise PolicyError([f"{label}:1: not UTF-8 text"]) from None
    except OSError as exc:
        raise ResidencyError(f"{label}: cannot read policy file: {exc.strerror or exc}") from None
    return _load_text(text, path, label, known_rules)


def _load_text(text: str, path: Path, label: str, known_rules: Collection[str] | None) -> Policy:
    root = _compose(text, label)
    if root is None or _is_null(root):
        raise PolicyError([
            f"{label}:1: the policy file is empty; it needs at least 'version: 1' and "
            "'allowed_regions: [...]' (`residency init` writes a starter policy)"
        ])
    if not isinstance(root, yaml.MappingNode):
        raise PolicyError([f"{label}:{root.start_mark.line + 1}: the policy must be a mapping of keys, "
                           f"got {_kind(root)}"])

    r = _Reader(label, catalog())
    top = r.mapping(root, "the top level", TOP_KEYS, required=("version", "allowed_regions")) or {}

    if "version" in top:
        v = top["version"]
        if not (isinstance(v, yaml.ScalarNode) and v.tag.endswith(":int") and v.value.strip() == "1"):
            r.error(v, f"version: unsupported version '{_show(v)}'; this release reads version: 1")
    if "regions" in top:  # first: the codes it adds are valid in the rest of the file
        r.cat = _extend(r, top["regions"])

    allowed = r.allowed(top["allowed_regions"], "allowed_regions") if "allowed_regions" in top else None

    scopes = _scopes(r, top["scopes"]) if "scopes" in top else ()
    minimum = DEFAULT_ENCRYPTION
    if "encryption" in top:
        enc = r.mapping(top["encryption"], "encryption", _ENCRYPTION_KEYS) or {}
        if "minimum" in enc:
            level = r.choice(enc["minimum"], "encryption.minimum", tuple(e.value for e in Encryption))
            minimum = Encryption(level) if level else minimum
    unresolved = "fail"
    if "unresolved" in top:
        unresolved = r.choice(top["unresolved"], "unresolved", UNRESOLVED_MODES) or "fail"
    exclude = r.strings(top["exclude"], "exclude") if "exclude" in top else ()
    rules = _rules(r, top["rules"], known_rules) if "rules" in top else {}
    tags: dict[str, frozenset[str]] = {}
    labels: dict[str, frozenset[str]] = {}
    if "exempt" in top:
        ex = r.mapping(top["exempt"], "exempt", _EXEMPT_KEYS) or {}
        tags = _exempt(r, ex["tags"], "exempt.tags") if "tags" in ex else {}
        labels = _exempt(r, ex["labels"], "exempt.labels") if "labels" in ex else {}
    waivers = _waivers(r, top["waivers"], known_rules) if "waivers" in top else ()
    roots: tuple[TerraformRoot, ...] = ()
    unknown_types = "note"
    registry_modules = "fail"
    no_data_modules: tuple[str, ...] = ()
    if "terraform" in top:
        tf = r.mapping(top["terraform"], "terraform", _TERRAFORM_KEYS) or {}
        roots = _roots(r, tf["roots"]) if "roots" in tf else ()
        if "unknown_types" in tf:
            unknown_types = r.choice(tf["unknown_types"], "terraform.unknown_types", UNKNOWN_TYPE_MODES) or "note"
        if "registry_modules" in tf:
            registry_modules = (r.choice(tf["registry_modules"], "terraform.registry_modules", REGISTRY_MODULE_MODES)
                                or "fail")
        if "no_data_modules" in tf:
            no_data_modules = r.strings(tf["no_data_modules"], "terraform.no_data_modules")
    clusters: tuple[Cluster, ...] = ()
    require_placement = False
    if "kubernetes" in top:
        k8s = r.mapping(top["kubernetes"], "kubernetes", _KUBERNETES_KEYS) or {}
        clusters = _clusters(r, k8s["clusters"]) if "clusters" in k8s else ()
        if "require_placement" in k8s:
            require_placement = bool(r.boolean(k8s["require_placement"], "kubernetes.require_placement"))

    movement = read_flow(r, top["movement"], "movement") if "movement" in top else FlowPolicy()
    principals = read_principals(r, top["principals"]) if "principals" in top else Principals()
    if "access" in top:
        access = read_flow(r, top["access"], "access")
    elif principals.given:
        access = FlowPolicy()
    else:
        # A residency-only policy places no principal: every cross-account grant would block. Its
        # unplaced principals are shown, not blocking, until access: or principals: is written.
        access = FlowPolicy(unresolved="warn", unresolved_given=True)
    endpoints = read_endpoints(r, top["endpoints"]) if "endpoints" in top else ()
    notes = _pending_sections(top, known_rules)

    r.raise_if_any()
    assert allowed is not None  # required key, validated above
    return Policy(
        path=path,
        base_dir=Path(os.path.abspath(path)).parent,
        allowed=allowed,
        scopes=scopes,
        encryption_minimum=minimum,
        unresolved=unresolved,
        exclude=_with_defaults(exclude),
        rules=MappingProxyType(dict(rules)),
        exempt_tags=MappingProxyType(tags),
        exempt_labels=MappingProxyType(labels),
        waivers=waivers,
        terraform_roots=roots,
        unknown_types=unknown_types,
        registry_modules=registry_modules,
        no_data_modules=no_data_modules,
        clusters=clusters,
        require_placement=require_placement,
        access=access,
        movement=movement,
        principals=principals,
        endpoints=endpoints,
        notes=notes,
        catalog=r.cat,
    )


def _pending_sections(top: Mapping[str, yaml.Node], known: Collection[str] | None) -> tuple[tuple[int, str], ...]:
    """``(line, note)`` for sections whose rules this release lacks: validated, not judged yet."""
    if known is None:
        return ()
    out: list[tuple[int, str]] = []
    for section, rule_ids in _SECTION_RULES.items():
        if section in top and not any(rid in known for rid in rule_ids):
            out.append((top[section].start_mark.line + 1,
                        f"'{section}' is valid but not judged yet: it is read by "
                        f"{' and '.join(rule_ids)}, which this release does not have"))
    return tuple(out)


def _with_defaults(exclude: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for p in (*exclude, *DEFAULT_EXCLUDE):
        if p not in out:
            out.append(p)
    return tuple(out)


def _extend(r: _Reader, node: yaml.Node) -> Catalog:
    items = r.seq(node, "regions")
    if items is None:
        return r.cat
    extra: list[dict[str, Any]] = []
    for item in items:
        m = r.mapping(item, "regions entry", _REGION_KEYS, required=("cloud", "code", "country"))
        if m is None:
            continue
        d: dict[str, Any] = {}
        bad = False
        for key, vnode in m.items():
            value = r.text(vnode, f"regions.{key}", required=True)
            if value is None:
                bad = True
                continue
            d[key] = value
        if "cloud" in d and d["cloud"] not in CLOUDS:
            alias = _CLOUD_ALIASES.get(d["cloud"].lower())
            hint = f"; write {alias}" if alias else _suggest(d["cloud"], CLOUDS)
            r.error(m["cloud"], f"regions.cloud: unknown cloud '{d['cloud']}'{hint} (use aws, gcp or azure)")
            bad = True
        if "country" in d:
            cc = d["country"].upper()
            if cc in _COUNTRY_ALIASES:
                r.error(m["country"], f"regions.country: '{d['country']}' is not an ISO 3166-1 code; "
                                      f"use {_COUNTRY_ALIASES[cc]}")
                bad = True
            elif not re.fullmatch(r"[A-Z]{2}", cc):
                r.error(m["country"], f"regions.country: '{d['country']}' is not a ISO 3166-1 alpha-2 code")
                bad = True
            d["country"] = cc
        if bad or not {"cloud", "code", "country"} <= d.keys():
            continue
        try:
            r.cat.extended([d])
        except (ValueError, KeyError, TypeError) as exc:
            why = re.sub(r"^extra region #\d+: ", "", str(exc).strip("'\""))
            r.error(item, f"regions: cannot add {d['cloud']}:{d['code']}: {why}")
            continue
        extra.append(d)
    return r.cat.extended(extra) if extra else r.cat


def _scopes(r: _Reader, node: yaml.Node) -> tuple[Scope, ...]:
    out: list[Scope] = []
    for i, item in enumerate(r.seq(node, "scopes") or ()):
        m = r.mapping(item, f"scopes[{i}]", _SCOPE_KEYS, required=("paths", "allowed_regions"))
        if m is None or not {"paths", "allowed_regions"} <= m.keys():
            continue
        paths = _paths(r, m["paths"], f"scopes[{i}].paths")
        allowed = r.allowed(m["allowed_regions"], f"scopes[{i}].allowed_regions")
        if paths and allowed is not None:
            out.append(Scope(paths=paths, allowed=allowed, line=item.start_mark.line + 1))
    return tuple(out)


def _paths(r: _Reader, node: yaml.Node, where: str) -> tuple[str, ...]:
    paths = r.strings(node, where)
    if isinstance(node, yaml.SequenceNode) and not node.value:
        r.error(node, f"{where} is empty: list at least one glob, e.g. [\"envs/prod/**\"]")
    return paths


def _rules(r: _Reader, node: yaml.Node, known: Collection[str] | None) -> dict[str, RuleSetting]:
    out: dict[str, RuleSetting] = {}
    for rule_id, knode, vnode in r.pairs(node, "rules") or ():
        if known is not None and rule_id not in known:
            r.error(knode, f"rules: unknown rule id '{rule_id}'{_suggest(rule_id, known)}")
            continue
        m = r.mapping(vnode, f"rules.{rule_id}", _RULE_KEYS)
        if m is None:
            continue
        enabled = r.boolean(m["enabled"], f"rules.{rule_id}.enabled") if "enabled" in m else True
        severity = None
        if "severity" in m:
            level = r.choice(m["severity"], f"rules.{rule_id}.severity", tuple(s.value for s in Severity))
            severity = Severity(level) if level else None
        options: dict[str, Any] = {}
        if "options" in m:
            fields = _option_fields(known, rule_id)
            options = _rule_options(r, m["options"], f"rules.{rule_id}.options", fields)
        out[rule_id] = RuleSetting(enabled=enabled if enabled is not None else True, severity=severity,
                                   options=MappingProxyType(options))
    return out


def _option_fields(known: Collection[str] | None, rule_id: str) -> dict[str, tuple[type, Any]] | None:
    """The rule's option fields when ``known`` is the registry (id -> rule), else None (unchecked)."""
    rule = known.get(rule_id) if isinstance(known, Mapping) else None
    fields = getattr(rule, "option_fields", None)
    return fields() if callable(fields) else None


def _rule_options(
    r: _Reader, node: yaml.Node, where: str, fields: dict[str, tuple[type, Any]] | None
) -> dict[str, Any]:
    """Validate ``rules.<id>.options`` against the rule's typed option fields (bool, int, str, list)."""
    out: dict[str, Any] = {}
    for name, knode, vnode in r.pairs(node, where) or ():
        if fields is not None and name not in fields:
            names = tuple(fields)
            hint = _suggest(name, names) or (f" (valid options: {', '.join(names)})" if names else
                                             ": this rule has no options")
            r.error(knode, f"unknown option '{name}' in {where}{hint}")
            continue
        kind = fields[name][0] if fields is not None else object
        value: Any
        if kind is bool:
            value = r.boolean(vnode, f"{where}.{name}")
        elif kind is int:
            text = r.text(vnode, f"{where}.{name}")
            value = int(text) if text is not None and text.lstrip("-").isdigit() else None
            if text is not None and value is None:
                r.error(vnode, f"{where}.{name}: expected a whole number, got '{text}'")
        elif kind in (tuple, list):
            value = r.strings(vnode, f"{where}.{name}")
        elif kind is str:
            value = r.text(vnode, f"{where}.{name}")
        else:
            value = vnode.value if isinstance(vnode, yaml.ScalarNode) else r.strings(vnode, f"{where}.{name}")
        if value is not None:
            out[name] = value
    return out


def _exempt(r: _Reader, node: yaml.Node, where: str) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for key, _knode, vnode in r.pairs(node, where) or ():
        if isinstance(vnode, yaml.ScalarNode) and not _is_null(vnode):
            out[key] = frozenset([vnode.value])
            continue
        values = r.strings(vnode, f"{where}.{key}")
        if isinstance(vnode, yaml.SequenceNode) and not vnode.value:
            r.error(vnode, f"{where}.{key} is empty: list the values that exempt a resource")
        if values:
            out[key] = frozenset(values)
    return out


def _waivers(r: _Reader, node: yaml.Node, known: Collection[str] | None) -> tuple[PolicyWaiver, ...]:
    out: list[PolicyWaiver] = []
    for i, item in enumerate(r.seq(node, "waivers") or ()):
        where = f"waivers[{i}]"
        m = r.mapping(item, where, _WAIVER_KEYS, required=("rule", "resource", "reason"))
        if m is None:
            continue
        rule = r.text(m["rule"], f"{where}.rule", required=True) if "rule" in m else None
        if rule and known is not None and rule not in known:
            r.error(m["rule"], f"{where}.rule: unknown rule id '{rule}'{_suggest(rule, known)}")
            rule = None
        resource = r.text(m["resource"], f"{where}.resource", required=True) if "resource" in m else None
        reason = None
        if "reason" in m:
            reason = r.text(m["reason"], f"{where}.reason")
            if reason == "":
                r.error(m["reason"], f"{where}.reason: a waiver needs a reason saying why it is acceptable")
        expires = r.when(m["expires"], f"{where}.expires") if "expires" in m else None
        approver = r.text(m["approver"], f"{where}.approver") if "approver" in m else None
        paths = _paths(r, m["paths"], f"{where}.paths") if "paths" in m else ()
        if rule and resource and reason and ("expires" not in m or expires is not None):
            out.append(PolicyWaiver(rule=rule, resource=resource, reason=reason, expires=expires,
                                    approver=approver or None, paths=paths, line=item.start_mark.line + 1))
    return tuple(out)


def _roots(r: _Reader, node: yaml.Node) -> tuple[TerraformRoot, ...]:
    out: list[TerraformRoot] = []
    for i, item in enumerate(r.seq(node, "terraform.roots") or ()):
        where = f"terraform.roots[{i}]"
        m = r.mapping(item, where, _ROOT_KEYS, required=("paths",))
        if m is None or "paths" not in m:
            continue
        paths = _paths(r, m["paths"], f"{where}.paths")
        region = r.region_code(m["region"], f"{where}.region", None) if "region" in m else None
        var_files = r.strings(m["var_files"], f"{where}.var_files") if "var_files" in m else ()
        self_ids = read_self_ids(r, m["self"], f"{where}.self") if "self" in m else MappingProxyType({})
        if paths and ("region" not in m or region):
            out.append(TerraformRoot(paths=paths, region=region, var_files=var_files,
                                     line=item.start_mark.line + 1, self_ids=self_ids))
    return tuple(out)


def _clusters(r: _Reader, node: yaml.Node) -> tuple[Cluster, ...]:
    out: list[Cluster] = []
    for i, item in enumerate(r.seq(node, "kubernetes.clusters") or ()):
        where = f"kubernetes.clusters[{i}]"
        m = r.mapping(item, where, _CLUSTER_KEYS, required=("paths", "region"))
        if m is None or not {"paths", "region"} <= m.keys():
            continue
        cloud = r.choice(m["cloud"], f"{where}.cloud", CLOUDS) if "cloud" in m else None
        if "cloud" in m and cloud is None:
            continue
        paths = _paths(r, m["paths"], f"{where}.paths")
        region = r.region_code(m["region"], f"{where}.region", cloud)
        if paths and region:
            out.append(Cluster(paths=paths, region=region, cloud=cloud, line=item.start_mark.line + 1))
    return tuple(out)


def policy_from_regions(entries: list[str], base_dir: Path) -> Policy:
    """A policy from ``--allowed-regions`` alone: those regions everywhere, defaults for the rest.

    Entries may themselves be comma-separated (``eu-west-1,in:eu-locations``).
    """
    flat = [e.strip() for entry in entries for e in entry.split(",") if e.strip()]
    problems: list[str] = []
    if not flat:
        raise PolicyError(["--allowed-regions: list at least one region or group, e.g. in:eu-locations"])
    allowed = compile_allowed(
        [(e, None) for e in flat], catalog(), lambda _n, m: problems.append(f"--allowed-regions: {m}")
    )
    if allowed is None or problems:
        raise PolicyError(problems)
    return Policy(path=None, base_dir=Path(base_dir), allowed=allowed, catalog=catalog())


def find_policy(start: Path) -> Path | None:
    """The policy for a scan: ``residency.yaml``/``.residency.yaml`` in ``start``, else at the git root.

    Only those two places, so a policy is never picked up from an unrelated parent directory.
    """
    start = Path(os.path.abspath(start))
    if not start.is_dir():  # a file (or a file name given before it exists): its directory
        start = start.parent
    for name in POLICY_NAMES:
        if (start / name).is_file():
            return start / name
    for d in (start, *start.parents):
        if (d / ".git").exists():
            for name in POLICY_NAMES:
                if (d / name).is_file():
                    return d / name
            return None
    return None


STARTER_POLICY = """\
# residency-guardrail policy: where data may live.
# Validate with `residency scan`; every key is documented in the README ("Policy").
version: 1

# Where data stores, their replicas, backups and keys may be. Entries:
#   in:<group>      a region group, e.g. in:eu-locations, in:eea-locations (`residency regions`)
#   country:<CC>    every region in a country (ISO 3166-1: country:DE; the UK is country:GB)
#   aws:eu-west-1   one region of one cloud (aws:, gcp:, azure:); gcp:EU is a multi-region
#   europe-west4    a bare code: that code in every cloud that has it
allowed_regions:
  - in:eu-locations

# Per-path overrides; the most specific (longest) matching glob wins.
# scopes:
#   - paths: ["regions/us/**"]
#     allowed_regions: [in:us-locations]

# Lowest acceptable encryption at rest: none | provider-managed | customer-managed
encryption:
  minimum: provider-managed

# A location the scanner cannot determine statically: fail (blocks) or warn.
unresolved: fail

# Paths not scanned (.git, .terraform and node_modules are always excluded).
# exclude: ["vendor/**"]

# Switch rules off or change their severity.
# rules:
#   RES003: {severity: low}

# Resources carrying these tags/labels are not checked.
# exempt:
#   tags: {data-classification: [public]}
#   labels: {data-classification: [public]}

# Accepted exceptions: every waiver needs a reason; expired waivers waive nothing.
# waivers:
#   - rule: RES001
#     resource: aws_s3_bucket.legacy_export
#     reason: "Migration to eu-west-1 tracked in JIRA-123"
#     expires: 2026-12-31
#     approver: security@example.com

# Who can reach data stores, and from where (RES006). Ids are strings: quote them.
# access:
#   allowed: [in:eu-locations]      # default: allowed_regions
#   unresolved: fail                # fail | warn
# principals:
#   aws:
#     self: "111122223333"          # what data.aws_caller_identity resolves to
#     accounts: {"111122223333": country:IE, "444455556666": country:US}
#     organizations: {o-abc123def4: in:eu-locations}
#     organizational_units: {ou-ab12-cd34ef56: country:DE}
#     federated: {token.actions.githubusercontent.com: country:US}   # identity providers roles trust
#   gcp:
#     self: eu-prod                 # project id
#     projects: {eu-prod: country:BE, us-analytics: country:US}
#     domains: {example.eu: in:eu-locations, us.example.com: country:US}
#   azure:
#     self: "00000000-0000-0000-0000-00000000aaaa"   # tenant id
#     tenants: {"00000000-0000-0000-0000-00000000aaaa": country:NL}
#     subscriptions: {}
#     objects: {"11111111-2222-3333-4444-555555555555": country:US}
#   kubernetes:
#     groups: {eu-oncall: in:eu-locations, us-support: country:US}

# Where data may be sent (RES007); hosts exact or "*." globs.
# movement:
#   allowed: [in:eu-locations]      # default: allowed_regions
#   unresolved: fail                # fail | warn
# endpoints:
#   - {host: "http-inputs-acme.splunkcloud.com", location: country:DE}
#   - {host: "*.corp.example.us", location: country:US}
"""
