"""RES902 invalid-waiver: a waiver that waives nothing.

What it checks
    Inline ``residency:ignore`` comments, ``residency.io/ignore.*`` annotations and policy ``waivers:``
    entries: each needs a known rule id, a reason, and an expiry date that has not passed.

Why it matters
    Exceptions are part of the audit trail: an exception without a reason cannot be assessed, and one
    past its expiry is an exception nobody re-approved. Such a waiver is reported and does not apply.

Example
    ``# residency:ignore RES001 expires=2026-01-31`` (no reason) above a resource block.

How to fix
    Write ``# residency:ignore RES001 reason="why this is accepted" expires=YYYY-MM-DD``, renew an
    expired waiver after review, or fix the resource and delete the waiver.

Controls
    NIST CSF 2.0 ID.RA-07; ISO/IEC 27001:2022 5.23; SOC 2 CC8.1.
"""

from __future__ import annotations

from checks.rules.api import Rule, no_check
from scanner.model import Category, Severity

RULE = Rule(
    id="RES902",
    name="invalid-waiver",
    category=Category.WAIVER,
    severity=Severity.MEDIUM,
    summary="A waiver without a reason, with an unknown rule id, or past its expiry waives nothing.",
    check=no_check,
    roles=(),  # an engine rule: the engine makes its findings from the waivers it reads
    controls=("NIST:ID.RA-07", "ISO27001:5.23", "SOC2:CC8.1"),
    doc=__doc__ or "",
)
