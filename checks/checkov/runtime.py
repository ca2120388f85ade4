"""What the generated bootstrap calls inside checkov: check the environment, load the policy, register.

The bootstrap file in the checks directory (written by ``residency checkov-checks``) appends the
residency-guardrail installation to the END of ``sys.path`` and calls :func:`start`. checkov executes
every ``.py`` file of an external checks directory once per framework runner, so :func:`start` is
idempotent: the checks are created and registered once per process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checks.checkov.adapter import Judge, LoadKubernetes
from checks.checkov.policy_bundle import BundleError, load
from checks.checkov.selfcheck import SetupError, check_environment

_STARTED: dict[str, Any] = {}


def start(policy_file: str | Path, source_dir: str | None, load_kubernetes: LoadKubernetes | None) -> Judge:
    """Self-check, load the policy bundle, register the Terraform and Kubernetes checks (once)."""
    if "judge" in _STARTED:
        return _STARTED["judge"]
    try:
        check_environment(source_dir)
        policy = load(Path(policy_file))
    except (SetupError, BundleError) as exc:
        # checkov logs and skips an external check that raises an Exception; SystemExit stops the run,
        # so a broken set-up is never mistaken for a clean result.
        raise SystemExit(str(exc)) from None
    judge = Judge(policy)
    from checks.checkov import kubernetes, terraform

    terraform.register(judge)
    kubernetes.register(judge, load_kubernetes)
    _STARTED["judge"] = judge
    return judge
