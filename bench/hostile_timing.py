"""Wall-clock of the hostile inputs whose speed unit tests used to assert (issue 14 item 7).

Run: ``.venv/bin/python bench/hostile_timing.py``. Prints seconds per case; the targets the
removed asserts held were: YAML alias bomb < 2 s, 30,000-deep flow YAML < 10 s, evaluation bombs
(count/for_each 20,000) < 90 s. Timing belongs here, on a quiet machine, not in shared CI.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.engine import ScanOptions, scan  # noqa: E402
from scanner.loaders.kubernetes import load_kubernetes  # noqa: E402
from scanner.policy import policy_from_regions  # noqa: E402


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


def _time(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s")


def main() -> None:
    _time("yaml alias bomb (target < 2 s)", lambda: load_kubernetes([("bomb.yaml", _alias_bomb().encode())]))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "flow.yaml").write_text("[" * 30_000 + "]" * 30_000)
        policy = policy_from_regions(["in:eu-locations"], root)
        _time("30,000-deep flow YAML scan (target < 10 s)",
              lambda: scan(ScanOptions(paths=[root], cwd=root, use_cache=False), policy))
    print("evaluation bombs (target < 90 s): pytest tests/hostile/test_hostile_eval.py --durations=0")


if __name__ == "__main__":
    main()
