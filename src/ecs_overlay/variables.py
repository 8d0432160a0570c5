"""``${VAR}`` in overlay values: the forms docker compose and the shell share, and nothing else.

Supported: ``${VAR}``; ``${VAR:-default}`` (default when unset or empty), ``${VAR-default}`` (when
unset); ``${VAR:?message}`` / ``${VAR?message}`` (an error saying ``message``); ``${VAR:+text}`` /
``${VAR+text}`` (``text`` when set and non-empty / set, else empty). A default, message or text may
hold further ``${…}``, read only when used. ``$${`` is a literal ``${``; a ``$`` before anything else
is a literal ``$``. Every other ``${…}`` is a problem naming the text, so none reaches an output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .findings import RuleId
from .rules.inputs import UNSET_VARIABLE, VARIABLE_NUMBER, VARIABLE_SYNTAX

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest first: ":-" before "-".
_OPERATORS = (":-", "-", ":?", "?", ":+", "+")
FORMS = "${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR:+text}"


class Problem(NamedTuple):
    """What is wrong with one ``${…}``: ``offset`` is where its ``$`` stands in the text; ``rule``
    is ``variable-syntax`` for a form that is not supported, ``unset-variable`` for a missing value."""

    offset: int
    message: str
    rule: RuleId = VARIABLE_SYNTAX


class _Reference(NamedTuple):
    name: str
    operator: str  # "" for a plain ${VAR}
    word: list[_Part]
    offset: int


_Part = str | _Reference


class Interpolated(NamedTuple):
    """A value with its variables replaced, the names it read, and anything wrong with it."""

    value: str
    variables: tuple[str, ...] = ()
    problems: Sequence[Problem] = ()


def interpolate(text: str, environ: Mapping[str, str]) -> Interpolated:
    """Replace every ``${…}`` in ``text`` from ``environ``; see the module docstring for the forms."""
    if "$" not in text:
        return Interpolated(text)
    problems: list[Problem] = []
    parts, _ = _parse(text, 0, problems, nested=False)
    if problems:
        return Interpolated(text, (), problems)
    used: list[str] = []
    value = _evaluate(parts, environ, used, problems)
    return Interpolated(value, tuple(dict.fromkeys(used)), problems)


def _parse(text: str, position: int, problems: list[Problem], nested: bool) -> tuple[list[_Part], int]:
    """Literal text and references up to the end (or, ``nested``, up to the closing ``}``)."""
    parts: list[_Part] = []
    literal: list[str] = []
    while position < len(text):
        char = text[position]
        if nested and char == "}":
            break
        if text.startswith("$${", position):
            literal.append("${")
            position += 3
        elif text.startswith("${", position):
            if literal:
                parts.append("".join(literal))
                literal = []
            reference, position = _reference(text, position, problems)
            if reference is not None:
                parts.append(reference)
        else:
            literal.append(char)
            position += 1
    if literal:
        parts.append("".join(literal))
    return parts, position


def _reference(text: str, start: int, problems: list[Problem]) -> tuple[_Reference | None, int]:
    """The ``${…}`` at ``start``; on a problem, records it and skips to its end."""
    name_match = _NAME.match(text, start + 2)
    if name_match is not None:
        name = name_match.group()
        position = name_match.end()
        if text.startswith("}", position):
            return _Reference(name, "", [], start), position + 1
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is not None:
            known = len(problems)
            word, position = _parse(text, position + len(operator), problems, nested=True)
            if text.startswith("}", position):
                return _Reference(name, operator, word, start), position + 1
            if len(problems) == known:  # an unclosed inner ${ already says what is missing
                problems.append(Problem(start, _unclosed(text, start)))
            return None, len(text)
    end = _closing_brace(text, start)
    if end is None:
        problems.append(Problem(start, _unclosed(text, start)))
        return None, len(text)
    snippet = text[start : end + 1]
    inner = snippet[2:-1]
    if inner.strip() != inner and inner.strip() and not _problems_in("${" + inner.strip() + "}"):
        hint = f"no spaces inside ${{…}}: write ${{{inner.strip()}}}"
    elif not inner or not _NAME.match(inner):
        hint = "a variable name starts with a letter or _ and holds only letters, digits and _"
    else:
        hint = f"this form is not supported; use {FORMS}"
    problems.append(Problem(start, f"'{snippet}': {hint}, or write $${{ for a literal ${{"))
    return None, end + 1


def _problems_in(text: str) -> list[Problem]:
    problems: list[Problem] = []
    _parse(text, 0, problems, nested=False)
    return problems


def _closing_brace(text: str, start: int) -> int | None:
    depth = 0
    for position in range(start + 1, len(text)):
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return position
    return None


def _unclosed(text: str, start: int) -> str:
    snippet = text[start : start + 40] + ("…" if len(text) > start + 40 else "")
    return f"'{snippet}' has no closing }}; close it, or write $${{ for a literal ${{"


def _evaluate(parts: list[_Part], environ: Mapping[str, str], used: list[str], problems: list[Problem]) -> str:
    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        used.append(part.name)
        value = environ.get(part.name)
        operator = part.operator
        needs_value = value is None or (operator.startswith(":") and not value)
        if operator == "":
            if value is None:
                problems.append(
                    Problem(
                        part.offset,
                        f"${{{part.name}}} is not set; set it in the environment (CodeBuild variables) "
                        f"or give a default: ${{{part.name}:-value}}",
                        UNSET_VARIABLE,
                    )
                )
            pieces.append(value or "")
        elif operator in (":-", "-"):
            pieces.append(_evaluate(part.word, environ, used, problems) if needs_value else value or "")
        elif operator in (":?", "?"):
            if needs_value:
                reason = _evaluate(part.word, environ, used, problems)
                state = "not set" if value is None else "empty"
                problems.append(
                    Problem(part.offset, f"${{{part.name}}} is {state}: {reason or 'it is required'}", UNSET_VARIABLE)
                )
            pieces.append(value or "")
        else:  # ":+" and "+": the text when the variable is there
            pieces.append("" if needs_value else _evaluate(part.word, environ, used, problems))
    return "".join(pieces)


# Compiled (and cached by re) on first use: most overlays have no ${…} in a numeric field.
_WHOLE_NUMBER = r"[+-]?[0-9]+"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
NUMBER_KINDS = {"integer": "a whole number", "number": "a number"}


def number_from(text: str, kind: str) -> int | float | None:
    """``text`` (a value built from ``${VARS}``) as the number a numeric field wants (``kind`` is the JSON
    Schema type, integer or number), or None when it does not read as one: ``512`` → 512, ``512MB`` → None."""
    if kind == "integer":
        return int(text) if re.fullmatch(_WHOLE_NUMBER, text) else None
    return float(text) if re.fullmatch(_NUMBER, text) else None


def not_a_number(written: str, kind: str) -> Problem:
    """The problem of a numeric field whose ``${…}`` gives something else; the value itself is not shown
    (a variable may hold a secret), only what was written."""
    return Problem(
        written.find("${"),
        f"'{written}' does not give {NUMBER_KINDS[kind]}, which ECS needs here; set the variable to one "
        "(or write the number itself)",
        VARIABLE_NUMBER,
    )
