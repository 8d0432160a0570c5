"""The shipped JSON Schemas, parsed once, with validators built once and reused."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator


@functools.cache
def load(name: str) -> dict[str, Any]:
    """``load("taskdef")`` → the parsed ``schema/taskdef.schema.json`` shipped in the package."""
    text = resources.files("ecs_overlay.schema").joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Draft202012Validator:
    # The shipped schemas are checked against the metaschema by the test suite, not on every run.
    return Draft202012Validator(load(name))


def describe_only_fields() -> frozenset[str]:
    """Fields of DescribeTaskDefinition's output that RegisterTaskDefinition does not accept."""
    return frozenset(load("taskdef")["x-describe-only"])


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (the generated schemas use nothing else)."""
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def child(schema: dict[str, Any] | None, step: str | int, root: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of ``step`` inside ``schema`` (a property, a map value or a list item)."""
    if schema is None:
        return None
    schema = resolve(schema, root)
    if isinstance(step, int) or schema.get("type") == "array":
        items = schema.get("items")
        return resolve(items, root) if items else None
    if step in schema.get("properties", {}):
        return resolve(schema["properties"][step], root)
    extra = schema.get("additionalProperties")
    return resolve(extra, root) if isinstance(extra, dict) else None


def expects_string(schema: dict[str, Any] | None) -> bool:
    return schema is not None and schema.get("type") == "string"
