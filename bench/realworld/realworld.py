"""Scan public example roots as a user would and count how right the scanner is on them.

Real code nobody here wrote is the test the fixtures cannot be: this script reads the repositories
listed in ``roots.yaml`` from their fetched bare mirrors (``<mirror>/<owner>+<name>/repo``, pinned to
the listed commit), writes the text files of that commit into a work directory (with a ``.git``
marker, as a clone has, so the scan root is the repository), and runs ``residency scan ROOT --policy
<EU-only> --format json`` and ``residency inventory ROOT --format json`` in it for every root.
It never fetches: an absent mirror or commit is reported as skipped.

Each root's output is compared with the hand-checked expectations in ``expected.yaml``:

- ``stores``: every data store the root deploys (inventory address -> ``cloud:region`` the way
  Terraform/the operator would place it, or ``?`` where nothing in the code says);
- ``blocks``: the blocking findings that are right (``RULE address``).

Counts per repository (columns of the table):

- stores: hand-checked data stores; found: of them, with an inventory row;
- right region: found rows whose location is the expected one (``?`` expects an unresolved row);
- unresolved: blocking findings of category ``unresolved``;
- false blocks: blocking findings not in ``blocks`` (each one forces a waiver on compliant code);
- silent misses: expected blocking findings not reported plus expected stores with no inventory
  row (a store the scanner never sees passes silently);
- unchecked: roots with no entry in ``expected.yaml`` (their raw counts are still shown).

Run from the repository: ``python bench/realworld/realworld.py [--mirror /work/.mirror]
[--work /tmp/residency-realworld] [--dump DIR]``; ``--dump`` writes each root's rows and findings for
hand-checking, ``--seed FILE`` writes an expectations skeleton from the current output (to edit by
hand, never to commit unchecked).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Text files a scan can read; everything else (archives, images, Go code) is left in the mirror.
SUFFIXES = (".tf", ".tfvars", ".hcl", ".yaml", ".yml", ".json", ".tf.json")

POLICY = """version: 1
allowed_regions:
  - in:eu-locations
encryption:
  minimum: provider-managed
unresolved: fail
"""


@dataclass
class Counts:
    """One repository's (or the total's) row of the table."""

    roots: int = 0
    checked: int = 0
    stores: int = 0
    found: int = 0
    right: int = 0
    unresolved: int = 0
    false_blocks: int = 0
    misses: int = 0
    init: int = 0
    rows: int = 0
    blocking: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name in ("roots", "checked", "stores", "found", "right", "unresolved", "false_blocks",
                     "misses", "init", "rows", "blocking"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    """Run git on a bare mirror only (no work tree, no hooks, no system/global config)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "HOME": "/nonexistent"}
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data, env=env,
                          capture_output=True, check=True).stdout


def extract(git_dir: Path, commit: str, dest: Path) -> bool:
    """Write the text files of ``commit`` under ``dest``; False when the mirror lacks the commit.

    Blobs the snapshot lacks (files of 4 MiB and more) are skipped: none of them is a scan input.
    """
    marker = dest / ".realworld-commit"
    if marker.is_file() and marker.read_text() == commit:
        return True
    try:
        _git(git_dir, "cat-file", "-e", f"{commit}^{{commit}}")
    except subprocess.CalledProcessError:
        return False
    listing = _git(git_dir, "ls-tree", "-r", "-z", commit).split(b"\0")
    wanted: list[tuple[str, str]] = []
    for entry in listing:
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        name = path.decode("utf-8", "replace")
        if kind == b"blob" and mode != b"120000" and name.endswith(SUFFIXES):
            wanted.append((sha.decode(), name))
    batch = _git(git_dir, "cat-file", "--batch", data="".join(f"{s}\n" for s, _ in wanted).encode())
    pos = 0
    for _sha, name in wanted:
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        body = batch[pos:pos + size]
        pos += size + 1
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    (dest / ".git").mkdir(parents=True, exist_ok=True)
    marker.write_text(commit)
    return True


