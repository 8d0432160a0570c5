"""The shipped schemas: generated from botocore, valid against their metaschema, useful in practice."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import botocore.session
import pytest
import yaml
from jsonschema import Draft202012Validator

from ecs_overlay import schemas
from ecs_overlay.schemagen import SERVICE_MEMBERS, overlay_schema, python_pattern, service_schema, taskdef_schema
from ecs_overlay.schemagen import plain_text as python_plain_text

from ..conftest import EXAMPLE_BASE, EXAMPLE_ENVIRONMENTS, REPO

SCHEMA_DIR = REPO / "schema"


@pytest.mark.parametrize("name", ["taskdef", "service", "overlay"])
def test_shipped_schemas_are_valid_against_the_metaschema(name: str) -> None:
    Draft202012Validator.check_schema(json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()))


def test_shipped_schemas_are_what_the_installed_botocore_generates() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    taskdef = taskdef_schema(model, botocore.__version__)
    assert json.loads((SCHEMA_DIR / "taskdef.schema.json").read_text()) == taskdef, (
        "schema/ is stale: run scripts/generate_schemas.py"
    )
    service = service_schema(model, botocore.__version__)
    assert json.loads((SCHEMA_DIR / "service.schema.json").read_text()) == service
    assert json.loads((SCHEMA_DIR / "overlay.schema.json").read_text()) == overlay_schema(taskdef, service)


def test_the_service_section_is_update_services_input_for_the_members_it_may_set() -> None:
    """`service:` takes the UpdateService members deploy sends, as botocore models them: the blue/green
    strategies, lifecycle hooks and their stage enum, load balancers' advanced configuration."""
    model = botocore.session.get_session().get_service_model("ecs")
    members = model.operation_model("UpdateService").input_shape.members
    section = json.loads((SCHEMA_DIR / "overlay.schema.json").read_text())["properties"]["service"]
    assert set(section["properties"]) == set(SERVICE_MEMBERS) <= set(members)
    configuration = section["properties"]["deploymentConfiguration"]["properties"]
    assert set(configuration) == set(model.shape_for("DeploymentConfiguration").members)
    assert configuration["strategy"]["enum"] == ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY", None]
    stages = configuration["lifecycleHooks"]["items"]["properties"]["lifecycleStages"]["items"]["enum"]
    assert "POST_TEST_TRAFFIC_SHIFT" in stages
    advanced = section["properties"]["loadBalancers"]["items"]["properties"]["advancedConfiguration"]["properties"]
    assert set(advanced) == {"alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn"}
    strict = json.loads((SCHEMA_DIR / "service.schema.json").read_text())
    assert strict["$defs"]["DeploymentCircuitBreaker"]["required"] == ["enable", "rollback"]


def test_the_package_ships_the_same_schemas() -> None:
    assert schemas.load("taskdef") == json.loads((SCHEMA_DIR / "taskdef.schema.json").read_text())


def test_every_register_field_botocore_knows_is_accepted() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    members = model.operation_model("RegisterTaskDefinition").input_shape.members
    assert set(schemas.load("taskdef")["properties"]) == set(members)
    container = model.shape_for("ContainerDefinition").members
    assert set(schemas.load("taskdef")["$defs"]["ContainerDefinition"]["properties"]) == set(container)


def test_good_task_definition_passes_and_bad_ones_fail() -> None:
    validator = schemas.validator("taskdef")
    good = json.loads(EXAMPLE_BASE.read_text())["taskDefinition"]
    good = {k: v for k, v in good.items() if k not in schemas.describe_only_fields()}
    assert list(validator.iter_errors(good)) == []
    bad = dict(good, networkMode="tunnel", containerDefinitions=[{"name": "x", "memroy": 1}])
    assert {e.validator for e in validator.iter_errors(bad)} == {"enum", "additionalProperties"}
    assert [e.validator for e in validator.iter_errors({"family": "x"})] == ["required"]


def test_example_overlays_pass_the_overlay_schema_and_bad_ones_fail() -> None:
    validator = schemas.validator("overlay")
    for path in sorted(Path(EXAMPLE_ENVIRONMENTS).glob("*.yaml")):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path
    assert list(validator.iter_errors({"containerDefinitions": {"web": {"memroy": 1}}}))
    assert list(validator.iter_errors({"containerDefinitions": {"web": {"environment": {"A": {"b": 1}}}}}))


def test_java_patterns_become_anchored_python_regexes() -> None:
    import re

    pattern = python_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    assert re.match(pattern, "Team Name_1:x/y=z+a-b@c")
    assert not re.match(pattern, "bad#tag")


def test_example_overlays_point_editors_at_the_schema() -> None:
    for path in sorted(Path(EXAMPLE_ENVIRONMENTS).glob("*.yaml")):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schema/overlay.schema.json\n"), path


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "true should be text"), ({"a": None}, '{"a": null} should be text'), ([1, False], "[1, false] should")],
)
def test_schema_messages_show_values_as_json_not_python(value: object, shown: str) -> None:
    taskdef = {"family": "f", "containerDefinitions": [{"name": "web", "image": value}]}
    [error] = schemas.errors("taskdef", taskdef)
    assert schemas.message(error).startswith(shown)
    assert not any(word in schemas.message(error) for word in ("True", "False", "None", "'a'"))


def test_plain_text_strips_html_and_keeps_the_first_sentences() -> None:
    documentation = (
        "<p>The <code>essential</code> flag &amp; more. If <i>true</i>, the task stops.</p> "
        "<p>All tasks must have at least one essential container. " + "Long. " * 80 + "</p>"
    )
    assert python_plain_text(documentation) == "The essential flag & more. If true, the task stops."
    assert python_plain_text("<p>" + "word " * 200 + "</p>").endswith("word…")
    assert len(python_plain_text("<p>" + "word " * 200 + "</p>")) <= 300


def test_every_field_has_a_plain_text_description_for_hover() -> None:
    """Editors show `description` on hover: each field the container definition has explains itself in plain text."""
    overlay = json.loads((SCHEMA_DIR / "overlay.schema.json").read_text())
    fields = overlay["$defs"]["ContainerDefinition"]["properties"]
    assert fields["essential"]["description"].startswith("If the essential parameter of a container is marked as true")
    assert "description" in overlay["properties"]["containerDefinitions"]  # kept on the keyed-list forms too
    assert "description" in overlay["properties"]["cpu"]
    described = _descriptions(overlay)
    assert len(described) > 150
    assert not [text for text in described if "<" in text or "&amp;" in text or len(text) > 300]


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["description"]] if isinstance(node.get("description"), str) else []
        return own + [text for value in node.values() for text in _descriptions(value)]
    if isinstance(node, list):
        return [text for value in node for text in _descriptions(value)]
    return []


@pytest.mark.parametrize("name", ["overlay", "taskdef", "service"])
def test_the_schema_id_is_the_raw_url_of_the_file_in_this_repository(name: str) -> None:
    """`$id` serves the JSON itself (a raw URL, not an HTML page) and names the file's path in the repository."""
    schema_id = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())["$id"]
    assert schema_id == f"https://raw.githubusercontent.com/ecs-overlay/ecs-overlay/main/schema/{name}.schema.json"
    assert (REPO / schema_id.split("/main/", 1)[1]).is_file()
