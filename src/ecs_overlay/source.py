"""The base: a task definition as ECS describes it, stripped to what RegisterTaskDefinition accepts."""

from __future__ import annotations

import json
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


def read_base_file(name: str) -> dict[str, Any]:
    """A base from a file, or from standard input when ``name`` is ``-``."""
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"--base {name}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"--base {name}: is a directory; give the JSON file") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"--base {label}: not UTF-8 text") from None
    except OSError as error:
        raise OutputError(f"--base {name}: cannot read it: {error.strerror}") from None
    return parse_base(text, label)


def parse_base(text: str, label: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{label}:{error.lineno}:{error.colno}: not JSON ({error.msg}); give the output of "
            "`aws ecs describe-task-definition --include TAGS` or a task definition"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("taskDefinition", document), dict):
        raise InvalidInputError(f"{label}: expected a JSON object (a task definition), got {type(document).__name__}")
    if "containerDefinitions" not in document.get("taskDefinition", document):
        raise InvalidInputError(
            f"{label}: no containerDefinitions; this does not look like a task definition "
            "(expected `aws ecs describe-task-definition` output)"
        )
    return document
