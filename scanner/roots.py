"""What names a Terraform root and what the policy says about it, without the HCL machinery.

The result cache (scanner/results.py) keys each root's judged result on these before deciding
whether the root needs loading at all, so a warm scan can answer without importing the Terraform
loader and its parser (python-hcl2's lark grammar). :mod:`scanner.loaders.terraform` re-exports them;
they live outside ``scanner.loaders`` because the checkov adapter's process imports no loader.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

POLICY_ROOT_SOURCE = "policy terraform.roots (residency.yaml)"


@dataclass
class RootContext:
    """What the policy says about one root module (``terraform.roots`` in residency.yaml).

    ``region`` stands in for an AWS/Google provider that has no ``region`` argument (the region
    comes from the pipeline's environment); ``var_files`` are loaded after the auto-loaded tfvars
    (relative paths are taken from the scan root).
    """

    region: str | None = None
    var_files: list[Path] = field(default_factory=list)
    source: str = POLICY_ROOT_SOURCE


def rel_name(path: Path, scan_root: Path) -> str:
    """The name a file is known by: root-relative with '/', as in findings and in parse-cache keys."""
    try:
        r = os.path.relpath(path, scan_root)
    except ValueError:
        return path.as_posix()
    return "." if r == "." else r.replace(os.sep, "/")
