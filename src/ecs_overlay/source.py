"""The base: a task definition as ECS describes it, stripped to what RegisterTaskDefinition accepts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import InvalidInputError, OutputError


def registerable(document: dict[str, Any], describe_only: Iterable[str]) -> dict[str, Any]:
    """The register-able task definition inside a describe-task-definition document.

    Accepts ``{"taskDefinition": {...}, "tags": [...]}`` as ``aws ecs describe-task-definition``
    prints it, or a bare task definition. Removes exactly the ``describe_only`` fields; every
    other field, including ones this tool does not know, is kept in its order. Top-level tags
    become the task definition's ``tags``; an empty tag list is left out.
    """
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
    return result


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
