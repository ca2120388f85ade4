"""What the generated bootstrap calls inside checkov: check the environment, load the policy, register.

The bootstrap file in the checks directory (written by ``residency checkov-checks``) appends the
residency-guardrail installation to the END of ``sys.path`` and calls :func:`start`. checkov executes
every ``.py`` file of an external checks directory once per framework runner, so :func:`start` is
idempotent: the checks are created and registered once per process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from scanner.checkov.adapter import Judge, LoadKubernetes
from scanner.checkov.policy_bundle import BundleError, load
from scanner.checkov.selfcheck import SetupError, check_environment

_STARTED: dict[str, Any] = {}


def stop(message: str) -> None:
    """End checkov with exit code 2 (1 would read as "checks failed").

    checkov logs and skips an external check module that raises an Exception; SystemExit is not one,
    so a broken set-up stops the run instead of passing for a clean result.
    """
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(2)


def start(policy_file: str | Path, source_dir: str | None, load_kubernetes: LoadKubernetes | None) -> Judge:
    """Self-check, load the policy bundle, register the Terraform and Kubernetes checks (once)."""
    if "judge" in _STARTED:
        return _STARTED["judge"]
    try:
        check_environment(source_dir)
        policy = load(Path(policy_file))
    except (SetupError, BundleError) as exc:
        stop(str(exc))
    judge = Judge(policy)
    from scanner.checkov import kubernetes, terraform  # lazy: start-up (they import checkov itself)

    terraform.register(judge)
    kubernetes.register(judge, load_kubernetes)
    _STARTED["judge"] = judge
    return judge
