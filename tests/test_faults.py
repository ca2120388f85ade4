"""Fault injection: each fail-open path found under faults (issue 17), repeated, with the behaviour it must have now.

A guardrail must never pass a violation or go green on nothing: every fault here ends in a finding,
a usage error or a cache miss, never exit 0 on a blocking input and never a crash.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from scanner.cache import ParseCache
from tests.test_cli import run

US_BY_VAR = """
variable "region" {}

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "uploads" {
  bucket = "uploads"
}
"""

EU = ["--allowed-regions", "in:eu-locations"]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(directory))
    return directory


def _repo(base: Path, files: dict[str, str]) -> Path:
    (base / ".git").mkdir(parents=True)
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    return base


# --- finding 1: a --var-file outside the scan root is keyed by its content ------------------------


def test_var_file_outside_root_edit_is_not_served_from_cache(tmp_path: Path, cache_dir: Path) -> None:
    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR})
    var_file = tmp_path / "elsewhere" / "prod.tfvars"
    var_file.parent.mkdir()
    var_file.write_text('region = "eu-west-1"\n')
    args = ["scan", str(repo), "--var-file", str(var_file), *EU]
    assert run(args, cwd=tmp_path)[0] == 0
    var_file.write_text('region = "us-east-1"\n')  # same size as before
    code, out, _ = run(args, cwd=tmp_path)
    assert code == 1 and "us-east-1" in out
    assert run([*args, "--no-cache"], cwd=tmp_path)[0] == 1


# --- finding 5: entries carry a keyed digest and are schema-checked ---------------------------------


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.pickle"))


def _forge_public(path: Path, payload: bytes) -> None:
    """What anyone could write before: the magic, a public checksum of the payload, the payload."""
    from scanner import cache

    path.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)


def test_forged_entries_with_a_public_checksum_are_misses(tmp_path: Path, cache_dir: Path) -> None:
    from scanner.model import LoadResult

    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR.replace("var.region", '"us-east-1"')})
    args = ["scan", str(repo), *EU]
    assert run(args, cwd=tmp_path)[0] == 1
    empty_load = pickle.dumps(([], LoadResult()))
    for entry in _entries(cache_dir):
        _forge_public(entry, empty_load)
    code, out, _ = run(args, cwd=tmp_path)
    assert code == 1 and "us-east-1" in out


def test_wrong_shaped_entries_with_a_valid_digest_are_misses(tmp_path: Path, cache_dir: Path) -> None:
    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR.replace("var.region", '"us-east-1"'),
                                     "k8s.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"})
    args = ["scan", str(repo), *EU]
    assert run(args, cwd=tmp_path)[0] == 1
    cache = ParseCache(cache_dir)
    entries = _entries(cache_dir)
    assert len(entries) >= 3  # the .tf parse, the YAML parse, the whole load
    for shape in ({"x": 1}, ("ok",), (("a", "b"), None), None):
        for entry in entries:
            cache.put(entry.stem, shape)
        code, out, err = run(args, cwd=tmp_path)
        assert code == 1 and "us-east-1" in out, (shape, err)


def test_entry_copied_to_another_key_or_cache_is_a_miss(tmp_path: Path) -> None:
    first = ParseCache(tmp_path / "a")
    key_a, key_b = first.key("hcl:a.tf", b"a"), first.key("hcl:b.tf", b"b")
    first.put(key_a, {"value": "a"})
    assert first.get(key_a) == {"value": "a"}
    target = first._path(key_b)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(first._path(key_a).read_bytes())
    assert first.get(key_b) is None  # the digest covers the key it was written under
    other = ParseCache(tmp_path / "b")
    other.put(key_b, {"value": "b"})  # creates the other cache's own secret
    copy = other._path(key_a)
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(first._path(key_a).read_bytes())
    assert other.get(key_a) is None  # made with another cache's secret


def test_secret_is_private_and_a_damaged_one_is_replaced(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "c")
    key = cache.key("k", b"v")
    cache.put(key, [1])
    secret = tmp_path / "c" / "key"
    assert secret.stat().st_mode & 0o077 == 0 and len(secret.read_bytes()) == 32
    secret.write_bytes(b"short")
    fresh = ParseCache(tmp_path / "c")
    assert fresh.get(key) is None  # a new secret: old entries are misses
    fresh.put(key, [2])
    assert ParseCache(tmp_path / "c").get(key) == [2]


def test_max_file_size_is_part_of_the_load_key(tmp_path: Path, cache_dir: Path) -> None:
    big = US_BY_VAR.replace("var.region", '"eu-west-1"') + "# padding\n" * 300  # about 3 KB
    repo = _repo(tmp_path / "repo", {"main.tf": big})
    args = ["scan", str(repo), *EU]
    code, out, _ = run([*args, "--max-terraform-size", "1KB"], cwd=tmp_path)
    assert code == 1 and "1 KB limit" in out
    code, out, _ = run([*args, "--max-terraform-size", "2KB"], cwd=tmp_path)
    assert code == 1 and "2 KB limit" in out and "1 KB limit" not in out


def test_policy_edit_changes_the_load_key(tmp_path: Path, cache_dir: Path) -> None:
    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR,
                                     "residency.yaml": _policy("eu-west-1"),
                                     "vars/eu.tfvars": 'region = "eu-west-1"\n',
                                     "vars/us.tfvars": 'region = "us-east-1"\n'})
    assert run(["scan", str(repo)], cwd=repo)[0] == 0
    (repo / "residency.yaml").write_text(_policy("us-east-1"))
    assert run(["scan", str(repo)], cwd=repo)[0] == 1


def _policy(region: str) -> str:
    name = "eu" if region.startswith("eu") else "us"
    return (f"version: 1\nallowed_regions:\n  - in:eu-locations\nterraform:\n  roots:\n    - paths: ['.']\n"
            f"      var_files: [vars/{name}.tfvars]\n")


# --- findings 2 and 3: nothing to scan is a parse finding, never a silent pass --------------------


@pytest.mark.parametrize("stdin", [b"", b"\n  \n", b"# helm failed\n", b"---\n---\n", b"foo: bar\n"])
def test_stdin_with_nothing_to_scan_is_a_parse_finding(tmp_path: Path, stdin: bytes) -> None:
    code, out, _ = run(["scan", "-", *EU], cwd=tmp_path, stdin=stdin)
    assert code == 1 and "RES900" in out and "standard input" in out


def test_stdin_with_an_object_is_scanned_as_before(tmp_path: Path) -> None:
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    code, out, _ = run(["scan", "-", *EU], cwd=tmp_path, stdin=manifest)
    assert code == 0 and "RES900" not in out


STATE = ('{"format_version":"1.0","terraform_version":"1.11.0","values":{"root_module":{"resources":'
         '[{"address":"aws_s3_bucket.b","type":"aws_s3_bucket","values":{"region":"us-east-1"}}]}}}')


@pytest.mark.parametrize(("text", "expected"), [
    ("", "is empty"),
    ("\n", "is empty"),
    (STATE, "terraform show -json plan.bin"),
    ('{"format_version":"1.0"}', "Terraform state"),
    ('{"name": "package", "version": "1.0"}', "not a Terraform plan"),
])
def test_named_json_with_nothing_to_scan_is_a_parse_finding(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "plan.json").write_text(text)
    code, out, _ = run(["scan", "plan.json", *EU], cwd=tmp_path)
    assert code == 1 and "RES900" in out and expected in out


def test_state_on_stdin_is_a_parse_finding(tmp_path: Path) -> None:
    code, out, _ = run(["scan", "-", *EU], cwd=tmp_path, stdin=STATE.encode())
    assert code == 1 and "RES900" in out and "plan" in out


def test_json_found_in_a_walk_is_still_ignored(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / "main.tf").write_text(US_BY_VAR.replace("var.region", '"eu-west-1"'))
    assert run(["scan", ".", *EU], cwd=tmp_path)[0] == 0


def test_named_binary_plan_is_a_parse_finding(tmp_path: Path) -> None:
    (tmp_path / "plan.bin").write_bytes(b"PK\x03\x04binary")
    code, out, _ = run(["scan", "plan.bin", *EU], cwd=tmp_path)
    assert code == 1 and "terraform show -json" in out


# --- finding 6: output errors and missing paths are usage errors, never exit 3 or a partial file ----


def test_output_to_a_missing_directory_is_exit_2_without_a_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(US_BY_VAR.replace("var.region", '"us-east-1"'))
    code, _out, err = run(["scan", ".", *EU, "--format", "json=missing/dir/scan.json"], cwd=tmp_path)
    assert code == 2 and "missing/dir/scan.json" in err and len(err.strip().splitlines()) == 1
    assert "internal error" not in err and not (tmp_path / "missing").exists()


def test_output_to_a_read_only_directory_is_exit_2(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    (tmp_path / "main.tf").write_text(US_BY_VAR.replace("var.region", '"us-east-1"'))
    out_dir = tmp_path / "ro"
    out_dir.mkdir(mode=0o500)
    code, _out, err = run(["scan", ".", *EU, "-o", "ro/scan.sarif", "--format", "sarif"], cwd=tmp_path)
    assert code == 2 and "cannot write" in err and list(out_dir.iterdir()) == []


def test_disk_full_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import io

    import scanner.output as output

    (tmp_path / "main.tf").write_text(US_BY_VAR.replace("var.region", '"us-east-1"'))
    (tmp_path / "scan.json").write_text("previous report\n")
    def full(fh: io.BufferedWriter, data: bytes) -> None:
        fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "_write", full)
    code, _out, err = run(["scan", ".", *EU, "--format", "json=scan.json"], cwd=tmp_path)
    assert code == 2 and "No space left on device" in err
    assert (tmp_path / "scan.json").read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.tf", "scan.json"]


def test_full_standard_output_is_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    (tmp_path / "main.tf").write_text(US_BY_VAR.replace("var.region", '"us-east-1"'))
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", ".", *EU, "--no-cache"], cwd=tmp_path,
                              stdout=full, stderr=subprocess.PIPE, text=True, env=_env())
    assert proc.returncode == 2, proc.stderr
    assert "cannot write standard output" in proc.stderr and "internal error" not in proc.stderr


def _env() -> dict[str, str]:
    import os

    from tests.conftest import REPO

    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_nonexistent_scan_path_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run(["scan", "no/such/dir", *EU], cwd=tmp_path)
    assert code == 2 and "no such file or directory: no/such/dir" in err and "symbolic" not in out + err


# --- finding 9: outside a repository the scan root is the scanned path, never the cwd's tree ----------


def test_outside_git_the_root_is_the_scanned_path_not_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.engine import ScanOptions, scan
    from scanner.policy import policy_from_regions

    project = tmp_path / "deep" / "project"
    project.mkdir(parents=True)
    (project / "main.tf").write_text(US_BY_VAR.replace("var.region", '"us-east-1"'))
    for i in range(5):  # unrelated Terraform elsewhere under the cwd: never read
        (tmp_path / f"other{i}").mkdir()
        (tmp_path / f"other{i}" / "x.tf").write_text("this is { not terraform\n")
    read: list[Path] = []
    real = Path.read_bytes

    def spy(self: Path) -> bytes:
        read.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    report = scan(ScanOptions(paths=[project / "main.tf"], cwd=tmp_path, use_cache=False),
                  policy_from_regions(["in:eu-locations"], tmp_path))
    assert report.scan_root == str(project.resolve())
    assert not [p for p in read if "other" in str(p)]
    assert [(f.file, f.rule_id) for f in report.findings] == [("main.tf", "RES001")]


def test_outside_git_a_policy_in_the_cwd_marks_the_project_root(tmp_path: Path) -> None:
    from scanner.discover import find_scan_root

    (tmp_path / "envs" / "prod").mkdir(parents=True)
    assert find_scan_root([tmp_path / "envs" / "prod"], tmp_path) == (tmp_path / "envs" / "prod").resolve()
    (tmp_path / "residency.yaml").write_text("version: 1\n")
    assert find_scan_root([tmp_path / "envs" / "prod"], tmp_path) == tmp_path.resolve()


# --- finding 4 (built by issue 15): a misspelt or unknown type is named, never dropped silently ------------


def test_misspelt_resource_type_is_a_note_with_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n\n'
                                      'resource "aws_dynamgdb_table" "t" {\n  name = "t"\n}\n')
    code, out, _ = run(["scan", ".", *EU, "--format", "json"], cwd=tmp_path)
    import json

    notes = " ".join(n["message"] for n in json.loads(out)["notes"])
    assert code == 0  # terraform.unknown_types defaults to note: named, not blocking
    assert "aws_dynamgdb_table" in notes and "aws_dynamodb_table" in notes


# --- finding 7 (part): parse workers do not outlive the scan -----------------------------------------------


def test_parse_workers_exit_when_the_scan_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    probe = ("import os, sys, time\nfrom scanner.parse_pool import ParsePool\n"
             "pool = ParsePool(2)\nprint(pool.submit(os.getpid).result(), flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    worker = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _gone(worker):
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError(f"worker {worker} outlived its killed parent")


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie waiting for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# --- issue 17, noticed: --plan / --var-file that cannot be read; walked state JSON ----------------------


@pytest.mark.parametrize("flag,make", [
    ("--plan", None), ("--var-file", None), ("--plan", "dir"), ("--var-file", "dir"),
])
def test_unreadable_plan_or_var_file_is_a_usage_error(tmp_path: Path, flag: str, make: str | None) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    name = "missing.json" if flag == "--plan" else "missing.tfvars"
    if make == "dir":
        (tmp_path / name).mkdir()
    code, out, err = run(["scan", ".", *EU, flag, name], cwd=tmp_path)
    assert code == 2 and "Traceback" not in out + err
    assert f"{flag} {name}:" in err and len(err.strip().splitlines()) == 1


STATE = ('{"format_version":"1.0","terraform_version":"1.7.5","values":{"root_module":{"resources":[{'
         '"address":"aws_s3_bucket.b","type":"aws_s3_bucket","name":"b","values":{"bucket":"b"}}]}}}')


def test_walked_state_json_is_a_note_not_a_silent_skip(tmp_path: Path) -> None:
    import json

    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    (tmp_path / "state.json").write_text(STATE)
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}')
    (tmp_path / "other.json").write_text('{"format_version": "2"}')  # mentions format_version only: not clearly state
    code, out, _ = run(["scan", ".", *EU, "--format", "json"], cwd=tmp_path)
    report = json.loads(out)
    assert code == 0 and not report["findings"]  # a note, not blocking: walked JSON can be a legitimate artifact
    notes = [n for n in report["notes"] if "state" in n["message"].lower()]
    assert [n["file"] for n in notes] == ["state.json"]
    assert "terraform show -json plan.bin" in notes[0]["message"]


# --- finding 7 (cache): the cache is bounded, least recently used entries go first ----------------


def _fill(cache: ParseCache, count: int, size: int) -> list[str]:
    keys = [cache.key("test", str(i).encode()) for i in range(count)]
    for i, key in enumerate(keys):
        cache.put(key, b"x" * size)
        os.utime(cache._path(key), (1_000_000 + i, 1_000_000 + i))  # written in order, oldest first
    return keys


def test_cache_over_its_cap_evicts_the_least_recently_used(tmp_path: Path) -> None:
    from scanner.cache import cache_info, prune

    cache = ParseCache(tmp_path / "cache")
    keys = _fill(cache, 10, 10_000)
    assert cache.get(keys[0]) == b"x" * 10_000  # a hit marks entry 0 as just used
    before = cache_info(tmp_path / "cache", max_bytes=60_000)
    assert before.entries == 10 and before.bytes > 100_000
    assert prune(tmp_path / "cache", 60_000) > 0
    after = cache_info(tmp_path / "cache", max_bytes=60_000)
    assert after.bytes <= 60_000 * 0.8
    assert cache.get(keys[0]) is not None  # recently used: kept
    assert cache.get(keys[1]) is None and cache.get(keys[9]) is not None  # oldest use went first
    assert (tmp_path / "cache" / "key").is_file()  # the secret is never evicted


def test_cache_under_its_cap_is_left_alone(tmp_path: Path) -> None:
    from scanner.cache import prune

    cache = ParseCache(tmp_path / "cache")
    keys = _fill(cache, 5, 1_000)
    assert prune(tmp_path / "cache", 1_000_000) == 0
    assert all(cache.get(k) is not None for k in keys)
    assert prune(tmp_path / "nonexistent", 1) == 0 and prune(None, 1) == 0


def test_stale_temporary_files_of_killed_runs_are_removed(tmp_path: Path) -> None:
    from scanner.cache import prune

    cache = ParseCache(tmp_path / "cache")
    _fill(cache, 1, 10)
    shard = next(p for p in (tmp_path / "cache").iterdir() if p.is_dir())
    old, fresh = shard / ".tmp-old", shard / ".tmp-fresh"
    old.write_bytes(b"half")
    fresh.write_bytes(b"writing")
    os.utime(old, (1_000, 1_000))
    prune(tmp_path / "cache", 1 << 30)
    assert not old.exists() and fresh.exists()  # a fresh one may be another run's write in progress


def test_scans_keep_the_cache_under_the_cap(tmp_path: Path, cache_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.cache import cache_info

    repo = _repo(tmp_path / "repo", {f"m{i}/main.tf": US_BY_VAR.replace('"uploads"', f'"b{i}"') for i in range(40)})
    args = ["scan", str(repo), *EU, "--var", "region=eu-west-1"]
    assert run(args, cwd=tmp_path)[0] == 0
    full = cache_info(cache_dir).bytes
    monkeypatch.setenv("RESIDENCY_CACHE_MAX_SIZE", str(full // 2))
    assert run(args, cwd=tmp_path)[0] == 0
    assert 0 < cache_info(cache_dir).bytes <= full // 2


def test_malformed_cache_cap_is_a_usage_error(tmp_path: Path, cache_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESIDENCY_CACHE_MAX_SIZE", "lots")
    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR})
    code, _out, err = run(["scan", str(repo), *EU], cwd=tmp_path)
    assert code == 2 and "RESIDENCY_CACHE_MAX_SIZE" in err and len(err.strip().splitlines()) == 1


def test_cache_info_and_clear(tmp_path: Path, cache_dir: Path) -> None:
    import json

    code, out, _ = run(["cache", "info", "--json"], cwd=tmp_path)
    assert code == 0 and json.loads(out)["entries"] == 0  # an absent cache is empty, not an error
    repo = _repo(tmp_path / "repo", {"main.tf": US_BY_VAR})
    run(["scan", str(repo), *EU, "--var", "region=eu-west-1"], cwd=tmp_path)
    code, out, _ = run(["cache", "info", "--json"], cwd=tmp_path)
    info = json.loads(out)
    assert code == 0 and info["entries"] > 0 and info["bytes"] > 0 and info["directory"] == str(cache_dir)
    assert info["max_bytes"] == 256 << 20
    code, out, _ = run(["cache", "info"], cwd=tmp_path)
    assert code == 0 and str(cache_dir) in out and "256 MB" in out
    (cache_dir / "notes.txt").write_text("someone else's file")
    code, out, _ = run(["cache", "clear"], cwd=tmp_path)
    assert code == 0 and "cleared" in out
    assert json.loads(run(["cache", "info", "--json"], cwd=tmp_path)[1])["entries"] == 0
    assert not (cache_dir / "key").exists() and (cache_dir / "notes.txt").exists()
    assert run(["scan", str(repo), *EU, "--var", "region=eu-west-1"], cwd=tmp_path)[0] == 0  # rebuilt after


# --- finding 8: a scanned child module is evaluated through its callers, children included --------

MYSQL_HA = Path(__file__).resolve().parent.parent / "fixtures/terraform/realistic/gcp_sql_mysql_ha"
EXAMPLE = "examples/mysql-ha"


def _mysql_ha(tmp_path: Path) -> Path:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(MYSQL_HA, repo)
    (repo / ".git").mkdir()
    return repo


def _placements(out: str) -> list[tuple[str, int, str]]:
    import json

    return sorted((f["file"], f["line"], f["resource"]) for f in json.loads(out)["findings"]
                  if f["rule_id"] == "RES001")


@pytest.mark.parametrize("target", [EXAMPLE, f"{EXAMPLE}/main.tf"])
def test_scanned_child_module_is_evaluated_through_its_caller_with_its_children(tmp_path: Path, target: str) -> None:
    repo = _mysql_ha(tmp_path)
    code, out, _ = run(["scan", target, *EU, "--no-cache", "--format", "json"], cwd=repo)
    placed = _placements(out)
    assert code == 1, out
    assert [(f, line) for f, line, _ in placed] == [("modules/mysql/main.tf", 13)] + [
        ("modules/mysql/read_replica.tf", 10)] * 3  # the instance and its 3 replicas, in us-central1
    assert all(r.startswith("module.example.module.mysql.") for _, _, r in placed)


def test_files_of_one_tree_scanned_together_are_reported_once(tmp_path: Path) -> None:
    repo = _mysql_ha(tmp_path)
    code, out, _ = run(["scan", f"{EXAMPLE}/main.tf", "modules/mysql/main.tf", "modules/mysql/read_replica.tf",
                        *EU, "--no-cache", "--format", "json"], cwd=repo)
    assert code == 1 and len(_placements(out)) == 4  # one evaluation through test/fixtures/mysql-ha


PROVIDER = '\nprovider "google" {\n  project = var.project_id\n}\n'


def test_called_child_with_a_provider_is_a_root_too_and_reported_once(tmp_path: Path) -> None:
    repo = _mysql_ha(tmp_path)
    with (repo / EXAMPLE / "main.tf").open("a") as fh:
        fh.write(PROVIDER)
    for target in (EXAMPLE, "."):
        code, out, _ = run(["scan", target, *EU, "--no-cache", "--format", "json"], cwd=repo)
        placed = _placements(out)
        assert code == 1 and len(placed) == 4, placed  # same values through both roots: once
        assert all(r.startswith("module.mysql.") for _, _, r in placed)  # from the example's own evaluation


def test_called_child_applied_alone_is_judged_with_its_own_values(tmp_path: Path) -> None:
    """The example alone puts the database in the EU; its caller passes us-central1: both are judged."""
    repo = _mysql_ha(tmp_path)
    example = repo / EXAMPLE / "main.tf"
    text = example.read_text().replace('region               = "us-central1"', "region               = var.region")
    example.write_text(text.replace('zone                 = "us-central1-c"', "zone                 = var.zone")
                       .replace('"us-central1-', '"europe-west1-') + PROVIDER
                       + 'variable "region" {\n  default = "europe-west1"\n}\n'
                       + 'variable "zone" {\n  default = "europe-west1-b"\n}\n')
    caller = repo / "test/fixtures/mysql-ha/main.tf"
    caller.write_text(caller.read_text().replace("  project_id    = var.project_id\n",
                                                 '  project_id    = var.project_id\n  region = "us-central1"\n'))
    code, out, _ = run(["scan", EXAMPLE, *EU, "--no-cache", "--format", "json"], cwd=repo)
    assert code == 1 and _placements(out) == [
        ("modules/mysql/main.tf", 13, "module.example.module.mysql.google_sql_database_instance.default")]
    caller.write_text(caller.read_text().replace('region = "us-central1"', 'region = "europe-west1"'))
    code, out, _ = run(["scan", EXAMPLE, *EU, "--no-cache", "--format", "json"], cwd=repo)
    assert code == 0, out


# --- noticed: a var file the policy's terraform.roots names must exist, like --var-file ----------


@pytest.mark.parametrize("make", [None, "dir"])
def test_missing_policy_root_var_file_is_a_usage_error(tmp_path: Path, make: str | None) -> None:
    repo = _repo(tmp_path / "repo", {"prod/main.tf": US_BY_VAR, "residency.yaml": (
        "version: 1\nallowed_regions: [in:eu-locations]\nterraform:\n  roots:\n"
        "    - paths: [prod]\n      var_files: [prod.tfvars]\n")})
    if make == "dir":
        (repo / "prod" / "prod.tfvars").mkdir()
    code, out, err = run(["scan", "prod"], cwd=repo)
    assert code == 2, out
    assert len(err.strip().splitlines()) == 1 and "prod/prod.tfvars" in err and "terraform.roots" in err
    if make == "dir":
        (repo / "prod" / "prod.tfvars").rmdir()
    (repo / "prod" / "prod.tfvars").write_text('region = "eu-west-1"\n')
    assert run(["scan", "prod"], cwd=repo)[0] == 0


# --- finding 7 (bounds): a Terraform file the parser cannot bound is refused before it is read ------


def test_terraform_file_over_the_bounded_limit_is_a_parse_finding(tmp_path: Path) -> None:
    """Parsing HCL costs more than linearly (a 4 MB .tf took 58 s and 900 MB); past 256 KB (about 5-10 s
    and 100-210 MB at worst, bench/bench_limits.py) a file is a parse finding naming the option."""
    eu = US_BY_VAR.replace("var.region", '"eu-west-1"')
    repo = _repo(tmp_path / "repo", {"main.tf": eu + "# pad\n" * 50_000})  # 300 KB
    code, out, _ = run(["scan", str(repo), *EU, "--no-cache"], cwd=tmp_path)
    assert code == 1 and "256 KB limit" in out and "--max-terraform-size" in out
    assert run(["scan", str(repo), *EU, "--no-cache", "--max-terraform-size", "1MB"], cwd=tmp_path)[0] == 0


# --- found by bench/mutation.py: a damaged manifest is a result, never an internal error ------------


def test_storage_class_with_scalar_metadata_is_not_a_crash(tmp_path: Path) -> None:
    """``name:"gp2`` (the space lost) makes ``metadata`` a string: this was exit 3 (AttributeError)."""
    repo = _repo(tmp_path / "repo", {"sc.yaml": (
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name:\"gp2-plain\n"
        "provisioner: ebs.csi.aws.com\nparameters:\n  type: gp2\n"), "pv.yaml": (
        "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: data\nspec:\n  storageClassName: gp2-plain\n"
        "  capacity:\n    storage: 1Gi\n  csi:\n    driver: ebs.csi.aws.com\n    volumeHandle: vol-1\n")})
    code, _out, err = run(["scan", str(repo), *EU, "--no-cache", "--cluster-region", "us-east-1"], cwd=tmp_path)
    assert code == 1 and "internal error" not in err, err
