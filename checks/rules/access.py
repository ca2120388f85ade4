"""RES006 access-from-outside-allowed-locations: a grant lets a principal outside the allowed locations reach a store.

What it checks
    Every principal a grant names, as :mod:`checks.grants` reads it. AWS resource policies, written
    as JSON, ``jsonencode`` or ``data "aws_iam_policy_document"`` (plans: the rendered string): S3
    bucket policies (``aws_s3_bucket_policy``, ``aws_s3_bucket.policy``), KMS key policies
    (``aws_kms_key``/replica/external ``policy``, ``aws_kms_key_policy``), SQS, SNS, Secrets
    Manager, DynamoDB, ECR, Backup vault, EFS and OpenSearch domain policies; IAM role trust
    (``aws_iam_role.assume_role_policy``: the finding is at the role; a trusted account whose trust
    requires ``sts:ExternalId`` is a vendor that needs a mapping; ``Federated`` OIDC/SAML providers are
    placed by ``principals.aws.federated``, an EKS cluster's OIDC issuer by its region); ``aws_kms_grant``
    (found at every store the key protects, RES004's key uses); ``shared_accounts`` of
    ``aws_db_snapshot``/``aws_db_cluster_snapshot`` (``"all"`` is public),
    ``aws_snapshot_create_volume_permission``, ``aws_ami_launch_permission`` (``group = "all"`` is public;
    organisation and OU ARNs), RAM shares (``aws_ram_principal_association`` opens the resources of the
    share's ``aws_ram_resource_association``; a shared resource declared here that is no store opens
    nothing), ``aws_lakeformation_permissions`` (``IAM_ALLOWED_PRINCIPALS`` is the catalog's own
    account) and ``aws_eks_access_entry``. GCP IAM
    (``_iam_member``, ``_iam_binding``, ``_iam_policy`` with ``data "google_iam_policy"``) on
    Cloud Storage buckets, BigQuery datasets and tables, Cloud KMS keys and key rings, Secret
    Manager secrets, Pub/Sub topics and Spanner databases, and ``google_bigquery_dataset.access``;
    project, folder and organisation IAM with a role that reaches data (basic roles, roles of data
    services, service-account and IAM-admin roles, custom roles) opens every store of that scope in
    the scan (a store that names no project is in the root's ``self`` project; a folder or
    organisation covers every Google store), and ``google_service_account_iam_*`` opens what that
    service account is granted (impersonation).
    Azure ``azurerm_role_assignment`` scoped to a store (or a resource group, subscription or
    management group, which reach every store in them: one finding per store of the unit, a resource
    group matched by the stores' ``resource_group_name``) and Key Vault access policies (the resource
    and inline ``access_policy``, with their explicit ``tenant_id``); ``azurerm_lighthouse_definition``
    (its ``managing_tenant_id`` reaches every store of its ``scope``); a storage account with
    ``cross_tenant_replication_enabled = true`` and a container whose ``container_access_type`` is
    ``blob``/``container`` on an account with ``allow_nested_items_to_be_public = true`` are public.
    Kubernetes ``RoleBinding`` and ``ClusterRoleBinding`` subjects whose role (linked across files, else
    the built-in ``cluster-admin``, ``admin``, ``edit``; ``view`` excludes Secrets) reads Secrets or
    creates pods, ``pods/exec`` or ``pods/attach``: the Secrets and volumes of the binding's namespace
    (every namespace for a ClusterRoleBinding); ``system:unauthenticated``/``system:anonymous`` and
    ``system:authenticated`` are public, ServiceAccounts stay in the cluster, users and groups are
    placed by ``principals.kubernetes``; the EKS ``aws-auth`` ConfigMap's IAM principals get what their
    groups' bindings open (``system:masters``: everything). Each principal is placed with
    the policy's ``principals:`` section: AWS account ids (bare, or in IAM/STS ARNs), organisations
    (through a ``aws:PrincipalOrgID`` condition, or an organisation ARN), organisational units (an OU
    ARN, or the deepest ``ou-`` of an ``aws:PrincipalOrgPaths`` path) and identity providers, GCP
    domains (``user:``,
    ``group:``, ``domain:`` members) and projects (service-account emails), Azure tenants and
    object ids. The allowed set is ``access.allowed``, else the
    path's ``allowed_regions``; a principal mapped to a place outside it is a finding. A public
    principal (``"*"``, ``allUsers``, ``allAuthenticatedUsers``, an Allow with ``NotPrincipal``)
    is always a finding unless a positive condition (``aws:PrincipalOrgID``,
    ``aws:PrincipalAccount``, ``aws:SourceAccount``, ``aws:SourceOwner``, ``aws:SourceArn``,
    ``kms:CallerAccount`` with ``StringEquals``/``StringLike``/``ArnEquals``/``ArnLike``; ``sns:Endpoint``
    naming an ARN, whose owner receives the topic's messages; ``elasticfilesystem:AccessedViaMountTarget``
    ``true``, which admits only clients reaching the file system's own network) narrows it to mapped
    principals, which are then judged (a resource declared in the configuration is the deploying
    account's). Conditions of a statement are ANDed, so the tightest one bounds the grant; negated
    operators, ``...IfExists`` and ``ForAllValues:`` never narrow, and a wildcard value stays public.
    A principal the policy does not map is unresolved: blocking unless ``access.unresolved: warn``
    once the policy has an ``access:`` or ``principals:`` section;
    without either the policy places no principal yet, so the finding is shown but does not block
    (``access.unresolved: fail`` makes it block; public grants always block). The deploying
    identity (``data.aws_caller_identity``,
    ``data.google_project``, ``data.azurerm_client_config``, a role, service account or managed
    identity declared in the same configuration) is the
    store's own account: judged only when ``principals.<cloud>.self`` (or the root's ``self``) maps
    it. AWS service principals and GCP service agents are the provider (a regional service
    principal such as ``logs.eu-west-1.amazonaws.com`` is checked as its region, and so is the Elastic
    Load Balancing log-delivery account of a Region, e.g. ``156460612806`` for eu-west-1, AWS's per-Region
    table for access logs, written literally or as ``data.aws_elb_service_account``, whose ``region``
    argument or provider region picks the account; a Region without one is unresolved). Deny statements
    and negated condition operators never clear a grant. One finding per (store, principal); the
    finding's resource is the store when it is in the scan, else the grant; its message names every
    statement that grants it (index and Sid), and its FILE:LINE is the first such statement's: the
    ``statement`` block of a data "aws_iam_policy_document" (or ``binding`` of "google_iam_policy"), even in
    another file, a statement inside a heredoc, else the policy argument (``jsonencode``). Severity by action: a
    principal that may only deliver into the store (``s3:PutObject`` with the ``s3:GetBucketAcl`` /
    ``GetBucketLocation`` delivery services ask for, CloudWatch Logs, SQS, SNS, Firehose, Kinesis and
    EventBridge sends, ``kms:Encrypt``/``GenerateDataKey``, GCP ``storage.objectCreator``,
    ``pubsub.publisher``, ``logging.logWriter``/``bucketWriter``, ``cloudkms.cryptoKeyEncrypter``, Azure
    data sender roles) is graded ``medium``; reading, decrypting, restoring, assuming, a wildcard, a
    ``NotAction`` list or an action not known statically is ``high``, as is every public grant. The
    policy's ``rules: {RES006: {severity: ...}}`` overrides both.

Why it matters
    "EU data stays in the EU" includes who can read it: a bucket in Frankfurt whose policy lets an
    account run from the United States read objects is a transfer as soon as that account reads.

Example
    Failing (account ``444455556666`` mapped to ``country:US``)::

        data "aws_iam_policy_document" "read" {
          statement {
            actions   = ["s3:GetObject"]
            resources = ["${aws_s3_bucket.b.arn}/*"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::444455556666:root"]
            }
          }
        }

    Fixed: grant an account the policy maps inside the allowed locations, or map where the
    account really operates (``principals: {aws: {accounts: {"444455556666": country:IE}}}``).

How to fix
    Remove the grant, narrow it to principals in the allowed locations, or, when the principal is
    in fact allowed, map it in the policy's ``principals:`` section (ids quoted).

Controls
    NIST CSF 2.0 PR.AA-05; ISO/IEC 27001:2022 5.15, 8.3; SOC 2 CC6.1, CC6.3, CC6.6.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from checks.grants import Grant, GrantFacts
from checks.grants_scope import StoreScope
from checks.iam_document import aws_principal
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, Ref, Resource, Severity, Unknown, Violation
from scanner.policy import AllowedSet
from scanner.principals import Place


@dataclass(frozen=True)
class Verdict:
    """Where one principal sits: ``ok`` (allowed, self, provider), ``outside``, ``public`` or ``unresolved``."""

    status: str
    who: str
    place: Place | None = None
    reason: str = ""
    key: str = ""  # what one finding is per: the mapped id (``aws accounts 444455556666``), else ``who``


_SELF = re.compile(r"\$\{self:(aws|gcp|azure)(?::[a-z]+)?\}")
# positive conditions that narrow "*" to the principals they name: key -> how to read the values
# (the issue's list, plus the keys AWS's own "non-public" test names that pin a principal: aws:SourceOwner, and
# elasticfilesystem:AccessedViaMountTarget, docs.aws.amazon.com/efs/latest/ug/access-control-block-public-access.html;
# and sns:Endpoint, the subscription endpoint a Subscribe may name, so the topic's messages reach only it,
# docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html)
_NARROWING = {"aws:principalorgid": "organizations", "aws:principalaccount": "accounts",
              "aws:sourceaccount": "accounts", "kms:calleraccount": "accounts", "aws:sourcearn": "arn",
              "aws:sourceowner": "accounts", "sns:endpoint": "endpoint",
              "elasticfilesystem:accessedviamounttarget": "mount-target", "aws:principalorgpaths": "orgpaths"}
_STRING_OPS = frozenset({"stringequals", "stringlike", "stringequalsignorecase"})
_POSITIVE_OPS = {"arn": _STRING_OPS | {"arnequals", "arnlike"}, "mount-target": frozenset({"bool"})}
_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):")
# organisation / OU ARNs (RAM principals, AMI launch permissions, Lake Formation principals)
_ORG_ARN = re.compile(r"arn:aws[a-z-]*:organizations::\d{12}:(?:organization/(o-[a-z0-9]+)|ou/(?:o-[a-z0-9]+)/"
                      r"(ou-[a-z0-9]+-[a-z0-9]+))")
_FEDERATED_ARN = re.compile(r":(?:oidc-provider|saml-provider)/(.+)$")
_EKS_ISSUER = re.compile(r"oidc\.eks\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?/id/[A-Za-z0-9]+")
# a value spelt from a resource declared in this configuration (``${aws_sqs_queue.q.arn}``,
# ``${module.sqs.aws_sqs_queue.this[0].arn}``): the deploying account's resource
_OWN_RESOURCE = re.compile(r"^\$\{(?:module\.[^}]*\.)?aws_[a-z0-9_]+\.[^}]+\}")
# Google-managed service agents (the provider acting for the project): ``service-<number>@<agent domain>``,
# per-service agent domains, and the legacy robot accounts (Google's "Service agents" reference page)
_GCP_AGENT_DOMAINS = ("gs-project-accounts.iam.gserviceaccount.com", "bigquery-encryption.iam.gserviceaccount.com",
                      "compute-system.iam.gserviceaccount.com", "container-engine-robot.iam.gserviceaccount.com",
                      "cloudservices.gserviceaccount.com", "dataflow-service-producer-prod.iam.gserviceaccount.com",
                      "cloudcomposer-accounts.iam.gserviceaccount.com", "serverless-robot-prod.iam.gserviceaccount.com",
                      "containerregistry.iam.gserviceaccount.com", "cloudbuild.gserviceaccount.com")
_GCP_SERVICE_AGENT = re.compile(r"[^@]+@(?:gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com|"
                                + "|".join(re.escape(d) for d in _GCP_AGENT_DOMAINS) + ")")

# a principal spelt from an identity declared in the same configuration (``${google_service_account.x.email}``,
# ``${aws_iam_role.r.arn}``): the deploying account or project
_OWN_IDENTITY = re.compile(r"^(?:serviceAccount:)?\$\{(?:module\.[^}]*\.)?(?:google_service_account|aws_iam_role|"
                           r"aws_iam_user|aws_iam_group)\.[^}]+\}$")
_SA_PROJECT = re.compile(r"[^@]+@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com")


def _text(value: Any) -> str | None:
    """A principal as text: a str, or the spelling of a Partial (``arn:aws:iam::${self:aws}:root``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Ref):
        return "${" + str(value) + "}"
    text = getattr(value, "text", None) if isinstance(value, Unknown) else None
    return text if isinstance(text, str) and text else None


