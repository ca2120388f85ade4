"""Walk the given paths and sort files by what loads them.

Discovery knows file names and a few bytes of content, nothing about policy beyond the exclude
globs it is handed. It never follows a symbolic link that leaves the scan root (a repository that
links to /etc must not make the scanner read it) and survives link loops.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanner.limits import is_within

TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tfvars", ".tfvars.json")
YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_EXCLUDES = (".git", ".terraform", "node_modules")
_PLAN_HEAD = 1 << 16


@dataclass
class Discovery:
    """What a walk found, by loader; every path is absolute and resolved inside the scan root."""

    terraform_dirs: list[Path] = field(default_factory=list)
    plans: list[Path] = field(default_factory=list)
    yaml_files: list[Path] = field(default_factory=list)
    helm_templates: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)  # (path, reason) -> parse findings
    # Files named on the command line that hold nothing to scan: (path, message, fix) -> parse findings
    unscannable: list[tuple[Path, str, str]] = field(default_factory=list)
    # Walked (not named) JSON that is clearly Terraform state: not scanned, but told as a note
    state_files: list[Path] = field(default_factory=list)
    ignored: int = 0


_PROJECT_MARKERS = ("residency.yaml", ".residency.yaml")


def find_scan_root(paths: list[Path], cwd: Path) -> Path:
    """The git root holding the first path; outside git, the scanned paths' common parent.

    Every file in every format is reported relative to this root, so one scan of a repository
    gives the same names whether run from its root or from a subdirectory. Outside a repository
    the current directory is the root only when it holds a policy file (it marks the project, as
    ``.git`` does) and contains every path: otherwise scanning one file from ``/`` or ``$HOME``
    would make the whole tree the root, walked for module callers and cache keys.
    """
    first = (paths[0] if paths else cwd).resolve()
    probe = first if first.is_dir() else first.parent
    for candidate in (probe, *probe.parents):
        if (candidate / ".git").exists():
            return candidate
    resolved_cwd = cwd.resolve()
    resolved = [p.resolve() for p in paths] or [resolved_cwd]
    if (any((resolved_cwd / m).is_file() for m in _PROJECT_MARKERS)
            and all(is_within(p, resolved_cwd) for p in resolved)):
        return resolved_cwd
    common = Path(os.path.commonpath([str(p) for p in resolved]))
    return common if common.is_dir() else common.parent


def rel(path: Path, root: Path) -> str:
    """Path relative to the scan root with '/' separators (the form every report uses)."""
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def is_plan_file(path: Path) -> bool:
    """A Terraform plan is a JSON object with format_version and planned_values/resource_changes.

    Decided by content, not name: plans are written as plan.json, tfplan.json, out.json...
    The head must start the object and name format_version; the other keys may sit far into a
    large plan, so the rest is searched without decoding it.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_PLAN_HEAD)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (PowerShell's `>`): the loader says why
                head = head.decode("utf-16", "ignore").encode()
                return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and b'"format_version"' in head
            if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") or b'"format_version"' not in head:
                return False
            if b'"planned_values"' in head or b'"resource_changes"' in head:
                return True
            while chunk := fh.read(1 << 20):
                if b'"planned_values"' in chunk or b'"resource_changes"' in chunk:
                    return True
    except OSError:
        return False
    return False


_PLAN_HOWTO = "terraform plan -out=plan.bin && terraform show -json plan.bin > plan.json"


def json_kind(head: bytes) -> str:
    """What a JSON document's first bytes say it is: ``empty``, ``state``, ``json`` (anything else).

    A plan is told apart by :func:`is_plan_file` first (its keys may sit far in); a document with
    ``format_version`` that is not a plan is Terraform state: ``terraform show -json`` without a
    plan file argument, a common mistake (an empty state prints only ``{"format_version":"1.0"}``).
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return "empty"
    if text.startswith(b"{") and b'"format_version"' in text:
        return "state"
    return "json"


def nothing_to_scan(kind: str, what: str) -> tuple[str, str]:
    """The parse finding's (message, fix) for an input named for scanning that holds nothing to scan."""
    if kind == "empty":
        return (f"{what} is empty: expected Terraform, Kubernetes YAML or a Terraform plan in JSON "
                "(did the command that writes it fail?)",
                f"Write the plan with `{_PLAN_HOWTO}`, or render manifests with `helm template ...`.")
    if kind == "state":
        return (f"{what} is Terraform state (`terraform show -json` without a plan file), not a plan: "
                "it says what exists, not what the change will create",
                f"Produce a plan and scan that: `{_PLAN_HOWTO}`.")
    if kind == "json":
        return (f"{what} is JSON but not a Terraform plan (no format_version with planned_values or "
                "resource_changes): nothing to scan",
                f"Scan the plan written by `{_PLAN_HOWTO}`, or Kubernetes manifests as YAML.")
    if kind == "no-objects":
        return (f"{what} holds no Kubernetes object and no Terraform plan: nothing to scan "
                "(did the command before the pipe fail?)",
                "Pipe `helm template ...`, `kustomize build ...` or `terraform show -json plan.bin` into it.")
    return (f"{what} is not a file the scanner reads (expected .tf, .tf.json, .tofu, .tfvars, .yaml/.yml "
            "or a plan in JSON)",
            "For a binary plan run `terraform show -json plan.bin > plan.json` and scan plan.json.")


def _json_head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as fh:
            head = fh.read(_PLAN_HEAD)
    except OSError:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode()
    return head


def _named_json_kind(path: Path) -> str:
    """``plan``, ``state``, ``empty`` or ``json`` for a JSON file named on the command line."""
    if is_plan_file(path):
        return "plan"
    head = _json_head(path)
    if head is None:
        return "plan"  # unreadable: the plan loader reports why
    return json_kind(head)


def _walked_json_is_state(path: Path) -> bool:
    """A JSON file met in a walk (already not a plan) that is clearly Terraform state.

    Stricter than :func:`json_kind`: ``format_version`` plus ``values`` or ``terraform_version``, so a
    walked artifact that merely mentions format_version stays ignored like package.json.
    """
    head = _json_head(path)
    return (head is not None and json_kind(head) == "state"
            and (b'"values"' in head or b'"terraform_version"' in head))


WALKED_STATE_NOTE = ("Terraform state JSON (`terraform show -json` without a plan file), not a plan: not scanned; "
                     f"to check a change, scan its plan: `{_PLAN_HOWTO}`")


def _helm_chart_template(path: Path, root: Path) -> bool:
    parent = path.parent
    while is_within(parent, root):
        if parent.name == "templates" and (parent.parent / "Chart.yaml").exists():
            return True
        if parent == root:
            break
        parent = parent.parent
    return False


def discover(paths: list[Path], root: Path, excluded: Callable[[str], bool] = lambda rel_path: False) -> Discovery:
    """Sort every file under ``paths`` by loader. ``excluded(rel_path)`` applies the policy's globs."""
    found = Discovery()
    tf_dirs: dict[Path, None] = {}
    seen: set[Path] = set()

    def consider(path: Path, real: Path | None = None, named: bool = False, inside: bool = False) -> None:
        """``real``: the resolved path when the caller knows it (a plain file in a resolved directory).

        ``named``: given on the command line, so a file with nothing to scan is a finding, not a skip.
        ``inside``: the caller knows ``real`` is within the root (its resolved directory is).
        """
        if real is None:
            try:
                real = path.resolve()
            except (OSError, RuntimeError):
                found.refused.append((path, "cannot resolve path (symbolic link loop?)"))
                return
        if not inside and not is_within(real, root):
            found.refused.append((path, f"links outside the scan root ({root}); not followed"))
            return
        if real in seen:
            return
        seen.add(real)
        name = real.name
        if name.endswith(TERRAFORM_SUFFIXES) or name == "terragrunt.hcl":
            tf_dirs.setdefault(real.parent)
        elif name.endswith(".json"):
            kind = _named_json_kind(real) if named else ("plan" if is_plan_file(real) else "json")
            if kind == "plan":
                found.plans.append(real)
            elif named:
                found.unscannable.append((real, *nothing_to_scan(kind, name)))
            elif _walked_json_is_state(real):
                found.state_files.append(real)
            else:
                found.ignored += 1
        elif name.endswith(YAML_SUFFIXES):
            if _helm_chart_template(real, root):
                found.helm_templates.append(real)
            else:
                found.yaml_files.append(real)
        elif named:
            found.unscannable.append((real, *nothing_to_scan("unknown", name)))
        else:
            found.ignored += 1

    for start in paths:
        if start.is_symlink() or not start.is_dir():
            if not start.exists() and not start.is_symlink():
                found.refused.append((start, "no such file or directory"))
                continue
            if start.is_dir():  # a symlinked directory given directly
                start = start.resolve()
                if not is_within(start, root):
                    found.refused.append((start, f"links outside the scan root ({root}); not followed"))
                    continue
            else:
                consider(start, named=True)
                continue
        visited_dirs: set[Path] = set()
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            current = Path(dirpath)
            real_dir = current.resolve()
            if real_dir in visited_dirs:
                dirnames[:] = []
                continue
            visited_dirs.add(real_dir)
            # rel(current / name, root), by string: one Path per directory, not per file (a monorepo has 20,000)
            base = rel(current, root)
            prefix = "" if base == "." else base + "/"
            keep = []
            for d in sorted(dirnames):
                if d in DEFAULT_EXCLUDES or excluded(prefix + d):
                    continue
                if os.path.islink(os.path.join(dirpath, d)):
                    child = current / d
                    target = child.resolve()
                    if not is_within(target, root):
                        found.refused.append((child, f"links outside the scan root ({root}); not followed"))
                    # linked directories inside the root are reached through their real path already
                    continue
                keep.append(d)
            dirnames[:] = keep
            inside = is_within(real_dir, root)
            for f in sorted(filenames):
                if excluded(prefix + f):
                    continue
                # Only a link needs resolving: any other file of this (resolved) directory is real_dir/f.
                # Links are still resolved and refused when they leave the root.
                full = os.path.join(dirpath, f)
                if os.path.islink(full):
                    consider(Path(full))
                else:
                    consider(current / f, real_dir / f, inside=inside)
    found.terraform_dirs = sorted(tf_dirs)
    found.plans.sort()
    found.yaml_files.sort()
    return found
