"""Coverage-guided fuzzing of the loaders and the whole scan with atheris (optional, outside CI).

CI runs the derandomized hypothesis suite in ``tests/test_fuzz.py`` (seconds). This harness runs
the same targets for as long as you let it, guided by coverage, and writes every crashing input
to the current directory (``crash-*``). Copy each one into ``tests/fuzz_corpus/`` with the suffix
of its loader, fix the crash, and the replay test keeps it fixed.

    pip install atheris
    python fuzz/atheris_fuzz.py hcl   -max_total_time=600 tests/fuzz_corpus
    python fuzz/atheris_fuzz.py yaml  -max_total_time=600
    python fuzz/atheris_fuzz.py plan  -max_total_time=600
    python fuzz/atheris_fuzz.py scan  -max_total_time=1800 -rss_limit_mb=2048 -timeout=30

``-timeout`` and ``-rss_limit_mb`` turn hangs and memory explosions into reported crashes too.
Allowed outcomes: a ``ParseError`` from the HCL parser, any LoadResult from the other loaders,
exit 0/1/2 from the CLI. Anything else is a bug.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from scanner import cli
    from scanner.loaders.hcl_parse import ParseError, parse_file
    from scanner.loaders.kubernetes import load_kubernetes
    from scanner.loaders.tfplan import load_plan_bytes

_NAMES = ("main.tf", "main.tf.json", "terraform.tfvars", "k.yaml", "plan.json")


def hcl(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = fdp.PickValueInList(["main.tf", "main.tf.json", "x.tfvars", "x.tfvars.json"])
    with contextlib.suppress(ParseError):
        parse_file(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()), name)


def yaml(data: bytes) -> None:
    load_kubernetes([("k.yaml", data)])


def plan(data: bytes) -> None:
    load_plan_bytes(data, "plan.json", Path("/nonexistent-root"))


def scan(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = fdp.PickValueInList(list(_NAMES))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / name).write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
        old = Path.cwd()
        os.chdir(root)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                code = cli.main(["scan", ".", "--allowed-regions", "in:eu-locations", "--no-cache", "--jobs", "1",
                                 "--format", "json"])
        finally:
            os.chdir(old)
    if code not in (0, 1, 2):
        raise RuntimeError(f"exit {code}: {err.getvalue()}")


TARGETS = {"hcl": hcl, "yaml": yaml, "plan": plan, "scan": scan}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
