"""Baselines: adopt the scanner on a repository with existing debt, and fail only on new findings.

A baseline records findings by fingerprint (rule, resource address, file), never by line, so
editing above a known finding does not turn it into a "new" one. Entries are sorted and carry
no line numbers, so regenerating a baseline after unrelated edits produces no diff. Waived
findings are not recorded: their waiver already documents them, with a reason and an expiry a
baseline does not have.

Known findings are still reported (``baseline="known"``, not blocking) so the debt stays
visible; entries nothing matches any more are returned as fixed, so the baseline can shrink.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import scanner
from scanner.errors import ResidencyError
from scanner.model import Finding
from scanner.output import write_atomic

FORMAT_VERSION = 1
_ENTRY_KEYS = ("fingerprint", "rule_id", "resource", "file")


def entry(finding: Finding) -> dict[str, str]:
    """The baseline entry for a finding; the line is left out on purpose."""
    return {"fingerprint": finding.fingerprint, "rule_id": finding.rule_id, "resource": finding.resource,
            "file": finding.file}


def _sort_key(e: dict[str, str]) -> tuple[str, str, str, str]:
    return (e["file"], e["rule_id"], e["resource"], e["fingerprint"])


@dataclass(frozen=True)
class Baseline:
    """Accepted findings, keyed by fingerprint and by (rule, resource, file).

    Matching on the triple too keeps a baseline working if the fingerprint's hash ever changes.
    """

    entries: tuple[dict[str, str], ...]
    tool_version: str = ""
    generated: str = ""

    def apply(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[dict[str, str]]]:
        """Mark known findings (``baseline="known"``, not blocking); return them and the fixed entries.

        New findings come back unchanged. Waived findings that match are marked known too, but
        they were not blocking anyway. An entry is fixed when no finding (waived or not) matches it.
        """
        by_fp = {e["fingerprint"]: e for e in self.entries}
        by_key = {(e["rule_id"], e["resource"], e["file"]): e for e in self.entries}
        matched: set[str] = set()
        out: list[Finding] = []
        for f in findings:
            e = by_fp.get(f.fingerprint) or by_key.get((f.rule_id, f.resource, f.file))
            if e is None:
                out.append(f)
                continue
            matched.add(e["fingerprint"])
            out.append(replace(f, baseline="known", blocking=False))
        fixed = [dict(e) for e in self.entries if e["fingerprint"] not in matched]
        return out, fixed


def write_baseline(findings: Iterable[Finding], path: Path | str, *, tool_version: str | None = None,
                   today: date | None = None) -> Baseline:
    """Record today's non-waived findings at ``path`` (atomically) and return the baseline written."""
    if tool_version is None:
        tool_version = scanner.__version__
    unique = {f.fingerprint: entry(f) for f in findings if not f.waived}
    entries = tuple(sorted(unique.values(), key=_sort_key))
    baseline = Baseline(entries=entries, tool_version=tool_version,
                        generated=(today or date.today()).isoformat())
    doc = {"version": FORMAT_VERSION, "tool_version": baseline.tool_version, "generated": baseline.generated,
           "entries": list(entries)}
    path = Path(path)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    # Written beside the target and renamed, so an interrupted run never leaves half a baseline that
    # a later scan would reject (or worse, read as "nothing is known").
    write_atomic(path, text, "baseline")
    return baseline


def load_baseline(path: Path | str) -> Baseline:
    """Read a baseline file; anything unexpected is a :class:`ResidencyError` naming the file.

    A malformed baseline must stop the scan (exit 2) rather than be read as empty, which
    would make every known finding blocking, or as partial, which would hide which ones.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResidencyError(f"baseline {path}: file not found (create it with `residency baseline`)") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResidencyError(f"baseline {path}: cannot read: {exc}") from None
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResidencyError(f"baseline {path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise ResidencyError(f"baseline {path}: expected a JSON object with version and entries")
    version = doc.get("version")
    if version != FORMAT_VERSION:
        raise ResidencyError(f"baseline {path}: unsupported version {version!r} (this residency reads "
                             f"version {FORMAT_VERSION}; regenerate it with `residency baseline`)")
    raw_entries = doc.get("entries")
    if not isinstance(raw_entries, list):
        raise ResidencyError(f"baseline {path}: 'entries' must be a list")
    entries = []
    for i, raw in enumerate(raw_entries):
        if not isinstance(raw, dict):
            raise ResidencyError(f"baseline {path}: entries[{i}] must be an object")
        missing = [k for k in _ENTRY_KEYS if not isinstance(raw.get(k), str)]
        if missing:
            raise ResidencyError(f"baseline {path}: entries[{i}] needs string {', '.join(missing)}")
        if not raw["fingerprint"]:
            raise ResidencyError(f"baseline {path}: entries[{i}] has an empty fingerprint")
        entries.append({k: raw[k] for k in _ENTRY_KEYS})
    return Baseline(entries=tuple(entries), tool_version=str(doc.get("tool_version", "")),
                    generated=str(doc.get("generated", "")))
