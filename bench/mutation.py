"""The fixture mutation check of tests/test_mutation.py over many more mutants (issue 17).

Run: ``.venv/bin/python bench/mutation.py --count 500 --seed 17``. Prints each mutant that passes
(exit 0) and whether a note about the mutated file explains it, then the totals; exits 1 when a
mutant passes with no note or a scan raises (a crash on damaged input). The fast suite runs 40.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_mutation import SEED, mutants, scan_mutant  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    totals: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for m in mutants(args.count, args.seed):
            label = f"{m.unit}/{m.file} {m.operator}"
            try:
                outcome = scan_mutant(m, Path(tmp))
            except Exception:  # a crash is a finding of this bench
                totals["crash"] += 1
                print(f"CRASH {label}\n{traceback.format_exc()}")
                continue
            if outcome.code == 1:
                totals["blocks (parse finding)" if outcome.problems else "blocks"] += 1
            elif outcome.notes:
                totals["passes with a note"] += 1
                print(f"note  {label}: {outcome.notes[0]}")
            else:
                totals["passes silently"] += 1
                print(f"SILENT {label}")
    print(f"{args.count} mutants, seed {args.seed}, {time.perf_counter() - start:.0f} s: {dict(totals)}")
    return 1 if totals["crash"] or totals["passes silently"] else 0


if __name__ == "__main__":
    sys.exit(main())
