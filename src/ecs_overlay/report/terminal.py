"""Text for a terminal or a CI log: every control character of a user's string shown escaped, never emitted.

A key, a file name or an AWS answer may hold ANSI sequences (``\\x1b[2J``), carriage returns that
overwrite a line, a newline that forges one (``::error::`` in a GitHub log), bidirectional overrides
that reorder what a reviewer reads, or lone surrogates (a file name that is not UTF-8) that would crash
the write. They are shown the way Python writes them in a string (``\\x1b``, ``\\n``, ``\\u202e``).
"""

from __future__ import annotations

import contextlib
import io
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any

from ..secrets import current_run

# Cc (C0, DEL, C1), Cs (surrogates), Zl/Zp (line and paragraph separators); besides, the bidirectional
# marks, embeddings, overrides and isolates, and the two noncharacters XML forbids.
_UNPRINTABLE = {"Cc", "Cs", "Zl", "Zp"}
_ALSO = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe\uffff")


def _escaped(character: str) -> str:
    code = ord(character)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character)
    if named:
        return named
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unprintable(character: str) -> bool:
    return character in _ALSO or unicodedata.category(character) in _UNPRINTABLE


def printable(text: str, keep: str = "") -> str:
    """``text`` as one line a terminal shows as it is: every control character escaped, newlines too
    (but those in ``keep``). The run's known secrets are masked first, before escaping respells them (a
    Markdown or XML spelling of a value would no longer match it), so every format escaped here inherits it."""
    run = current_run()
    if run is not None:
        text = run.mask(text)
    if text.isprintable() and text.isascii():  # the common case, without a look at each character
        return text
    return "".join(_escaped(ch) if _unprintable(ch) and ch not in keep else ch for ch in text)


def printable_lines(text: str) -> str:
    """Like :func:`printable`, keeping the line breaks: for text already made of whole lines."""
    return printable(text, keep="\n")


class PrintableStream(io.TextIOBase):
    """Standard error for the CLI's messages: each write is one message, shown through :func:`printable`.

    Every message the CLI prints (its own, click's usage errors, a warning) reaches the terminal through
    it, so a message added later is escaped without anyone remembering to. A message is one line: a line
    break inside it (a newline in an environment's file name, which could forge an ``::error::`` line in a
    CI log) is shown escaped, the one that ends it is kept; click's usage block is the one text written
    as several lines. Print a message of many lines one line at a time. What ecs-overlay itself means as
    a control sequence (the progress line's carriage return) is written to ``raw``.
    """

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes for a binary stream with b""
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        body, end = (text[:-1], "\n") if text.endswith("\n") else (text, "")
        usage = body.startswith("Usage: ")  # click's: the command's path and options, and a hint
        self.raw.write((printable_lines(body) if usage else printable(body)) + end)
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def __del__(self) -> None:
        """Nothing to close or flush: it holds no buffer, and the stream under it is not its own."""

    def isatty(self) -> bool:
        return bool(self.raw.isatty())

    def fileno(self) -> int:
        return int(self.raw.fileno())

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.raw, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.raw, "errors", None)


_installed: list[PrintableStream] = []  # the one printable_stderr() put in place, while it is


def raw_stderr() -> Any:
    """Standard error without the escaping: for the control sequences ecs-overlay itself writes. Found
    even when another stream (a mask) was put in front of the escaping one."""
    return _installed[-1].raw if _installed else sys.stderr


@contextlib.contextmanager
def printable_stderr() -> Iterator[None]:
    """While the CLI runs, standard error is a :class:`PrintableStream` (one, however often it is entered).

    Whatever else wraps standard error for the run (masking) should wrap this one, so that it sees each
    message before its control characters are escaped.
    """
    if sys.stderr is None or _installed:
        yield
        return
    previous = sys.stderr
    sys.stderr = PrintableStream(previous)
    _installed.append(sys.stderr)
    try:
        yield
    finally:
        _installed.clear()
        sys.stderr = previous