def _why(value: Any) -> str:
    return value.reason if isinstance(value, Unknown) else f"{value} is known only after apply"


class _Judge:
    def __init__(self, ctx: RuleContext, allowed: AllowedSet) -> None:
        self.ctx, self.allowed = ctx, allowed
        self.principals = ctx.policy.principals

    def self_id(self, cloud: str) -> str | None:
        return self.ctx.policy.self_id(cloud, self.ctx.policy_path)

    def mapped(self, who: str, cloud: str, kind: str, ident: str) -> Verdict:
        place = self.principals.place(cloud, kind, ident)
        key = f"{cloud} {kind} {ident}"
        if place is None:
            if ident == self.self_id(cloud):
                return Verdict("ok", who)  # the store's own account, not mapped: judged by placement
            return Verdict("unresolved", who, reason=f"{ident} is not mapped in the policy's principals.{cloud}.{kind}",
                           key=key)
        return Verdict("ok" if place.inside(self.allowed) else "outside", who, place, key=key)

    def self_place(self, cloud: str, who: str) -> Verdict:
        ident = self.self_id(cloud)
        if ident is None:
            return Verdict("ok", who)  # the deploying identity is the store's own account
        kind = {"aws": "accounts", "gcp": "projects", "azure": "tenants"}[cloud]
        place = self.principals.place(cloud, kind, ident)
        if place is None:
            return Verdict("ok", who)
        return Verdict("ok" if place.inside(self.allowed) else "outside", f"{who} (self: {ident})", place)

    # ---- AWS
    def aws(self, g: Grant) -> list[Verdict]:
        value = g.principal
        text = _text(value)
        if text is None:
            reason = value.reason if isinstance(value, Unknown) else "not a string"
            return [Verdict("unresolved", "a principal", reason=f"it is not known statically ({reason})")]
        if g.kind == "Federated":
            return [self.federated(text)]  # before self: a provider declared in this account admits outsiders
        if _SELF.search(text):
            who = text.replace("${self:aws:arn}", "<deploying identity>").replace("${self:aws}", "<self>")
            return [self.self_place("aws", who)]
        if not isinstance(value, str) and _OWN_IDENTITY.match(text):
            return [self.self_place("aws", text)]
        if not isinstance(value, str):
            return [Verdict("unresolved", text, reason=f"it is not known statically ({_why(value)})")]
        if text == "IAM_ALLOWED_PRINCIPALS":  # Lake Formation: every IAM principal of the catalog's account
            return [self.self_place("aws", text)]
        org = _ORG_ARN.fullmatch(text)
        if org:
            kind = "organizational_units" if org.group(2) else "organizations"
            return [self.mapped(text, "aws", kind, org.group(2) or org.group(1))]
        p = aws_principal(g.kind, text)
        if p.kind == "public" or g.negated:
            narrowed = self.narrowing(g)
            if narrowed:
                return narrowed
            who = f"everyone except {text}" if g.negated else "everyone (Principal \"*\")"
            return [Verdict("public", who)]
        if p.kind == "account" and p.account:
            v = self.mapped(text, "aws", "accounts", p.account)
            if v.status == "unresolved" and any(key.lower() == "sts:externalid" for _, key, _ in g.conditions):
                v = replace(v, reason=f"{p.account} is a vendor (its trust requires sts:ExternalId) the policy does "
                                      "not map in principals.aws.accounts")
            return [v]
        if p.kind == "service":
            if p.account and p.region:  # an ELB log-delivery account: AWS's service in that Region
                return [self.region(f"{text} (Elastic Load Balancing log delivery)", p.region)]
            return [self.region(text, p.region)] if p.region else [Verdict("ok", text)]
        return [Verdict("unresolved", text, reason=f"a {g.kind} principal cannot be placed by the policy")]

    def region(self, who: str, code: str) -> Verdict:
        region = self.ctx.catalog.region("aws", code)
        if region is None:
            return Verdict("unresolved", who, reason=f"region {code} is not in the catalog")
        return Verdict("ok" if self.allowed.allows(region) else "outside", f"{who} (region {code})")

    def federated(self, text: str) -> Verdict:
        """A ``Federated`` principal: the identities of an OIDC/SAML provider or web identity host, placed by
        ``principals.aws.federated``; an EKS cluster's OIDC issuer is the cluster's service accounts, in its region."""
        m = _FEDERATED_ARN.search(text)
        ident = m.group(1) if m else text
        eks = _EKS_ISSUER.fullmatch(ident)
        if eks:
            return self.region(f"{text} (the cluster's service accounts)", eks.group(1))
        if "${" in ident:
            return Verdict("unresolved", text, reason="its identity provider is not known statically; map the "
                           "provider's host under principals.aws.federated and write it literally")
        return self.mapped(text, "aws", "federated", ident.lower())

    def narrowing(self, g: Grant) -> list[Verdict]:
        """The principals a positive condition narrows ``*`` to, judged; empty when nothing narrows it.

        Conditions of one statement are ANDed: whoever the grant reaches satisfies every one, so
        the tightest condition bounds it. Each narrowing condition is judged on its own (its values
        are ORed: every value is judged) and the one whose worst verdict is best wins. Negated
        operators (``StringNotEquals``, ``ArnNotLike``), ``...IfExists`` (true when the key is
        absent) and ``ForAllValues:`` (true for an empty set) never narrow.
        """
        rank = {"ok": 0, "outside": 1, "unresolved": 2, "public": 3}
        best: list[Verdict] = []
        for op, key, values in g.conditions:
            low = op.lower()
            if low.endswith("ifexists") or low.startswith("forallvalues:"):
                continue
            base = low.removeprefix("foranyvalue:")
            how = _NARROWING.get(key.lower())
            if how is None or base not in _POSITIVE_OPS.get(how, _STRING_OPS):
                continue
            judged = [self.narrowed_to(how, key, v) for v in values] or [Verdict("unresolved", f"{key} condition",
                                                                              reason="it names no value")]
            if not best or max(rank[v.status] for v in judged) < max(rank[v.status] for v in best):
                best = judged
        return best

    def narrowed_to(self, how: str, key: str, v: Any) -> Verdict:
        """Who one value of a narrowing condition admits."""
        text = _text(v)
        who = f"{key} = {text}"
        if how == "mount-target":
            if v is True or (isinstance(v, str) and v.lower() == "true"):
                # only NFS clients that reach a mount target in the file system's VPC: network reach, which
                # RES006 does not judge (the mount targets sit in the file system's own region)
                return Verdict("ok", "clients reaching a mount target (the file system's own network)")
            if isinstance(v, (Unknown, Ref)):
                return Verdict("unresolved", who, reason=f"it is not known statically ({_why(v)})")
            return Verdict("public", who)
        if text is None:
            return Verdict("unresolved", f"{key} condition", reason="its value is not known statically")
        if _SELF.search(text):
            return self.self_place("aws", who.replace("${self:aws}", "<self>"))
        if not isinstance(v, str) and how in ("arn", "endpoint") and _OWN_RESOURCE.match(text):
            return self.self_place("aws", who)  # a resource declared here: the deploying account's
        if isinstance(v, Unknown):
            return Verdict("unresolved", who, reason=f"it is not known statically ({v.reason})")
        if not isinstance(v, str):
            return Verdict("unresolved", who, reason=f"it is not known statically ({_why(v)})")
        if how in ("arn", "endpoint"):
            m = _ARN_ACCOUNT.match(text)
            if m:
                return self.mapped(who, "aws", "accounts", m.group(1))
            if "*" in text or "?" in text:
                return Verdict("public", who)
            what = "an ARN that names no account" if text.startswith("arn:") else "not an ARN"
            return Verdict("unresolved", who, reason=f"it is {what}, so its owner cannot be placed")
        if how == "orgpaths":  # o-xxx/r-xxx/ou-xxx/.../ : the deepest OU named, else the organisation
            parts = [x for x in text.split("/") if x]
            ous = [x for x in parts if x.startswith("ou-") and "*" not in x and "?" not in x]
            if not parts or "*" in parts[0] or "?" in parts[0]:
                return Verdict("public", who)
            if ous:
                return self.mapped(who, "aws", "organizational_units", ous[-1])
            return self.mapped(who, "aws", "organizations", parts[0])
        if "*" in text or "?" in text:
            return Verdict("public", who)
        return self.mapped(who, "aws", how, text)

    # ---- Azure
    def azure(self, g: Grant) -> list[Verdict]:
        value = g.principal
        if value is None:
            return []
        if g.kind == "public":
            return [Verdict("public", str(value))]  # anonymous blob access, cross-tenant replication
        text = _text(value)
        kind = "tenants" if g.kind == "tenant" else "objects"
        if text is None:
            return [Verdict("unresolved", f"a {g.kind}", reason=f"it is not known statically ({_why(value)})")]
        if _SELF.search(text):
            return [self.self_place("azure", text.replace("${self:azure:object}", "<deploying identity>")
                                    .replace("${self:azure}", "<self tenant>"))]
        if not isinstance(value, str) and _azure_own(text):
            return [self.self_place("azure", text)]
        if not isinstance(value, str):
            return [Verdict("unresolved", text, reason=f"it is not known statically ({_why(value)})")]
        return [self.mapped(f"{g.kind} {text}", "azure", kind, text.lower())]

    # ---- GCP
    def gcp(self, g: Grant) -> list[Verdict]:
        value = g.principal
        text = _text(value)
        if text is None:
            reason = value.reason if isinstance(value, Unknown) else "not a string"
            return [Verdict("unresolved", "a member", reason=f"it is not known statically ({reason})")]
        if text in ("allUsers", "allAuthenticatedUsers"):
            return [Verdict("public", text)]
        kind, _, ident = text.partition(":")
        if _SELF.search(text):
            if kind == "serviceAccount" and _GCP_SERVICE_AGENT.fullmatch(ident):
                return [Verdict("ok", text)]
            return [self.self_place("gcp", text)]
        if not isinstance(value, str) and _OWN_IDENTITY.match(text):
            return [self.self_place("gcp", text)]
        if not isinstance(value, str):
            return [Verdict("unresolved", text, reason=f"it is not known statically ({_why(value)})")]
        if kind == "serviceAccount":
            if _GCP_SERVICE_AGENT.fullmatch(ident):
                return [Verdict("ok", text)]  # a Google service agent: the provider
            m = _SA_PROJECT.fullmatch(ident)
            if m:
                return [self.mapped(text, "gcp", "projects", m.group(1))]
            return [Verdict("unresolved", text, reason="its project cannot be read from the email")]
        if kind in ("user", "group"):
            return [self.mapped(text, "gcp", "domains", ident.rpartition("@")[2].lower())]
        if kind == "domain":
            return [self.mapped(text, "gcp", "domains", ident.lower())]
        if kind in ("projectOwner", "projectEditor", "projectViewer"):
            return [self.mapped(text, "gcp", "projects", ident)]
        return [Verdict("unresolved", text, reason="this kind of member cannot be placed by the policy")]

    # ---- Kubernetes: RBAC binding subjects (checks/grants_kubernetes.py)
    def kubernetes(self, g: Grant) -> list[Verdict]:
        name = _text(g.principal)
        if name is None:
            return [Verdict("unresolved", f"a {g.kind} subject", reason="its name is not known statically")]
        who = f"{g.kind.title()} {name}" if g.kind != "serviceaccount" else f"ServiceAccount {name}"
        if g.kind == "serviceaccount":
            return [Verdict("ok", who)]  # a workload identity of the cluster: stays in it
        if name in ("system:unauthenticated", "system:anonymous"):
            return [Verdict("public", f"everyone, unauthenticated ({who})")]
        if name == "system:authenticated":
            return [Verdict("public", f"any authenticated user ({who})")]
        if name.startswith("system:"):
            return [Verdict("ok", who)]  # the cluster's own identities (nodes, service accounts, masters)
        return [self.mapped(who, "kubernetes", "groups" if g.kind == "group" else "users", name)]


