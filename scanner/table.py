"""The one GitHub-flavoured Markdown table renderer (findings summary, data-store inventory).

Kept in one place because table escaping is easy to get subtly wrong: a single unescaped
``|`` or newline from a scanned value shifts every later column or ends the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scanner.escape import markdown_cell

_ALIGN = {"left": ":---", "center": ":---:", "right": "---:", "": "---"}


def markdown_table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    align: Sequence[str] | None = None,
) -> str:
    """Render a GFM table; every cell is escaped unless it is a ``MarkdownText``.

    ``None`` renders as an empty cell. Rows shorter than the header are padded and longer
    ones are an error: a silently dropped column would hide data. ``align`` holds
    ``left``/``center``/``right``/``""`` per column. Returns the table without a trailing
    newline; an empty ``headers`` renders nothing.
    """
    if not headers:
        return ""
    width = len(headers)
    aligns = list(align or ())
    if len(aligns) > width or any(a not in _ALIGN for a in aligns):
        raise ValueError(f"align must hold at most {width} of {sorted(_ALIGN)}: {aligns!r}")
    aligns += [""] * (width - len(aligns))
    lines = [_row(headers), "| " + " | ".join(_ALIGN[a] for a in aligns) + " |"]
    for row in rows:
        cells = list(row)
        if len(cells) > width:
            raise ValueError(f"row has {len(cells)} cells, the table has {width} columns")
        cells += [None] * (width - len(cells))
        lines.append(_row(cells))
    return "\n".join(lines)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(value: object) -> str:
    # An empty cell is legal GFM; a cell of only spaces is too, but keep output tidy.
    return "" if value is None else markdown_cell(value)
