"""RES004 encryption-key-outside-allowed-regions: a customer-managed key lives outside the allowed regions.

What it checks
    Every customer-managed key that protects a data store (``kms_key_id = aws_kms_key.x.arn``, a KMS
    key ARN, a Cloud KMS key name, a Key Vault key), located through the key resource in the scan
    (AWS KMS key region, Cloud KMS key ring location, Key Vault location) or the region in its ARN
    or name; and every key resource itself (``aws_kms_key``, ``aws_kms_replica_key``,
    ``google_kms_key_ring``, ``azurerm_key_vault``), since a key exists to protect data. A key whose
    location cannot be told is reported as unresolved.

Why it matters
    Whoever controls the key controls the data: a key held in another jurisdiction puts decryption,
    and the key material's legal exposure, there even when the data itself stays in the EU. Many
    residency commitments (and EU cloud sovereignty schemes) require the key in the same
    jurisdiction as the data.

Example
    Failing::

        resource "aws_kms_key" "data" {
          provider = aws.virginia          # us-east-1
        }
        resource "aws_s3_bucket_server_side_encryption_configuration" "docs" {
          bucket = aws_s3_bucket.docs.id
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm     = "aws:kms"
              kms_master_key_id = aws_kms_key.data.arn
            }
          }
        }

    Fixed::

        resource "aws_kms_key" "data" {
          region = "eu-central-1"
        }

How to fix
    Create the key (or key ring, or Key Vault) in an allowed region, ideally the data store's own,
    and reference that key; for replicas, use a replica key in the replica's (allowed) region.

Controls
    NIST CSF 2.0 PR.DS-01, GV.OC-03; ISO/IEC 27001:2022 8.24, 5.23; SOC 2 CC6.1.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.locate import location_violations, store_product, suggestion
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, DataStoreFacts, Severity, Violation


def _remediation(ctx: RuleContext, cloud: str) -> str:
    example = suggestion(ctx, cloud)
    eg = f" (e.g. {example})" if example else ""
    return (
        f"Create the key in a region allowed by the policy ({ctx.allowed.describe()}){eg}, preferably the "
        "data store's own, and reference that key."
    )


def check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield a violation per key (used by a data store, or a key resource itself) outside the allowed set."""
    subject = facts.resource.address
    if facts.role == "key":
        if facts.location is not None:
            yield from location_violations(
                facts.location, ctx, category=Category.PLACEMENT,
                subject=f"Encryption key {subject}",
                unresolved_subject=f"the location of key {subject}",
                unresolved_fix="Give the key's region/location a static value in an allowed region.",
                remediation=_remediation(ctx, facts.cloud),
                product=store_product(facts),
            )
        return
    seen: set[str] = set()
    for use in facts.keys:
        if use.location is None or use.reference in seen:
            continue
        seen.add(use.reference)
        yield from location_violations(
            use.location, ctx, category=Category.PLACEMENT,
            subject=f"The key {use.reference} protecting {subject} ({use.via})",
            unresolved_subject=f"the key {use.reference} protecting {subject} ({use.via})",
            unresolved_fix="Declare the key in the scanned configuration or reference it by ARN / full "
            "resource name, in an allowed region.",
            remediation=_remediation(ctx, facts.cloud),
            product=store_product(facts),
        )


RULE = Rule(
    id="RES004",
    name="encryption-key-outside-allowed-regions",
    category=Category.PLACEMENT,
    severity=Severity.HIGH,
    summary="A customer-managed key protecting data is held in a region the policy does not allow.",
    check=check,
    roles=("data-store", "key"),
    controls=("NIST:PR.DS-01", "NIST:GV.OC-03", "ISO27001:8.24", "ISO27001:5.23", "SOC2:CC6.1"),
    doc=__doc__ or "",
    checkov_id="CKV_RES_4",
)
