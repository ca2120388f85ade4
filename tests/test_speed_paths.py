"""The shortcuts that make scans fast change nothing they return: discovery_parse, the per-root result cache."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from scanner.cache import ParseCache
from scanner.loaders.terraform import TerraformOptions, load_terraform
from scanner.model import LoadResult, Note
from scanner.parse_pool import TerraformParser
from scanner.results import ResultCache, UnitResult, terraform_units


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _repo(root: Path) -> Path:
    """A root calling a local module and a registry module (reached through modules.json), with tfvars."""
    _write(root / "stack" / "main.tf", '''
variable "region" {}
variable "name" {}
provider "aws" {
  region = var.region
}
module "local" {
  source = "../modules/bucket"
  name   = var.name
}
module "remote" {
  source = "example/bucket/aws"
}
''')
    _write(root / "stack" / "terraform.tfvars", 'region = "eu-west-1"\nname = "alpha"\n')
    _write(root / "modules" / "bucket" / "main.tf", '''
variable "name" {}
resource "aws_s3_bucket" "this" {
  bucket = "${var.name}-data"
}
''')
    _write(root / "modules" / "plain" / "main.tf", 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    _write(root / "stack" / ".terraform" / "modules" / "modules.json", json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "remote", "Source": "registry.terraform.io/example/bucket/aws", "Dir": ".terraform/modules/remote"},
    ]}))
    _write(root / "stack" / ".terraform" / "modules" / "remote" / "main.tf",
           'resource "aws_s3_bucket" "r" {\n  bucket = "remote-one"\n}\n')
    return root


def _summary(result) -> list:  # type: ignore[no-untyped-def]
    return sorted((r.address, r.file, repr(r.attributes), r.provider.region if r.provider else None)
                  for r in result.resources)


class _Loaded:
    """The resources of every root, as the result cache gives them back (one note per resource)."""

    def __init__(self, units: list[UnitResult]) -> None:
        self.resources = [_Res(n) for u in units for n in u.loader_notes]


class _Res:
    def __init__(self, note: Note) -> None:
        self.address, self.file, attrs, region = json.loads(note.message)
        self.attributes = json.loads(attrs)
        self.provider = type("P", (), {"region": region})


def _judge(load: LoadResult, rel_root: str | None, names: tuple[str, ...]) -> UnitResult:
    notes = [Note(r.file, json.dumps([r.address, r.file, json.dumps(r.attributes, default=str),
                                      r.provider.region if r.provider else None])) for r in load.resources]
    return UnitResult("terraform", loader_notes=notes, root_dir=rel_root, file_names=names,
                      made_on=date.today().isoformat())


def _cached(root: Path, cache_dir: Path, dirs: list[Path] | None = None):  # type: ignore[no-untyped-def]
    cache = ParseCache(cache_dir)
    parser = TerraformParser(root, cache)
    options = TerraformOptions(parse=parser, discovery_parse=parser.discovery)
    results = ResultCache(cache, "test", date.today())
    _, units = terraform_units(dirs or [root / "stack"], root, lambda: options, parser, lambda p: True, results, _judge)
    return _Loaded(units), results


# ---- discovery_parse ------------------------------------------------------------------------

def test_discovery_parse_reads_only_files_that_can_call_modules(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    parser = TerraformParser(root, ParseCache(None))
    assert parser.discovery(root / "modules" / "plain" / "main.tf") is None  # no "module" in its bytes
    assert root / "modules" / "plain" / "main.tf" not in parser.results  # ...and not parsed
    (call,) = [b for b in parser.discovery(root / "stack" / "main.tf").blocks if b.labels == ("local",)]
    assert call.type == "module"
    assert parser.discovery(root / "missing.tf") is None


def test_discovery_parse_gives_the_same_load(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    child = [root / "modules" / "bucket"]  # a child module: evaluated through its caller
    plain = load_terraform(child, root, TerraformOptions())
    parsed: list[Path] = []
    parser = TerraformParser(root, ParseCache(None))

    def discovery(path: Path):  # type: ignore[no-untyped-def]
        parsed.append(path)
        return parser.discovery(path)

    fast = load_terraform(child, root, TerraformOptions(parse=parser, discovery_parse=discovery))
    assert _summary(fast) == _summary(plain)
    assert [r.address for r in fast.resources] == ["module.local.aws_s3_bucket.this"]
    assert [n.message for n in fast.notes] == [n.message for n in plain.notes]
    assert root / "stack" / "main.tf" in parsed
    assert root / "modules" / "plain" / "main.tf" not in parser.results  # never parsed: cannot call


# ---- the result cache per root ---------------------------------------------------------------

def test_root_result_is_reused_while_nothing_changed(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    first, cache = _cached(root, tmp_path / "cache")
    assert cache.hits == 0
    again, cache = _cached(root, tmp_path / "cache")
    assert cache.hits == 1 and cache.misses == 0  # the root's judged result, not file by file
    assert _summary(again) == _summary(first)
    assert _summary(first) == _summary(load_terraform([root / "stack"], root, TerraformOptions()))
    addresses = {a for a, *_ in _summary(first)}
    assert addresses == {"module.local.aws_s3_bucket.this", "module.remote.aws_s3_bucket.r"}


def _bucket(result, address: str) -> str:  # type: ignore[no-untyped-def]
    (r,) = [r for r in result.resources if r.address == address]
    return r.attributes["bucket"]


def test_edited_tfvars_invalidates_the_load(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    first, _ = _cached(root, tmp_path / "cache")
    assert _bucket(first, "module.local.aws_s3_bucket.this") == "alpha-data"
    assert {r.provider.region for r in first.resources} == {"eu-west-1"}
    _write(root / "stack" / "terraform.tfvars", 'region = "us-east-1"\nname = "beta"\n')
    second, _ = _cached(root, tmp_path / "cache")
    assert _bucket(second, "module.local.aws_s3_bucket.this") == "beta-data"
    assert {r.provider.region for r in second.resources} == {"us-east-1"}


def test_edited_child_module_invalidates_the_load(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    _cached(root, tmp_path / "cache")
    _write(root / "modules" / "bucket" / "main.tf", '''
variable "name" {}
resource "aws_s3_bucket" "this" {
  bucket = "${var.name}-archive"
}
resource "aws_s3_bucket" "extra" {
  bucket = "more"
}
''')
    second, _ = _cached(root, tmp_path / "cache")
    assert _bucket(second, "module.local.aws_s3_bucket.this") == "alpha-archive"
    assert _bucket(second, "module.local.aws_s3_bucket.extra") == "more"


def test_edited_file_reached_through_modules_json_invalidates_the_load(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    first, _ = _cached(root, tmp_path / "cache")
    assert _bucket(first, "module.remote.aws_s3_bucket.r") == "remote-one"
    remote = root / "stack" / ".terraform" / "modules" / "remote" / "main.tf"
    remote.write_text('resource "aws_s3_bucket" "r" {\n  bucket = "remote-two"\n}\n')
    second, _ = _cached(root, tmp_path / "cache")
    assert _bucket(second, "module.remote.aws_s3_bucket.r") == "remote-two"
    # a file added next to it is read too
    _write(remote.parent / "more.tf", 'resource "aws_s3_bucket" "added" {\n  bucket = "new"\n}\n')
    third, _ = _cached(root, tmp_path / "cache")
    assert _bucket(third, "module.remote.aws_s3_bucket.added") == "new"
    # and modules.json itself: the module now points elsewhere
    _write(root / "stack" / ".terraform" / "modules" / "other" / "main.tf",
           'resource "aws_s3_bucket" "o" {\n  bucket = "other"\n}\n')
    (root / "stack" / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "remote", "Source": "registry.terraform.io/example/bucket/aws", "Dir": ".terraform/modules/other"},
    ]}))
    fourth, _ = _cached(root, tmp_path / "cache")
    assert _bucket(fourth, "module.remote.aws_s3_bucket.o") == "other"
    assert not [r for r in fourth.resources if r.address == "module.remote.aws_s3_bucket.r"]
