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
    Run ``terraform init -backend=false`` (or ``terraform get``) in the root before the scan, so
    ``.terraform/modules/modules.json`` exists (one finding per module call says which root), or scan the
    rendered plan (``terraform show -json plan.bin``); keep module sources inside the repository. A module
    that holds no data store can be listed in the policy's ``terraform.no_data_modules`` (its missing call
    becomes a note), and ``terraform.registry_modules: warn`` shows missing calls without blocking
    (pre-commit, where nobody ran init). Neither relaxes a data store that reads an unknown output of the
    missing module: its own finding still blocks.

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
