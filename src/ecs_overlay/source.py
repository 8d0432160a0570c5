"""The base: a task definition as ECS describes it, stripped to what RegisterTaskDefinition accepts."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .errors import InvalidInputError, OutputError
from .findings import INFO, Finding, counted


class Base(NamedTuple):
    """A register-able task definition, and what reading it changed or found out about it."""

    taskdef: dict[str, Any]
    nulls_dropped: int = 0
    from_api: bool = False  # fetched from the ECS API (it may carry fields newer than botocore), not a file

    def notes(self) -> list[Finding]:
        """What the user should know about reading the base: neither errors nor warnings."""
        if not self.nulls_dropped:
            return []
        message = f"dropped {counted(self.nulls_dropped, 'null value')} from the base (null means absent in ECS)"
        return [Finding("base-null", message, severity=INFO)]


def read_base(document: dict[str, Any], describe_only: Iterable[str]) -> Base:
    """The register-able task definition inside a describe-task-definition document.

    Accepts ``{"taskDefinition": {...}, "tags": [...]}`` as ``aws ecs describe-task-definition``
    prints it, or a bare task definition. Every explicit ``null`` goes first: console and SDK
    dumps carry one for each field not set, and the deploy actions strip them before registering
    (aws-actions/amazon-ecs-deploy-task-definition's ``cleanNullKeys``). Then exactly
    the ``describe_only`` fields go; every other field, including ones this tool does not know,
    is kept in its order. Top-level tags become the task definition's ``tags``; an empty tag list
    is left out.
    """
    document, nulls = without_nulls(document)
    if isinstance(document.get("taskDefinition"), dict):
        taskdef = dict(document["taskDefinition"])
        tags = document.get("tags")
        if tags is not None and "tags" not in taskdef:
            taskdef["tags"] = tags
    else:
        taskdef = dict(document)
    dropped = set(describe_only)
    result = {key: value for key, value in taskdef.items() if key not in dropped}
    if result.get("tags") == []:
        del result["tags"]
    return Base(result, nulls)


def registerable(document: dict[str, Any], describe_only: Iterable[str]) -> dict[str, Any]:
    """Just the task definition of :func:`read_base`."""
    return read_base(document, describe_only).taskdef


def without_nulls(value: Any) -> tuple[Any, int]:
    """``value`` without any ``null`` (a mapping's value or a list's item, at any depth), and how many went."""
    if not isinstance(value, (dict, list)):
        return value, 0
    kept: dict[Any, Any] = {}
    dropped = 0
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if item is None:
            dropped += 1
            continue
        kept[key], inner = without_nulls(item)
        dropped += inner
    return (kept if isinstance(value, dict) else list(kept.values())), dropped


MAX_DEPTH = 64  # a task definition nests about 8 deep; far deeper is not one, and would exhaust the stack


def read_base_file(name: str, option: str = "--base") -> dict[str, Any]:
    """A base from a file, or from standard input when ``name`` is ``-``; ``option`` names it in messages."""
    return parse_base(read_input(name, option), "standard input" if name == "-" else name)


def read_input(name: str, option: str) -> str:
    """The text of an input file (``-``: standard input), as the option ``option`` names it.

    A file that cannot be read is an I/O failure (exit 3); one that is not UTF-8 is invalid input (exit 1).
    """
    label = "standard input" if name == "-" else name
    try:
        if name == "-":
            if sys.stdin is None:
                raise OutputError(f"{option} -: standard input is closed; pipe the file in, or give its path")
            return sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutputError(f"{option} {name}: no such file") from None
    except IsADirectoryError:
        raise OutputError(f"{option} {label}: is a directory; give a file") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{option} {label}: not UTF-8 text") from None
    except OSError as error:
        raise OutputError(f"{option} {label}: cannot read it: {error.strerror or error}") from None
    except ValueError:  # standard input closed under us
        raise OutputError(f"{option} {label}: cannot read it: it is closed") from None


class _NotFinite(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _refuse(token: str) -> Any:
    raise _NotFinite(token)


def _finite(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise _NotFinite(token)
    return number


def parse_base(text: str, label: str) -> dict[str, Any]:
    """A describe-task-definition document or a bare task definition, checked to be one."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors save: accepted as in overlays
    try:
        document = json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{label}:{error.lineno}:{error.colno}: not JSON ({error.msg}); give the output of "
            "`aws ecs describe-task-definition --include TAGS` or a task definition"
        ) from None
    except _NotFinite as error:
        raise InvalidInputError(
            f"{label}:{_position(text, error.token)}: {error.token} is not a finite number; JSON and ECS "
            "take only finite numbers, so write the value itself"
        ) from None
    except RecursionError:
        raise _too_deep(label) from None
    _check_depth(document, label)
    if not isinstance(document, dict):
        raise InvalidInputError(f"{label}: expected a JSON object (a task definition), got {_json_kind(document)}")
    taskdef = document.get("taskDefinition", document)
    if not isinstance(taskdef, dict):
        raise InvalidInputError(f"{label}: taskDefinition should be a JSON object, got {_json_kind(taskdef)}")
    if "containerDefinitions" not in taskdef:
        raise InvalidInputError(
            f"{label}: no containerDefinitions; this does not look like a task definition "
            "(expected `aws ecs describe-task-definition` output)"
        )
    return document


def _position(text: str, token: str) -> str:
    """``line:column`` of ``token`` where it stands as a value, not inside a string."""
    value = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+-])(' + re.escape(token) + r")(?![\w.])")
    for match in value.finditer(text):
        if match.group(1) is not None:
            line = text.count("\n", 0, match.start(1)) + 1
            return f"{line}:{match.start(1) - text.rfind(chr(10), 0, match.start(1))}"
    return "1:1"


def _check_depth(document: Any, label: str) -> None:
    pending = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(label)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _too_deep(label: str) -> InvalidInputError:
    return InvalidInputError(
        f"{label}: nested more than {MAX_DEPTH} levels deep; a task definition nests about 8, "
        "so this is not one (give `aws ecs describe-task-definition` output)"
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    return "a number" if isinstance(value, (int, float)) else "an object"
