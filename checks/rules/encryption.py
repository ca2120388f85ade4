"""RES003 encryption-below-minimum: a data store's encryption at rest is below the policy minimum.

What it checks
    The encryption at rest of every data store, as a level: ``none``, ``provider-managed`` (a key
    the cloud owns, including AWS-managed ``alias/aws/...`` keys) or ``customer-managed`` (your own
    KMS / Cloud KMS / Key Vault key, or a customer-supplied key). Real defaults count: RDS
    ``storage_encrypted`` and EFS ``encrypted`` default to false, ElastiCache Redis at-rest
    encryption defaults to off (Valkey on), Kinesis streams to ``NONE``, EBS volumes are
    unencrypted unless ``encrypted`` is set or ``aws_ebs_encryption_by_default`` is enabled for the
    region in the scan; S3 (since 2023), DynamoDB, Google Cloud and Azure Storage always encrypt.
    Separate resources are joined (``aws_s3_bucket_server_side_encryption_configuration``,
    ``azurerm_storage_account_customer_managed_key``). The level is compared with
    ``encryption.minimum``; an unknown setting is reported as unresolved.

Why it matters
    Residency controls assume that stored data is protected; an unencrypted replica or volume
    defeats key-based controls (revocation, crypto-shredding) and many regimes require encryption
    at rest outright. A ``customer-managed`` minimum keeps the key, and so access, under your control.

Example
    Failing::

        resource "aws_db_instance" "orders" {
          engine         = "postgres"
          instance_class = "db.t4g.micro"
          # storage_encrypted defaults to false
        }

    Fixed::

        resource "aws_db_instance" "orders" {
          engine            = "postgres"
          instance_class    = "db.t4g.micro"
          storage_encrypted = true
          kms_key_id        = aws_kms_key.eu.arn   # when the minimum is customer-managed
        }

How to fix
    Turn encryption at rest on (``storage_encrypted``, ``encrypted``, ``at_rest_encryption_enabled``,
    ``encrypt_at_rest { enabled = true }``, ``encryption_type = "KMS"``); when the policy requires
    ``customer-managed``, reference your own key (``kms_key_id``, ``default_kms_key_name``,
    ``customer_managed_key``, ``disk_encryption_set_id``).

Controls
    NIST CSF 2.0 PR.DS-01, PR.DS-11, GV.PO-01; ISO/IEC 27001:2022 8.24, 5.23, 5.34; SOC 2 CC6.1, C1.1.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.locate import unresolved_violation
from checks.rules.api import Rule, RuleContext
from scanner.model import AtLeast, Category, DataStoreFacts, Encryption, Severity, Unknown, Violation


def _remediation(facts: DataStoreFacts, minimum: Encryption) -> str:
    """Name the setting when the catalog knows it (``storage_encrypted = true``), else the generic step."""
    setting = facts.encryption_fix.get(minimum.value)
    if setting and facts.resource.source != "kubernetes":  # the hints are Terraform syntax
        return f"Set {setting} on {facts.resource.address} (at least {minimum.value} encryption at rest)."
    return f"To reach {minimum.value} encryption at rest, {_HOW[minimum]} on {facts.resource.address}."


def _no_default_fix(facts: DataStoreFacts, level: Unknown, minimum: Encryption) -> str | None:
    """The fix when the catalog grades the type ``default: unresolved``: nothing to set, so verify and waive.

    "Give the settings static values" would send the user looking for an argument that does not exist:
    the provider documents no at-rest default for the type, so only a person can check how the data is
    protected and record the decision as a waiver (README "Waivers and baselines"). None when the unknown
    comes from anything else (a variable, an AMI), where static values are the fix.
    """
    from checks.catalog.schema import UNRESOLVED  # lazy: start-up (rule ids are read to check a policy)
    from checks.catalog.types import load_catalog  # lazy: start-up (rule ids are read to check a policy)

    resource_type = facts.resource.type  # a translated operator kind carries its Terraform type here
    spec = load_catalog().spec(resource_type)
    if spec is None or spec.encryption.get("default") != UNRESOLVED:
        return None
    reason = spec.encryption.get("reason") or "no documented default"
    if level.reason != reason:
        return None
    inline = (
        "a `residency.io/ignore.RES003: 'reason=\"...\" expires=YYYY-MM-DD'` annotation"
        if facts.resource.source == "kubernetes"
        else "a `# residency:ignore RES003 reason=\"...\" expires=YYYY-MM-DD` comment on the resource"
    )
    return (
        f"The provider documents no at-rest encryption default for {resource_type} ({reason}), so there is "
        f"no setting to give a value: verify how {facts.resource.address} protects its data (the policy requires "
        f"at least {minimum.value}) and, if that is acceptable, waive this finding with a reason and an expiry "
        f"({inline}, or a policy `waivers:` entry; see the README's Waivers and baselines); or, if the type has "
        "one, choose a configuration that sets a key."
    )


_HOW = {
    Encryption.PROVIDER: "turn on encryption at rest",
    Encryption.CUSTOMER: "reference a customer-managed key (kms_key_id, default_kms_key_name, "
    "customer_managed_key, disk_encryption_set_id)",
}


def check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield one violation when the encryption level is below the minimum, or unknown."""
    level = facts.encryption
    if level is None:
        return
    minimum: Encryption = ctx.policy.encryption_minimum
    subject = facts.resource.address
    if isinstance(level, Unknown):
        if minimum is Encryption.NONE:
            return  # nothing is required, so not knowing cannot fail it
        if isinstance(level, AtLeast) and level.meets(minimum):
            return  # the key is unknown, but the store is encrypted at least as the policy asks
        yield unresolved_violation(
            f"the encryption at rest of {subject}",
            level.reason,
            _no_default_fix(facts, level, minimum)
            or f"Give the encryption settings static values; the policy requires at least {minimum.value}.",
        )
        return
    if level.rank >= minimum.rank:
        return
    found = "unencrypted at rest" if level is Encryption.NONE else f"encrypted with a {level.value} key"
    why = f" ({facts.encryption_source})" if facts.encryption_source else ""
    yield Violation(
        category=Category.ENCRYPTION,
        message=f"{subject} is {found}{why}; the policy requires at least {minimum.value} encryption.",
        remediation=_remediation(facts, minimum),
        provenance=facts.encryption_source,
    )


RULE = Rule(
    id="RES003",
    name="encryption-below-minimum",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    summary=(
        "A data store's encryption at rest is below the policy minimum "
        "(none < provider-managed < customer-managed)."
    ),
    check=check,
    roles=("data-store",),
    controls=(
        "NIST:PR.DS-01",
        "NIST:PR.DS-11",
        "NIST:GV.PO-01",
        "ISO27001:8.24",
        "ISO27001:5.23",
        "ISO27001:5.34",
        "SOC2:CC6.1",
        "SOC2:C1.1",
    ),
    doc=__doc__ or "",
    checkov_id="CKV_RES_3",
)
