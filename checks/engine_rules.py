"""Rules whose findings the engine makes itself: unreadable input, unresolvable input, bad waivers.

They have ids, docs and controls like every other rule so they can be documented, switched off,
re-graded and waived the same way; their ``check`` yields nothing because no data store triggers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanner.model import Category, DataStoreFacts, Severity, Violation

if TYPE_CHECKING:
    from checks import RuleContext

UNPARSEABLE_DOC = """RES900 unparseable-file: a file the scanner cannot read or parse.

What it checks
    Every Terraform, plan and Kubernetes file in the scan: a syntax error, invalid encoding, a binary
    file, a file over the size limit, an unreadable file or a link leading outside the repository.

Why it matters
    What was not read was not checked. A guardrail that passes a file it could not parse would let a
    data store in a forbidden region through on a typo, so the file itself becomes a finding (fail closed).

Example
    ``resource "aws_s3_bucket" "x" { bucket = }`` (a missing value) in ``main.tf``.

How to fix
    Fix the syntax (``terraform validate``, ``yamllint``), save the file as UTF-8, or exclude paths that
    are not infrastructure with ``exclude:`` in residency.yaml.

Controls
    NIST CSF 2.0 PR.PS-01; ISO/IEC 27001:2022 8.9; SOC 2 CC8.1.
"""

UNRESOLVED_DOC = """RES901 unresolved-input: an input the scanner cannot evaluate statically.

What it checks
    Module calls whose source is not local and has no ``.terraform/modules/modules.json``, module
    sources outside the repository, terragrunt directories, ``count``/``for_each`` over the expansion
    cap, module and reference cycles.

Why it matters
    The resources behind such an input are unknown: they could place data anywhere. Reporting the input
    keeps the scan fail-closed instead of silently checking only what it understood.

Example
    ``module "db" { source = "terraform-aws-modules/rds/aws" }`` scanned before ``terraform init``.

How to fix
    Run ``terraform init`` before the scan (so modules.json exists), or scan the rendered plan
    (``terraform show -json plan.bin``); keep module sources inside the repository.

Controls
    NIST CSF 2.0 PR.PS-01; ISO/IEC 27001:2022 8.9; SOC 2 CC8.1.
"""

INVALID_WAIVER_DOC = """RES902 invalid-waiver: a waiver that waives nothing.

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


def no_check(facts: DataStoreFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Engine rules are raised by the engine, never by a data store."""
    return iter(())


def engine_rules() -> dict[str, object]:
    """RES900-RES902, built lazily to avoid an import cycle with ``checks.Rule``."""
    from checks import Rule

    parse_controls = ("NIST:PR.PS-01", "ISO27001:8.9", "SOC2:CC8.1")
    return {
        "RES900": Rule("RES900", "unparseable-file", Category.PARSE, Severity.HIGH,
                       "A file that cannot be parsed is reported, never skipped: what was not read was not checked.",
                       no_check, roles=(), controls=parse_controls, doc=UNPARSEABLE_DOC),
        "RES901": Rule("RES901", "unresolved-input", Category.UNRESOLVED, Severity.HIGH,
                       "An input the scanner cannot evaluate statically (a remote module without modules.json, "
                       "a terragrunt directory, an expansion over the cap) is reported, never skipped.",
                       no_check, roles=(), controls=parse_controls, doc=UNRESOLVED_DOC),
        "RES902": Rule("RES902", "invalid-waiver", Category.WAIVER, Severity.MEDIUM,
                       "A waiver without a reason, with an unknown rule id, or past its expiry waives nothing.",
                       no_check, roles=(), controls=("NIST:ID.RA-07", "ISO27001:5.23", "SOC2:CC8.1"),
                       doc=INVALID_WAIVER_DOC),
    }
