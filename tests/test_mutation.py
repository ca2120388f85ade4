"""Seeded, bounded mutation test over the fixtures (issue 17): a damaged file must never pass silently.

Each mutant is one blocking fixture with one small random edit (a line deleted, duplicated or swapped,
a character replaced, garbage bytes inserted, the file truncated). Scanned, a mutant may still block
(exit 1), or it may pass (exit 0) only with a note naming the mutated file that says why (an unknown
type, a skipped file): never exit 0 without a word, and never a crash. The seed is fixed, so a failure
reproduces; ``bench/mutation.py`` runs the same check over many more mutants.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_POLICY, FIXTURES

SEED = 17
MUTANTS = 40

#: (unit to scan, file in it to mutate, policy); every unit blocks unmutated.
UNITS: tuple[tuple[str, str, Path], ...] = (
    ("terraform/aws", "main.tf", BUNDLED_POLICY),
    ("terraform/gcp", "main.tf", BUNDLED_POLICY),
    ("terraform/azure", "main.tf", BUNDLED_POLICY),
    ("terraform/realistic/gcp_sql_mysql_ha", "modules/mysql/read_replica.tf", BUNDLED_POLICY),
    ("kubernetes/storage", "storageclasses_bad.yaml", FIXTURES / "kubernetes" / "residency.yaml"),
    ("kubernetes/workloads", "pinned_bad.yaml", FIXTURES / "kubernetes" / "residency.yaml"),
)

GARBAGE = ("{", "}", '"', "=", "$", "${", "\n", "#", "[", "\x00", "\xff", "<<EOT", "...", ": ", "- ", "\t")


@dataclass(frozen=True)
class Mutant:
    unit: str
    file: str
    policy: Path
    operator: str
    text: str


def _mutate(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    operator = rng.choice(("delete-line", "duplicate-line", "swap-lines", "replace-char", "insert-garbage",
                           "truncate"))
    if operator == "delete-line" and lines:
        i = rng.randrange(len(lines))
        return operator + f"@{i + 1}", "".join(lines[:i] + lines[i + 1:])
    if operator == "duplicate-line" and lines:
        i = rng.randrange(len(lines))
        return operator + f"@{i + 1}", "".join(lines[:i + 1] + lines[i:])
    if operator == "swap-lines" and len(lines) > 1:
        i, j = sorted(rng.sample(range(len(lines)), 2))
        lines[i], lines[j] = lines[j], lines[i]
        return operator + f"@{i + 1},{j + 1}", "".join(lines)
    pos = rng.randrange(max(1, len(text)))
    if operator == "replace-char":
        return operator + f"@{pos}", text[:pos] + rng.choice(GARBAGE)[0] + text[pos + 1:]
    if operator == "insert-garbage":
        return operator + f"@{pos}", text[:pos] + rng.choice(GARBAGE) + text[pos:]
    return f"truncate@{pos}", text[:pos]


def mutants(count: int = MUTANTS, seed: int = SEED) -> list[Mutant]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        unit, name, policy = UNITS[i % len(UNITS)]
        original = (FIXTURES / unit / name).read_text(encoding="utf-8")
        operator, text = _mutate(original, rng)
        if text == original:  # a no-op edit proves nothing: edit again
            operator, text = _mutate(original, rng)
        out.append(Mutant(unit, name, policy, operator, text))
    return out


@dataclass(frozen=True)
class Outcome:
    code: int
    blocking: int
    notes: list[str]  # notes about the mutated file or its directory
    problems: int


def scan_mutant(m: Mutant, base: Path) -> Outcome:
    """Scan a copy of the unit with the one file mutated; the exit code the CLI would give."""
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    work = base / "repo"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(FIXTURES / m.unit, work)
    (work / ".git").mkdir(exist_ok=True)
    target = work / m.file
    target.write_bytes(m.text.encode("utf-8", errors="surrogateescape"))
    report = scan(ScanOptions(paths=[work], cwd=work, use_cache=False, jobs=1), load_policy(m.policy))
    blocking = [f for f in report.findings if f.blocking]
    mutated_dir = str(Path(m.file).parent).replace("\\", "/")
    notes = [n.message for n in report.notes
             if n.file in (m.file, mutated_dir) or n.file.startswith(m.file) or m.file in n.message]
    return Outcome(1 if blocking else 0, len(blocking), notes, sum(f.category.value == "parse" for f in blocking))


@pytest.mark.parametrize("unit", [u for u, _, _ in UNITS])
def test_every_unit_blocks_unmutated(unit: str, tmp_path: Path) -> None:
    _, name, policy = next(u for u in UNITS if u[0] == unit)
    original = Mutant(unit, name, policy, "none", (FIXTURES / unit / name).read_text(encoding="utf-8"))
    assert scan_mutant(original, tmp_path).code == 1


def test_no_mutant_passes_without_a_word(tmp_path: Path) -> None:
    silent = []
    for m in mutants():
        outcome = scan_mutant(m, tmp_path)  # an exception here is a crash on damaged input: a failure too
        if outcome.code == 0 and not outcome.notes:
            silent.append(f"{m.unit}/{m.file} {m.operator}")
    assert not silent, f"mutants that pass with no finding and no note: {silent}"