_MAP_HINT = {"aws": 'principals: {aws: {accounts: {"<account id>": country:<CC>}}}',
             "gcp": "principals: {gcp: {domains: {<domain>: country:<CC>}, projects: {<project>: country:<CC>}}}",
             "azure": 'principals: {azure: {tenants: {"<tenant id>": country:<CC>}, objects: {"<object id>": '
                       'country:<CC>}}}',
             "kubernetes": "principals: {kubernetes: {groups: {<group>: country:<CC>}, users: {<user>: country:<CC>}}}"}

# an unreadable grant of a manifest: the role or the aws-auth entry it needs
_UNREADABLE_FIX = {"kubernetes": "Scan the bound role's manifest with the binding (same directory tree), bind a "
                   "built-in role, or fix the aws-auth data so it parses."}

_NAME_ARGS = ("bucket", "name", "dataset_id", "secret_id", "account_id")


def _azure_own(text: str) -> bool:
    """An object id read from an identity declared here (a user-assigned identity, a resource's system
    identity, an azuread object): it lives in the deploying tenant."""
    return bool(re.fullmatch(r"\$\{(?:module\.[^}]*\.)?(?:azurerm_[a-z0-9_]+\.[^}]*principal_id|"
                             r"azuread_[a-z_]+\.[^}]*(?:object_id|id))\}", text))


