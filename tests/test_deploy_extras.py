"""deploy's everyday options (--force-new-deployment, --desired-count, --revision, `service:`'s tag
settings), one-off tasks before the update (--run-task-first), and the cross-environment refusal of
register and deploy; against moto's server behind the fault proxy.

moto answers RunTask for this task definition with an HTTP 500 (it sums container-level memory, which
the example's containers leave to the task) and never stops a task, so the proxy answers RunTask and
DescribeTasks as ECS does; everything else is moto's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import FaultProxy, moto_client
from .test_deploy import NEW, OLD, TASK_DEFINITIONS, deploy, described, running
from .test_e2e_aws import APP_REPO, example_taskdef

MIGRATION_TASK = "arn:aws:ecs:eu-west-1:123456789012:task/shop/0123456789abcdef0"


def tagged(environment: str, family: str) -> dict[str, Any]:
    """The example task definition in ``family``, tagged as rendered for ``environment``."""
    return {**example_taskdef(), "family": family, "tags": [{"key": "ecs-overlay:environment", "value": environment}]}


@pytest.fixture
def fargate_service(ecs: Any, moto_endpoint: str, aws_env: dict[str, str]) -> dict[str, Any]:
    """Service shop/checkout on checkout-api-prod:1 (tagged prod), Fargate in a subnet of moto's VPC."""
    ec2 = moto_client("ec2", moto_endpoint, aws_env["AWS_REGION"])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="checkout", Description="checkout", VpcId=vpc)["GroupId"]
    arn = ecs.register_task_definition(**tagged("prod", "checkout-api-prod"))["taskDefinition"]["taskDefinitionArn"]
    assert arn == OLD
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(
        cluster="shop", serviceName="checkout", taskDefinition=arn, desiredCount=2, launchType="FARGATE",
        platformVersion="1.4.0", networkConfiguration=network,
    )  # fmt: skip
    return network


def stopped(exit_code: int | None, reason: str = "Essential container in task exited") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    task = {"taskArn": MIGRATION_TASK, "lastStatus": "STOPPED", "stoppedReason": reason, "containers": [container]}
    return {"tasks": [task], "failures": []}


def started() -> dict[str, Any]:
    return {"tasks": [{"taskArn": MIGRATION_TASK, "lastStatus": "PROVISIONING"}], "failures": []}


