"""RES900 unparseable-file: a file the scanner cannot read or parse.

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

from __future__ import annotations

from checks.rules.api import Rule, no_check
from scanner.model import Category, Severity

RULE = Rule(
    id="RES900",
    name="unparseable-file",
    category=Category.PARSE,
    severity=Severity.HIGH,
    summary="A file that cannot be parsed is reported, never skipped: what was not read was not checked.",
    check=no_check,
    roles=(),  # an engine rule: the engine makes its findings from load problems
    controls=("NIST:PR.PS-01", "ISO27001:8.9", "SOC2:CC8.1"),
    doc=__doc__ or "",
)
