"""The parse cache: hits on unchanged content, never trusts a corrupt or foreign entry."""

from __future__ import annotations

import pickle
from pathlib import Path

from scanner.cache import ParseCache, usable_cpus
from scanner.parse_pool import Failed, TerraformParser

TF = 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'


def test_unchanged_file_is_parsed_once(tmp_path: Path) -> None:
    src = tmp_path / "main.tf"
    src.write_text(TF)
    cache = ParseCache(tmp_path / "cache")
    first = TerraformParser(tmp_path, cache)(src)
    assert cache.misses == 1 and cache.hits == 0
    second_cache = ParseCache(tmp_path / "cache")
    second = TerraformParser(tmp_path, second_cache)(src)
    assert second_cache.hits == 1 and second_cache.misses == 0
    assert [b.labels for b in first.blocks] == [b.labels for b in second.blocks]


def test_changed_content_misses(tmp_path: Path) -> None:
    src = tmp_path / "main.tf"
    src.write_text(TF)
    TerraformParser(tmp_path, ParseCache(tmp_path / "cache"))(src)
    src.write_text(TF.replace('"x"', '"y"'))
    cache = ParseCache(tmp_path / "cache")
    TerraformParser(tmp_path, cache)(src)
    assert cache.misses == 1


def _entries(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*.pickle")]


def test_truncated_entry_is_rebuilt(tmp_path: Path) -> None:
    src = tmp_path / "main.tf"
    src.write_text(TF)
    TerraformParser(tmp_path, ParseCache(tmp_path / "cache"))(src)
    (entry,) = _entries(tmp_path / "cache")
    entry.write_bytes(entry.read_bytes()[:-10])
    cache = ParseCache(tmp_path / "cache")
    parsed = TerraformParser(tmp_path, cache)(src)
    assert cache.misses == 1 and parsed.blocks
    assert len(entry.read_bytes()) > 40  # rewritten whole


def test_tampered_entry_cannot_run_code(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    key = cache.key("hcl:main.tf", b"x")

    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    payload = pickle.dumps(Evil())
    import hashlib

    path = cache._path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"RGC1" + hashlib.sha256(payload).digest() + payload)
    assert cache.get(key) is None


def test_entries_stay_inside_cache_dir(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    key = cache.key("hcl:../../../../etc/passwd", b"data")
    cache.put(key, {"a": 1})
    (entry,) = _entries(tmp_path / "cache")
    assert (tmp_path / "cache") in entry.parents and ".." not in entry.name


def test_parse_error_is_cached_and_reraised(tmp_path: Path) -> None:
    from scanner.loaders.hcl_parse import ParseError

    src = tmp_path / "bad.tf"
    src.write_text('resource "x" "y" {\n  a = \n')
    for _ in range(2):
        cache = ParseCache(tmp_path / "cache")
        try:
            TerraformParser(tmp_path, cache)(src)
        except ParseError as exc:
            assert exc.file == "bad.tf" and exc.line >= 2
        else:
            raise AssertionError("no ParseError")
    assert cache.hits == 1
    assert isinstance(cache.get(cache.key("hcl:bad.tf", src.read_bytes())), Failed)


def test_pool_parses_in_stable_order(tmp_path: Path) -> None:
    files = []
    for i in range(40):
        f = tmp_path / f"m{i:02d}.tf"
        f.write_text(TF.replace('"b"', f'"b{i}"') + "# padding\n" * 800)
        files.append(f)
    parser = TerraformParser(tmp_path, ParseCache(None), jobs=2)
    parser.warm(files)
    assert [parser(f).blocks[0].labels[1] for f in files] == [f"b{i}" for i in range(40)]


def test_binary_and_utf16_files(tmp_path: Path) -> None:
    from scanner.loaders.hcl_parse import ParseError

    binary = tmp_path / "x.tf"
    binary.write_bytes(b"\x00\x01\x02resource")
    utf16 = tmp_path / "y.tf"
    utf16.write_bytes(TF.encode("utf-16"))
    parser = TerraformParser(tmp_path, ParseCache(None))
    try:
        parser(binary)
        raise AssertionError("binary parsed")
    except ParseError as exc:
        assert "binary" in exc.message
    assert parser(utf16).blocks[0].labels == ["aws_s3_bucket", "b"] or parser(utf16).blocks[0].labels == (
        "aws_s3_bucket", "b")


def test_usable_cpus_honours_affinity_and_cgroup_quota(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import scanner.cache as c

    monkeypatch.setattr(c.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(c, "_cgroup_quota", lambda: None)
    assert usable_cpus() == 4
    monkeypatch.setattr(c, "_cgroup_quota", lambda: 2)
    assert usable_cpus() == 2