def run_residency(args: list[str], cwd: Path) -> dict:
    """One residency command in a fresh process (as a user runs it), its JSON output parsed.

    The parse cache is on, as for a user, in the work directory (``RESIDENCY_CACHE_DIR``): the
    inventory and the rescans after an emulated ``terraform init`` reparse nothing unchanged.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO), RESIDENCY_CACHE_DIR=str(cwd.parent / ".cache"))
    proc = subprocess.run([sys.executable, "-m", "scanner.cli", *args, "--format", "json"],
                          cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"residency {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout)


def _place(loc: dict | None) -> str:
    if not loc or not loc.get("code"):
        return "?"
    return f"{loc.get('cloud')}:{loc['code']}"


def inventory_rows(inventory: dict) -> dict[str, str]:
    """address -> cloud:code of every data store row and every copy (replica, backup) of one."""
    rows: dict[str, str] = {}
    for store in inventory.get("data_stores", []):
        rows[store["address"]] = _place(store.get("location"))
        for copy in store.get("copies", []):
            rows[f"{store['address']} {copy.get('kind')} <- {copy.get('via')}"] = _place(copy.get("location"))
        for key in store.get("keys", []):
            rows[f"{store['address']} key {key.get('address')}"] = _place(key.get("location"))
    return rows


def needs_init(finding: dict) -> bool:
    """A finding that only a registry module missing from disk causes (``terraform init`` would fix it)."""
    message = finding["message"]
    return ((" is not on disk (" in message and "terraform init" in message)
            or " is not local; run `terraform init`" in message  # scanners before session 4 (--as-initialised)
            or "could not be loaded" in message)


def judge(name: str, scan: dict, inventory: dict, expected: dict | None) -> Counts:
    """Compare one root's scan and inventory with its hand-checked expectations."""
    counts = Counts(roots=1)
    rows = inventory_rows(inventory)
    blocking = [f for f in scan["findings"] if f["blocking"]]
    counts.rows = len(rows)
    counts.blocking = len(blocking)
    counts.unresolved = sum(1 for f in blocking if f["category"] == "unresolved")
    if expected is None:
        counts.details.append(f"{name}: unchecked ({len(rows)} rows, {len(blocking)} blocking)")
        return counts
    counts.checked = 1
    stores: dict[str, str] = expected.get("stores") or {}
    right_blocks = set(expected.get("blocks") or [])
    counts.stores = len(stores)
    not_local = [f["resource"] + "." for f in blocking if needs_init(f) and f["rule_id"] == "RES901"]
    for address, place in stores.items():
        if address not in rows and _unindexed(address) in rows:
            address_found = _unindexed(address)  # count unknown (a module not on disk decides it)
            rows[address] = rows[address_found]
        elif address not in rows and _indexed(address) in rows:
            rows[address] = rows[_indexed(address)]  # the count's module is on disk now (--init): one instance
        if address not in rows and any(address.startswith(m) for m in not_local):
            counts.init += 1  # inside a module call that is not on disk: loud (RES901), not silent
            counts.details.append(f"{name}: INIT no row for {address} (its module is not on disk)")
            continue
        if address not in rows:
            counts.misses += 1
            counts.details.append(f"{name}: MISS no row for {address} ({place})")
            continue
        counts.found += 1
        if rows[address] == str(place):
            counts.right += 1
        else:
            counts.details.append(f"{name}: WRONG {address} at {rows[address]}, expected {place}")
    reported = set()
    for f in blocking:
        key = f"{f['rule_id']} {f['resource']}"
        if key not in right_blocks and _unindexed(key) in right_blocks:
            key = _unindexed(key)  # expected as counted without init (count decided by a module not on disk)
        reported.add(key)
        if key in right_blocks:
            continue
        if needs_init(f):
            counts.init += 1
            counts.details.append(f"{name}: INIT {key} [{f['category']}] {f['message'][:160]}")
        else:
            counts.false_blocks += 1
            counts.details.append(f"{name}: FALSE {key} [{f['category']}] {f['message'][:160]}")
    for key in sorted(right_blocks - reported):
        if any(key.split(" ", 1)[1].startswith(m) for m in not_local):
            counts.init += 1  # its module is not on disk: RES901 blocks for it, loud, not silent
            counts.details.append(f"{name}: INIT no finding {key} (its module is not on disk)")
            continue
        counts.misses += 1
        counts.details.append(f"{name}: MISS no finding {key}")
    return counts


def _unindexed(address: str) -> str:
    return re.sub(r"\[0\]$", "", address)


def _indexed(address: str) -> str:
    return address if address.endswith("]") else address + "[0]"