# ARM provider namespaces whose resources hold data (a role assignment scoped to one opens that store)
_AZURE_DATA_SCOPE = re.compile(r"/providers/Microsoft\.(?:Storage|KeyVault|DocumentDB|Sql|DBfor[A-Za-z]+|Cache|"
                               r"EventHub|ServiceBus|Synapse|Kusto|DataLakeStore|Databricks|CognitiveServices|"
                               r"MachineLearningServices|RecoveryServices|DataProtection)/", re.IGNORECASE)
# scopes that reach every store below them: a subscription, a resource group, a management group
_AZURE_WIDE_SCOPE = re.compile(r"(?:/subscriptions/[^/]+(?:/resourceGroups/[^/]+)?|"
                               r"/providers/Microsoft\.Management/managementGroups/[^/]+)/?", re.IGNORECASE)
# azurerm types that hold data (a role assignment scoped to one whose facts are not in view still opens it)
_AZURE_DATA_TYPE = re.compile(r"azurerm_(?:storage_|key_vault|cosmosdb_|mssql_|sql_|postgresql_|mysql_|redis_|"
                              r"eventhub|servicebus_|synapse_|kusto_|data_lake_|databricks_|cognitive_account|"
                              r"machine_learning_|recovery_services_|data_protection_|search_service)")
