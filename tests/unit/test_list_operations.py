"""`$replace` and `$append`: a list made exactly what an overlay writes, or extended without restating it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecs_overlay import render, schemas
from ecs_overlay.diff import compare
from ecs_overlay.environments import load_layers
from ecs_overlay.errors import InvalidInputError
from ecs_overlay.keyed import Item

from .helpers import base_task, container, env_of, overlay, rendered

ENV_FILE = "arn:aws:s3:::shop-config/base.env"
PROD_FILE = "arn:aws:s3:::shop-config/prod.env"


@pytest.mark.parametrize(
    "text",
    [
        "containerDefinitions: {web: {environment: {$replace: {LOG_LEVEL: warn, NEW: x}}}}",
        "containerDefinitions: {web: {environment: {$replace: "
        "[{name: LOG_LEVEL, value: warn}, {name: NEW, value: x}]}}}",
    ],
)
def test_replace_makes_a_keyed_list_exactly_the_items_written(text: str) -> None:
    result = rendered(base_task(), text)
    assert result.ok, result.findings
    assert container(result, "web")["environment"] == [
        {"name": "LOG_LEVEL", "value": "warn"},
        {"name": "NEW", "value": "x"},
    ]  # PORT, which the base had, is gone; the order is the overlay's


@pytest.mark.parametrize(
    ("field", "written", "expected"),
    [
        ("secrets", "{$replace: {API_KEY: arn:aws:ssm:eu-west-1:111111111111:parameter/key}}", ["API_KEY"]),
        ("portMappings", "{$replace: {'9090': {}}}", [9090]),
        ("ulimits", "{$replace: [{name: nofile, softLimit: 1024, hardLimit: 2048}]}", ["nofile"]),
        ("mountPoints", "{$replace: []}", []),
    ],
)
def test_replace_works_on_every_keyed_list(field: str, written: str, expected: list[Any]) -> None:
    base = base_task()
    base["containerDefinitions"][0]["ulimits"] = [{"name": "core", "softLimit": 0, "hardLimit": 0}]
    base["containerDefinitions"][0]["mountPoints"] = [{"sourceVolume": "data", "containerPath": "/data"}]
    base["volumes"] = [{"name": "data"}]
    result = rendered(base, f"containerDefinitions: {{web: {{{field}: {written}}}}}")
    assert result.ok, result.findings
    key = {"secrets": "name", "portMappings": "containerPort", "ulimits": "name", "mountPoints": "containerPath"}[field]
    assert [item[key] for item in container(result, "web")[field]] == expected


def test_replace_on_a_plain_list_is_the_list_as_written() -> None:
    result = rendered(base_task(), "containerDefinitions: {web: {command: {$replace: [serve, --debug]}}}")
    assert container(result, "web")["command"] == ["serve", "--debug"]


def test_replace_takes_a_base_list_that_cannot_be_merged_by_key() -> None:
    base = base_task()
    base["containerDefinitions"][0]["environment"] = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    with pytest.raises(InvalidInputError, match=r"or write the whole list under \$replace"):
        rendered(base, "containerDefinitions: {web: {environment: {B: x}}}")
    replaced = rendered(base, "containerDefinitions: {web: {environment: {$replace: {B: x}}}}")
    assert replaced.ok, replaced.findings
    assert env_of(replaced) == {"B": "x"}


def test_replace_records_where_the_list_and_each_item_were_written() -> None:
    text = """\
        containerDefinitions:
          web:
            environment:
              $replace:
                LOG_LEVEL: warn
            portMappings:
              $replace:
                - containerPort: 9090
    """
    base = base_task()
    result = rendered(base, text)
    path = ("containerDefinitions", Item("web"), "environment")
    # a removed item points at the `$replace` line (nothing else in the overlay names it)
    assert result.provenance.locate((*path, Item("PORT"))).line == 4
    assert result.provenance.origin((*path, Item("LOG_LEVEL"), "value")).line == 5
    port = ("containerDefinitions", Item("web"), "portMappings", Item("9090/tcp"))
    assert result.provenance.origin(port).line == 8
    changes = {
        (change.readable_path, change.operation): change for change in compare(base, result.taskdef, result.provenance)
    }
    removed = changes[("containerDefinitions[web].environment[PORT]", "removed")]
    assert removed.origin is not None and (removed.origin.line, removed.origin.column) == (4, 7)
    removed_port = changes[("containerDefinitions[web].portMappings[8080/tcp]", "removed")]
    assert removed_port.origin is not None and removed_port.origin.line == 7


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_replace_through_extends_drops_what_a_shared_layer_added(tmp_path: Path) -> None:
    _write(tmp_path, "_common.yaml", "containerDefinitions: {web: {environment: {GIT_COMMIT: abc}}}\n")
    env = _write(
        tmp_path,
        "prod.yaml",
        "extends: _common.yaml\ncontainerDefinitions: {web: {environment: {$replace: {LOG_LEVEL: warn}}}}\n",
    )
    result = render(base_task(), load_layers(env, {}))
    assert result.ok, result.findings
    assert env_of(result) == {"LOG_LEVEL": "warn"}
    # nothing of _common.yaml's is left in force inside the replaced list
    files = {
        Path(origin.file or "").name
        for path, origin in result.provenance
        if path[:3] == ("containerDefinitions", Item("web"), "environment")
    }
    assert files == {"prod.yaml"}


def test_a_layer_merges_onto_a_list_a_shared_layer_replaced(tmp_path: Path) -> None:
    _write(tmp_path, "_common.yaml", "containerDefinitions: {web: {environment: {$replace: {A: shared}}}}\n")
    env = _write(
        tmp_path, "prod.yaml", "extends: _common.yaml\ncontainerDefinitions: {web: {environment: {B: prod}}}\n"
    )
    result = render(base_task(), load_layers(env, {}))
    assert env_of(result) == {"A": "shared", "B": "prod"}


def test_append_adds_to_a_plain_list_without_restating_it() -> None:
    base = base_task()
    base["containerDefinitions"][0]["environmentFiles"] = [{"value": ENV_FILE, "type": "s3"}]
    text = f"containerDefinitions: {{web: {{environmentFiles: {{$append: [{{value: '{PROD_FILE}', type: s3}}]}}}}}}"
    result = rendered(base, text)
    assert result.ok, result.findings
    files = [{"value": ENV_FILE, "type": "s3"}, {"value": PROD_FILE, "type": "s3"}]
    assert container(result, "web")["environmentFiles"] == files
    # the live base is the previous render: rendering on it again adds nothing twice
    again = rendered(result.taskdef, text)
    assert container(again, "web")["environmentFiles"] == files
    # where the base has no such list, the appended items are the list
    assert container(rendered(base_task(), text), "web")["environmentFiles"] == files[1:]


def test_append_records_the_list_as_the_layers() -> None:
    result = rendered(base_task(), "containerDefinitions:\n  web:\n    command:\n      $append: [--verbose]\n")
    assert container(result, "web")["command"] == ["serve", "--port", "8080", "--verbose"]
    origin = result.provenance.origin(("containerDefinitions", Item("web"), "command"))
    assert origin.file == "layer0.yaml" and origin.line == 4


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "containerDefinitions: {web: {environment: {$append: {A: x}}}}",
            "$append adds to plain lists; environment is keyed by name",
        ),
        (
            "containerDefinitions: {web: {secrets: {$replace: {A: arn:x}, B: arn:y}}}",
            "$replace stands alone in secrets: write every item under it",
        ),
        (
            "containerDefinitions: {web: {command: {$replace: [a], $append: [b]}}}",
            "stands alone in command",
        ),
    ],
)
def test_misused_list_operations_are_one_clear_error(text: str, words: str) -> None:
    layer = overlay(text)
    assert [(f.rule, f.line) for f in layer.findings] == [("list-operation", 1)], layer.findings
    assert words in layer.findings[0].message


def test_replace_is_an_ordinary_key_where_no_list_belongs() -> None:
    result = rendered(base_task(), "containerDefinitions: {web: {dockerLabels: {$replace: kept}}}")
    assert result.ok, result.findings
    assert container(result, "web")["dockerLabels"] == {"$replace": "kept"}


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"containerDefinitions": {"web": {"environment": {"$replace": {"A": "x"}}}}}, True),
        ({"containerDefinitions": {"web": {"environment": {"$replace": [{"name": "A", "value": "x"}]}}}}, True),
        ({"containerDefinitions": {"web": {"environmentFiles": {"$append": [{"value": "x", "type": "s3"}]}}}}, True),
        ({"requiresCompatibilities": {"$replace": ["FARGATE"]}}, True),
        ({"containerDefinitions": {"web": {"environment": {"$append": {"A": "x"}}}}}, False),
        ({"containerDefinitions": {"web": {"environmentFiles": {"$append": {"value": "x"}}}}}, False),
        ({"containerDefinitions": {"web": {"command": {"$replace": ["a"], "extra": 1}}}}, False),
    ],
)
def test_the_overlay_schema_describes_replace_and_append(document: dict[str, Any], valid: bool) -> None:
    assert schemas.validator("overlay").is_valid(document) is valid
