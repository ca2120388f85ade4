"""The judged-result cache per unit (scanner/results.py): a warm scan answers from it, exactly.

Every input that shapes a unit's result, changed alone, re-judges that unit (a miss) and only the
units it reaches; a warm scan, a cold one and a --no-cache one give the same report; a forged,
copied or wrong-shaped entry is a miss, never a result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from scanner import engine, results
from scanner.cache import ParseCache
from tests.test_cli import run

REPO = Path(__file__).resolve().parent.parent
EU = ["--allowed-regions", "in:eu-locations"]

STACK = '''
variable "region" {}
provider "aws" {
  region = var.region
}
module "store" {
  source = "../../modules/store"
  name   = "%s"
}
'''
MODULE = '''
variable "name" {}
resource "aws_s3_bucket" "this" {
  bucket = "${var.name}-data"
}
'''
MANIFEST = '''apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: ebs.csi.aws.com
allowedTopologies:
  - matchLabelExpressions:
      - key: topology.ebs.csi.aws.com/zone
        values: ["%s"]
'''


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two roots sharing a module, one with a var file elsewhere in the repo, and a manifest."""
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    _write(root / "stacks" / "a" / "main.tf", STACK % "alpha")
    _write(root / "stacks" / "a" / "terraform.tfvars", 'region = "eu-west-1"\n')
    _write(root / "stacks" / "b" / "main.tf", STACK % "beta")
    _write(root / "stacks" / "b" / "terraform.tfvars", 'region = "eu-west-1"\n')
    _write(root / "modules" / "store" / "main.tf", MODULE)
    _write(root / "k8s" / "storage.yaml", MANIFEST % "eu-west-1a")
    _write(tmp_path / "vars" / "extra.tfvars", 'region = "eu-west-1"\n')  # outside the scanned tree
    return root


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """How many units of each kind the engine judged (a cached unit is not judged)."""
    seen: Counter = Counter()
    original = engine._Judge.__call__

    def spy(self, load, kind="other", root_dir=None, file_names=None, keyed=False):  # type: ignore[no-untyped-def]
        if kind != "other":
            seen[root_dir or kind] += 1
        return original(self, load, kind, root_dir, file_names, keyed)

    monkeypatch.setattr(engine._Judge, "__call__", spy)
    return seen