_AZURE_WIDE_TYPES = ("azurerm_resource_group", "azurerm_subscription", "azurerm_management_group")


def _azure_store_scope(scope: Any, subject: Resource | None) -> bool:
    """Whether a role assignment's scope is a data store, or a scope that contains every store below it."""
    if subject is not None:
        return True
    address = scope.address if isinstance(scope, Ref) else getattr(scope, "address", "") or ""
    if address:
        rtype = address.split("[")[0].rsplit(".", 2)[-2] if "." in address else ""
        return rtype in _AZURE_WIDE_TYPES or bool(_AZURE_DATA_TYPE.match(rtype))  # a store outside the unit
    text = _text(scope)
    if text is None:
        return True  # an unknown scope may be a store: judged (fail closed)
    return bool(_AZURE_DATA_SCOPE.search(text) or _AZURE_WIDE_SCOPE.fullmatch(text)) or "${" in text


def _store(facts: GrantFacts, ctx: RuleContext) -> tuple[str, Resource | None]:
    """The store a grant opens: its fact when it is in the unit, else the store as written."""
    s = facts.store
    address = s.address if isinstance(s, Ref) else getattr(s, "address", "") if isinstance(s, Unknown) else ""
    if address:
        fact = ctx.facts.get(address)
        if fact is not None and getattr(fact, "role", "") in ("data-store", "key"):
            return address, fact.resource
        return address, None
    if isinstance(s, str):
        name = s.removeprefix("arn:aws:s3:::")
        for fact in (*ctx.unit_facts("data-store"), *ctx.unit_facts("key")):
            r = fact.resource
            if r.type in facts.store_types and name in (r.attributes.get(k) for k in _NAME_ARGS):
                return r.address, r
        return name, None
    return _text(s) or "a store not known statically", None


