"""Parse JSON once and remember the lines of the objects a caller cares about.

``json.loads`` gives values but no positions, and an ``object_pairs_hook`` cannot see offsets.
Re-implementing JSON in Python would make a 500 MB plan crawl, and searching the text for
``"address": "..."`` afterwards is ambiguous: the same address string sits in ``planned_values``,
``resource_changes``, ``prior_state`` and ``configuration``, and any attribute may be called
``address``. So this reader walks only the *skeleton* the caller asks for (``descend(path)``) in
Python, recording the offset of each such object and of each of its keys, and hands every other
value to the C decoder (``JSONDecoder.raw_decode``) in place. Each byte is decoded exactly once;
the per-item Python cost is a handful of keys per resource entry.

Paths are tuples of keys (str) and array indices (int) from the document root: ``()`` is the
root, ``("planned_values", "root_module", "resources", 3)`` the fourth resource entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since 2.6, missing from typeshed
from typing import Any

JsonPath = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@lru_cache(maxsize=16)
def _first_key(key: str) -> re.Pattern[str]:
    return re.compile(r"\{[ \t\n\r]*(" + re.escape(json.dumps(key)) + r")[ \t\n\r]*:")


class _Reader:
    def __init__(self, text: str, descend: Callable[[JsonPath], bool | str]) -> None:
        self.text = text
        self.descend = descend
        self.offsets: dict[JsonPath, int] = {}

    def skip(self, idx: int) -> int:
        return _WS.match(self.text, idx).end()  # type: ignore[union-attr]  # always matches

    def value(self, idx: int, path: JsonPath) -> tuple[Any, int]:
        ch = self.text[idx : idx + 1]
        if ch == "{" or ch == "[":
            how = self.descend(path)
            if isinstance(how, str) and ch == "{":
                m = _first_key(how).match(self.text, idx)
                if m is not None:  # the usual case: decode in C, record the object and its first key
                    self.offsets[path] = idx
                    self.offsets[(*path, how)] = m.start(1)
                    return _DECODER.raw_decode(self.text, idx)
            if how:
                return self.obj(idx, path) if ch == "{" else self.arr(idx, path)
        return _DECODER.raw_decode(self.text, idx)

    def obj(self, idx: int, path: JsonPath) -> tuple[dict[str, Any], int]:
        text = self.text
        self.offsets[path] = idx
        out: dict[str, Any] = {}
        idx = self.skip(idx + 1)
        if text.startswith("}", idx):
            return out, idx + 1
        while True:
            if not text.startswith('"', idx):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, idx)
            key, end = scanstring(text, idx + 1, True)
            key_path = (*path, key)
            self.offsets[key_path] = idx
            end = self.skip(end)
            if not text.startswith(":", end):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, end)
            out[key], idx = self.value(self.skip(end + 1), key_path)
            idx = self.skip(idx)
            if text.startswith(",", idx):
                idx = self.skip(idx + 1)
            elif text.startswith("}", idx):
                return out, idx + 1
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, idx)

    def arr(self, idx: int, path: JsonPath) -> tuple[list[Any], int]:
        text = self.text
        self.offsets[path] = idx
        out: list[Any] = []
        idx = self.skip(idx + 1)
        if text.startswith("]", idx):
            return out, idx + 1
        while True:
            item, idx = self.value(idx, (*path, len(out)))
            out.append(item)
            idx = self.skip(idx)
            if text.startswith(",", idx):
                idx = self.skip(idx + 1)
            elif text.startswith("]", idx):
                return out, idx + 1
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, idx)


def loads_with_lines(text: str, descend: Callable[[JsonPath], bool | str]) -> tuple[Any, dict[JsonPath, int]]:
    """Decode ``text`` and return ``(value, lines)``.

    For every object or array whose path ``descend`` accepts (True), ``lines[path]`` is the 1-based
    line of its opening bracket, and for an object also ``lines[path + (key,)]`` the line of each key.
    Everything below a refused path is decoded by the C decoder and has no entry. ``descend`` may
    instead return a key name for an object: when that key comes first (as Terraform writes
    ``"address"``), the object is decoded in C and only it and that key get lines; otherwise it is
    walked as for True. That keeps a plan with 100k resources from costing 100k Python-level walks.
    Raises :class:`json.JSONDecodeError` (with ``lineno``) on invalid JSON, like ``json.loads``;
    a nesting deep enough to exhaust the C decoder raises :class:`RecursionError`.
    """
    reader = _Reader(text, descend)
    value, end = reader.value(reader.skip(0), ())
    end = reader.skip(end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value, offsets_to_lines(text, reader.offsets)


def offsets_to_lines(text: str, offsets: dict[JsonPath, int]) -> dict[JsonPath, int]:
    """Map character offsets to 1-based lines in one pass over the text (newlines counted in C)."""
    lines: dict[JsonPath, int] = {}
    line, pos = 1, 0
    for path, off in sorted(offsets.items(), key=lambda item: item[1]):
        line += text.count("\n", pos, off)
        pos = off
        lines[path] = line
    return lines


def line_of(text: str, offset: int) -> int:
    """The 1-based line of one offset (for error messages; use :func:`offsets_to_lines` in bulk)."""
    return text.count("\n", 0, offset) + 1


__all__ = ["JsonPath", "line_of", "loads_with_lines", "offsets_to_lines"]
