"""A checkov of its own for the tests: ``<repo>/.venv-checkov`` with ``checkov==3.3.30``, made once and reused.

checkov's bc-python-hcl2 and our python-hcl2 install the same module ``hcl2``, so checkov never goes
into the test environment: it gets a virtual environment of its own, created here on first use and
reused while ``checkov --version`` answers the pinned version. A file lock keeps parallel test runs
(pytest-xdist workers, two checkouts' CI) from building it at the same time. Only PyPI is needed.

    python -m tests.checkov_venv        # create or check it, print the checkov path and how long it took
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHECKOV_VERSION = "3.3.30"
VENV = Path(os.environ.get("RESIDENCY_CHECKOV_VENV", REPO / ".venv-checkov"))
#: checkov makes no network call at start with these (and --skip-download on the command line).
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
INSTALL_TIMEOUT = 1800


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def checkov_env() -> dict[str, str]:
    """The environment for running checkov: offline switches on, our PYTHONPATH off."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(OFFLINE_ENV)
    return env


def installed_version(venv: Path = VENV) -> str | None:
    """The version ``checkov --version`` prints, None when it is missing or broken."""
    exe = _bin(venv, "checkov")
    if not exe.exists():
        return None
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=300,
                             env=checkov_env(), check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[-1].strip() if out.returncode == 0 and lines else None


@contextmanager
def _locked(path: Path):  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(venv: Path = VENV) -> Path:
    """The path of a working ``checkov`` executable of the pinned version, installing it when needed."""
    with _locked(venv.parent / f"{venv.name}.lock"):
        if installed_version(venv) == CHECKOV_VERSION:
            return _bin(venv, "checkov")
        if venv.exists():
            shutil.rmtree(venv)  # half-made or another version: start clean
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT)
        pip = [str(_bin(venv, "python")), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, f"checkov=={CHECKOV_VERSION}"], check=True, timeout=INSTALL_TIMEOUT,
                       env=checkov_env())
        found = installed_version(venv)
        if found != CHECKOV_VERSION:
            raise RuntimeError(f"checkov in {venv} reports {found!r} after installing {CHECKOV_VERSION}")
        return _bin(venv, "checkov")


def main() -> int:
    start = time.monotonic()
    exe = ensure()
    print(f"{exe} (checkov {CHECKOV_VERSION}) ready in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