@dataclass(frozen=True)
class Reach:
    """One principal that can reach a store through one grant, judged: what RES006 words and the inventory lists.

    ``status`` is ``ok`` (allowed, the deploying identity, the provider), ``outside``, ``public`` or
    ``unresolved``; ``who`` joins every spelling of the same principal in the grant.
    """

    verdict: Verdict
    grant: Grant
    actions: tuple[str, ...]
    broad: bool = False  # a NotAction list, or an action not known statically: anything may be granted
    statements: tuple[str, ...] = ()  # every statement (``policy Statement[1] (Sid Read)``) that grants it


def access_allowed(ctx: RuleContext) -> AllowedSet:
    """Where principals may sit: ``access.allowed``, else the path's ``allowed_regions`` (already in ``ctx``)."""
    allowed = ctx.policy.access.allowed
    return allowed if isinstance(allowed, AllowedSet) else ctx.allowed


def opens_store(facts: GrantFacts, ctx: RuleContext) -> tuple[str, Resource | None] | None:
    """The store a grant opens (its address and resource when it is in the unit), None when it opens none."""
    store, subject = _store(facts, ctx)
    if facts.resource.type == "azurerm_role_assignment" and not _azure_store_scope(facts.store, subject):
        return None  # a role on a network, compute or identity resource opens no data store
    return store, subject


def _address(value: Any) -> str:
    return value.address if isinstance(value, Ref) else getattr(value, "address", "") if isinstance(value, Unknown) \
        else ""


