"""Markdown for GitHub (the markdown format, the pull-request comment, a job summary): every user's string
through one of these functions, so that no key, name, path or value can end a table row, split a cell,
open a code span, a link or an HTML comment, or write the comment's hidden marker.

Control characters (a newline in a key) are shown escaped as :func:`printable` shows them; the
characters Markdown or HTML read as syntax become numeric character references, which GitHub shows as
the character itself in a paragraph, a table cell and inside an HTML block (``<details>``) alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .terminal import printable

# HTML (&, <, >: tags, comments, entities), table cells (|), code spans (`), emphasis and strikethrough
# (*, _, ~), links and images ([), and the backslash that would escape the next one.
_SYNTAX = {character: f"&#{ord(character)};" for character in "|`*_~[\\"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SYNTAX_PATTERN = re.compile("[" + re.escape("".join(_SYNTAX)) + "]")
_CODE_SAFE = re.compile(r"[^`|<>]*")  # a code span shows everything else as it is


def text(value: str) -> str:
    """``value`` as literal text on one line: in a paragraph, a heading, a table cell or an HTML block."""
    return _SYNTAX_PATTERN.sub(lambda match: _SYNTAX[match.group()], printable(value))


def code(value: str) -> str:
    """``value`` shown as code on one line: a plain code span when nothing in it is syntax there,
    else ``<code>`` around literal text (a code span cannot hold a ``|`` in a table, nor show ``<!--``
    or ``-->`` without writing them)."""
    shown = printable(value)
    if shown and _CODE_SAFE.fullmatch(shown) and shown.strip() == shown:
        return f"`{shown}`"
    return f"<code>{text(value)}</code>"


def preformatted(lines: Iterable[str]) -> str:
    """Lines shown as they are, in a ``<pre>`` block: nothing inside can end it or be read as Markdown."""
    return "<pre>\n" + "\n".join(text(line) for line in lines) + "\n</pre>"
