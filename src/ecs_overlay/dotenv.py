"""Dotenv files (``KEY=VALUE`` lines) as docker compose's ``env_file`` reads them, for an overlay's ``envFile:``.

The syntax is compose's (https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax):
``#`` lines and blank lines are skipped; ``export `` before a key is allowed; a value may be unquoted (an inline
comment needs a space before its ``#``), double-quoted (``\\n``, ``\\r``, ``\\t``, ``\\\\``, ``\\"`` escapes, may span
lines) or single-quoted (literal, ``\\'`` for a quote); a bare ``KEY`` takes the value the process environment
has, and is left out when it has none. ``${…}`` is replaced in unquoted and double-quoted values, with the
overlays' forms; single-quoted values are kept as written. Pure: the caller reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from .findings import RuleId
from .rules.inputs import ENV_FILE_INVALID
from .variables import Problem, interpolate

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_DOUBLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


class Entry(NamedTuple):
    """One variable: its value, where the value starts (1-based), the variables it read, the text as written."""

    name: str
    value: str
    line: int
    column: int
    variables: tuple[str, ...] = ()
    template: str | None = None  # the text as written, when variables were replaced in it


class DotenvProblem(NamedTuple):
    line: int
    column: int
    message: str
    rule: RuleId = ENV_FILE_INVALID


def parse_dotenv(text: str, environ: Mapping[str, str]) -> tuple[list[Entry], list[DotenvProblem]]:
    """Every variable of a dotenv file, in file order (a later line for a key wins when merged), and its problems."""
    entries: list[Entry] = []
    problems: list[DotenvProblem] = []
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        raw = lines[number]
        line = raw.rstrip("\r")
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        number += 1
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export ") or stripped.startswith("export\t"):
            rest = stripped[len("export") :].lstrip(" \t")
            indent += len(stripped) - len(rest)
            stripped = rest
        key, equals, after = stripped.partition("=")
        key = key.rstrip(" \t")
        if _KEY.fullmatch(key) is None:
            shown = key if len(key) <= 40 else key[:39] + "…"
            problems.append(
                DotenvProblem(
                    number,
                    indent + 1,
                    f"'{shown}' is not a variable name; write KEY=VALUE (a name of letters, digits, _ . -)",
                )
            )
            continue
        if not equals:
            if key in environ:
                entries.append(Entry(key, environ[key], number, indent + 1, (key,), f"${{{key}}}"))
            continue
        value_text = after.lstrip(" \t")
        column = indent + len(stripped) - len(value_text) + 1
        first = number
        if value_text[:1] in ("'", '"'):
            quote = value_text[0]
            body, end, number, rest = _quoted(value_text, quote, lines, number)
            if end is None:
                problems.append(
                    DotenvProblem(first, column, f"{key}: the {_QUOTE_NAMES[quote]} quote is never closed; close it")
                )
                continue
            trailing = rest.strip(" \t")
            if trailing and not trailing.startswith("#"):
                problems.append(
                    DotenvProblem(
                        number,
                        column,
                        f"{key}: text after the closing quote (the value opened on line {first}); "
                        "put a comment after a space and #, or quote it all",
                    )
                )
                continue
            if quote == "'":
                entries.append(Entry(key, body, first, column + 1))
                continue
            value, offset_column = body, column + 1
        else:
            value, offset_column = _unquoted(value_text), column
        result = interpolate(value, environ)
        if result.problems:
            problems.extend(_variable_problem(problem, first, offset_column) for problem in result.problems)
            continue
        template = value if result.variables else None
        entries.append(Entry(key, result.value, first, offset_column, result.variables, template))
    return entries, problems


_QUOTE_NAMES = {"'": "single", '"': "double"}


def _unquoted(text: str) -> str:
    """An unquoted value: up to an inline comment (a ``#`` after a space), trailing blanks dropped."""
    comment = re.search(r"[ \t]#", text)
    if comment is not None:
        text = text[: comment.start()]
    return text.rstrip(" \t")


def _quoted(text: str, quote: str, lines: list[str], number: int) -> tuple[str, int | None, int, str]:
    """(the value, the closing quote's index in its line or None, the line number it closes on, the rest of that
    line) for a value that opens with ``quote``; a double-quoted one may go on over the following lines."""
    body: list[str] = []
    current = text
    position = 1
    while True:
        while position < len(current):
            char = current[position]
            if char == "\\" and position + 1 < len(current):
                following = current[position + 1]
                if quote == '"' and following in _DOUBLE_ESCAPES:
                    body.append(_DOUBLE_ESCAPES[following])
                    position += 2
                    continue
                if quote == "'" and following == "'":
                    body.append("'")
                    position += 2
                    continue
            if char == quote:
                return "".join(body), position, number, current[position + 1 :]
            body.append(char)
            position += 1
        if number >= len(lines):
            return "".join(body), None, number, ""
        body.append("\n")
        current = lines[number].rstrip("\r")
        number += 1
        position = 0


def _variable_problem(problem: Problem, line: int, column: int) -> DotenvProblem:
    return DotenvProblem(line, column + problem.offset, problem.message, problem.rule)