def _linked_stores(facts: GrantFacts, ctx: RuleContext) -> list[tuple[str, Resource | None]]:
    """The stores an AWS grant opens: :func:`opens_store`, except that a KMS key grant opens the stores the key
    protects (RES004's key uses; the key itself when it protects none in the unit) and a RAM principal
    association opens the resources its share's resource associations name (a declared resource that is no
    store opens nothing; an ARN outside the unit is judged as written)."""
    opened = opens_store(facts, ctx)
    if opened is None:
        return []
    key = share = _address(facts.store)
    if facts.resource.type == "aws_kms_grant" and key:
        guarded = [(f.resource.address, f.resource) for f in ctx.unit_facts("data-store")
                   if any(k.reference == key or k.reference.startswith(key + ".") for k in f.keys)]
        return guarded or [opened]
    if facts.resource.type == "aws_ram_principal_association" and share:
        links = [f for f in ctx.unit_facts("grant") if f.resource.type == "aws_ram_resource_association"
                 and _address(f.resource.attributes.get("resource_share_arn")) == share]
        if not links:
            return [(share, None)]  # what the share holds is not in the unit: judged at the share
        shared = [_store(link, ctx) for link in links]
        return [(name, res) for (name, res), link in zip(shared, links, strict=True)
                if res is not None or not _address(link.store)]
    return [opened]


@dataclass
class _Gathered:
    """What the grants of one (status, principal) add up to while :func:`reaches` reads them."""

    verdict: Verdict
    grant: Grant  # the first granting statement's: the finding points at it
    spellings: list[str]
    actions: list[str]
    broad: bool
    vias: list[str]

    def reach(self) -> Reach:
        return Reach(replace(self.verdict, who=", ".join(self.spellings)), self.grant, tuple(self.actions),
                     self.broad, tuple(self.vias))


def reaches(facts: GrantFacts, ctx: RuleContext) -> list[Reach]:
    """Every principal the grant lets reach its store, one per (status, principal), judged under ``ctx``."""
    judge = _Judge(ctx, access_allowed(ctx))
    seen: dict[tuple[str, str], _Gathered] = {}
    for g in facts.grants:
        if g.effect != "Allow":
            continue  # Deny never clears a grant, and grants nothing
        verdicts = {"aws": judge.aws, "gcp": judge.gcp, "azure": judge.azure,
                    "kubernetes": judge.kubernetes}[g.cloud](g)
        known_actions = [str(a) for a in g.actions if isinstance(a, str)]
        # a NotAction list grants everything else; an action not known statically may be any: both are broad
        broad = g.except_actions or len(known_actions) < len(g.actions) or not g.actions
        actions = [f"every action except {', '.join(known_actions)}"] if g.except_actions else known_actions
        for v in verdicts:
            key = (v.status, v.key or v.who)
            got = seen.get(key)
            if got is None:
                seen[key] = _Gathered(v, g, [v.who], list(actions), broad, [g.via] if g.via else [])
                continue
            got.actions.extend(a for a in actions if a not in got.actions)
            got.broad = got.broad or broad
            if v.who not in got.spellings:
                got.spellings.append(v.who)
            if g.via and g.via not in got.vias:
                got.vias.append(g.via)  # every statement that grants it is named, not only the first
    return [got.reach() for got in seen.values()]


# Actions that only deliver into a store (log, event and message delivery, envelope encryption of what is
# written): a principal holding nothing else cannot read, decrypt, restore or assume anything, so its finding
# is graded below a read (issue 18: read / decrypt / restore / assume above write-only log delivery). Exact
# names only: a wildcard (``s3:Put*`` includes s3:PutBucketPolicy) is not write-only. s3:GetBucketAcl and
# s3:GetBucketLocation read bucket configuration, not data: CloudTrail, AWS Config and vended-log delivery
# ask for them with s3:PutObject (docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html,
# docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html).
_WRITE_ONLY_ACTIONS = frozenset({
    "s3:putobject", "s3:getbucketacl", "s3:getbucketlocation",
    "logs:createlogstream", "logs:putlogevents", "logs:createloggroup",
    "sqs:sendmessage", "sns:publish", "firehose:putrecord", "firehose:putrecordbatch",
    "kinesis:putrecord", "kinesis:putrecords", "events:putevents",
    "kms:encrypt", "kms:generatedatakey", "kms:generatedatakey*", "kms:generatedatakeywithoutplaintext",
    # GCP predefined roles that only create or publish (cloud.google.com/iam/docs/understanding-roles)
    "roles/storage.objectcreator", "roles/pubsub.publisher", "roles/logging.logwriter",
    "roles/logging.bucketwriter", "roles/cloudkms.cryptokeyencrypter", "roles/monitoring.metricwriter",
    # Azure built-in roles that only send (learn.microsoft.com/azure/role-based-access-control/built-in-roles)
    "storage queue data message sender", "azure event hubs data sender", "azure service bus data sender",
    "monitoring metrics publisher",
})


def graded(reach: Reach) -> Severity | None:
    """The severity of one reach when it is below the rule's: ``medium`` for write-only delivery, else None
    (the rule's ``high``: read, decrypt, restore, assume, any wildcard or unknown action)."""
    if reach.broad or not reach.actions:
        return None
    if all(a.lower() in _WRITE_ONLY_ACTIONS for a in reach.actions):
        return Severity.MEDIUM
    return None


