"""ECS's own rules: each one separately, with a case it accepts and one it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ecs_overlay.rules import RuleContext, check, looks_like_credential, task_size_units

from .helpers import base_task, rendered


def findings_of(taskdef: dict[str, Any], **settings: Any) -> list[tuple[str, str]]:
    return [(f.rule, f.path) for f in check(RuleContext(taskdef, **settings))]


def web(taskdef: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = taskdef["containerDefinitions"][0]
    return container


def test_the_valid_base_has_no_findings() -> None:
    assert findings_of(base_task()) == []


@pytest.mark.parametrize(
    ("cpu", "memory", "valid"),
    [
        ("256", "512", True),
        ("256", "2048", True),
        ("256", "3072", False),
        ("512", "4096", True),
        ("512", "5120", False),
        ("1024", "8192", True),
        ("2048", "16384", True),
        ("2048", "3072", False),
        ("4096", "30720", True),
        ("4096", "31744", False),
        ("8192", "20480", True),
        ("8192", "17408", False),
        ("16384", "122880", True),
        ("16384", "36864", False),
        ("1 vCPU", "2 GB", True),
        ("0.5 vCPU", "1GB", True),
        ("1 vCPU", "1 GB", False),
        ("300", "1024", False),
    ],
)
def test_fargate_cpu_memory_pairs(cpu: str, memory: str, valid: bool) -> None:
    found = findings_of(base_task(cpu=cpu, memory=memory))
    assert (found == []) is valid, found
    if not valid:
        assert found[0][0] == "fargate-task-size"


def test_fargate_needs_task_cpu_and_memory() -> None:
    task = base_task()
    del task["cpu"], task["memory"]
    assert findings_of(task) == [("fargate-task-size", "cpu"), ("fargate-task-size", "memory")]


def test_fargate_needs_awsvpc() -> None:
    assert findings_of(base_task(networkMode="bridge")) == [("fargate-network-mode", "networkMode")]


def test_task_size_units_normalise_ecs_forms() -> None:
    assert task_size_units("1 vCPU", "cpu") == 1024
    assert task_size_units("0.25 vcpu", "cpu") == 256
    assert task_size_units("2 GB", "memory") == 2048
    assert task_size_units("512", "memory") == 512
    assert task_size_units("2 GB", "cpu") is None
    assert task_size_units("lots", "memory") is None


def test_render_writes_normalised_task_sizes() -> None:
    result = rendered(base_task(), "cpu: 1 vCPU\nmemory: 2 GB\n")
    assert (result.taskdef["cpu"], result.taskdef["memory"]) == ("1024", "2048")
    assert result.ok, result.findings


def ec2_task(**fields: Any) -> dict[str, Any]:
    task = base_task(requiresCompatibilities=["EC2"], networkMode="bridge", **fields)
    del task["cpu"], task["memory"]
    return task


def test_ec2_without_task_memory_needs_container_memory() -> None:
    task = ec2_task()
    web(task)["memoryReservation"] = 128
    assert findings_of(task) == [("container-memory", "containerDefinitions[envoy]")]


def test_memory_must_be_at_least_memory_reservation() -> None:
    task = ec2_task()
    for container in task["containerDefinitions"]:
        container.update(memory=256, memoryReservation=300)
    assert ("container-memory", "containerDefinitions[web].memory") in findings_of(task)


def test_memory_equal_to_memory_reservation_is_accepted() -> None:
    """ECS: "'memory' must be greater than or equal to 'memoryReservation'" (equal is fine)."""
    task = ec2_task()
    for container in task["containerDefinitions"]:
        container.update(memory=256, memoryReservation=256)
    assert [finding for finding in findings_of(task) if finding[0] == "container-memory"] == []


def test_container_memory_fits_in_the_task() -> None:
    task = base_task()
    web(task)["memory"] = 1024
    assert findings_of(task) == [
        ("container-memory", "containerDefinitions[web].memory"),
        ("container-memory", "memory"),
    ]


def test_reservations_together_fit_in_the_task() -> None:
    task = base_task()
    for container in task["containerDefinitions"]:
        container["memoryReservation"] = 300
    assert findings_of(task) == [("container-memory", "memory")]


def test_container_names_are_unique() -> None:
    task = base_task()
    task["containerDefinitions"].append(copy.deepcopy(web(task)))
    assert ("container-names", "containerDefinitions") in findings_of(task)


def test_at_least_one_container_is_essential() -> None:
    task = base_task()
    for container in task["containerDefinitions"]:
        container["essential"] = False
    assert findings_of(task) == [("essential-container", "containerDefinitions")]
    del web(task)["essential"]  # omitted counts as essential
    assert findings_of(task) == []


def test_at_most_ten_containers() -> None:
    task = base_task()
    task["containerDefinitions"] += [{"name": f"c{i}", "image": "x", "essential": False} for i in range(9)]
    assert findings_of(task) == [("container-count", "containerDefinitions")]


def test_references_name_existing_containers_and_volumes() -> None:
    task = base_task(requiresCompatibilities=["EC2"], networkMode="bridge")  # links need bridge
    web(task)["dependsOn"] = [{"containerName": "ghost", "condition": "START"}]
    web(task)["volumesFrom"] = [{"sourceContainer": "phantom"}]
    web(task)["links"] = ["spectre:alias"]
    web(task)["mountPoints"] = [{"sourceVolume": "data", "containerPath": "/data"}]
    assert findings_of(task) == [
        ("container-reference", "containerDefinitions[web].dependsOn[ghost]"),
        ("container-reference", "containerDefinitions[web].volumesFrom"),
        ("container-reference", "containerDefinitions[web].links"),
        ("mount-volume", "containerDefinitions[web].mountPoints[/data]"),
    ]
    task["volumes"] = [{"name": "data"}]
    web(task)["dependsOn"] = [{"containerName": "envoy", "condition": "START"}]
    web(task)["volumesFrom"] = [{"sourceContainer": "envoy"}]
    web(task)["links"] = ["envoy"]
    assert findings_of(task) == []


def test_environment_and_secret_names() -> None:
    task = base_task()
    web(task)["environment"].append({"name": "LOG_LEVEL", "value": "debug"})
    web(task)["environment"].append({"name": "DB_PASSWORD", "value": ""})
    assert findings_of(task) == [
        ("environment-names", "containerDefinitions[web].environment[LOG_LEVEL]"),
        ("environment-names", "containerDefinitions[web].environment[DB_PASSWORD]"),
    ]


@pytest.mark.parametrize(
    ("source", "valid"),
    [
        ("arn:aws:ssm:eu-west-1:111111111111:parameter/shop/db", True),
        ("/shop/db", True),
        ("shop-db", True),
        ("arn:aws:secretsmanager:eu-west-1:111111111111:secret:shop/db-AbCdEf", True),
        ("arn:aws:secretsmanager:eu-west-1:111111111111:secret:shop/db-AbCdEf:password::", True),
        ("arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf:password:AWSCURRENT:", True),
        ("arn:aws:s3:::bucket/secret.txt", False),
        ("arn:aws:kms:eu-west-1:111111111111:key/abc", False),
        ("has spaces", False),
    ],
)
def test_secret_sources(source: str, valid: bool) -> None:
    task = base_task()
    web(task)["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": source}]
    assert (findings_of(task) == []) is valid


def test_awsvpc_host_port_equals_container_port() -> None:
    task = base_task()
    web(task)["portMappings"] = [{"containerPort": 8080, "hostPort": 80, "protocol": "tcp"}]
    assert findings_of(task) == [("awsvpc-host-port", "containerDefinitions[web].portMappings[8080/tcp].hostPort")]
    web(task)["portMappings"][0]["hostPort"] = 8080
    assert findings_of(task) == []


@pytest.mark.parametrize(("size", "valid"), [(20, False), (21, True), (200, True), (201, False)])
def test_ephemeral_storage_range(size: int, valid: bool) -> None:
    assert (findings_of(base_task(ephemeralStorage={"sizeInGiB": size})) == []) is valid


def test_at_most_fifty_tags_is_checked_by_the_schema() -> None:
    tags = "".join(f"  t{i}: v\n" for i in range(51))
    result = rendered(base_task(), "tags:\n" + tags)
    [finding] = result.findings
    assert (finding.path, finding.message, finding.line) == ("tags", "has 51 items; ECS allows at most 50", 2)
    assert rendered(base_task(), "tags:\n" + "".join(f"  t{i}: v\n" for i in range(50))).ok


def test_awslogs_needs_group_region_and_on_fargate_a_stream_prefix() -> None:
    task = base_task()
    del web(task)["logConfiguration"]["options"]["awslogs-stream-prefix"]
    assert findings_of(task) == [("awslogs-options", "containerDefinitions[web].logConfiguration.options")]
    ec2 = ec2_task()
    for container in ec2["containerDefinitions"]:
        container["memory"] = 128
    del web(ec2)["logConfiguration"]["options"]["awslogs-stream-prefix"]
    assert findings_of(ec2) == []
    del web(ec2)["logConfiguration"]["options"]["awslogs-region"]
    assert findings_of(ec2) == [("awslogs-options", "containerDefinitions[web].logConfiguration.options")]


def test_definition_size_limit_is_configurable() -> None:
    task = base_task()
    web(task)["environment"].append({"name": "BLOB", "value": "x" * 70_000})
    assert findings_of(task) == [("definition-size", "")]
    assert findings_of(task, max_size=100_000) == []


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "STRIPE_SECRET",
        "GITHUB_TOKEN",
        "API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "SSH_PRIVATE_KEY",
        "GOOGLE_CREDENTIALS",
    ],
)
def test_credential_like_names(name: str) -> None:
    assert looks_like_credential(name)


def test_plaintext_secret_from_an_overlay_is_an_error_at_its_line() -> None:
    result = rendered(base_task(), "containerDefinitions:\n  web:\n    environment:\n      API_TOKEN: hunter2\n")
    [finding] = result.findings
    assert (finding.rule, finding.severity, finding.line) == ("plaintext-secret", "error", 4)
    assert "secrets" in finding.message and "hunter2" not in finding.message


def test_plaintext_secret_inherited_from_the_base_is_a_warning() -> None:
    task = base_task()
    web(task)["environment"].append({"name": "API_TOKEN", "value": "hunter2"})
    result = rendered(task, "")
    assert result.ok
    assert [(f.rule, f.severity) for f in result.findings] == [("plaintext-secret", "warning")]


def test_plaintext_secret_opt_out_per_name() -> None:
    result = rendered(
        base_task(),
        "allowPlaintext: [TOKEN_HEADER]\ncontainerDefinitions: {web: {environment: {TOKEN_HEADER: X-Auth}}}\n",
    )
    assert result.findings == []


def _layer_findings(text: str) -> list[tuple[str, str, str, str]]:
    """(rule, path, severity, message) of what one layer proves wrong on its own (validate without a base)."""
    from ecs_overlay import parse_overlay
    from ecs_overlay.render import check_layers

    return [(f.rule, f.path, f.severity, f.message) for f in check_layers([parse_overlay(text, "prod.yaml", {})])]


def test_layers_alone_prove_port_rules_of_the_network_mode_they_set() -> None:
    found = _layer_findings(
        "networkMode: host\ncontainerDefinitions:\n  web:\n    portMappings: {80: {hostPort: 8080}}\n"
        "    links: [worker]\n"
    )
    assert [(rule, path, severity) for rule, path, severity, _ in found] == [
        ("host-network-host-port", "containerDefinitions[web].portMappings[80/tcp].hostPort", "error"),
        ("links-network-mode", "containerDefinitions[web].links", "error"),
    ]
    # Without the network mode the base decides: nothing to report from the same ports and links.
    assert _layer_findings("containerDefinitions:\n  web:\n    portMappings: {80: {hostPort: 8080}}\n") == []


def test_layers_alone_never_report_what_the_base_may_supply() -> None:
    # No driver, no cpu, no name of the dependency target, no essential flag: all may come from the base.
    layer = (
        "containerDefinitions:\n  web:\n    cpu: 4096\n    dependsOn: {envoy: SUCCESS}\n"
        "    logConfiguration: {options: {max-buffer-size: 25m}}\n"
    )
    assert _layer_findings(layer) == []


def test_a_mistyped_awslogs_option_is_an_error_on_ec2_and_a_warning_where_docker_may_not_run_it() -> None:
    task = base_task(requiresCompatibilities=["EC2"], networkMode="bridge")
    web(task)["memory"] = 256
    web(task)["logConfiguration"]["options"]["awslogs-multiline-patern"] = "^INFO"
    found = check(RuleContext(task))
    assert [(f.rule, f.path, f.severity) for f in found] == [
        (
            "awslogs-unknown-option",
            "containerDefinitions[web].logConfiguration.options.awslogs-multiline-patern",
            "error",
        )
    ]
    assert 'did you mean "awslogs-multiline-pattern"?' in found[0].message
    task["requiresCompatibilities"] = ["FARGATE"]
    task["networkMode"] = "awsvpc"
    assert [f.severity for f in check(RuleContext(task))] == ["warning"]


def test_a_reference_to_a_missing_container_suggests_the_one_meant() -> None:
    task = base_task()
    web(task)["dependsOn"] = [{"containerName": "envoi", "condition": "START"}]
    (finding,) = check(RuleContext(task))
    assert 'did you mean "envoy"?' in finding.message
    web(task)["dependsOn"] = [{"containerName": "database", "condition": "START"}]
    (finding,) = check(RuleContext(task))
    assert "the containers are envoy, web" in finding.message


def test_a_dependency_cycle_is_reported_once_per_container_on_the_edge_that_closes_it() -> None:
    task = base_task()
    task["containerDefinitions"][1]["dependsOn"] = [{"containerName": "web", "condition": "START"}]
    assert [(f.rule, f.path, f.severity) for f in check(RuleContext(task))] == [
        ("container-cycle", "containerDefinitions[web].dependsOn[envoy]", "warning"),
        ("container-cycle", "containerDefinitions[envoy].dependsOn[web]", "warning"),
    ]
