"""Start-up checks inside checkov's process: fail clearly instead of judging with the wrong code.

checkov depends on ``bc-python-hcl2`` and residency-guardrail on ``python-hcl2``; both install a
top-level module ``hcl2``. Installing residency-guardrail's dependencies into checkov's
environment replaces checkov's parser with ours and breaks checkov's Terraform parsing in ways that
look like clean results. So before any check is registered we ask which distribution owns the
``hcl2`` that Python imports, and that our own packages are the ones on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata
from pathlib import Path

CHECKOV_HCL2 = "bc-python-hcl2"
OUR_HCL2 = "python-hcl2"


class SetupError(RuntimeError):
    """checkov's environment is not one the residency checks can run in; the message says how to fix it."""


def _owners(module_dir: Path) -> list[str]:
    """Distributions installed next to ``module_dir`` whose file list contains that top-level module.

    Distributions named like the module are asked first (one or two RECORD files instead of every
    one in the environment: this runs in each of checkov's runner processes).
    """
    name = module_dir.name
    infos = sorted(module_dir.parent.glob("*.dist-info"))
    likely = [p for p in infos if name in p.name.lower()]
    for group in (likely, [p for p in infos if p not in likely]):
        owners = []
        for info in group:
            dist = metadata.PathDistribution(info)
            top = (dist.read_text("top_level.txt") or "").split()
            if name in top or any(str(f).split("/", 1)[0] == name for f in dist.files or ()):
                owners.append(dist.metadata["Name"] or info.name)
        if owners:
            return owners
    return []


def hcl2_owner() -> str | None:
    """The distribution that owns the ``hcl2`` module Python would import, None when there is none."""
    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.submodule_search_locations:
        return None
    module_dir = Path(next(iter(spec.submodule_search_locations)))
    owners = _owners(module_dir)
    return owners[0] if len(owners) == 1 else (",".join(sorted(owners)) or "unknown")


def check_environment(source_dir: str | None = None) -> None:
    """Raise :class:`SetupError` unless checkov's hcl2, pyyaml and our packages are the ones imported."""
    problems = []
    owner = hcl2_owner()
    norm = (owner or "").lower().replace("_", "-")
    if owner is None:
        problems.append("the module hcl2 is missing: checkov needs bc-python-hcl2 (reinstall checkov in its "
                        "own environment: pip install checkov)")
    elif norm != CHECKOV_HCL2:
        problems.append(
            f"the module hcl2 comes from {owner}, not {CHECKOV_HCL2}: residency-guardrail's dependencies were "
            "installed into checkov's environment and replaced checkov's HCL parser. Recreate checkov's "
            "environment (python -m venv ... && pip install checkov) and keep residency-guardrail in its own "
            "(pipx install residency-guardrail); `residency checkov-checks` links the two"
        )
    if importlib.util.find_spec("yaml") is None:
        problems.append("the module yaml (pyyaml) is missing from checkov's environment")
    for package in ("checks", "scanner"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            problems.append(f"residency-guardrail's package {package!r} is not importable: regenerate the "
                            "checks directory with `residency checkov-checks`")
            continue
        found = Path(next(iter(spec.submodule_search_locations))).resolve()
        if source_dir is not None and found.parent != Path(source_dir).resolve():
            problems.append(f"the package {package!r} is imported from {found.parent}, not from the "
                            f"residency-guardrail installation {source_dir}: another package of that name "
                            "shadows it in checkov's environment")
    if problems:
        raise SetupError("residency-guardrail checks for checkov cannot start:\n  - " + "\n  - ".join(problems))


def environment_summary() -> str:
    """One line for debugging: which hcl2 and which python."""
    return f"hcl2 from {hcl2_owner()}, python {sys.version.split()[0]}"
