"""deploy: render, register, update the service, wait; against moto's server on 127.0.0.1.

moto keeps every deployment IN_PROGRESS after UpdateService (and does not even start a deployment of
the new revision), so a proxy in front of it answers DescribeServices with the rollouts ECS reports
(IN_PROGRESS, COMPLETED, FAILED) while registering and updating go to moto itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_overlay.deploy import rollout

from .conftest import FaultProxy
from .test_e2e_aws import APP_REPO, example_taskdef

TASK_DEFINITIONS = "arn:aws:ecs:eu-west-1:123456789012:task-definition"
# prod's `base:` names its own family, checkout-api-prod: the service runs its first revision.
OLD, NEW = f"{TASK_DEFINITIONS}/checkout-api-prod:1", f"{TASK_DEFINITIONS}/checkout-api-prod:2"


@pytest.fixture
def service(ecs: Any) -> str:
    """Service shop/checkout on revision 1 of the example task definition (as prod's family), rolling."""
    taskdef = {**example_taskdef(), "family": "checkout-api-prod"}
    arn: str = ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    assert arn == OLD
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(
        cluster="shop",
        serviceName="checkout",
        taskDefinition=arn,
        desiredCount=2,
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100},
    )
    return arn


def described(state: str | None, task_definition: str = NEW, events: tuple[str, ...] = (), **extra: Any) -> Any:
    deployment = {
        "id": "ecs-svc/2",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": 2,
        "pendingCount": 0 if state == "COMPLETED" else 1,
        "runningCount": 2 if state == "COMPLETED" else 1,
        **({"rolloutState": state} if state else {}),
        **extra,
    }
    return {
        "services": [
            {
                "serviceName": "checkout",
                "status": "ACTIVE",
                "taskDefinition": task_definition,
                "deploymentController": {"type": "ECS"},
                "deployments": [deployment],
                "events": [{"id": f"e{i}", "message": message} for i, message in reversed(list(enumerate(events)))],
            }
        ],
        "failures": [],
    }


def deploy(invoke: Any, project: Path, env: dict[str, str], *args: str) -> Any:
    return invoke(
        "deploy", "--env", "prod", "--cluster", "shop", "--service", "checkout", "--image", f"{APP_REPO}:new",
        "--poll-interval", "0", *args, cwd=project, env=env,
    )  # fmt: skip


def running(ecs: Any) -> str:
    arn: str = ecs.describe_services(cluster="shop", services=["checkout"])["services"][0]["taskDefinition"]
    return arn


