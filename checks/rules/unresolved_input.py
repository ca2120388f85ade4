"""RES901 unresolved-input: an input the scanner cannot evaluate statically.

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

from __future__ import annotations

from checks.rules.api import Rule, no_check
from scanner.model import Category, Severity

RULE = Rule(
    id="RES901",
    name="unresolved-input",
    category=Category.UNRESOLVED,
    severity=Severity.HIGH,
    summary=(
        "An input the scanner cannot evaluate statically (a remote module without modules.json, "
        "a terragrunt directory, an expansion over the cap) is reported, never skipped."
    ),
    check=no_check,
    roles=(),  # an engine rule: the engine makes its findings from load problems
    controls=("NIST:PR.PS-01", "ISO27001:8.9", "SOC2:CC8.1"),
    doc=__doc__ or "",
)
