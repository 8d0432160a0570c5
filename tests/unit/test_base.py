"""Base documents → register-able task definitions."""

from __future__ import annotations

import json

import botocore.session
import pytest

from ecs_overlay import schemas
from ecs_overlay.base import parse_base, read_base, registerable
from ecs_overlay.errors import InvalidInputError

from ..conftest import EXAMPLE_BASE


def test_describe_only_fields_are_derived_from_botocore() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    accepted = set(model.operation_model("RegisterTaskDefinition").input_shape.members)
    described = set(model.shape_for("TaskDefinition").members)
    assert schemas.describe_only_fields() == described - accepted
    assert {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
    } <= schemas.describe_only_fields()


def test_strips_exactly_the_describe_only_fields_and_keeps_order() -> None:
    document = json.loads(EXAMPLE_BASE.read_text())
    result = registerable(document, schemas.describe_only_fields())
    original = document["taskDefinition"]
    assert list(result) == [k for k in original if k not in schemas.describe_only_fields()] + ["tags"]
    assert result["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert result["containerDefinitions"] == original["containerDefinitions"]
    assert result["tags"] == document["tags"]


def test_unknown_fields_are_kept() -> None:
    document = {
        "taskDefinition": {"family": "f", "containerDefinitions": [], "brandNewField": {"x": 1}, "revision": 3},
        "tags": [],
    }
    assert registerable(document, schemas.describe_only_fields()) == {
        "family": "f",
        "containerDefinitions": [],
        "brandNewField": {"x": 1},
    }


def test_empty_tags_are_left_out_and_bare_task_definitions_accepted() -> None:
    bare = {"family": "f", "containerDefinitions": [], "tags": []}
    assert registerable(bare, schemas.describe_only_fields()) == {"family": "f", "containerDefinitions": []}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"base.json:1:2: not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"family": "x"}', "no containerDefinitions"),
    ],
)
def test_bad_base_documents_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_base(text, "base.json")


def test_every_null_is_dropped_at_any_depth_and_counted() -> None:
    document = {
        "taskDefinition": {
            "family": "f",
            "taskRoleArn": None,
            "containerDefinitions": [
                {
                    "name": "web",
                    "image": "nginx",
                    "cpu": 0,
                    "essential": True,
                    "command": None,
                    "linuxParameters": {"capabilities": {"add": None, "drop": []}, "initProcessEnabled": False},
                    "links": ["a", None],
                },
            ],
            "volumes": [None],
            "deregisteredAt": None,
        },
        "tags": None,
    }
    base = read_base(document, schemas.describe_only_fields())
    assert base.taskdef == {
        "family": "f",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx",
                "cpu": 0,
                "essential": True,
                "linuxParameters": {"capabilities": {"drop": []}, "initProcessEnabled": False},
                "links": ["a"],
            },
        ],
        "volumes": [],
    }
    assert base.nulls_dropped == 7
    [note] = base.notes()
    assert (note.severity, note.is_error, note.is_warning) == ("info", False, False)
    assert note.message == "dropped 7 null values from the base (null means absent in ECS)"


def test_a_base_without_nulls_has_no_note() -> None:
    assert read_base({"family": "f", "containerDefinitions": []}, schemas.describe_only_fields()).notes() == []


def test_empty_strings_for_enum_fields_are_dropped_and_said_once() -> None:
    """An SDK omits ``appProtocol: ""``; ECS never sees it, so a file base carrying it is not refused."""
    from ecs_overlay import render

    document = {
        "family": "shop",
        "networkMode": "",
        "requiresCompatibilities": ["EC2"],
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "memory": 256,
                "hostname": "",
                "portMappings": [{"containerPort": 80, "protocol": "", "appProtocol": ""}],
            }
        ],
    }
    base = read_base(document, schemas.describe_only_fields())
    web = base.taskdef["containerDefinitions"][0]
    assert web["portMappings"] == [{"containerPort": 80}]
    assert "networkMode" not in base.taskdef
    assert web["hostname"] == ""  # a free-text field: "" is a value there, left for the rules
    assert base.empty_enums_dropped == (
        "networkMode",
        "containerDefinitions[0].portMappings[0].protocol",
        "containerDefinitions[0].portMappings[0].appProtocol",
    )
    (note,) = base.notes()
    assert note.rule == "base-empty-enum" and note.severity == "info"
    assert (
        "dropped 3 empty values" in note.message
        and "containerDefinitions[0].portMappings[0].appProtocol" in note.message
    )
    assert [f for f in render(base.taskdef, []).findings if f.is_error] == []


def test_an_enum_value_ecs_does_not_know_is_still_refused() -> None:
    from ecs_overlay import render

    document = {
        "family": "shop",
        "networkMode": "vpc",
        "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}],
    }
    base = read_base(document, schemas.describe_only_fields())
    assert base.taskdef["networkMode"] == "vpc" and base.notes() == []
    assert "taskdef-schema" in [f.rule for f in render(base.taskdef, []).findings if f.is_error]
