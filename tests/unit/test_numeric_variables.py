"""`${VAR}` in a numeric field: the number it gives, checked as if written; an error at the `${` otherwise."""

from __future__ import annotations

import pytest

from ecs_overlay.keyed import Item

from .helpers import base_task, container, overlay, rendered


def test_a_variable_gives_the_number_a_numeric_field_wants() -> None:
    text = """\
        containerDefinitions:
          web:
            memory: ${WEB_MEMORY}
            portMappings:
              "8080": {hostPort: "${HOST_PORT:-8080}"}
            healthCheck:
              command: [CMD, /bin/true]
              interval: 1${INTERVAL}
    """
    result = rendered(base_task(), text, environ={"WEB_MEMORY": "512", "INTERVAL": "5"})
    assert result.ok, result.findings
    web = container(result, "web")
    assert web["memory"] == 512 and web["healthCheck"]["interval"] == 15
    assert web["portMappings"][0]["hostPort"] == 8080
    origin = result.provenance.origin(("containerDefinitions", Item("web"), "memory"))
    assert (origin.line, origin.variables, origin.template) == (3, ("WEB_MEMORY",), "${WEB_MEMORY}")


@pytest.mark.parametrize(
    ("written", "value", "column"),
    [("${WEB_MEMORY}", "512MB", 13), ("${WEB_MEMORY}", "", 13), ("'  ${WEB_MEMORY}'", "5.5", 16)],
)
def test_a_variable_that_gives_no_whole_number_is_an_error_at_its_column(written: str, value: str, column: int) -> None:
    layer = overlay(f"containerDefinitions:\n  web:\n    memory: {written}\n", environ={"WEB_MEMORY": value})
    [finding] = layer.findings
    assert (finding.rule, finding.line, finding.column) == ("variable-number", 3, column)
    assert finding.path == "containerDefinitions[web].memory"
    assert "does not give a whole number, which ECS needs here" in finding.message
    assert value not in finding.message or not value  # the variable's value is never shown


def test_the_rules_judge_the_number_a_variable_gives_at_its_line() -> None:
    result = rendered(
        base_task(), "containerDefinitions:\n  web:\n    memory: ${WEB_MEMORY}\n", environ={"WEB_MEMORY": "4"}
    )
    [finding] = [f for f in result.findings if f.path == "containerDefinitions[web].memory"]
    assert finding.rule == "container-memory-minimum" and (finding.file, finding.line) == ("layer0.yaml", 3)


def test_a_port_key_read_from_a_variable_keys_the_item() -> None:
    text = (
        "containerDefinitions:\n  web:\n    portMappings:\n      - containerPort: ${PORT}\n        hostPort: ${PORT}\n"
    )
    result = rendered(base_task(), text, environ={"PORT": "8080"})
    assert result.ok, result.findings
    assert container(result, "web")["portMappings"] == [{"containerPort": 8080, "protocol": "tcp", "hostPort": 8080}]


def test_an_unset_variable_in_a_numeric_field_is_said_once() -> None:
    [finding] = overlay("containerDefinitions:\n  web:\n    memory: ${WEB_MEMORY}\n").findings
    assert finding.rule == "unset-variable"


def test_text_fields_and_task_size_are_unchanged() -> None:
    text = "cpu: ${CPU}\ncontainerDefinitions:\n  web:\n    environment: {PORT: '${PORT}'}\n"
    result = rendered(base_task(), text, environ={"CPU": "512", "PORT": "0100"})
    assert result.taskdef["cpu"] == "512"
    assert {"name": "PORT", "value": "0100"} in container(result, "web")["environment"]