def test_run_task_first_runs_the_command_on_the_new_revision_in_the_services_network_then_deploys(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    fault_proxy.answer("RunTask", 200, started())
    fault_proxy.answer("DescribeTasks", 200, {"tasks": [{"taskArn": MIGRATION_TASK, "lastStatus": "RUNNING"}]})
    fault_proxy.answer("DescribeTasks", 200, stopped(0))
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    result = deploy(
        invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=python manage.py migrate --noinput"
    )
    assert result.returncode == 0, result.stderr
    [run] = fault_proxy.sent("RunTask")
    assert run["taskDefinition"] == NEW and run["cluster"] == "shop"
    assert run["overrides"] == {
        "containerOverrides": [{"name": "web", "command": ["python", "manage.py", "migrate", "--noinput"]}]
    }
    assert run["networkConfiguration"] == fargate_service
    assert (run["launchType"], run["platformVersion"]) == ("FARGATE", "1.4.0")
    lines = result.stderr.splitlines()
    started_line = f"one-off task web: python manage.py migrate --noinput started: {MIGRATION_TASK}"
    assert lines.index(started_line) < lines.index("one-off task web: python manage.py migrate --noinput exited 0")
    assert lines.index("one-off task web: python manage.py migrate --noinput exited 0") < lines.index(
        f"updated service shop/checkout: {OLD} -> {NEW}"
    )
    assert running(ecs) == NEW


def test_a_one_off_task_that_exits_non_zero_stops_the_deploy_before_the_service_changes(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    fault_proxy.answer("RunTask", 200, started())
    fault_proxy.answer("DescribeTasks", 200, stopped(3))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=./migrate")
    assert result.returncode == 5
    assert (
        "Error: one-off task web: ./migrate failed: exit code 3, stoppedReason: Essential container in task exited "
        f"({MIGRATION_TASK}); the service was not changed (the new revision {NEW} stays registered, unused)"
    ) in result.stderr
    assert "UpdateService" not in fault_proxy.operations and running(ecs) == OLD


def test_a_one_off_task_that_does_not_start_stops_the_deploy(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    failure = {"arn": "arn:aws:ecs:eu-west-1:123456789012:container-instance/x", "reason": "RESOURCE:MEMORY"}
    fault_proxy.answer("RunTask", 200, {"tasks": [], "failures": [failure]})
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=./migrate")
    assert result.returncode == 5
    assert "one-off task web: ./migrate did not start: " in result.stderr and "RESOURCE:MEMORY" in result.stderr
    assert "UpdateService" not in fault_proxy.operations and running(ecs) == OLD


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("migrate", "expected CONTAINER=COMMAND"),
        ("web=", "expected CONTAINER=COMMAND"),
        ("web='unclosed", "cannot be split into words"),
        ("api=./migrate", "names container 'api', which the task definition does not have"),
    ],
)
def test_run_task_first_is_checked_before_anything_is_registered(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy, value: str, message: str,
) -> None:  # fmt: skip
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--run-task-first", value)
    assert result.returncode == 2
    assert message in result.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations


def test_desired_count_force_new_deployment_and_the_tag_settings_reach_update_service(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write("service:\n  propagateTags: SERVICE\n  enableECSManagedTags: true\n")
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--desired-count", "4", "--force-new-deployment")
    assert result.returncode == 0, result.stderr
    [update] = fault_proxy.sent("UpdateService")
    assert update["taskDefinition"] == NEW
    assert (update["desiredCount"], update["forceNewDeployment"]) == (4, True)
    assert (update["propagateTags"], update["enableECSManagedTags"]) == ("SERVICE", True)


def test_a_misspelt_tag_setting_is_a_finding_at_its_line_before_anything_is_registered(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    overlay = project / "environments" / "prod.yaml"
    lines = len(overlay.read_text().splitlines())
    with overlay.open("a") as stream:
        stream.write("service:\n  propagateTags: TASK\n")
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 1
    assert f"environments/prod.yaml:{lines + 2}:" in result.stderr and "propagateTags" in result.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations


def test_revision_deploys_a_registered_revision_without_rendering_or_registering(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    assert ecs.register_task_definition(**tagged("prod", "checkout-api-prod"))["taskDefinition"]["revision"] == 2
    ecs.update_service(cluster="shop", service="checkout", taskDefinition=NEW)
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", OLD))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--revision", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == OLD + "\n"
    assert f"deploying the registered revision {OLD}" in result.stderr.splitlines()
    assert "RegisterTaskDefinition" not in fault_proxy.operations and "kept images" not in result.stderr
    assert [update["taskDefinition"] for update in fault_proxy.sent("UpdateService")] == [OLD]
    assert running(ecs) == OLD
    del fault_proxy.answers["DescribeServices"]  # the first run's answers
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    latest = deploy(invoke, project, fault_proxy.env(aws_env), "--revision", "latest")
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout == NEW + "\n" and running(ecs) == NEW


def test_revision_of_another_family_is_refused(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    ecs.register_task_definition(**tagged("stage", "checkout-api-stage"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--revision", "checkout-api-stage:1")
    assert result.returncode == 2
    assert (
        f"--revision checkout-api-stage:1 is {TASK_DEFINITIONS}/checkout-api-stage:1, of family checkout-api-stage; "
        "the environment registers into family checkout-api-prod"
    ) in result.stderr
    assert "UpdateService" not in fault_proxy.operations and running(ecs) == OLD


def test_register_into_a_family_another_environment_owns_is_refused_unless_allowed(
    invoke: Any, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.register_task_definition(**tagged("prod", "checkout-api-stage"))  # prod's revision in stage's family
    ecs.register_task_definition(**tagged("stage", "checkout-api-stage-base"))  # stage's base, its own
    args = ("register", "--env", "stage", "--family", "checkout-api-stage-base", "--image", f"{APP_REPO}:new")
    refused = invoke(*args, cwd=project, env=aws_env)
    assert refused.returncode == 1
    latest = f"{TASK_DEFINITIONS}/checkout-api-stage:1"
    assert (
        f"Error: registering environment 'stage' into family checkout-api-stage, but its latest revision {latest} is "
        "tagged ecs-overlay:environment=prod: refusing a cross-environment write."
    ) in refused.stderr
    assert "--allow-environment-change" in refused.stderr and "Nothing was registered or changed" in refused.stderr
    assert len(ecs.list_task_definitions(familyPrefix="checkout-api-stage")["taskDefinitionArns"]) == 1
    allowed = invoke(*args, "--allow-environment-change", cwd=project, env=aws_env)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == f"{TASK_DEFINITIONS}/checkout-api-stage:2\n"
    assert (
        f"WARNING: --allow-environment-change: registering environment 'stage' into family checkout-api-stage, but "
        f"its latest revision {latest} is tagged ecs-overlay:environment=prod; going ahead as asked"
    ) in allowed.stderr


def test_deploying_stage_onto_a_service_running_a_prod_revision_is_refused_before_any_write(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    ecs.register_task_definition(**tagged("stage", "checkout-api-stage"))
    args = ("deploy", "--env", "stage", "--cluster", "shop", "--service", "checkout", "--image", f"{APP_REPO}:new")
    result = invoke(*args, "--poll-interval", "0", cwd=project, env=fault_proxy.env(aws_env))
    assert result.returncode == 1
    assert (
        f"Error: deploying environment 'stage' to service shop/checkout, but the revision it runs, {OLD}, is tagged "
        "ecs-overlay:environment=prod: refusing a cross-environment write. Check --cluster/--service (and --env)"
    ) in result.stderr
    assert not {"RegisterTaskDefinition", "UpdateService"} & set(fault_proxy.operations)
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", f"{TASK_DEFINITIONS}/checkout-api-stage:2"))
    allowed = invoke(
        *args, "--poll-interval", "0", "--allow-environment-change", cwd=project, env=fault_proxy.env(aws_env)
    )
    assert allowed.returncode == 0, allowed.stderr
    assert (
        "WARNING: --allow-environment-change: deploying environment 'stage' to service shop/checkout" in allowed.stderr
    )
    assert running(ecs) == f"{TASK_DEFINITIONS}/checkout-api-stage:2"


def test_the_tasks_section_runs_before_run_task_first_and_an_overlay_can_remove_a_task(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    with (project / "environments" / "_common.yaml").open("a") as common:
        common.write("tasks:\n  warm-cache:\n    container: web\n    command: [./warm, --all]\n")
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write("tasks:\n  migrate:\n    container: web\n    command: python manage.py migrate\n")
    fault_proxy.answer("RunTask", 200, started())
    fault_proxy.answer("DescribeTasks", 200, stopped(0))
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=./check")
    assert result.returncode == 0, result.stderr
    commands = [run["overrides"]["containerOverrides"][0]["command"] for run in fault_proxy.sent("RunTask")]
    assert commands == [["./warm", "--all"], ["python", "manage.py", "migrate"], ["./check"]]
    assert "one-off task migrate web: python manage.py migrate exited 0" in result.stderr.splitlines()
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write("  warm-cache: null\n")
    fault_proxy.requests.clear()
    del fault_proxy.answers["DescribeServices"]
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", f"{TASK_DEFINITIONS}/checkout-api-prod:3"))
    again = deploy(invoke, project, fault_proxy.env(aws_env))
    assert again.returncode == 0, again.stderr
    commands = [run["overrides"]["containerOverrides"][0]["command"] for run in fault_proxy.sent("RunTask")]
    assert commands == [["python", "manage.py", "migrate"]]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("tasks:\n  migrate:\n    command: ./migrate\n", "container"),
        ("tasks:\n  migrate:\n    container: web\n    command: []\n", "command"),
        ("tasks:\n  migrate:\n    container: web\n    comand: ./migrate\n", "comand"),
    ],
)
def test_a_malformed_tasks_section_is_a_finding_from_validate(
    project: Path, invoke: Any, section: str, message: str
) -> None:
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write(section)
    result = invoke("validate", "--env", "prod", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "environments/prod.yaml:" in result.stdout + result.stderr and message in result.stdout + result.stderr


def test_a_task_naming_a_container_the_revision_lacks_stops_deploy_before_registering(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write("tasks:\n  migrate:\n    container: api\n    command: ./migrate\n")
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 2
    assert "tasks.migrate names container 'api', which the task definition does not have" in result.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations


def test_a_one_off_tasks_credentials_are_masked_in_every_line(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    fault_proxy.answer("RunTask", 200, started())
    fault_proxy.answer("DescribeTasks", 200, stopped(2, "connect postgres://app:hunter2@db/app refused"))
    result = deploy(
        invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=migrate postgres://app:hunter2@db/app"
    )
    assert result.returncode == 5
    assert "hunter2" not in result.stdout + result.stderr
    assert "one-off task web: migrate postgres://app:****@db/app started" in result.stderr
    assert fault_proxy.sent("RunTask")[0]["overrides"]["containerOverrides"][0]["command"][1].endswith("hunter2@db/app")


def test_revision_rendered_for_another_environment_is_refused(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    ecs.register_task_definition(**tagged("stage", "checkout-api-prod"))  # stage's render in prod's family
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--revision", "2")
    assert result.returncode == 1
    assert f"deploying revision {NEW} as environment 'prod', but it is tagged ecs-overlay:environment=stage" in (
        result.stderr
    )
    assert "UpdateService" not in fault_proxy.operations and running(ecs) == OLD


def test_register_says_when_it_cannot_check_whose_family_it_is(invoke: Any, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(400, {"__type": "AccessDeniedException", "message": "no"}, target="DescribeTaskDefinition")
    registered = {"taskDefinition": {"taskDefinitionArn": NEW}}
    fake_ecs.respond(200, registered, target="RegisterTaskDefinition")
    result = invoke("register", "--env", "prod", "--base", "base.json", cwd=project, env=fake_ecs.env())
    assert result.returncode == 0, result.stderr
    assert (
        "WARNING: could not check which environment family checkout-api-prod belongs to (ecs:DescribeTaskDefinition); "
        "registering without that check"
    ) in result.stderr
    assert fake_ecs.operations() == ["DescribeTaskDefinition", "RegisterTaskDefinition"]


def test_dry_run_names_the_one_off_tasks_and_runs_none(
    invoke: Any, project: Path, ecs: Any, fargate_service: dict[str, Any], aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--run-task-first", "web=./migrate", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would be registered as a new revision, one-off tasks run on it first (web: ./migrate), and service" in (
        result.stderr
    )
    assert not {"RegisterTaskDefinition", "RunTask", "UpdateService"} & set(fault_proxy.operations)


def test_a_one_off_task_runs_with_the_services_capacity_provider_strategy() -> None:
    from ecs_overlay.onetask import OneOffTask, run_request

    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    service = {"capacityProviderStrategy": strategy, "launchType": "", "networkConfiguration": {"x": 1}}
    request = run_request(service, "shop", NEW, OneOffTask("web", ["./migrate"]))
    assert request["capacityProviderStrategy"] == strategy and "launchType" not in request
    assert request["networkConfiguration"] == {"x": 1} and "platformVersion" not in request
