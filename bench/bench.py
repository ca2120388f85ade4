#!/usr/bin/env python3
"""Benchmark ``residency`` against its own parse floor and against checkov, on the same files.

    python bench/bench.py --scale small            # ~200 files, about a minute
    python bench/bench.py --scale large --runs 5   # ~2,000 files, several minutes with checkov

Every measurement is a whole fresh process (what a user waits for), timed by a small wrapper that
polls /proc for the resident memory of the whole process tree (the scanner's parse workers
included) and reads ``getrusage(RUSAGE_CHILDREN)``. The table shows the median of ``--runs`` runs,
the peak memory summed over processes, files per second and each target's ratio. Targets are
measured here, not enforced by unit tests. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import SCALES, generate  # noqa: E402

CHECKOV_VERSION = "3.3.30"
# checkov's own encryption-at-rest checks, used until `residency checkov-checks` exports ours.
CHECKOV_BUILTIN = "CKV_AWS_19,CKV_AWS_16,CKV_AWS_119,CKV_AWS_145,CKV_AWS_27,CKV_AWS_3"
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE", "LOG_LEVEL": "WARNING"}
RESIDENCY = [sys.executable, "-c", "import sys; from scanner.cli import main; sys.exit(main())"]

# ------------------------------------------------------------------------------------------------
# one measured process: wall time and peak RSS summed over its process tree

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (one scan of /proc)."""
    parent: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parent[int(name)] = int(fields[1])
    family = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    total = 0
    for pid in family:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _measure_child(argv: list[str], cwd: str, env: dict[str, str], interval: float) -> dict[str, float]:
    """Run in a fresh wrapper process, so RUSAGE_CHILDREN covers this one command only."""
    import resource

    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak = 0
    polled = os.path.isdir("/proc")
    while proc.poll() is None:
        if polled:
            peak = max(peak, _tree_rss(proc.pid))
        time.sleep(interval)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and every process it waited for
    max_child = usage.ru_maxrss * 1024  # KiB on Linux
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rc": proc.returncode,
            "peak_tree": max(peak, max_child), "max_child": max_child, "stderr": err[-2000:]}


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None, interval: float = 0.02) -> dict:
    payload = json.dumps({"argv": argv, "cwd": str(cwd), "env": env or dict(os.environ), "interval": interval})
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_measure"], input=payload,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# ------------------------------------------------------------------------------------------------
# the parse floor: python-hcl2 parse + transform, libyaml CSafeLoader, nothing else


def _floor_one(path: str) -> int:
    if path.endswith((".yaml", ".yml")):
        import yaml

        with open(path, encoding="utf-8-sig") as fh:
            for _ in yaml.load_all(fh.read(), Loader=yaml.CSafeLoader):
                pass
        return 1
    import hcl2

    with open(path, encoding="utf-8-sig") as fh:
        hcl2.transform(hcl2.parses_to_tree(fh.read()))
    return 1


def _floor_main(list_file: str, procs: int) -> None:
    paths = Path(list_file).read_text().split("\n")
    paths = [p for p in paths if p]
    if procs <= 1:
        for p in paths:
            _floor_one(p)
        return
    from concurrent.futures import ProcessPoolExecutor

    # Big files first so the two workers finish together, small chunks for balance.
    paths.sort(key=lambda p: -os.path.getsize(p))
    with ProcessPoolExecutor(max_workers=procs) as pool:
        sum(pool.map(_floor_one, paths, chunksize=8))


# ------------------------------------------------------------------------------------------------
# rows


@dataclass
class Row:
    name: str
    files: int
    runs: list[dict] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(r["wall"] for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r["cpu"] for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r["peak_tree"] for r in self.runs) / 1e6

    def line(self) -> str:
        walls = [r["wall"] for r in self.runs]
        fps = f"{self.files / self.median:,.0f}" if self.files else "-"
        return (f"| {self.name:<34} | {_fmt(self.median):>9} | {_fmt(min(walls)):>8} - {_fmt(max(walls)):<8} "
                f"| {_fmt(self.cpu):>9} | {self.peak_mb:>8,.0f} MB | {fps:>8} |")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _run_row(row: Row, n: int, argv: list[str], cwd: Path, env: dict, before=None, check=None) -> Row:
    for _ in range(n):
        if before is not None:
            before()
        result = measure(argv, cwd, env)
        if check is not None:
            check(result)
        row.runs.append(result)
        print(f"  {row.name}: {_fmt(result['wall'])}, {result['peak_tree'] / 1e6:,.0f} MB", file=sys.stderr)
    return row