def opened_stores(facts: GrantFacts, ctx: RuleContext) -> list[tuple[str, Resource | None]]:
    """Every store a grant opens: the one it names, or each store of the scope a project / folder /
    organisation / service-account grant covers (checks/grants_scope.py; none in the unit: the scope itself)."""
    scope = facts.store
    if isinstance(scope, StoreScope):
        found = [] if facts.unreadable else scope.stores(ctx, _opened)
        return found or ([(scope.describe(), None)] if scope.fallback or facts.unreadable else [])
    return _opened(facts, ctx)


def _opened(facts: GrantFacts, ctx: RuleContext) -> list[tuple[str, Resource | None]]:
    if isinstance(facts.store, StoreScope):
        return []
    return _linked_stores(facts, ctx)  # a key grant: the stores its key protects; a RAM share: what it shares


def check(facts: GrantFacts, ctx: RuleContext) -> Iterator[Violation]:
    """One violation per (store, principal) outside the allowed set, public, or not placed."""
    for opened in opened_stores(facts, ctx):
        yield from _check_store(facts, ctx, opened)


def _statement_at(r: Resource, g: Grant) -> str:
    """``FILE:LINE`` of the argument that holds the granting statement (``policy``, ``member``), else the grant's
    block: what a reviewer opens. A statement inside a document is named by its index and Sid beside it."""
    if g.line is not None:  # the statement's own line (a data source's statement block may be in another file)
        return f"{g.file or r.file}:{g.line}"
    lines = r.extra.get("attribute_lines") if isinstance(r.extra, dict) else None
    arg = g.via.split(" ", 1)[0].split("[", 1)[0] if g.via else ""
    line = (lines.get(arg) if isinstance(lines, dict) else None) or r.line
    return f"{r.file}:{line}"


def _check_store(facts: GrantFacts, ctx: RuleContext, opened: tuple[str, Resource | None]) -> Iterator[Violation]:
    allowed = access_allowed(ctx)
    store, subject = opened
    grant = facts.resource.address
    names = store if subject is None or store == grant else f"{store} (through {grant})"
    if facts.unreadable:
        yield Violation(
            category=Category.UNRESOLVED,
            message=f"Who {grant} lets reach {store} cannot be checked: {facts.unreadable}.",
            remediation=_UNREADABLE_FIX.get(facts.resource.source, "Write the policy statically (a literal document, "
                                            "jsonencode or data \"aws_iam_policy_document\" / \"google_iam_policy\"),"
                                            " or scan the plan."),
            subject=subject,
        )
    for reach in reaches(facts, ctx):
        v, g, actions = reach.verdict, reach.grant, list(reach.actions)
        if v.status == "ok":
            continue
        severity = graded(reach) if v.status != "public" else None  # public stays high whatever it grants
        write_only = " It can only deliver (write), so the finding is graded medium." if severity else ""
        what = ", ".join(actions[:5]) + (f" and {len(actions) - 5} more" if len(actions) > 5 else "")
        what = what or "unknown actions"
        where = f"{grant} {'; '.join(reach.statements)}".strip() + f", {_statement_at(facts.resource, g)}"
        if v.status == "unresolved":
            yield Violation(
                category=Category.UNRESOLVED,
                message=f"{names}: {v.who} is granted {what} ({where}) but cannot be placed: {v.reason}.{write_only}",
                remediation="Map the principal in the policy's principals: section (ids quoted), e.g. "
                + _MAP_HINT.get(g.cloud, "principals:") + ", or remove the grant.",
                provenance=where, line=g.line, file=g.file, subject=subject, severity=severity,
            )
        elif v.status == "public":
            yield Violation(
                category=Category.ACCESS,
                message=f"{names} is open to {v.who}: {what} ({where}), from anywhere, outside the allowed "
                f"locations ({allowed.describe()}).",
                remediation="Remove the public grant, or narrow it with a condition (aws:PrincipalOrgID, "
                "aws:SourceAccount) to principals the policy maps inside the allowed locations.",
                provenance=where, line=g.line, file=g.file, subject=subject,
            )
        else:
            place = v.place
            located = f", mapped to {place.describe()} ({place.source})" if place is not None else ""
            yield Violation(
                category=Category.ACCESS,
                message=f"{names}: {v.who}{located}, is granted {what} ({where}), outside the allowed "
                f"locations ({allowed.describe()}).{write_only}",
                remediation=f"Remove the grant or grant a principal in {allowed.describe()}; if the principal "
                "in fact sits there, correct its mapping in the policy's principals:.",
                country=sorted(place.countries)[0] if place is not None and place.countries else None,
                jurisdiction=sorted(place.jurisdictions)[0] if place is not None and place.jurisdictions else None,
                provenance=where, line=g.line, file=g.file, subject=subject, severity=severity,
            )


RULE = Rule(
    id="RES006",
    name="access-from-outside-allowed-locations",
    category=Category.ACCESS,
    severity=Severity.HIGH,
    summary="A resource policy or IAM grant lets a principal outside the allowed locations (or the public) reach "
    "a data store.",
    check=check,
    roles=("grant",),
    controls=(
        "NIST:PR.AA-05",
        "ISO27001:5.15",
        "ISO27001:8.3",
        "SOC2:CC6.1",
        "SOC2:CC6.3",
        "SOC2:CC6.6",
    ),
    doc=__doc__ or "",
    checkov_id="CKV_RES_6",
)