def test_a_rolling_deployment_is_followed_to_completion(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")  # the service as it runs: moto's answer
    fault_proxy.answer("DescribeServices", 200, described("IN_PROGRESS", events=("has started 1 tasks",)))
    fault_proxy.answer(
        "DescribeServices", 200, described("COMPLETED", events=("has started 1 tasks", "reached a steady state"))
    )
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    assert result.stdout == NEW + "\n"
    assert running(ecs) == NEW
    lines = result.stderr.splitlines()
    assert f"registered {NEW}" in lines
    assert f"updated service shop/checkout: {OLD} -> {NEW}" in lines
    assert "status: PRIMARY IN_PROGRESS, 1/2 running, 1 pending" in lines  # plain lines without a terminal
    assert lines.count("event: has started 1 tasks") == 1 and "event: reached a steady state" in lines
    assert lines[-1] == "deployment completed: PRIMARY COMPLETED, 2/2 running, 0 pending"
    registered = ecs.describe_task_definition(taskDefinition=NEW)["taskDefinition"]
    assert registered["containerDefinitions"][0]["image"] == f"{APP_REPO}:new"
    assert fault_proxy.operations.count("RegisterTaskDefinition") == 1


def test_a_failed_deployment_exits_5_and_is_rolled_back(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    reason = "ECS deployment circuit breaker: tasks failed to start."
    fault_proxy.answer("DescribeServices", 200, described("FAILED", rolloutStateReason=reason))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")
    assert result.returncode == 5
    assert f"Error: the deployment failed: PRIMARY FAILED, 1/2 running, 1 pending ({reason}); rolled back to {OLD}" in (
        result.stderr
    )
    assert running(ecs) == OLD
    assert [body["taskDefinition"] for body in fault_proxy.sent("UpdateService")] == [NEW, OLD]


def test_a_failed_deployment_without_rollback_says_how_to_roll_back(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("FAILED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 5
    assert f"--task-definition {OLD}`, or run deploy with --rollback" in result.stderr
    assert running(ecs) == NEW


def test_a_deployment_that_does_not_complete_in_time_exits_5_and_is_rolled_back(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("IN_PROGRESS"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-timeout", "0", "--rollback")
    assert result.returncode == 5
    assert "the deployment did not complete within 0 s (--wait-timeout): PRIMARY IN_PROGRESS" in result.stderr
    assert running(ecs) == OLD


def test_the_service_section_sets_the_managed_deployment_fields(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    hook = "arn:aws:lambda:eu-west-1:123456789012:function:smoke-test"
    role = "arn:aws:iam::123456789012:role/ecs-hooks"
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write(
            "service:\n  deploymentConfiguration:\n    strategy: BLUE_GREEN\n    bakeTimeInMinutes: 5\n"
            f"    lifecycleHooks:\n      - hookTargetArn: {hook}\n        roleArn: {role}\n"
            "        lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]\n"
        )
    now = described("COMPLETED", OLD)  # as ECS describes it (moto does not keep deploymentConfiguration)
    now["services"][0]["deploymentConfiguration"] = {"maximumPercent": 200, "minimumHealthyPercent": 100}
    fault_proxy.answer("DescribeServices", 200, now)
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    [update] = fault_proxy.sent("UpdateService")
    assert update["deploymentConfiguration"] == {
        "maximumPercent": 200,  # the service's own, kept
        "minimumHealthyPercent": 100,
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 5,
        "lifecycleHooks": [{"hookTargetArn": hook, "roleArn": role, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}],
    }
    registered = json.dumps(fault_proxy.sent("RegisterTaskDefinition")[0])
    assert "deploymentConfiguration" not in registered and "BLUE_GREEN" not in registered


def test_dry_run_shows_the_revision_and_the_update_and_changes_nothing(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["containerDefinitions"][0]["image"] == f"{APP_REPO}:new"
    assert f"service shop/checkout (now on {OLD}) updated with:" in result.stderr
    assert '"taskDefinition": "<new revision of checkout-api-prod>"' in result.stderr
    assert not {"RegisterTaskDefinition", "UpdateService"} & set(fault_proxy.operations)
    assert ecs.list_task_definitions()["taskDefinitionArns"] == [OLD] and running(ecs) == OLD


def test_deploy_needs_the_service(invoke: Any, project: Path) -> None:
    result = invoke("deploy", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 2
    assert "deploy needs the service to update: pass --cluster and --service" in result.stderr


@pytest.mark.parametrize(
    ("deployment", "outcome"),
    [
        ({"status": "PRIMARY", "rolloutState": "COMPLETED"}, "completed"),
        ({"status": "PRIMARY", "rolloutState": "IN_PROGRESS"}, "in progress"),
        ({"status": "PRIMARY", "rolloutState": "FAILED"}, "failed"),
        ({"status": "PRIMARY", "runningCount": 2, "desiredCount": 2}, "completed"),  # no rollout state: counts
        ({"status": "ACTIVE", "rolloutState": "IN_PROGRESS"}, "in progress"),  # blue/green: not yet primary
    ],
)
def test_rollout_reads_the_deployment_of_the_new_revision(deployment: dict[str, Any], outcome: str) -> None:
    answer = {"deployments": [{"taskDefinition": NEW, **deployment}]}
    assert rollout(answer, NEW)[0] == outcome
    assert rollout(answer, OLD)[0] == "failed"


@pytest.mark.e2e
def test_the_blue_green_buildspec_verifies_then_deploys(
    project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    """The example buildspec's two ecs-overlay lines, run as CodeBuild would (bash, the installed command)."""
    import os
    import subprocess

    import yaml

    from .conftest import REPO, clean_environ, installed_command

    buildspec = yaml.safe_load((REPO / "examples" / "codebuild" / "buildspec-ecs-blue-green.yml").read_text())
    lines = [command for command in buildspec["phases"]["build"]["commands"] if command.startswith("ecs-overlay")]
    assert [line.split()[1] for line in lines] == ["verify", "deploy"]
    fault_proxy.forward("DescribeServices")  # verify's base
    fault_proxy.forward("DescribeServices")  # verify's load-balancer check
    fault_proxy.forward("DescribeServices")  # deploy's plan
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    env = clean_environ(
        {
            **fault_proxy.env(aws_env),
            **buildspec["env"]["variables"],
            "DEPLOY_ENV": "prod",
            "REPOSITORY_URI": APP_REPO,
            "ECS_CLUSTER": "shop",
            "ECS_SERVICE": "checkout",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "4f2d9c1",
            "PATH": f"{Path(installed_command()).parent}:{os.environ['PATH']}",
        }
    )
    verify = subprocess.run(["bash", "-c", lines[0]], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    # moto's account has none of the example's roles, secrets, log groups or image: verify stops the build.
    assert verify.returncode == 1, verify.stderr
    assert "the execution role 'checkout-api-execution' does not exist" in verify.stdout
    deployed = subprocess.run(
        ["bash", "-c", lines[1]], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout == NEW + "\n" and running(ecs) == NEW


def test_progress_rewrites_one_status_line_on_a_terminal_and_prints_changes_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from ecs_overlay.cli import _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, expected in (
        (
            Terminal(),
            "\r\x1b[Kregistered x\n\r\x1b[KIN_PROGRESS 1/2\r\x1b[KIN_PROGRESS 1/2\r\x1b[KCOMPLETED 2/2\n\r\x1b[Kdone\n",
        ),
        (io.StringIO(), "registered x\nstatus: IN_PROGRESS 1/2\nstatus: COMPLETED 2/2\ndone\n"),
    ):
        monkeypatch.setattr("sys.stderr", stream)
        progress = _progress()
        progress.line("registered x")
        for state in ("IN_PROGRESS 1/2", "IN_PROGRESS 1/2", "COMPLETED 2/2"):
            progress.status(state)
        progress.done()
        progress.line("done")
        assert stream.getvalue() == expected


def test_deploy_renders_from_base_when_given_and_from_the_running_revision_otherwise(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str]
) -> None:
    base = json.loads((project / "base.json").read_text())
    base["taskDefinition"]["containerDefinitions"][1]["image"] = "public.ecr.aws/aws-observability/aws-for-fluent-bit:9"
    (project / "base.json").write_text(json.dumps(base))
    from_file = deploy(invoke, project, aws_env, "--base", "base.json", "--dry-run")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout)["containerDefinitions"][1]["image"].endswith("aws-for-fluent-bit:9")
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(overlay.read_text().replace("base:\n  family: checkout-api-prod\n", ""))
    from_service = deploy(invoke, project, aws_env, "--dry-run")
    assert from_service.returncode == 0, from_service.stderr
    assert json.loads(from_service.stdout)["containerDefinitions"][1]["image"].endswith("aws-for-fluent-bit:2.32.4")
    assert ecs.list_task_definitions()["taskDefinitionArns"] == [OLD]
