"""The shared parse pool and the YAML batch parser: same outcomes with or without cache or workers, stable order."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner import parse_pool
from scanner.cache import ParseCache
from scanner.parse_pool import ParsePool, TerraformParser, YamlParser

TF = 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'
CALLER = 'module "m" {\n  source = "./m"\n}\n'
PAD = "# padding\n" * 1600  # enough bytes for the pool to pay off


def _yaml(i: int) -> bytes:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n  namespace: ns\ndata:\n"
            + "".join(f"  k{j}: value-{i}-{j}\n" for j in range(600))).encode()


def _yaml_files(n: int = 30) -> list[tuple[str, bytes]]:
    files = [(f"apps/a{i:02d}.yaml", _yaml(i)) for i in range(n)]
    files.append(("apps/broken.yaml", b"a: [unclosed\n"))
    return files


def _names(outcomes: list) -> list:
    return [o[1][0][0]["metadata"]["name"] if o[0] == "ok" else o[0] for o in outcomes]


# ---- YamlParser -----------------------------------------------------------------------------

def test_yaml_cache_miss_then_hit(tmp_path: Path) -> None:
    files = _yaml_files(4)
    cache = ParseCache(tmp_path / "cache")
    first = YamlParser(cache)(files)
    assert (cache.hits, cache.misses) == (0, len(files))
    again = ParseCache(tmp_path / "cache")
    second = YamlParser(again)(files)
    assert (again.hits, again.misses) == (len(files), 0)
    assert second == first
    # a changed file misses, the others still hit
    changed = [files[0], (files[1][0], files[1][1] + b"  extra: x\n"), *files[2:]]
    third_cache = ParseCache(tmp_path / "cache")
    YamlParser(third_cache)(changed)
    assert (third_cache.hits, third_cache.misses) == (len(files) - 1, 1)


def test_yaml_same_outcomes_with_and_without_cache_and_workers(tmp_path: Path) -> None:
    files = _yaml_files()
    plain = YamlParser(ParseCache(None))(files)
    cold = YamlParser(ParseCache(tmp_path / "cache"), jobs=2)(files)
    warm = YamlParser(ParseCache(tmp_path / "cache"), jobs=2)(files)
    assert plain == cold == warm
    assert _names(plain) == [f"cm{i}" for i in range(30)] + ["error"]
    assert plain[-1][1].file == "apps/broken.yaml"


def test_yaml_pool_keeps_order_and_prefetch_closes_the_pool(tmp_path: Path) -> None:
    files = _yaml_files()
    expected = YamlParser(ParseCache(None))(files)
    pool = ParsePool(2)
    try:
        parser = YamlParser(ParseCache(tmp_path / "cache"), pool=pool, close_pool=True)
        parser.prefetch(files)
        assert pool._executor is not None  # cold files were sent to the workers
        shuffled = files[::-1]
        assert parser(shuffled) == expected[::-1]
        assert pool._executor is None  # every parse back: the workers are gone
    finally:
        pool.close()
    cache = ParseCache(tmp_path / "cache")
    assert YamlParser(cache, jobs=2)(files) == expected  # the workers wrote every entry
    assert cache.misses == 0


def test_worker_result_that_cannot_travel_is_parsed_in_the_main_process(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files = _yaml_files()
    expected = YamlParser(ParseCache(None))(files)

    def refuse(value: object) -> bytes:
        raise RecursionError("too deep to pickle")

    monkeypatch.setattr(parse_pool, "_dumps", refuse)  # the forked workers inherit it
    assert YamlParser(ParseCache(None), jobs=2)(files) == expected
    tf = []
    for i in range(12):
        f = tmp_path / f"m{i:02d}.tf"
        f.write_text(TF.replace('"b"', f'"b{i}"') + PAD)
        tf.append(f)
    with ParsePool(2) as pool:
        parser = TerraformParser(tmp_path, ParseCache(None), pool=pool)
        parser.warm(tf)
        assert [parser(f).blocks[0].labels[1] for f in tf] == [f"b{i}" for i in range(12)]


# ---- TerraformParser with a shared pool -------------------------------------------------------

def _tf_tree(tmp_path: Path, n: int = 24) -> list[Path]:
    files = []
    for i in range(n):
        f = tmp_path / f"f{i:02d}.tf"
        f.write_text((CALLER if i % 3 == 0 else TF.replace('"b"', f'"b{i}"')) + PAD)
        files.append(f)
    (tmp_path / "bad.tf").write_text('resource "x" "y" {\n  a = \n' + PAD)
    files.append(tmp_path / "bad.tf")
    return files


def _outcome(parser: TerraformParser, f: Path) -> object:
    from scanner.loaders.hcl_parse import ParseError

    try:
        pf = parser(f)
    except ParseError as exc:
        return ("error", exc.file, exc.line)
    return [(b.type, b.labels, b.line) for b in pf.blocks], pf.comments


def test_shared_pool_terraform_results_match_serial_and_fill_the_cache(tmp_path: Path) -> None:
    files = _tf_tree(tmp_path)
    serial = TerraformParser(tmp_path, ParseCache(None))
    expected = [_outcome(serial, f) for f in files]
    cache = ParseCache(tmp_path / "cache")
    with ParsePool(2) as pool:
        parser = TerraformParser(tmp_path, cache, pool=pool)
        parser.warm(files)
        assert cache.misses == len(files)
        assert [_outcome(parser, f) for f in reversed(files)] == expected[::-1]
    again = ParseCache(tmp_path / "cache")
    warm = TerraformParser(tmp_path, again, jobs=2)
    warm.warm(files)
    assert (again.hits, again.misses) == (len(files), 0)
    assert [_outcome(warm, f) for f in files] == expected


def test_discovery_does_not_wait_for_files_without_module_calls(tmp_path: Path) -> None:
    files = _tf_tree(tmp_path)
    with ParsePool(2) as pool:
        parser = TerraformParser(tmp_path, ParseCache(None), pool=pool)
        parser.warm(files)
        plain = [f for i, f in enumerate(files[:-1]) if i % 3]
        assert all(parser.discovery(f) is None for f in plain)
        assert all(isinstance(parser.results[f], parse_pool._Pending) for f in plain)  # not waited for
        callers = [f for i, f in enumerate(files[:-1]) if i % 3 == 0]
        assert [parser.discovery(f).blocks[0].type for f in callers] == ["module"] * len(callers)
        assert parser(plain[0]).blocks[0].labels == ("aws_s3_bucket", "b1")


def test_small_batch_goes_to_a_pool_already_forked_and_stays_local_otherwise(tmp_path: Path) -> None:
    # A window of small files (well under the bytes a fresh pool needs to pay off): once the shared
    # pool is forked it takes them, so this process evaluates meanwhile; a pool not yet forked is not
    # started for them. Same trees either way.
    files = []
    for i in range(10):
        f = tmp_path / f"s{i:02d}.tf"
        f.write_text(TF.replace('"b"', f'"b{i}"'))
        files.append(f)
    serial = TerraformParser(tmp_path, ParseCache(None))
    expected = [_outcome(serial, f) for f in files]
    with ParsePool(2) as pool:
        idle = TerraformParser(tmp_path, ParseCache(None), pool=pool)
        idle.warm(files)
        assert not pool.started
        assert not any(isinstance(r, parse_pool._Pending) for r in idle.results.values())
        assert [_outcome(idle, f) for f in files] == expected
        pool.submit(int).result()  # forked, as finding roots leaves it
        parser = TerraformParser(tmp_path, ParseCache(tmp_path / "cache"), pool=pool)
        parser.warm(files)
        assert all(isinstance(parser.results[f], parse_pool._Pending) for f in files)
        assert [_outcome(parser, f) for f in files] == expected
