"""Broken, odd and hostile files: each scans correctly or becomes a clear parse finding.

The per-file fixtures are built here (encodings, line endings and binary content do not survive
every checkout unchanged); the ``escape`` fixture is committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile._support import assert_clean, make_repo, parse_findings, scan

TF = 'provider "aws" {\n  region = "us-east-1"\n}\n\nresource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
TF_JSON = ('{\n  "provider": {"aws": {"region": "us-east-1"}},\n'
           '  "resource": {"aws_s3_bucket": {"b": {"bucket": "b"}}}\n}\n')
TFVARS_MAIN = ('variable "region" {}\n\nprovider "aws" {\n  region = var.region\n}\n\n'
               'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
TFVARS = 'region = "us-east-1"\n'
YAML = ("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: b\n"
        "spec:\n  forProvider:\n    region: us-east-1\n")
PLAN = (Path(__file__).resolve().parents[2] / "fixtures" / "plan" / "basic" / "plan.json").read_text()

# (directory, file name, good content, the file judged by a placement finding)
KINDS = [
    ("tf", "main.tf", TF, "main.tf"),
    ("tfjson", "main.tf.json", TF_JSON, "main.tf.json"),
    ("tfvars", "terraform.tfvars", TFVARS, "main.tf"),
    ("yaml", "bucket.yaml", YAML, "bucket.yaml"),
    ("plan", "plan.json", PLAN, "plan.json"),
]

ENCODINGS = {
    "bom": lambda t: b"\xef\xbb\xbf" + t.encode(),
    "crlf": lambda t: t.replace("\n", "\r\n").encode(),
    "no_trailing_newline": lambda t: t.rstrip("\n").encode(),
    "utf16": lambda t: t.encode("utf-16"),
}
BROKEN = {
    "binary": lambda t: bytes(range(256)) * 8,
    "invalid_utf8": lambda t: t.replace("e", "\udcff", 1).encode("utf-8", "surrogateescape"),
    "truncated": lambda t: t[: len(t) // 2].encode(),
}


def _files(variants: dict) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for variant, encode in variants.items():
        for kind, name, content, _ in KINDS:
            files[f"{variant}/{kind}/{name}"] = encode(content)
            if kind == "tfvars":
                files[f"{variant}/{kind}/main.tf"] = TFVARS_MAIN.encode()
    return files


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return scan(make_repo(tmp_path_factory.mktemp("odd"), _files(ENCODINGS)))


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return scan(make_repo(tmp_path_factory.mktemp("broken"), _files(BROKEN)))


@pytest.mark.parametrize("variant", sorted(ENCODINGS))
@pytest.mark.parametrize(("kind", "name", "judged"), [(k, n, j) for k, n, _, j in KINDS])
def test_odd_encodings_scan_or_say_why(odd, variant: str, kind: str, name: str, judged: str) -> None:  # type: ignore[no-untyped-def]
    assert_clean(odd)
    file = f"{variant}/{kind}/{name}"
    found = [f for f in odd.findings() if f["file"] == f"{variant}/{kind}/{judged}"]
    judged_findings = [f for f in found if f["rule_id"] != "RES900"]  # the file was read and judged
    problems = parse_findings(odd, file)
    if variant == "utf16" and kind in ("yaml", "plan") and not judged_findings:
        # not decoded (YAML and plans are UTF-8 by their tools' contracts): a clear parse finding
        assert problems and ("UTF-8" in problems[0] or "not valid JSON" in problems[0]), (file, odd.findings())
        return
    assert judged_findings, (file, found, problems)  # scanned correctly: the us-east-1 bucket is judged
    assert not problems, problems


@pytest.mark.parametrize("variant", sorted(BROKEN))
@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, n, _, _ in KINDS])
def test_broken_files_are_parse_findings(broken, variant: str, kind: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert_clean(broken)
    file = f"{variant}/{kind}/{name}"
    if kind == "plan" and variant == "binary":
        return  # not recognised as a plan (no format_version): ignored like any other JSON
    if kind == "plan" and variant == "truncated":
        assert parse_findings(broken, file), broken.findings()
        return
    if kind == "yaml" and variant == "truncated":
        return  # half a manifest is still valid YAML (no spec): nothing to judge, nothing to report
    assert parse_findings(broken, file), (file, [f for f in broken.findings() if variant in f["file"]])


def test_empty_files_are_clean(tmp_path: Path) -> None:
    names = ["main.tf", "x.tf.json", "terraform.tfvars", "k.yaml", "plan.json"]
    outcome = scan(make_repo(tmp_path, {f"empty/{n}": b"" for n in names}))
    assert_clean(outcome)
    # an empty .tf.json is not valid JSON: a parse finding; every other empty file is valid and empty
    assert {f["file"] for f in outcome.findings()} <= {"empty/x.tf.json"}


# --- links ------------------------------------------------------------------------------------


def test_links_outside_the_root_are_refused_and_loops_survived(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tf").write_text(TF)
    root = make_repo(tmp_path, {"ok/main.tf": TF})
    links = root / "links"
    links.mkdir()
    os.symlink("/etc/passwd", links / "passwd.tf")
    os.symlink("/etc", links / "etc")
    os.symlink(outside, links / "outside_dir")
    os.symlink(outside / "secret.tf", links / "secret.tf")
    os.symlink("loop_b.tf", links / "loop_a.tf")
    os.symlink("loop_a.tf", links / "loop_b.tf")
    os.symlink(".", links / "self")
    os.symlink("..", links / "parent")
    os.symlink("missing.tf", links / "dangling.tf")
    outcome = scan(root)
    assert_clean(outcome)
    refused = {f["file"]: f["message"] for f in outcome.findings() if f["rule_id"] == "RES900"}
    for name in ("passwd.tf", "etc", "outside_dir", "secret.tf"):
        assert "outside the scan root" in refused[f"links/{name}"], refused
    assert "loop" in refused["links/loop_a.tf"]
    assert not [f for f in outcome.findings() if "secret" in f["file"] and f["category"] == "placement"]
    assert [f for f in outcome.findings() if f["file"] == "ok/main.tf" and f["category"] == "placement"]


def test_a_link_given_as_the_scan_path_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"ok/main.tf": TF})
    os.symlink("/etc", root / "etc")
    outcome = scan(root, paths=["etc"])
    assert_clean(outcome)
    assert any("outside the scan root" in f["message"] for f in outcome.findings())


def test_module_sources_outside_the_root_are_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path, fixture="escape")
    outcome = scan(root)
    assert_clean(outcome)
    messages = {f["resource"]: f["message"] for f in outcome.findings()}
    for module in ("module.up", "module.registry", "module.absolute"):
        assert module in messages, messages
        assert "refused" in messages[module] or "not local" in messages[module], messages[module]
    assert not [f for f in outcome.findings() if f["file"].startswith(("/", ".."))]


# --- unreadable files -------------------------------------------------------------------------


def test_unreadable_files_are_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root (CI runs as root), so reading is made to fail instead."""
    root = make_repo(tmp_path, {"tf/main.tf": TF, "tfvars/main.tf": TFVARS_MAIN, "tfvars/terraform.tfvars": TFVARS,
                                "k8s/bucket.yaml": YAML, "plan.json": PLAN})
    denied = {root / "tf/main.tf", root / "tfvars/terraform.tfvars", root / "k8s/bucket.yaml", root / "plan.json"}
    real_read_bytes, real_open, real_read_text = Path.read_bytes, Path.open, Path.read_text

    def guard(path: Path) -> None:
        if path.resolve() in denied:
            raise PermissionError(13, "Permission denied", str(path))

    def read_bytes(self: Path) -> bytes:
        guard(self)
        return real_read_bytes(self)

    def read_text(self: Path, *a, **k) -> str:  # type: ignore[no-untyped-def]
        guard(self)
        return real_read_text(self, *a, **k)

    def open_(self: Path, *a, **k):  # type: ignore[no-untyped-def]
        guard(self)
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(Path, "open", open_)
    outcome = scan(root, "--jobs", "1")
    assert_clean(outcome)
    for name in ("tf/main.tf", "tfvars/terraform.tfvars", "k8s/bucket.yaml"):
        messages = parse_findings(outcome, name)
        assert messages and any("ermission denied" in m or "cannot read" in m for m in messages), (name, messages)
    # plan.json cannot even be recognised as a plan without reading it: ignored, never a crash


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files; the monkeypatched variant covers it")
def test_chmod_000_files_are_findings(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"tf/main.tf": TF, "k8s/bucket.yaml": YAML})
    for name in ("tf/main.tf", "k8s/bucket.yaml"):
        (root / name).chmod(0)
    try:
        outcome = scan(root)
    finally:
        for name in ("tf/main.tf", "k8s/bucket.yaml"):
            (root / name).chmod(0o644)
    assert_clean(outcome)
    assert parse_findings(outcome, "tf/main.tf") and parse_findings(outcome, "k8s/bucket.yaml")
