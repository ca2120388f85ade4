"""Where a destination host keeps the data sent to it: the bundled SaaS/cloud host table.

Why a table of data and not code: a pipe's residency question is "where does this host store
what it receives", and the answer is a fact the vendor publishes (Datadog EU1 is Germany, a
``*.eu-west-1.amazonaws.com`` host is Ireland, a Cloud Run ``-uk.a.run.app`` URL is Virginia,
not the United Kingdom). Facts change and need a source each, so they live in
``data/endpoints.json`` with a version and a URL per entry; this module only compiles and
matches them. It knows syntax (hosts, URLs) and geography, never policy: whether a location is
allowed is the rule's question. Stdlib only, like the rest of :mod:`scanner.regions`.

Matching never guesses. A host no entry matches, or one whose service carries no region in its
hosts (Splunk Cloud HEC), gives a match with ``location`` None and a reason: the caller reports
it ``unresolved`` and tells the user to declare the host in the policy's ``endpoints:``. The
policy's entries win over every bundled entry; the caller tries them first (:func:`match_declared`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from scanner.regions import Catalog, catalog

__all__ = [
    "EndpointMatch",
    "EndpointTable",
    "declare_hint",
    "endpoint_table",
    "host_of",
    "location_exists",
    "match_declared",
]

_ENTRY_KEYS = frozenset(
    {"id", "service", "hosts", "location", "codes", "region_cloud", "source", "verified", "note", "why"}
)
_LABEL = re.compile(r"^[a-z0-9*{}-]+$")
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_PLACEHOLDER = re.compile(r"\{(region|code)\}")


class _HostPattern(Protocol):
    @property
    def host(self) -> str: ...


_P = TypeVar("_P", bound=_HostPattern)


def match_declared(entries: Iterable[_P], host: str) -> _P | None:
    """The entry for ``host`` among host patterns: an exact host wins, then the longest ``*.`` glob.

    ``*.example.com`` matches ``a.example.com`` and ``a.b.example.com``, never the apex. Patterns
    and host compare lower-cased without a trailing dot; on a tie the first entry wins. One
    matcher for the policy's ``endpoints:`` wherever they are read (movement and access).
    """
    host = host.strip().lower().rstrip(".")
    best: _P | None = None
    best_rank = -1
    for entry in entries:
        pattern = entry.host.strip().lower().rstrip(".")
        if pattern == host:
            return entry
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(pattern) > best_rank:
            best, best_rank = entry, len(pattern)
    return best


@dataclass(frozen=True)
class EndpointMatch:
    """The answer for one host: its location (policy vocabulary) and where that came from.

    ``origin`` is ``bundled`` (a table entry, ``entry`` its id and ``source`` its URL) or
    ``none`` (no entry matched). ``location`` is
    None when the host cannot be located; ``reason`` then says why.
    """

    host: str
    location: str | None
    origin: str
    entry: str | None = None
    service: str | None = None
    pattern: str | None = None
    source: str | None = None
    verified: bool = True
    reason: str | None = None

    def describe(self) -> str:
        """Where the location came from, for messages: ``bundled entry datadog-us1 (Datadog US1, <url>)``."""
        if self.origin == "bundled":
            text = f"bundled host table entry {self.entry} ({self.service}, {self.source})"
            return text if self.verified else text + " [unverified]"
        return "no bundled host table entry and no endpoints: entry in the policy"


def host_of(value: str) -> str | None:
    """The host a URL, DSN, ``host:port`` or bare host names; None when there is none.

    Lower case, no trailing dot, no user info (a Sentry DSN's key), no port or path. Values that
    are not a plain DNS name (an IP literal, an interpolation left unresolved) give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    return host if _HOST.match(host) and not host.replace(".", "").isdigit() else None


def declare_hint(host: str) -> str:
    """The fix for an unlocatable host: the policy entry that declares it."""
    return f'declare it in the policy: endpoints: [{{host: "{host}", location: country:<CC>}}] (or <cloud>:<region>)'


def location_exists(cat: Catalog, location: str) -> bool:
    """True when ``location`` is a ``country:``/``in:`` group or a ``<cloud>:<code>`` the catalog knows."""
    if cat.is_group(location):
        return True
    cloud, sep, code = location.partition(":")
    return bool(sep) and cat.resolve(cloud, code) is not None


@dataclass(frozen=True)
class _Pattern:
    entry: Mapping[str, Any]
    text: str
    regex: re.Pattern[str]
    rank: tuple[int, int, int]  # exact?, labels, literal characters: larger is more specific


def _label_regex(label: str, alternatives: Mapping[str, str]) -> str:
    out = []
    for part in re.split(r"(\{region\}|\{code\}|\*)", label):
        if part == "*":
            out.append("[a-z0-9-]+")
        elif part in ("{region}", "{code}"):
            name = part[1:-1]
            out.append(f"(?P<{name}>{alternatives[name]})")
        elif part:
            out.append(re.escape(part))
    return "".join(out)


def _compile(text: str, alternatives: Mapping[str, str]) -> tuple[re.Pattern[str], tuple[int, int, int]]:
    labels = text.split(".")
    lead = labels[0] == "*"
    body = labels[1:] if lead else labels
    regex = (r"(?:[a-z0-9-]+\.)+" if lead else "") + r"\.".join(_label_regex(lb, alternatives) for lb in body)
    exact = int("*" not in text and "{" not in text)
    literal = len(re.sub(r"\{(?:region|code)\}|\*", "", text))
    return re.compile(f"^{regex}$"), (exact, len(body), literal)


def _alternation(codes: Iterable[str]) -> str:
    # Longest first, so the engine tries europe-west10 before europe-west1.
    return "|".join(re.escape(c) for c in sorted(set(codes), key=lambda c: (-len(c), c)))


class EndpointTable:
    """The compiled host table. Build once per catalog (:func:`endpoint_table`)."""

    def __init__(self, data: Mapping[str, Any], cat: Catalog) -> None:
        self.version = str(data.get("version", ""))
        self._catalog = cat
        self.entries: tuple[Mapping[str, Any], ...] = tuple(data["entries"])
        patterns: list[_Pattern] = []
        seen: set[str] = set()
        for entry in self.entries:
            problems = self._problems(entry, seen)
            if problems:
                raise ValueError(f"endpoints.json entry {entry.get('id')!r}: {'; '.join(problems)}")
            alternatives: dict[str, str] = {}
            if "region_cloud" in entry:
                alternatives["region"] = _alternation(r.code for r in cat.all_regions(entry["region_cloud"]))
            if "codes" in entry:
                alternatives["code"] = _alternation(entry["codes"])
            for text in entry["hosts"]:
                regex, rank = _compile(text, alternatives)
                patterns.append(_Pattern(entry, text, regex, rank))
        # Most specific first; the table order breaks ties, so a test can pin it.
        self._patterns = tuple(sorted(patterns, key=lambda p: tuple(-n for n in p.rank)))

    @staticmethod
    def _problems(entry: Mapping[str, Any], seen: set[str]) -> list[str]:
        problems = [f"unknown key {k!r}" for k in entry if k not in _ENTRY_KEYS]
        ident = entry.get("id")
        if not isinstance(ident, str) or ident in seen:
            problems.append("missing or duplicate id")
        else:
            seen.add(ident)
        for key in ("service", "source"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                problems.append(f"{key} is required")
        hosts = entry.get("hosts")
        if not isinstance(hosts, list) or not hosts:
            problems.append("hosts must be a non-empty list")
            return problems
        ways = sum(("location" in entry, "codes" in entry, "region_cloud" in entry))
        if ways != 1:
            problems.append("exactly one of location, codes, region_cloud")
        if "location" in entry and entry["location"] is None and not entry.get("why"):
            problems.append("location null needs a why")
        for host in hosts:
            if not isinstance(host, str) or not all(_LABEL.match(lb) for lb in host.split(".")):
                problems.append(f"bad host pattern {host!r}")
                continue
            used = set(_PLACEHOLDER.findall(host))
            if ("region" in used and "region_cloud" not in entry) or ("code" in used and "codes" not in entry):
                problems.append(f"{host!r} uses a placeholder the entry does not define")
            if ("region_cloud" in entry and "region" not in used) or ("codes" in entry and "code" not in used):
                problems.append(f"{host!r} lacks the entry's placeholder")
        return problems

    def _bundled(self, host: str) -> EndpointMatch | None:
        for pattern in self._patterns:
            m = pattern.regex.match(host)
            if m is None:
                continue
            entry = pattern.entry
            if "region_cloud" in entry:
                location: str | None = f"{entry['region_cloud']}:{m.group('region')}"
            elif "codes" in entry:
                location = entry["codes"][m.group("code")]
            else:
                location = entry["location"]
            return EndpointMatch(
                host=host,
                location=location,
                origin="bundled",
                entry=entry["id"],
                service=entry["service"],
                pattern=pattern.text,
                source=entry["source"],
                verified=entry.get("verified", True) is not False,
                reason=None if location is not None else f"{entry['why']}; {declare_hint(host)}",
            )
        return None

    def locate(self, value: str) -> EndpointMatch:
        """Locate the host of ``value`` (URL, DSN, ``host:port`` or host) in the bundled table; always an answer.

        No match gives ``location`` None with the fix. The policy's ``endpoints:`` are not seen
        here: the caller matches them first (they hold a policy place, not a table location).
        """
        host = host_of(value)
        if host is None:
            return EndpointMatch(
                host=str(value),
                location=None,
                origin="none",
                reason=f"{value!r} names no DNS host the scanner can locate",
            )
        found = self._bundled(host)
        if found is not None:
            return found
        return EndpointMatch(
            host=host,
            location=None,
            origin="none",
            reason=f"{host} is not in the bundled host table (version {self.version}); {declare_hint(host)}",
        )


@cache
def _data() -> dict[str, Any]:
    text = resources.files("scanner.regions").joinpath("data/endpoints.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def endpoint_table() -> EndpointTable:
    """The bundled table compiled against the bundled catalog, built once."""
    return EndpointTable(_data(), catalog())
