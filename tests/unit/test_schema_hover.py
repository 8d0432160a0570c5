"""What an editor shows on hover from the shipped schemas: yaml-language-server heads the hover with the hovered
schema's `title`, or else with the nearest title above it (the whole overlay's), and puts `description` below."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ecs_overlay import schemas

from ..conftest import REPO

SCHEMA_DIR = REPO / "schema"
SECTIONS = ("appspec", "service", "tasks", "base", "verify")  # the overlay's own keys, never in the task definition


def shipped(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def fields(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema a key of a document can reach, with where: properties, map values, items, alternatives."""
    if not isinstance(schema, dict):
        return
    for name, child in (schema.get("properties") or {}).items():
        yield f"{path}.{name}", child
        yield from fields(child, f"{path}.{name}")
    for key, shown in (("additionalProperties", ".<name>"), ("items", "[]"), ("propertyNames", ".<key name>")):
        yield from fields(schema.get(key), path + shown)
    for key in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(key) or []:
            yield from fields(child, path)
    for name, child in (schema.get("$defs") or {}).items():
        yield from fields(child, f"$defs.{name}")


def hover_heading(schema: dict[str, Any], path: list[str]) -> str:
    """The heading yaml-language-server puts on the hover of the key at ``path``: the title of the schema the key's
    value is validated against, else the closest title above it (`closestTitle` in its validator)."""
    closest = schema.get("title", "")
    node = schema
    for key in path:
        node = _resolve(schema, node)
        # a field, or an item of a keyed list written as a mapping (`containerDefinitions: {web: ...}`)
        child = (node.get("properties") or {}).get(key) or node["additionalProperties"]
        closest = child.get("title", closest)
        node = child
    return closest


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or ("anyOf" in node and "properties" not in node):
        if "$ref" in node:
            node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
        else:
            node = next(form for form in node["anyOf"] if "$ref" in form or form.get("type") == "object")
    return node


def test_hover_headings_name_the_field() -> None:
    overlay = shipped("overlay")
    assert hover_heading(overlay, ["containerDefinitions", "web", "memory"]) == "memory"
    assert hover_heading(overlay, ["containerDefinitions", "web", "logConfiguration"]) == "logConfiguration"
    assert hover_heading(overlay, ["cpu"]) == "cpu"
    assert hover_heading(overlay, ["appspec", "networkConfiguration", "subnets"]) == "subnets"
    assert hover_heading(overlay, ["service", "deploymentConfiguration", "maximumPercent"]) == "maximumPercent"


@pytest.mark.parametrize("name", ["overlay", "taskdef", "service"])
def test_every_property_is_titled_with_its_name(name: str) -> None:
    untitled = [where for where, schema in fields(shipped(name)) if schema.get("title") != where.rsplit(".", 1)[1]]
    untitled = [where for where in untitled if not where.endswith(("<name>", "<key name>", "[]"))]
    assert untitled == []


def test_every_key_of_the_overlays_own_sections_says_what_it_does() -> None:
    """appspec:, service:, tasks:, base: and verify: are not ECS task definition fields an editor's user knows from
    the API reference: each key under them, and each entry of their maps, carries a description."""
    overlay = shipped("overlay")
    bare = [
        where
        for section in SECTIONS
        for where, schema in fields(overlay["properties"][section], section)
        # an item of a list is described by the key that holds the list
        if not where.endswith(("<key name>", "[]")) and not isinstance(schema.get("description"), str)
    ]
    assert bare == []
    for section in SECTIONS:
        assert isinstance(overlay["properties"][section].get("description"), str)


def test_titles_cost_validation_nothing() -> None:
    """Like descriptions, titles are dropped from what the validator reads, and a reference with a title beside it is
    still replaced by its definition once (resolving references is most of what validating costs)."""
    for name in ("taskdef", "service", "overlay"):
        resolved = schemas.inline_refs(schemas.load(name))
        resolved.pop("$defs", None)
        text = json.dumps(resolved)
        assert '"$ref"' not in text and '"title"' not in text and '"description"' not in text
