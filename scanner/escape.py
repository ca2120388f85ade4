"""Neutralising scanned values before they reach a terminal, a log, XML or Markdown.

Every string in a report can come from the scanned repository: resource names, tags, file
names, even messages that quote them. A pull request from a fork controls those bytes, so a
reporter must never let them act as syntax: an ANSI sequence that rewrites the terminal, a
newline that forges a GitHub workflow command, a ``|`` that splits a Markdown table, a control
character that makes an XML parser reject the whole JUnit file. Each output context gets one
helper here, so every format escapes the same way and a fix lands everywhere at once.
"""

from __future__ import annotations

import re

# ECMA-48: CSI (ESC [ or 8-bit 0x9B) params/intermediates/final byte; OSC/DCS/SOS/PM/APC strings up
# to BEL or ST; any other two-byte ESC sequence. Stripped whole so no fragment ("[31m") is left behind.
_ANSI = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?     # CSI ... final
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])               # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?                 # ... up to BEL or ST
    | \x1b[\x20-\x2f]*[\x30-\x7e]?                          # other escape sequences
    """,
    re.VERBOSE,
)
# C0 (but tab/newline/CR, handled per context), DEL, C1, the Unicode line/paragraph separators
# (line breaks to some consumers, invisible to others), and the bidirectional overrides and
# isolates that let source text display in a different order than it is read ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(match: re.Match[str]) -> str:
    """Show a removed control character as an escape, so the reader sees something was there."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def strip_ansi(value: object) -> str:
    """Remove ANSI escape sequences whole (colours, cursor moves, OSC 8 links, title changes)."""
    return _ANSI.sub("", "" if value is None else str(value))


def clean(value: object) -> str:
    """The common base: no ANSI sequences, other control characters shown as ``\\xNN``.

    Newlines, CR and tabs stay: each output context decides what a line break means to it.
    """
    return _CONTROL.sub(_visible, strip_ansi(value))


def terminal_safe(value: object, *, multiline: bool = False) -> str:
    """Text safe to print on a terminal: no escape sequences, no control characters.

    A single-line value (the default) shows CR/LF as ``\\r``/``\\n`` so a resource name cannot
    fake an extra report line; ``multiline=True`` keeps newlines for messages meant to wrap.
    """
    text = clean(value)
    if multiline:
        return text.replace("\r\n", "\n").replace("\r", "\\r")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def single_line(value: object) -> str:
    """A value on one line with runs of whitespace collapsed (titles, table cells, attributes)."""
    return " ".join(clean(value).split())


def xml_safe(value: object) -> str:
    """Text an XML 1.0 parser accepts, and that is inert when a CI log prints it.

    ElementTree escapes ``&``, ``<`` and quotes itself but writes illegal characters (NUL, ESC,
    lone surrogates) verbatim, producing a file no JUnit consumer can parse. Control characters
    are shown as ``\\xNN`` (as everywhere else); what XML still forbids (lone surrogates,
    U+FFFE/U+FFFF) is removed.
    """
    return _XML_ILLEGAL.sub("", clean(value))


def github_data(value: object) -> str:
    """A workflow-command message: ``%``, CR and LF encoded, as the runner expects.

    Encoding the newline is what stops ``"x\\n::error::forged"`` from becoming a second command.
    """
    text = clean(value)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(value: object) -> str:
    """A workflow-command property (``file=``, ``title=``): data encoding plus ``:`` and ``,``."""
    return github_data(value).replace(":", "%3A").replace(",", "%2C")


# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start inline
# syntax (emphasis, links and images, code, strikethrough, table cells); ``<``/``&`` become entities.
_MD_PUNCT = re.compile(r"([\\`*_\[\]#~|])")
# What would open a block (list item, heading, quote, setext underline) if the text started a line,
# e.g. a note rendered as a list item "- <message>": "- + x" would be a nested list.
_MD_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([-+=])")


class MarkdownText(str):
    """A string that is already Markdown: :func:`markdown_cell` passes it through unchanged.

    Only helpers in this module (or reporter code writing literal syntax) should create one;
    wrapping a scanned value in it would bypass escaping.
    """


def markdown_text(value: object) -> str:
    """Inline Markdown that renders as the literal text, on one line.

    Punctuation that starts Markdown syntax is backslash-escaped, ``&``/``<``/``>`` become
    entities (no raw HTML, no autolinks), and line breaks become spaces so a value cannot
    start a new block (a heading, a list, a fake table row).
    """
    if isinstance(value, MarkdownText):
        return str(value)
    text = single_line(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    return _MD_BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def markdown_cell(value: object) -> str:
    """A GFM table cell: like :func:`markdown_text`, with embedded line breaks kept as ``<br>``.

    GFM splits rows on ``|`` before any inline parsing, so ``|`` must be ``\\|`` even inside a
    code span; :func:`markdown_text` already escapes it.
    """
    if isinstance(value, MarkdownText):
        return str(value).replace("\n", " ")
    lines = [markdown_text(part) for part in clean(value).replace("\r\n", "\n").split("\n")]
    return "<br>".join(part for part in lines if part)


def markdown_code(value: object) -> MarkdownText:
    """An inline code span holding ``value`` literally, safe inside a table cell.

    The fence is one backtick longer than the longest backtick run in the value (CommonMark's
    rule), padded with spaces when the value starts or ends with a backtick. A value holding
    ``|`` is rendered as escaped text instead, because GFM splits table cells before it looks
    for code spans.
    """
    text = single_line(value)
    if not text:
        return MarkdownText("")
    if "|" in text:
        # GFM's cell splitter counts backslashes before a pipe, so "a\\|b" inside a code span
        # would still split the row; escaped plain text is correct for every input.
        return MarkdownText(markdown_text(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return MarkdownText(f"{fence}{pad}{text}{pad}{fence}")


# GitHub's runner reads every line a job prints as a possible command: ``::name ...::data`` when the
# line starts with ``::`` after leading whitespace (v2), and ``##[name ...]data`` ANYWHERE in a line
# (the legacy v1 syntax, still parsed: actions/runner ActionCommandManager.TryProcessCommand). Any
# report printed in a workflow log is therefore a command channel unless these are neutralised.
# The runner splits lines on CR too and trims any Unicode whitespace before looking for "::".
_V2_LINE = re.compile(r"(?:\A|(?<=[\r\n]))([^\S\r\n]*):(?=:)")


def log_safe(text: str, fmt: str) -> str:
    """A rendered report that cannot forge a workflow command when printed in a CI log.

    The encoding is per format and never changes what a parser of that format reads: JSON strings
    get ``\\u005b`` for ``[`` (``##[`` can only occur inside strings), XML a character reference,
    text and Markdown a visible backslash. The ``github`` format is exempt: every line is already
    one of its own commands, whose data the runner never parses again.
    """
    if fmt == "github":
        return text
    if fmt in ("json", "sarif", "gitlab"):
        return text.replace("##[", "##\\u005b")
    if fmt in ("junit", "junit-rich"):
        return _V2_LINE.sub(r"\1&#58;", text.replace("##[", "##&#91;"))
    return _V2_LINE.sub(r"\1\\:", text.replace("##[", "##\\["))