def _scan(root: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = run(["scan", str(root), *EU, "--format", "json", *extra], cwd=root)
    assert code in (0, 1), err
    return code, json.loads(out)


def _warm(root: Path, judged: Counter, *extra: str) -> dict:
    """Scan twice (the first fills the cache); the second must judge nothing."""
    _scan(root, *extra)
    judged.clear()
    _, report = _scan(root, *extra)
    assert not judged, judged
    return report


def test_warm_scan_judges_nothing_and_equals_cold_and_no_cache(repo: Path, judged: Counter) -> None:
    _, cold = _scan(repo)
    assert set(judged) == {"stacks/a", "stacks/b", "kubernetes"}
    judged.clear()
    _, warm = _scan(repo)
    assert not judged
    _, uncached = _scan(repo, "--no-cache")
    assert cold == warm == uncached
    assert cold["summary"]["data_stores"] == 3 and cold["summary"]["files"] == 6


_IMPORTED = """
import sys
from scanner.cli import main
code = main(sys.argv[1:])
heavy = ("scanner.loaders.terraform", "scanner.loaders.hcl_parse", "lark", "checks.catalog", "checks.kubernetes")
print(code, [m for m in heavy if m in sys.modules])
"""


def test_a_warm_scan_loads_no_terraform_loader_and_no_catalog(repo: Path) -> None:
    """A scan answered from the cache judges nothing, so it imports neither the HCL parser nor the
    catalog (most of a one-file pre-commit scan's start-up): the second warm run answers from the
    stored plan of roots. Findings still come with their rule descriptions (the registry is light)."""
    _write(repo / "stacks" / "a" / "terraform.tfvars", 'region = "us-east-1"\n')  # a finding to describe
    args = [sys.executable, "-c", _IMPORTED, "scan", "stacks/a/main.tf", *EU, "--format", "sarif=out.sarif"]
    outs = [subprocess.run(args, cwd=repo, capture_output=True, text=True, check=False) for _ in range(3)]
    assert [o.stdout.split(" ", 1)[0] for o in outs] == ["1", "1", "1"], [o.stderr for o in outs]
    assert "scanner.loaders.terraform" in outs[0].stdout  # cold: loaded and judged
    assert outs[2].stdout.strip() == "1 []"
    (sarif_run,) = json.loads((repo / "out.sarif").read_text())["runs"]
    described = {r["id"]: r["fullDescription"]["text"] for r in sarif_run["tool"]["driver"]["rules"]}
    assert sarif_run["results"] and set(described) == {r["ruleId"] for r in sarif_run["results"]}
    assert all(described.values())


def test_fixtures_warm_equals_cold_equals_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    args = ["scan", "fixtures", "--policy", "fixtures/residency.yaml", "--format", "json"]
    # cold; warm (the graph of modules from the cache, the plan of roots stored); warm from the stored plan
    outs = [run(args, cwd=REPO)[1] for _ in range(3)] + [run([*args, "--no-cache"], cwd=REPO)[1]]
    assert outs[0] == outs[1] == outs[2] == outs[3]
    assert json.loads(outs[0])["findings"]


@pytest.mark.parametrize("edit, expected", [
    (lambda r: _write(r / "stacks" / "a" / "main.tf", STACK % "gamma"), {"stacks/a"}),
    (lambda r: _write(r / "stacks" / "a" / "terraform.tfvars", 'region = "us-east-1"\n'), {"stacks/a"}),
    (lambda r: _write(r / "stacks" / "a" / "extra.auto.tfvars", 'region = "us-east-1"\n'), {"stacks/a"}),
    (lambda r: _write(r / "modules" / "store" / "main.tf", MODULE + "# edited\n"), {"stacks/a", "stacks/b"}),
    (lambda r: _write(r / "modules" / "store" / "more.tf", 'resource "aws_sqs_queue" "q" {}\n'),
     {"stacks/a", "stacks/b"}),
    (lambda r: _write(r / "k8s" / "storage.yaml", MANIFEST % "us-east-1a"), {"kubernetes"}),
    (lambda r: _write(r / "k8s" / "more.yaml", MANIFEST % "eu-west-1b"), {"kubernetes"}),
])
def test_a_changed_file_re_judges_exactly_the_units_it_reaches(repo: Path, judged: Counter, edit, expected) -> None:
    _warm(repo, judged)
    edit(repo)
    _, after = _scan(repo)
    assert set(judged) == expected
    _, uncached = _scan(repo, "--no-cache")
    assert after == uncached


def test_a_new_caller_makes_a_root_a_module(repo: Path, judged: Counter) -> None:
    _warm(repo, judged)
    _write(repo / "stacks" / "c" / "main.tf", 'module "a" {\n  source = "../a"\n}\n')
    _, after = _scan(repo)
    assert "stacks/c" in judged and "stacks/a" not in judged  # a is evaluated through c now
    assert after == _scan(repo, "--no-cache")[1]


@pytest.mark.parametrize("options", [
    ["--fail-on", "high"],
    ["--max-file-size", "2MB"],
    ["--var", "region=us-east-1"],
    ["--var-file", "../vars/extra.tfvars"],
    ["--cluster-region", "us-east-1"],
])
def test_an_option_re_judges_every_unit(repo: Path, judged: Counter, options: list[str]) -> None:
    _warm(repo, judged)
    _scan(repo, *options)
    assert set(judged) == {"stacks/a", "stacks/b", "kubernetes"}
    judged.clear()
    _scan(repo, *options)
    assert not judged  # and is itself cached under its own key


def test_var_file_content_and_policy_and_code_are_in_every_key(repo: Path, judged: Counter,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _warm(repo, judged, "--var-file", "../vars/extra.tfvars")
    _write(repo.parent / "vars" / "extra.tfvars", 'region = "us-east-2"\n')
    _, report = _scan(repo, "--var-file", "../vars/extra.tfvars")
    assert set(judged) == {"stacks/a", "stacks/b", "kubernetes"}
    assert "us-east-2" in json.dumps(report["findings"])

    policy = repo / "residency.yaml"
    policy.write_text("version: 1\nallowed_regions:\n  - in:eu-locations\n")
    _, out, _ = run(["scan", str(repo), "--format", "json"], cwd=repo)
    judged.clear()
    assert run(["scan", str(repo), "--format", "json"], cwd=repo)[1] == out and not judged
    policy.write_text("version: 1\nallowed_regions:\n  - in:eu-locations\n  - us-east-1\n")
    run(["scan", str(repo), "--format", "json"], cwd=repo)
    assert set(judged) == {"stacks/a", "stacks/b", "kubernetes"}

    judged.clear()
    monkeypatch.setattr(results, "code_fingerprint", lambda: "another scanner")
    _scan(repo)
    assert set(judged) == {"stacks/a", "stacks/b", "kubernetes"}


def test_forged_copied_or_wrong_shaped_entries_are_misses(repo: Path, judged: Counter, tmp_path: Path) -> None:
    good = _warm(repo, judged)
    entries = sorted((tmp_path / "cache").rglob("*.pickle"))
    cache = ParseCache(tmp_path / "cache")
    for shape in (None, ("x",), ([], [], "not a unit"), ([("a", "b")], [], results.UnitResult("terraform"))):
        for entry in entries:
            cache.put(entry.stem, shape)  # a valid digest, the wrong shape (or an empty result)
        judged.clear()
        _, report = _scan(repo)
        if shape is not None and len(shape) == 3 and isinstance(shape[2], results.UnitResult):
            # an empty but well-shaped unit whose recorded input ("a") does not exist: re-hashed, a miss
            assert set(judged) >= {"stacks/a", "stacks/b"}
        assert report == good
    for entry in sorted((tmp_path / "cache").rglob("*.pickle")):
        raw = bytearray(entry.read_bytes())
        raw[-1] ^= 1  # tampered payload: the keyed digest no longer matches
        entry.write_bytes(bytes(raw))
    judged.clear()
    assert _scan(repo)[1] == good and set(judged) == {"stacks/a", "stacks/b", "kubernetes"}


def test_an_entry_made_before_a_waiver_expired_is_not_reused_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   judged: Counter) -> None:
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "w"
    (root / ".git").mkdir(parents=True)
    _write(root / "main.tf", 'provider "aws" {\n  region = "us-east-1"\n}\n'
           '# residency:ignore RES001 reason="migrating" expires=2030-01-01\n'
           'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    _write(root / "residency.yaml", "version: 1\nallowed_regions:\n  - in:eu-locations\n")
    policy = load_policy(root / "residency.yaml")

    def findings(day: date) -> list[tuple[str, bool]]:
        report = scan(ScanOptions(paths=[root], cwd=root, today=day), policy)
        return [(f.rule_id, f.waiver is not None) for f in report.findings]

    assert findings(date(2029, 12, 30)) == [("RES001", True)]
    judged.clear()
    assert findings(date(2029, 12, 31)) == [("RES001", True)] and not judged  # same side of the expiry
    assert ("RES001", False) in findings(date(2030, 1, 2)) and judged  # expired: judged again


def test_a_module_dir_that_is_a_root_too_is_reported_once_warm_and_cold(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         judged: Counter) -> None:
    """The caller's copy of a standalone module dir is dropped against the dir's own result, cached or not."""
    from tests.test_faults import EXAMPLE, PROVIDER, _mysql_ha

    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    repo = _mysql_ha(tmp_path)
    example = repo / EXAMPLE / "main.tf"
    with example.open("a") as fh:
        fh.write(PROVIDER)

    def scans() -> list[str]:
        args = ["scan", ".", *EU, "--format", "json"]
        return [run(args, cwd=repo)[1], run(args, cwd=repo)[1], run([*args, "--no-cache"], cwd=repo)[1]]

    cold, warm, uncached = scans()
    assert cold == warm == uncached and "is a root of its own" in cold
    example.write_text(example.read_text().replace('"us-central1-', '"europe-west1-'))  # the dir's own values change
    judged.clear()
    cold, warm, uncached = scans()
    assert cold == warm == uncached
    assert {"examples/mysql-ha", "test/fixtures/mysql-ha"} <= set(judged)  # both re-judged: the caller reads it


def test_a_manifest_that_stands_alone_is_a_unit_of_its_own(repo: Path, judged: Counter) -> None:
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
                  "    spec:\n      nodeSelector:\n        topology.kubernetes.io/region: %s\n")
    _write(repo / "k8s" / "web.yaml", deployment % "eu-west-1")
    _write(repo / "k8s" / "api.yaml", deployment.replace("web", "api") % "eu-west-1")
    _warm(repo, judged)
    _write(repo / "k8s" / "web.yaml", deployment % "us-east-1")
    _, after = _scan(repo)
    assert judged == Counter({"kubernetes": 1})  # web.yaml alone, not api.yaml nor the StorageClass's unit
    assert after == _scan(repo, "--no-cache")[1]
    assert any(f["file"] == "k8s/web.yaml" for f in after["findings"])
    judged.clear()
    _write(repo / "k8s" / "storage.yaml", MANIFEST % "us-east-1a")
    _scan(repo)
    assert judged == Counter({"kubernetes": 1})  # the shared unit only