def _scan_ok(result: dict) -> None:
    if result["rc"] not in (0, 1):  # 1 = blocking findings, which the corpus has on purpose
        raise SystemExit(f"residency scan failed (exit {result['rc']}):\n{result['stderr']}")


# ------------------------------------------------------------------------------------------------
# checkov


def checkov_bin(repo: Path) -> Path:
    """checkov from $RESIDENCY_CHECKOV_VENV (a shared venv), else ``<repo>/.venv-checkov`` (made once)."""
    venv = Path(os.environ.get("RESIDENCY_CHECKOV_VENV") or repo / ".venv-checkov")
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        print(f"creating {venv} with checkov=={CHECKOV_VERSION} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True)
    return exe


def checkov_checks(env: dict, workdir: Path, corpus: Path) -> tuple[list[str], str]:
    """Extra argv restricting checkov to our exported checks, else to its own encryption checks."""
    out_dir = workdir / "checkov-checks"
    policy = corpus / "residency.yaml"
    made = subprocess.run([*RESIDENCY, "checkov-checks", "-o", str(out_dir),
                           *(["--policy", str(policy)] if policy.is_file() else [])],
                          cwd=corpus, env=env, capture_output=True, text=True)
    if made.returncode == 0 and out_dir.is_dir():
        span = re.search(r"CKV_RES_(\d+)\.\.CKV_RES_(\d+)", made.stdout)
        first, last = (int(span.group(1)), int(span.group(2))) if span else (1, 5)
        ids = ",".join(f"CKV_RES_{i}" for i in range(first, last + 1))
        return ["--external-checks-dir", str(out_dir), "--check", ids], f"our exported checks ({ids})"
    print(f"`residency checkov-checks` is not available (exit {made.returncode}): using checkov's built-in "
          "encryption checks", file=sys.stderr)
    return ["--check", CHECKOV_BUILTIN], f"checkov's built-in encryption checks ({CHECKOV_BUILTIN})"


# ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["_measure"]:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(_measure_child(spec["argv"], spec["cwd"], spec["env"], spec["interval"])))
        return 0
    if args[:1] == ["_floor"]:
        _floor_main(args[1], int(args[2]))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--corpus", metavar="DIR", help="generate into DIR (kept), or use DIR as is if it holds files")
    ap.add_argument("--precommit-file", metavar="FILE", help="file for the one-file run (default: a root's main.tf)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median reported)")
    ap.add_argument("--checkov-runs", type=int, help="runs of checkov (default: --runs)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, help="residency --jobs (default: its own, usable CPUs)")
    ap.add_argument("--skip-checkov", action="store_true")
    ap.add_argument("--skip-floor", action="store_true", help="skip the parse-floor rows (long on a monorepo)")
    ap.add_argument("--changed-since", action="store_true",
                    help="also time `scan . --changed-since HEAD` with one changed file (commits the corpus)")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    ap.add_argument("--policy", metavar="FILE",
                    help="residency scan --policy FILE (default: the corpus's residency.yaml); e.g. the corpus "
                    "policy with `rules: {RES006: {enabled: false}}` to time a rule off against on")
    opts = ap.parse_args(args)

    work = Path(tempfile.mkdtemp(prefix="residency-bench-"))
    try:
        return _bench(opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(opts: argparse.Namespace, work: Path) -> int:
    if opts.corpus and Path(opts.corpus).is_dir() and any(Path(opts.corpus).iterdir()):
        root = Path(opts.corpus).resolve()
        tf = sorted(p for p in root.rglob("*") if p.suffix in (".tf", ".tfvars") and ".terraform" not in p.parts
                    and ".git" not in p.parts)
        yml = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and ".git" not in p.parts)
        precommit = Path(opts.precommit_file).resolve() if opts.precommit_file else (tf[0] if tf else None)
        label = f"corpus {root}"
    else:
        root = Path(opts.corpus).resolve() if opts.corpus else work / "corpus"
        corpus = generate(root, opts.scale, opts.seed)
        tf, yml, precommit = corpus.tf_files, corpus.yaml_files, corpus.precommit_file
        if opts.precommit_file:
            precommit = Path(opts.precommit_file).resolve()
        label = f"generated --scale {opts.scale} --seed {opts.seed}"
    files = tf + yml
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    list_file = work / "files.txt"
    list_file.write_text("\n".join(str(p) for p in files) + "\n")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("RESIDENCY_CACHE_DIR", None)
    # What a user runs has bytecode (pip compiles it on install): compile once, and let runs write it too,
    # so no measured run pays for compiling the scanner's own modules.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "scanner"), str(REPO / "checks")],
                   env=env, capture_output=True, check=False)
    cold_cache = work / "cache-cold"
    warm_cache = work / "cache-warm"
    jobs = ["--jobs", str(opts.jobs)] if opts.jobs else []
    policy = ["--policy", str(Path(opts.policy).resolve())] if opts.policy else []
    scan = [*RESIDENCY, "scan", ".", *jobs, *policy]
    n = opts.runs

    print(f"{label}: {len(tf)} Terraform + {len(yml)} YAML files, {lines:,} lines, "
          f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), Python {sys.version.split()[0]}",
          file=sys.stderr)
    rows: list[Row] = []

    def fresh_cold() -> None:
        shutil.rmtree(cold_cache, ignore_errors=True)

    rows.append(_run_row(Row("residency scan, cold cache", len(files)), n, scan, root,
                         {**env, "RESIDENCY_CACHE_DIR": str(cold_cache)}, before=fresh_cold, check=_scan_ok))
    warm_env = {**env, "RESIDENCY_CACHE_DIR": str(warm_cache)}
    _scan_ok(measure(scan, root, warm_env))  # prime the cache
    rows.append(_run_row(Row("residency scan, warm cache", len(files)), n, scan, root, warm_env, check=_scan_ok))
    if precommit is not None:
        rel = precommit.relative_to(root).as_posix()
        rows.append(_run_row(Row("pre-commit: 1 file, warm cache", 1, note=rel), n,
                             [*RESIDENCY, "scan", rel, *jobs, *policy], root, warm_env, check=_scan_ok))
    if opts.changed_since and precommit is not None:
        rows.append(_changed_since_row(root, precommit, n, jobs, warm_env))
    rows.append(_run_row(Row("residency --version", 0), n, [*RESIDENCY, "--version"], root, env))
    me = str(Path(__file__).resolve())
    if not opts.skip_floor:
        rows.append(_run_row(Row("parse floor, 1 process", len(files)), n,
                             [sys.executable, me, "_floor", str(list_file), "1"], root, env))
        rows.append(_run_row(Row("parse floor, 2 processes", len(files)), n,
                             [sys.executable, me, "_floor", str(list_file), "2"], root, env))
    checkov_row = None
    if not opts.skip_checkov:
        exe = checkov_bin(REPO)
        restrict, what = checkov_checks(env, work, root)
        ck_env = {**env, **CHECKOV_ENV}
        ck_env.pop("PYTHONPATH", None)
        checkov_row = _run_row(Row("checkov, restricted", len(files), note=what), opts.checkov_runs or n,
                               [str(exe), "-d", str(root), "--framework", "terraform", "kubernetes", *restrict,
                                "--skip-download", "--quiet", "--compact", "-o", "cli"], root, ck_env)
        rows.append(checkov_row)

    by = {r.name: r for r in rows}
    print()
    print(f"{label}: {len(tf)} Terraform + {len(yml)} YAML files, {lines:,} lines; median of {n} runs; "
          f"{len(os.sched_getaffinity(0))} usable CPUs")
    print()
    print(f"| {'measurement':<34} | {'median':>9} | {'min - max':<19} | {'CPU':>9} | {'peak RSS':>11} "
          f"| {'files/s':>8} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 21}|{'-' * 11}|{'-' * 13}|{'-' * 10}|")
    for r in rows:
        print(r.line())
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        print()
        print("\n".join(notes))

    cold, warm = by["residency scan, cold cache"], by["residency scan, warm cache"]
    targets = []
    if "parse floor, 2 processes" in by:
        floor2 = by["parse floor, 2 processes"]
        targets.append(("cold scan <= 1.3x two-process parse floor", cold.median / floor2.median, "x floor", 1.3, "le"))
    if checkov_row is not None:
        targets.append(("cold scan >= 10x faster than checkov", checkov_row.median / cold.median, "x faster",
                        10, "ge"))
        targets.append(("cold scan >= 10x less CPU than checkov", checkov_row.cpu / cold.cpu, "x less", 10, "ge"))
        targets.append(("warm scan >= 50x faster than checkov", checkov_row.median / warm.median, "x faster",
                        50, "ge"))
        targets.append(("warm scan >= 50x less CPU than checkov", checkov_row.cpu / warm.cpu, "x less", 50, "ge"))
    if "pre-commit: 1 file, warm cache" in by:
        pre = by["pre-commit: 1 file, warm cache"]
        targets.append(("pre-commit 1 file < 0.3 s", pre.median, "s", 0.3, "lt"))
        targets.append(("pre-commit 1 file < 0.3 s CPU", pre.cpu, "s", 0.3, "lt"))
    targets.append(("residency --version < 150 ms", by["residency --version"].median * 1000, "ms", 150, "lt"))
    limit_mb = 300 if opts.scale == "monorepo" else 200
    targets.append((f"peak memory (cold, summed) < {limit_mb} MB", cold.peak_mb, "MB", limit_mb, "lt"))
    targets.append((f"peak memory (warm, summed) < {limit_mb} MB", warm.peak_mb, "MB", limit_mb, "lt"))
    if "scan --changed-since, 1 changed file" in by:
        changed = by["scan --changed-since, 1 changed file"]
        targets.append((f"peak memory (--changed-since) < {limit_mb} MB", changed.peak_mb, "MB", limit_mb, "lt"))
    print()
    print(f"| {'target':<44} | {'measured':>14} | {'met':<4} |")
    print(f"|{'-' * 46}|{'-' * 16}|{'-' * 6}|")
    for name, value, unit, limit, how in targets:
        ok = {"le": value <= limit, "ge": value >= limit, "lt": value < limit}[how]
        print(f"| {name:<44} | {value:>8.2f} {unit:<5} | {'yes' if ok else 'NO':<4} |")
    if opts.json:
        Path(opts.json).write_text(json.dumps({
            "label": label, "files": len(files), "lines": lines,
            "rows": [{"name": r.name, "files": r.files, "note": r.note, "runs": r.runs} for r in rows],
        }, indent=2))
    return 0


def _changed_since_row(root: Path, changed: Path, n: int, jobs: list[str], env: dict) -> Row:
    """Commit the corpus (dulwich, as the scanner reads it), change one file, time ``--changed-since HEAD``."""
    from dulwich import porcelain

    git = root / ".git"
    if git.is_dir() and not (git / "HEAD").exists():
        shutil.rmtree(git)  # the generator's placeholder: make a real repository
    if not git.exists():
        porcelain.init(str(root))
        porcelain.add(str(root), paths=[str(p) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts])
        porcelain.commit(str(root), message=b"corpus", author=b"bench <b@example.com>",
                         committer=b"bench <b@example.com>")
    original = changed.read_bytes()
    changed.write_bytes(original + b"\n# changed\n")
    try:
        rel = changed.relative_to(root).as_posix()
        return _run_row(Row("scan --changed-since, 1 changed file", 1, note=f"{rel}, warm cache"), n,
                        [*RESIDENCY, "scan", ".", "--changed-since", "HEAD", *jobs], root, env, check=_scan_ok)
    finally:
        changed.write_bytes(original)


if __name__ == "__main__":
    sys.exit(main())