def roots_of(tree: Path, patterns: list[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for path in sorted(tree.glob(pattern)):
            if path.is_dir() and not path.name.startswith("."):
                found.append(path.relative_to(tree).as_posix())
    return found


# "is not on disk" since c603efd (session 4); "is not local" before (--as-initialised with an older scanner).
NOT_LOCAL = re.compile(r"^module source (\S+) (?:\(version [^)]*\) )?is not (?:local|on disk)")


VERSION_IN = re.compile(r"\(version ([^)]*)\)")
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _parse_version(text: str) -> tuple[int, ...] | None:
    m = _SEMVER.match(text.strip())
    return tuple(int(g) for g in m.groups()) if m else None


def satisfies(version: tuple[int, ...], constraint: str) -> bool:
    """Terraform's version constraint syntax (``= != > >= < <= ~>``, comma-separated; a bare version is ``=``)."""
    for part in constraint.split(","):
        m = re.match(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?([\d.]+)\s*$", part)
        if not m:
            return False
        op, digits = m.group(1) or "=", [int(d) for d in m.group(2).split(".")]
        want = tuple(digits + [0] * (3 - len(digits)))
        if op == "~>":
            # ~> 5.28.0 allows 5.28.x; ~> 6.0 allows 6.x (the rightmost given component may grow)
            upper = list(digits[:-1]) if len(digits) > 1 else [digits[0]]
            upper[-1] += 1
            if not (version >= want and version < tuple(upper + [0] * (3 - len(upper)))):
                return False
        elif not {"=": version == want, "!=": version != want, ">": version > want, ">=": version >= want,
                  "<": version < want, "<=": version <= want}[op]:
            return False
    return True


def tag_for(git_dir: Path, constraint: str) -> tuple[str, str] | None:
    """(tag, commit) of the highest release tag of a mirror that meets the module call's version constraint.

    ``terraform init`` downloads that release, not the repository's head: a call pinned to
    ``Azure/avm-res-keyvault-vault/azurerm`` 0.5.1 reads outputs the newest release renamed.
    """
    try:
        tags = _git(git_dir, "tag", "--list").decode().split()
    except subprocess.CalledProcessError:
        return None
    ok = [(v, t) for t in tags if (v := _parse_version(t)) is not None and satisfies(v, constraint)]
    if not ok:
        return None
    tag = max(ok)[1]
    return tag, _git(git_dir, "rev-parse", f"{tag}^{{commit}}").decode().strip()


def registry_repo(source: str) -> tuple[str, str] | None:
    """``ns/name/provider[//sub]`` -> (GitHub ``ns/terraform-provider-name``, sub); None for other sources.

    The public registry publishes a module from the repository named that way, which is how
    ``terraform init`` finds what it downloads.
    """
    base, _, sub = source.partition("//")
    parts = base.split("/")
    if len(parts) != 3 or any(not p or ":" in p or "." in p for p in parts):
        return None
    ns, name, provider = parts
    return f"{ns}/terraform-{provider}-{name}", sub.split("?")[0]


CALL = re.compile(r'module\s+"([^"]+)"\s*\{[^}]*?source\s*=\s*"(\.{1,2}/[^"]*)"', re.S)


def callers_of(tree: Path, root: str) -> dict[str, Path]:
    """Module name -> directory whose .tf calls ROOT by a local source under that name.

    The scanner evaluates a directory that another root calls (a test fixture calling an example) through
    that caller, so ``terraform init`` has to have run there too.
    """
    target = (tree / root).resolve()
    found: dict[str, Path] = {}
    for tf in tree.rglob("*.tf"):
        if ".terraform" in tf.parts:
            continue
        for m in CALL.finditer(tf.read_text(encoding="utf-8", errors="replace")):
            if (tf.parent / m.group(2)).resolve() == target:
                found[m.group(1)] = tf.parent
    return found


def emulate_init(tree: Path, root: str, args: list[str], trees: dict[str, Path],
                 release: Callable[[str, str], Path | None] | None = None) -> tuple[dict, list[str]]:
    """Do what ``terraform init -backend=false`` does for module sources, from the mirrors only.

    Each registry module call the scan reports as not local is copied from its repository (when that
    repository is pinned in roots.yaml and was extracted) into ``<dir>/.terraform/modules/<key>`` and
    recorded in ``modules.json``, in ROOT and in the callers through which the scanner evaluates ROOT;
    repeated until no new call can be resolved (modules calling modules). Versions are not matched:
    the pinned commit stands in for the version constraint unless ``release(repo, constraint)`` gives the
    tree of the release tag that meets it. Returns the last scan and the sources that stayed missing.
    """
    callers = callers_of(tree, root)
    for directory in [tree / root, *callers.values()]:
        shutil.rmtree(directory / ".terraform", ignore_errors=True)
    entries: dict[Path, dict[str, str]] = {}
    missing: list[str] = []
    scan: dict = {}
    for _ in range(6):
        scan = run_residency(["scan", *args], tree)
        added = False
        missing = []
        for f in scan["findings"]:
            m = NOT_LOCAL.match(f["message"])
            if not m:
                continue
            key = ".".join(part.split("[")[0].strip(".") for part in f["resource"].split("module.") if part)
            found = registry_repo(m.group(1))
            if found is None or found[0] not in trees:
                missing.append(m.group(1))
                continue
            first, _, rest = key.partition(".")
            places = [(callers[first], key), (tree / root, rest)] if rest and first in callers else [
                (tree / root, key)]
            for directory, k in places:
                have = entries.setdefault(directory, {})
                if k in have:
                    continue
                wanted = VERSION_IN.search(f["message"])
                source = (release(found[0], wanted.group(1)) if release and wanted else None) or trees[found[0]]
                _copy_module(source, directory / ".terraform" / "modules" / k, tree.parent)
                have[k] = f".terraform/modules/{k}" + (f"/{found[1]}" if found[1] else "")
                added = True
        if not added:
            break
        for directory, have in entries.items():
            manifest = [{"Key": "", "Source": "", "Dir": "."}] + [
                {"Key": k, "Source": "registry", "Dir": v} for k, v in sorted(have.items())]
            (directory / ".terraform" / "modules").mkdir(parents=True, exist_ok=True)
            (directory / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": manifest}))
    return scan, missing


def _copy_module(source: Path, target: Path, work: Path) -> None:
    """Copy a module repository to ``target``, staged outside it (a repository may be copied into itself)."""
    stage = work / ".stage" / target.name
    shutil.rmtree(stage, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, stage, ignore=shutil.ignore_patterns(".git", ".terraform", ".realworld-commit"))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(stage), target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default="/work/.mirror", type=Path)
    ap.add_argument("--work", default=Path("/tmp/residency-realworld"), type=Path)
    ap.add_argument("--roots", default=HERE / "roots.yaml", type=Path)
    ap.add_argument("--expected", default=HERE / "expected.yaml", type=Path)
    ap.add_argument("--only", default="", help="fnmatch patterns of repo:root to run, comma-separated")
    ap.add_argument("--init", action="store_true",
                    help="emulate `terraform init` with the pinned module repositories before scanning")
    ap.add_argument("--as-initialised", action="store_true",
                    help="scan with the .terraform directories a previous --init run left (another scanner version)")
    ap.add_argument("--dump", type=Path, help="write each root's rows and findings here")
    ap.add_argument("--save", type=Path, help="keep each root's scan and inventory JSON here")
    ap.add_argument("--reuse", action="store_true", help="judge the JSON kept by --save instead of scanning")
    ap.add_argument("--seed", type=Path, help="write an expectations skeleton from this run")
    ap.add_argument("--no-data-modules", default="",
                    help="comma-separated registry sources the policy declares data-free (terraform.no_data_modules)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss and false block")
    opts = ap.parse_args(argv)

    config = yaml.safe_load(opts.roots.read_text())
    expected_all = yaml.safe_load(opts.expected.read_text()) if opts.expected.is_file() else {}
    expected_all = expected_all or {}
    opts.work.mkdir(parents=True, exist_ok=True)
    policy = opts.work / "eu-only.yaml"
    extra = ""
    if opts.no_data_modules:
        # what a team writes once it knows its networking modules hold no data (terraform.no_data_modules)
        extra = "terraform:\n  no_data_modules: [" + ", ".join(opts.no_data_modules.split(",")) + "]\n"
    policy.write_text(POLICY + extra)
    seed: dict[str, dict] = {}
    table: list[tuple[str, str, Counts]] = []
    total = Counts()
    trees: dict[str, Path] = {}
    for entry in [*config["repos"], *config.get("modules", [])]:
        repo, commit = entry["repo"], entry["commit"]
        git_dir = opts.mirror / repo.replace("/", "+") / "repo"
        tree = opts.work / repo.replace("/", "+")
        if git_dir.is_dir() and extract(git_dir, commit, tree):
            trees[repo] = tree
        else:
            print(f"skipped {repo}@{commit[:12]}: not in {opts.mirror}", file=sys.stderr)
    def release(repo: str, constraint: str) -> Path | None:
        git_dir = opts.mirror / repo.replace("/", "+") / "repo"
        found = tag_for(git_dir, constraint) if git_dir.is_dir() else None
        if found is None:
            return None
        dest = opts.work / ".releases" / f"{repo.replace('/', '+')}@{found[0]}"
        return dest if extract(git_dir, found[1], dest) else None

    for entry in config["repos"]:
        repo, commit = entry["repo"], entry["commit"]
        if repo not in trees:
            continue
        tree = trees[repo]
        counts = Counts()
        for root in roots_of(tree, entry["roots"]):
            name = f"{repo}:{root}"
            if opts.only and not any(fnmatch.fnmatch(name, p) for p in opts.only.split(",")):
                continue
            args = [root, "--policy", str(policy), *(a.replace("{root}", root) for a in entry.get("args", []))]
            saved = opts.save / (name.replace("/", "+").replace(":", "__") + ".json") if opts.save else None
            if opts.reuse and saved is not None and saved.is_file():
                scan, inventory, missing = json.loads(saved.read_text())
            else:
                if opts.init:
                    scan, missing = emulate_init(tree, root, args, trees, release)
                elif opts.as_initialised:
                    scan, missing = run_residency(["scan", *args], tree), []
                else:
                    shutil.rmtree(tree / root / ".terraform", ignore_errors=True)
                    scan, missing = run_residency(["scan", *args], tree), []
                inventory = run_residency(["inventory", *args], tree)
                if saved is not None:
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    saved.write_text(json.dumps([scan, inventory, missing]))
            one = judge(name, scan, inventory, expected_all.get(name))
            counts.add(one)
            counts.details.extend(one.details)
            counts.details.extend(f"{name}: NOT FETCHED {src}" for src in sorted(set(missing)))
            if opts.dump:
                _dump(opts.dump, name, scan, inventory)
            if opts.seed:
                seed[name] = {"stores": inventory_rows(inventory),
                              "blocks": sorted({f"{f['rule_id']} {f['resource']}" for f in scan["findings"]
                                                if f["blocking"] and not needs_init(f)})}
        if counts.roots:
            table.append((repo, commit, counts))
            total.add(counts)
    mode = ("results kept by --save (--reuse)" if opts.reuse else "after emulated terraform init"
            if opts.init or opts.as_initialised else "fresh clone (no terraform init)")
    print(f"mode: {mode}\n")
    _print_table(table, total, opts.verbose)
    if opts.seed:
        opts.seed.write_text(yaml.safe_dump(seed, sort_keys=False, width=200))
    return 0


def _dump(directory: Path, name: str, scan: dict, inventory: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"# {name}"]
    for store in inventory.get("data_stores", []):
        enc = store.get("encryption") or {}
        lines.append(f"ROW {store['address']} {store['type']} {_place(store.get('location'))} "
                     f"[{(store.get('location') or {}).get('status')}] enc={enc.get('level')} "
                     f"({(store.get('location') or {}).get('provenance')})")
        for copy in store.get("copies", []):
            lines.append(f"  COPY {copy.get('kind')} <- {copy.get('via')} {_place(copy.get('location'))}")
        for key in store.get("keys", []):
            lines.append(f"  KEY {key.get('address')} {_place(key.get('location'))}")
    for f in scan["findings"]:
        flag = "BLOCK" if f["blocking"] else "info"
        lines.append(f"{flag} {f['rule_id']} {f['category']} {f['resource']} {f['file']}:{f['line']} "
                     f"{f['region']} | {f['message'][:220]}")
    for note in scan.get("notes", []):
        lines.append(f"NOTE {str(note)[:220]}")
    (directory / (name.replace("/", "+").replace(":", "__") + ".txt")).write_text("\n".join(lines) + "\n")


def _print_table(table: list[tuple[str, str, Counts]], total: Counts, verbose: bool) -> None:
    head = ("| repository | commit | roots (checked) | rows | blocking | stores | found | right region | "
            "unresolved | false blocks | needs init | silent misses |")
    print(head)
    print("|" + "---|" * 12)
    for repo, commit, c in [*table, ("total", "", total)]:
        print(f"| {repo} | {commit[:12]} | {c.roots} ({c.checked}) | {c.rows} | {c.blocking} | {c.stores} | "
              f"{c.found} | {c.right} | {c.unresolved} | {c.false_blocks} | {c.init} | {c.misses} |")
    if verbose:
        for _, _, c in table:
            for line in c.details:
                print(line)


if __name__ == "__main__":
    raise SystemExit(main())
