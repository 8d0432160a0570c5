"""Every merge rule of the overlay language, through the pure render()."""

from __future__ import annotations

import copy

import pytest

from ecs_overlay import render, schemas
from ecs_overlay.render import RenderOptions

from .helpers import base_task, container, env_of, overlay, rendered


def test_empty_overlay_returns_the_base_unchanged() -> None:
    base = base_task()
    result = rendered(base, "")
    assert result.ok, result.findings
    assert result.taskdef == base


def test_mappings_merge_recursively_and_keep_sibling_keys() -> None:
    result = rendered(
        base_task(),
        """
        containerDefinitions:
          web:
            logConfiguration:
              options:
                awslogs-group: /shop-prod
    """,
    )
    options = container(result, "web")["logConfiguration"]["options"]
    assert options == {"awslogs-group": "/shop-prod", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web"}


def test_scalar_replaces_and_null_deletes() -> None:
    result = rendered(
        base_task(),
        """
        networkMode: awsvpc
        memory: 1024
        containerDefinitions:
          web:
            logConfiguration: null
    """,
    )
    assert result.taskdef["memory"] == "1024"
    assert "logConfiguration" not in container(result, "web")


@pytest.mark.parametrize(
    "text",
    [
        "containerDefinitions: {web: {environment: {LOG_LEVEL: warn, NEW: x}}}",
        "containerDefinitions: [{name: web, environment: [{name: LOG_LEVEL, value: warn}, {name: NEW, value: x}]}]",
    ],
)
def test_environment_merges_by_name_in_list_and_mapping_form(text: str) -> None:
    result = rendered(base_task(), text)
    assert container(result, "web")["environment"] == [
        {"name": "LOG_LEVEL", "value": "warn"},
        {"name": "PORT", "value": "8080"},
        {"name": "NEW", "value": "x"},
    ]


def test_null_item_removes_it_from_a_keyed_list() -> None:
    result = rendered(
        base_task(),
        """
        containerDefinitions:
          envoy: null
          web:
            environment: {PORT: null}
            dependsOn: {envoy: null}
    """,
    )
    assert [c["name"] for c in result.taskdef["containerDefinitions"]] == ["web"]
    assert env_of(result) == {"LOG_LEVEL": "info"}
    assert container(result, "web")["dependsOn"] == []


@pytest.mark.parametrize(
    ("field", "base_items", "overlay_value", "expected"),
    [
        (
            "secrets",
            [{"name": "A", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/a"}],
            "{A: /b, C: /c}",
            [{"name": "A", "valueFrom": "/b"}, {"name": "C", "valueFrom": "/c"}],
        ),
        (
            "portMappings",
            [{"containerPort": 80, "protocol": "tcp", "hostPort": 80}, {"containerPort": 53, "protocol": "udp"}],
            "{80: {hostPort: 8080}, 53/udp: null, 9090: {}}",
            [{"containerPort": 80, "protocol": "tcp", "hostPort": 8080}, {"containerPort": 9090, "protocol": "tcp"}],
        ),
        (
            "mountPoints",
            [{"containerPath": "/data", "sourceVolume": "a", "readOnly": False}],
            "{/data: {readOnly: true}, /tmp: {sourceVolume: t}}",
            [
                {"containerPath": "/data", "sourceVolume": "a", "readOnly": True},
                {"containerPath": "/tmp", "sourceVolume": "t"},
            ],
        ),
        (
            "dependsOn",
            [{"containerName": "envoy", "condition": "START"}],
            "{envoy: HEALTHY}",
            [{"containerName": "envoy", "condition": "HEALTHY"}],
        ),
        (
            "extraHosts",
            [{"hostname": "db", "ipAddress": "10.0.0.1"}],
            "{db: 10.0.0.2, cache: 10.0.0.3}",
            [{"hostname": "db", "ipAddress": "10.0.0.2"}, {"hostname": "cache", "ipAddress": "10.0.0.3"}],
        ),
        (
            "systemControls",
            [{"namespace": "net.core.somaxconn", "value": "128"}],
            "{net.core.somaxconn: 1024}",
            [{"namespace": "net.core.somaxconn", "value": "1024"}],
        ),
        ("resourceRequirements", [{"type": "GPU", "value": "1"}], "{GPU: 2}", [{"type": "GPU", "value": "2"}]),
        (
            "ulimits",
            [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
            "{nofile: {softLimit: 65536, hardLimit: 65536}}",
            [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        ),
    ],
)
def test_container_keyed_lists_merge_by_their_key(
    field: str, base_items: list[dict[str, object]], overlay_value: str, expected: list[dict[str, object]]
) -> None:
    # bridge mode on EC2, with the volumes declared: ECS's rules have nothing to say about these lists
    base = base_task(networkMode="bridge", requiresCompatibilities=["EC2"], volumes=[{"name": "a"}, {"name": "t"}])
    base["containerDefinitions"][0][field] = base_items
    result = rendered(base, f"containerDefinitions: {{web: {{{field}: {overlay_value}}}}}")
    assert result.ok, result.findings
    assert container(result, "web")[field] == expected


def test_port_mappings_are_keyed_by_port_and_protocol() -> None:
    base = base_task()
    base["containerDefinitions"][0]["portMappings"] = [
        {"containerPort": 53, "protocol": "tcp"},
        {"containerPort": 53, "protocol": "udp"},
    ]
    result = rendered(base, "containerDefinitions: {web: {portMappings: {53/udp: {hostPort: 53}}}}")
    assert container(result, "web")["portMappings"] == [
        {"containerPort": 53, "protocol": "tcp"},
        {"containerPort": 53, "protocol": "udp", "hostPort": 53},
    ]


def test_task_level_keyed_lists_volumes_and_tags() -> None:
    base = base_task(
        volumes=[{"name": "data", "host": {"sourcePath": "/data"}}],
        tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "x"}],
    )
    result = rendered(
        base,
        """
        volumes:
          data: {host: {sourcePath: /srv}}
          cache: {}
        tags: {env: prod, cost-center: "0042"}
    """,
    )
    assert result.taskdef["volumes"] == [{"name": "data", "host": {"sourcePath": "/srv"}}, {"name": "cache"}]
    assert result.taskdef["tags"] == [
        {"key": "team", "value": "a"},
        {"key": "env", "value": "prod"},
        {"key": "cost-center", "value": "0042"},
    ]


def test_base_order_is_kept_and_new_items_are_appended() -> None:
    result = rendered(
        base_task(),
        """
        containerDefinitions:
          datadog: {image: public.ecr.aws/datadog/agent:7, essential: false}
          web: {environment: {A: "1"}}
    """,
    )
    assert [c["name"] for c in result.taskdef["containerDefinitions"]] == ["web", "envoy", "datadog"]
    assert list(env_of(result)) == ["LOG_LEVEL", "PORT", "A"]
    assert list(container(result, "datadog")) == ["name", "image", "essential"]


@pytest.mark.parametrize("field", ["command", "entryPoint", "dnsServers"])
def test_plain_container_lists_are_replaced_whole(field: str) -> None:
    base = base_task()
    base["containerDefinitions"][0][field] = ["a", "b", "c"]
    result = rendered(base, f"containerDefinitions: {{web: {{{field}: [z]}}}}")
    assert container(result, "web")[field] == ["z"]


def test_requires_compatibilities_is_replaced_whole() -> None:
    result = rendered(base_task(), "requiresCompatibilities: [EC2]")
    assert result.taskdef["requiresCompatibilities"] == ["EC2"]


def test_a_new_container_must_be_complete() -> None:
    result = rendered(base_task(), "containerDefinitions: {xray: {essential: false}}")
    assert not result.ok
    finding = next(f for f in result.findings if f.rule == "container-incomplete")
    assert finding.path == "containerDefinitions[xray]"
    assert (finding.file, finding.line) == ("layer0.yaml", 1)


def test_nulls_inside_a_new_item_delete_nothing() -> None:
    result = rendered(base_task(), "containerDefinitions: {xray: {image: x, user: null}}")
    assert container(result, "xray") == {"name": "xray", "image": "x"}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("8080", "8080"),
        ("yes", "yes"),
        ("on", "on"),
        ("0100", "0100"),
        ("1.10", "1.10"),
        ("true", "true"),
        ("0x1F", "0x1F"),
        ("1e3", "1e3"),
        ('"quoted"', "quoted"),
        ("2024-01-01", "2024-01-01"),
        ("''", ""),
    ],
)
def test_environment_values_are_the_text_as_written(written: str, expected: str) -> None:
    result = rendered(base_task(), f"containerDefinitions: {{web: {{environment: {{X: {written}}}}}}}")
    assert result.ok, result.findings
    assert env_of(result)["X"] == expected


def test_environment_values_in_list_form_are_kept_as_written_too() -> None:
    result = rendered(base_task(), "containerDefinitions: [{name: web, environment: [{name: MODE, value: 0100}]}]")
    assert env_of(result)["MODE"] == "0100"


@pytest.mark.parametrize("null", ["null", "~", ""])
def test_yaml_null_in_environment_deletes_the_variable(null: str) -> None:
    result = rendered(base_task(), f"containerDefinitions: {{web: {{environment: {{PORT: {null}}}}}}}")
    assert "PORT" not in env_of(result)


def test_task_cpu_and_memory_numbers_become_strings() -> None:
    result = rendered(base_task(), "cpu: 1024\nmemory: 2048")
    assert (result.taskdef["cpu"], result.taskdef["memory"]) == ("1024", "2048")


def test_container_integers_stay_integers() -> None:
    result = rendered(base_task(), "containerDefinitions: {web: {memory: 256, cpu: 128}}")
    assert (container(result, "web")["memory"], container(result, "web")["cpu"]) == (256, 128)


def test_layers_apply_in_order() -> None:
    result = rendered(
        base_task(),
        "containerDefinitions: {web: {environment: {LOG_LEVEL: a, SHARED: s}}}",
        "containerDefinitions: {web: {environment: {LOG_LEVEL: b}}}",
    )
    assert env_of(result) == {"LOG_LEVEL": "b", "PORT": "8080", "SHARED": "s"}


def test_render_never_mutates_overlays() -> None:
    layer = overlay("containerDefinitions: {web: {environment: {A: x}}, new: {image: i}}")
    before = copy.deepcopy(layer.data)
    first = render(base_task(), [layer])
    first.taskdef["containerDefinitions"][2]["image"] = "changed"
    render(base_task(), [layer])
    assert layer.data == before


def test_base_lists_with_repeated_keys_survive_when_untouched() -> None:
    base = base_task()
    base["containerDefinitions"][0]["environment"] = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    result = rendered(base, "containerDefinitions: {web: {user: app}}")
    assert container(result, "web")["environment"] == [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]


def test_merging_into_a_base_list_with_repeated_keys_is_an_error() -> None:
    from ecs_overlay.errors import InvalidInputError

    base = base_task()
    base["containerDefinitions"][0]["environment"] = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    with pytest.raises(InvalidInputError, match=r"containerDefinitions\[web\]\.environment"):
        rendered(base, "containerDefinitions: {web: {environment: {A: x}}}")


def test_a_field_the_api_returned_but_botocore_does_not_model_is_carried_through_with_a_warning() -> None:
    base = base_task(futureField={"enabled": True})
    layers = [overlay("cpu: 512\nmemory: 1024")]
    result = render(base, layers, options=RenderOptions(base_from_api=True))
    assert result.ok
    assert result.taskdef["futureField"] == {"enabled": True}
    assert [(f.rule, f.severity, f.path) for f in result.findings] == [("unknown-base-field", "warning", "futureField")]
    assert "passed through unchanged" in result.findings[0].message


def test_a_field_botocore_does_not_model_in_a_file_base_is_an_error_naming_what_was_meant() -> None:
    base = base_task()
    base["containerDefinitions"][0]["environment"].append({"name": "DB_HOST", "valueFrom": "arn:aws:ssm:x"})
    result = rendered(base, "")
    assert not result.ok
    [finding] = result.findings
    assert (finding.rule, finding.severity) == ("unknown-field", "error")
    assert finding.path == "containerDefinitions[web].environment[DB_HOST].valueFrom"
    assert "did you mean 'value'?" in finding.message
    assert "RegisterTaskDefinition would refuse it" in finding.message
    shipped, installed = schemas.botocore_versions()
    assert f"botocore {shipped}" in finding.message and f"{installed}" in finding.message
    assert "newer botocore" not in finding.message
