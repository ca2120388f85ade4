"""Catalog families added for issue 15, end to end through `residency scan` and `residency inventory`.

Each fixture directory fixtures/terraform/catalog_<cloud>/ declares every new type once in a US region
(named ``us`` or ``*_us``) and once in an EU one (``eu`` / ``*_eu`` / ``provider_default``; others, such
as the primary of a US replica or a key, are neither). Under the bundled EU policy every US resource must be a
data-store row with a RES001 placement finding, and no EU resource may have any finding: a type the
catalog forgot would be a silent pass (no row, no finding).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

FAMILIES = sorted(p for p in (FIXTURES / "terraform").glob("catalog_*") if p.is_dir())
RESOURCE = re.compile(r'^resource "([a-z0-9_]+)" "([a-z0-9_]+)"', re.MULTILINE)


def _run(command: str, path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", command, "--policy", str(BUNDLED_POLICY), "--format", "json", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize("family", FAMILIES, ids=lambda p: p.name)
def test_us_declarations_fail_and_eu_declarations_pass(family) -> None:
    declared = [d for tf in sorted(family.glob("*.tf")) for d in RESOURCE.findall(tf.read_text())]
    assert declared, family
    addresses = {f"{t}.{n}" for t, n in declared}
    us = {a for a in addresses if a.endswith((".us", "_us"))}
    done = _run("scan", family)
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    placed = {f["resource"] for f in findings if f["rule_id"] == "RES001" and f["category"] == "placement"}
    assert us <= placed, sorted(us - placed)
    eu = {a for a in addresses if a.endswith((".eu", "_eu", ".provider_default"))}
    assert not {f["resource"] for f in findings} & eu, "an EU declaration got a finding"

    inventory = _run("inventory", family)
    assert inventory.returncode == 0, inventory.stderr
    rows = {row["address"] for row in json.loads(inventory.stdout)["data_stores"]}
    assert us | eu <= rows, sorted(us | eu - rows)
