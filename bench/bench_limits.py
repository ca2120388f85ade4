"""Peak memory and time of the largest inputs the size limits let through, and of the issue's big files.

Run: ``.venv/bin/python bench/bench_limits.py`` (about a minute on a quiet machine; ``--only NAME`` runs
one case). Each case is one ``residency scan FILE --no-cache -j 1`` in a fresh process, so the
parse and the evaluation happen in that process and its peak resident memory (``ru_maxrss`` from
``wait4``) is the whole cost; CPU seconds (user + system) are the figure that holds on a shared
machine, wall seconds are printed beside them. Targets (issue 17): peak memory < 300 MB and < 10 s
for each case. The cases:

- ``tf_4mb``, ``string_4mb``: a 4 MB ``.tf`` of bucket blocks and a ``.tf`` holding one 4 MB string;
  over the Terraform limit (``--max-terraform-size``, 256 KB), so a ``parse`` finding, never read.
- ``yaml_200k``: 200,000 lines of Kubernetes manifests (PersistentVolumeClaims), under the 5 MB limit.
- ``tf_limit``, ``dense_limit``, ``string_limit``: just under 256 KB of bucket blocks, of list items
  (the most tokens per byte), and one string: the worst the Terraform limit admits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1 << 20
LIMIT = 256 << 10  # scanner.limits.MAX_TERRAFORM_BYTES
TARGET_MB, TARGET_S = 300, 10.0

BUCKET = 'resource "aws_s3_bucket" "b{0}" {{\n  bucket = "bucket-{0}-${{var.env}}"\n' \
         '  tags = {{\n    env  = "prod"\n    team = "data"\n  }}\n}}\n\n'
PVC = ("---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-{0}\n  namespace: prod\n"
       "spec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: gp3\n  resources:\n    requests:\n"
       "      storage: 10Gi\n")


def _repeat(template: str, size: int) -> str:
    out, total, i = [], 0, 0
    while True:
        block = template.format(i)
        if total + len(block) > size:
            return "".join(out)
        out.append(block)
        total += len(block)
        i += 1


def _lines(template: str, lines: int) -> str:
    per = template.count("\n")
    return "".join(template.format(i) for i in range(lines // per))


def _string(size: int) -> str:
    head, tail = 'locals {\n  big = "', '"\n}\n'
    return head + "a" * (size - len(head) - len(tail)) + tail


def _dense(size: int) -> str:
    head, tail = "locals {\n  x = [", "]\n}\n"
    return head + "1," * ((size - len(head) - len(tail)) // 2) + tail


CASES: dict[str, tuple[str, Callable[[], str]]] = {
    "tf_4mb": ("main.tf", lambda: _repeat(BUCKET, 4 * MB)),
    "string_4mb": ("main.tf", lambda: _string(4 * MB)),
    "yaml_200k": ("pvc.yaml", lambda: _lines(PVC, 200_000)),
    "tf_limit": ("main.tf", lambda: _repeat(BUCKET, LIMIT - 1)),
    "dense_limit": ("main.tf", lambda: _dense(LIMIT - 1)),
    "string_limit": ("main.tf", lambda: _string(LIMIT - 1)),
}


def run_case(name: str, base: Path) -> tuple[float, float, int, int, int]:
    """(CPU s, wall s, peak MB, exit code, file bytes) of one scan in a fresh process."""
    filename, make = CASES[name]
    case = base / name
    case.mkdir(parents=True)
    text = make()
    (case / filename).write_text(text)
    cmd = [sys.executable, "-m", "scanner", "scan", filename, "--no-cache", "-j", "1",
           "--allowed-regions", "in:eu-locations", "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=case, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return (usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status),
            len(text.encode()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    print(f"{'case':<14}{'bytes':>10}{'cpu s':>8}{'wall s':>8}{'peak MB':>9}{'exit':>6}  target < {TARGET_MB} MB, "
          f"< {TARGET_S:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / ".git").mkdir()  # the scan root is this directory, not the caller's repository
        for name in args.only or CASES:
            cpu, wall, peak, code, size = run_case(name, base)
            verdict = "ok" if peak < TARGET_MB and cpu < TARGET_S else "OVER"
            print(f"{name:<14}{size:>10}{cpu:>8.2f}{wall:>8.2f}{peak:>9}{code:>6}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
