"""--shard I/N covers every unit exactly once; `residency merge` of all shards equals the unsharded scan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from scanner.cli import main
from scanner.shard import parse_shard, partition
from tests.conftest import REPO


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("RESIDENCY_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _scan(capsys, *args: str) -> tuple[int, dict]:
    code = main(["scan", "fixtures", "--policy", "fixtures/residency.yaml", "--format", "json", "--jobs", "1", *args])
    return code, json.loads(capsys.readouterr().out)


def _key(f: dict) -> str:
    return json.dumps(f, sort_keys=True)


def test_three_shards_merged_equal_the_unsharded_scan(repo: Path, capsys, tmp_path: Path) -> None:
    whole_code, whole = _scan(capsys)
    schema = json.loads((REPO / "docs" / "report.schema.json").read_text())
    jsonschema.validate(whole, schema)
    paths, per_shard = [], []
    for i in (1, 2, 3):
        _code, doc = _scan(capsys, "--shard", f"{i}/3")
        jsonschema.validate(doc, schema)
        assert doc["shard"] == {"index": i, "count": 3} and doc["policy_digest"] == whole["policy_digest"]
        per_shard.append({_key(f) for f in doc["findings"] if f["rule_id"] != "RES902" or "policy" not in f["file"]})
        path = tmp_path / f"shard{i}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    assert all(per_shard), "every shard got work"
    assert not (per_shard[0] & per_shard[1] or per_shard[1] & per_shard[2] or per_shard[0] & per_shard[2])
    code = main(["merge", *paths, "--format", "json"])
    merged = json.loads(capsys.readouterr().out)
    assert sorted(map(_key, merged["findings"])) == sorted(map(_key, whole["findings"]))
    assert code == whole_code == 1
    for counted in ("files", "resources", "data_stores", "unknown_types"):
        assert merged["summary"][counted] == whole["summary"][counted], counted
    assert whole["summary"]["data_stores"] > 0
    jsonschema.validate(merged, schema)
    assert main(["merge", *paths, "--format", "sarif"]) == 1
    assert json.loads(capsys.readouterr().out)["runs"][0]["results"]


def test_merge_refuses_missing_duplicate_and_mixed_shards(repo: Path, capsys, tmp_path: Path) -> None:
    paths = {}
    for i in (1, 2):
        _code, doc = _scan(capsys, "--shard", f"{i}/2")
        paths[i] = tmp_path / f"s{i}.json"
        paths[i].write_text(json.dumps(doc))
    assert main(["merge", str(paths[1])]) == 2
    assert "shard(s) 2/2 missing" in capsys.readouterr().err
    assert main(["merge", str(paths[1]), str(paths[1])]) == 2
    assert "given twice" in capsys.readouterr().err
    other = json.loads(paths[2].read_text())
    other["policy_digest"] = "something else"
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert main(["merge", str(paths[1]), str(tmp_path / "other.json")]) == 2
    assert "different policies" in capsys.readouterr().err
    other = json.loads(paths[2].read_text())
    other["tool"]["version"] = "0.0.1"
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert main(["merge", str(paths[1]), str(tmp_path / "other.json")]) == 2
    assert "different scanner versions" in capsys.readouterr().err
    _code, unsharded = _scan(capsys)
    (tmp_path / "whole.json").write_text(json.dumps(unsharded))
    assert main(["merge", str(tmp_path / "whole.json")]) == 2
    assert "not made with --shard" in capsys.readouterr().err


def test_merge_applies_the_baseline_to_the_union(repo: Path, capsys, tmp_path: Path) -> None:
    assert main(["baseline", "fixtures", "--policy", "fixtures/residency.yaml", "-o", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    paths = []
    for i in (1, 2):
        _code, doc = _scan(capsys, "--shard", f"{i}/2")
        (tmp_path / f"s{i}.json").write_text(json.dumps(doc))
        paths.append(str(tmp_path / f"s{i}.json"))
    assert main(["merge", *paths, "--baseline", str(tmp_path / "b.json"), "--format", "json"]) == 0
    merged = json.loads(capsys.readouterr().out)
    assert merged["findings"] and not any(f["blocking"] for f in merged["findings"])


def test_partition_is_stable_balanced_and_total() -> None:
    units = {f"tf:envs/{i}": (i % 7) + 1 for i in range(40)} | {f"file:k8s/{i}.yaml": 1 for i in range(30)}
    first = partition(units, 4)
    assert first == partition(dict(reversed(list(units.items()))), 4)  # input order does not matter
    assert set(first) == set(units) and set(first.values()) == {1, 2, 3, 4}
    loads = [sum(units[u] for u, s in first.items() if s == i) for i in (1, 2, 3, 4)]
    assert max(loads) - min(loads) <= max(units.values())


@pytest.mark.parametrize("bad", ["0/3", "4/3", "a/b", "3", "1/0"])
def test_bad_shard_is_a_usage_error(bad: str, capsys) -> None:
    from scanner.errors import ResidencyError

    with pytest.raises(ResidencyError):
        parse_shard(bad)
    assert main(["scan", "--allowed-regions", "in:eu-locations", "--shard", bad, str(REPO / "fixtures" / "plan")]) == 2
