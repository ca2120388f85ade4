"""Which files changed (``--changed-since REF``, ``--changed-files FILE``) and what they select to scan.

Reading git never runs anything from the scanned repository. A ``git`` subprocess would obey the
repository's own configuration: ``core.fsmonitor`` runs a program on every status, clean/process
filters named in ``.gitattributes`` run when a work-tree file is compared, ``diff.external`` and
textconv drivers run on diffs. ``-c`` overrides can switch off the ones known today, but every new
git release may add another. So the repository is read with dulwich (pure Python): commits and trees
from the object store, the index file, and the work tree's raw bytes hashed here. Nothing is
filtered: a file whose checked-out bytes differ from the blob (CRLF conversion, LFS) counts as
changed, which scans more, never less. Untracked files are not seen (commit or ``git add`` them, or
list them with ``--changed-files``).

The selection is the pre-commit hook's closure: a changed Terraform file selects its module
directory, which the Terraform loader evaluates through every root that calls it (a child module
selects the roots using it); a changed YAML or JSON file selects itself; the policy file, a
``--var-file`` or a ``.tfvars`` file outside any module directory (one the policy's
``terraform.roots[].var_files`` may name) selects everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from scanner.discover import rel
from scanner.errors import ResidencyError

TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json")
FILE_SUFFIXES = (".yaml", ".yml", ".json")


def changed_since(repo_root: Path, ref: str) -> list[str]:
    """Repository-relative paths changed between the merge base of ``ref`` and HEAD, plus staged and
    unstaged changes of tracked files (``git diff REF...`` and the work tree, without running git)."""
    from dulwich.diff_tree import tree_changes
    from dulwich.errors import NotGitRepository
    from dulwich.graph import find_merge_base
    from dulwich.object_store import iter_tree_contents
    from dulwich.objects import Blob
    from dulwich.objectspec import parse_commit
    from dulwich.repo import Repo

    try:
        repo = Repo(str(repo_root))
    except NotGitRepository:
        raise ResidencyError(f"--changed-since needs a git repository; {repo_root} is not one") from None
    try:
        base = parse_commit(repo, ref.encode())
        head = repo[repo.head()]
    except (KeyError, ValueError) as exc:
        raise ResidencyError(f"--changed-since: cannot resolve {ref!r} in {repo_root} ({exc}); in CI fetch it first "
                             "(actions/checkout with fetch-depth: 0, or git fetch origin main)") from None
    bases = find_merge_base(repo, [base.id, head.id])
    base_tree = repo[bases[0]].tree if bases else base.tree  # type: ignore[attr-defined]
    changed: set[bytes] = set()
    for change in tree_changes(repo.object_store, base_tree, head.tree):  # type: ignore[attr-defined]
        for entry in (change.old, change.new):
            if entry is not None and entry.path is not None:
                changed.add(entry.path)
    head_blobs = {e.path: e.sha for e in iter_tree_contents(repo.object_store, head.tree)}  # type: ignore[attr-defined]
    index = repo.open_index()
    try:  # a file modified in the same tick the index was written may keep its size and mtime: hash it
        racy_after = os.stat(index.path).st_mtime_ns - 2_000_000_000
    except OSError:
        racy_after = 0
    indexed: set[bytes] = set()
    for path, ientry in index.items():
        indexed.add(path)
        sha = getattr(ientry, "sha", None)
        if sha is None or head_blobs.get(path) != sha:  # staged (or a merge conflict)
            changed.add(path)
            continue
        if _work_tree_differs(repo_root, path, ientry, Blob, racy_after):
            changed.add(path)
    changed.update(p for p in head_blobs if p not in indexed)  # removed from the index
    return sorted(p.decode("utf-8", "surrogateescape") for p in changed)


def _work_tree_differs(repo_root: Path, path: bytes, entry: object, blob_type: type, racy_after: int) -> bool:
    """The checked-out file's raw bytes against the index blob; a matching size and mtime (to the
    nanosecond, and older than the index file, git's "racy" rule) short-cuts."""
    full = repo_root / os.fsdecode(path)
    try:
        st = full.lstat()
    except OSError:
        return True  # deleted in the work tree
    mtime = getattr(entry, "mtime", None)
    if (st.st_size == getattr(entry, "size", -1) and isinstance(mtime, tuple)
            and st.st_mtime_ns == mtime[0] * 1_000_000_000 + mtime[1] and st.st_mtime_ns < racy_after):
        return False
    try:
        data = os.readlink(full).encode() if full.is_symlink() else full.read_bytes()
    except OSError:
        return True
    return bool(blob_type.from_string(data).id != getattr(entry, "sha", None))  # type: ignore[attr-defined]


def read_changed_list(path: Path, cwd: Path) -> list[Path]:
    """``--changed-files FILE``: one path per line (relative to the current directory), blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResidencyError(f"--changed-files: cannot read {path}: {exc.strerror}") from None
    return [(cwd / line.strip()) for line in text.splitlines() if line.strip()]


@dataclass
class Selection:
    """What a change selects: the paths to scan and, for each, why; ``everything`` when nothing can be left out."""

    paths: list[Path] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # root-relative selected path -> changed files
    everything: str | None = None  # why every path is scanned


def select(changed: list[Path], scan_paths: list[Path], root: Path, policy_path: Path | None,
           var_files: list[Path]) -> Selection:
    """The paths among ``scan_paths`` that ``changed`` files affect (see the module doc)."""
    def within_scan(p: Path) -> bool:
        return any(p == s or s in p.parents for s in scans)

    scans = [s.resolve() for s in scan_paths]
    always = {p.resolve() for p in [*([policy_path] if policy_path else []), *var_files]}
    selection = Selection()
    chosen: dict[Path, list[str]] = {}
    for raw in changed:
        path = Path(os.path.realpath(raw))
        name = rel(path, root)
        if path in always or (path.exists() and path.resolve() in always):
            selection.everything = f"{name} changed (policy or --var-file: every root depends on it)"
            break
        lower = path.name.lower()
        if lower.endswith(TERRAFORM_SUFFIXES):
            directory = path.parent
            if lower.endswith((".tfvars", ".tfvars.json")) and not _is_module_dir(directory):
                selection.everything = f"{name} changed (a variables file outside a module directory)"
                break
            if directory.is_dir() and within_scan(directory) and _is_module_dir(directory):
                chosen.setdefault(directory, []).append(name)
        elif lower.endswith(FILE_SUFFIXES) and path.is_file() and within_scan(path):
            chosen.setdefault(path, []).append(name)
    if selection.everything is not None:
        selection.paths = list(scan_paths)
        return selection
    for path in sorted(chosen):
        selection.paths.append(path)
        selection.reasons[rel(path, root)] = chosen[path]
    return selection


def _is_module_dir(directory: Path) -> bool:
    try:
        return any(c.is_file() and c.name.lower().endswith((".tf", ".tf.json", ".tofu", ".tofu.json"))
                   for c in directory.iterdir())
    except OSError:
        return False
