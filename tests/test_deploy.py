"""deploy: render, register, update the service, wait; against moto's server on 127.0.0.1.

moto keeps every deployment IN_PROGRESS after UpdateService (and does not even start a deployment of
the new revision), so a proxy in front of it answers DescribeServices with the rollouts ECS reports
(IN_PROGRESS, COMPLETED, FAILED) while registering and updating go to moto itself.
"""

from __future__ import annotations

import json
import re
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
    assert "status [0s]: PRIMARY IN_PROGRESS, 1/2 running, 1 pending" in lines  # plain lines without a terminal
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
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", OLD))  # the rollback settles
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")
    assert result.returncode == 5
    assert (
        f"Error: the deployment failed: PRIMARY FAILED, 1/2 running, 1 pending ({reason}); deploy rolled the service "
        f"back to {OLD} (PRIMARY COMPLETED, 2/2 running, 0 pending)"
    ) in result.stderr
    assert f"rolling back: service shop/checkout updated to {OLD}" in result.stderr.splitlines()
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
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", OLD))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-timeout", "0", "--rollback")
    assert result.returncode == 5
    assert "the deployment did not complete within 0 s (--wait-timeout): PRIMARY IN_PROGRESS" in result.stderr
    assert f"deploy rolled the service back to {OLD}" in result.stderr
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

    from ecs_overlay.cli import HEARTBEAT_SECONDS, _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    states = [("IN_PROGRESS 1/2", 0), ("IN_PROGRESS 1/2", 12), ("IN_PROGRESS 1/2", 75), ("COMPLETED 2/2", 80)]
    for stream, expected in (
        (
            Terminal(),
            "\r\x1b[Kregistered x\n\r\x1b[K[0s] IN_PROGRESS 1/2\r\x1b[K[12s] IN_PROGRESS 1/2"
            "\r\x1b[K[1m15s] IN_PROGRESS 1/2\r\x1b[K[1m20s] COMPLETED 2/2\n\r\x1b[Kdone\n",
        ),
        (
            io.StringIO(),  # CI: each change, and an unchanged state again once a heartbeat interval has passed
            "registered x\nstatus [0s]: IN_PROGRESS 1/2\nstatus [1m15s]: still IN_PROGRESS 1/2\n"
            "status [1m20s]: COMPLETED 2/2\ndone\n",
        ),
    ):
        monkeypatch.setattr("sys.stderr", stream)
        progress = _progress()
        progress.line("registered x")
        for state, elapsed in states:
            progress.status(state, elapsed)
        progress.done()
        progress.line("done")
        assert stream.getvalue() == expected
    assert HEARTBEAT_SECONDS == 60


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


DEPLOYMENT_ARN = "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop/checkout/n3wD3pl0y"
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


def ecs_rolling_back(old_state: str = "IN_PROGRESS") -> Any:
    """The service after ECS's circuit breaker failed the new deployment and started one of the old revision."""
    answer = described("FAILED", rolloutStateReason=CIRCUIT_BREAKER)
    failed = {**answer["services"][0]["deployments"][0], "status": "ACTIVE"}
    rollback = {
        "id": "ecs-svc/3", "status": "PRIMARY", "taskDefinition": OLD, "desiredCount": 2,
        "runningCount": 2 if old_state == "COMPLETED" else 1, "pendingCount": 0, "rolloutState": old_state,
    }  # fmt: skip
    answer["services"][0].update(taskDefinition=OLD, deployments=[rollback, failed])
    return answer


def stopped_tasks(fault_proxy: FaultProxy) -> None:
    """Two tasks of the new revision and one of the old that ECS stopped, as ListTasks/DescribeTasks tell it."""
    tasks = [
        {
            "taskArn": f"arn:aws:ecs:eu-west-1:123456789012:task/shop/{task_id}", "taskDefinitionArn": arn,
            "stoppedAt": stopped_at, "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "containers": [
                {"name": "web", "exitCode": code, "reason": reason},
                {"name": "log-router", "exitCode": None},
            ],
        }
        for task_id, arn, stopped_at, code, reason in (
            ("a1", NEW, 1_700_000_010, 1, None),
            ("b2", NEW, 1_700_000_020, 137, "OutOfMemoryError: Container killed due to memory usage"),
            ("c3", OLD, 1_700_000_030, 0, None),
        )
    ]  # fmt: skip
    fault_proxy.answer("ListTasks", 200, {"taskArns": [task["taskArn"] for task in tasks]})
    fault_proxy.answer("DescribeTasks", 200, {"tasks": tasks, "failures": []})


def test_when_ecs_is_rolling_back_itself_deploy_says_so_and_sends_no_second_update(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("IN_PROGRESS"))
    fault_proxy.answer("DescribeServices", 200, ecs_rolling_back())
    stopped_tasks(fault_proxy)
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 5
    assert (
        f"Error: the deployment failed: ACTIVE FAILED, 1/2 running, 1 pending ({CIRCUIT_BREAKER}); ECS is rolling "
        f"the service back to {OLD} itself, so deploy sends no update of its own\n"
    ) in result.stderr
    assert [body["taskDefinition"] for body in fault_proxy.sent("UpdateService")] == [NEW]
    # why the tasks died: the new revision's stopped tasks, latest first, with their containers' exit codes
    lines = result.stderr.splitlines()
    assert lines[lines.index("stopped task b2: Essential container in task exited (web exit 137: OutOfMemoryError: "
                             "Container killed due to memory usage)") + 1] == (
        "stopped task a1: Essential container in task exited (web exit 1)"
    )  # fmt: skip
    assert not [line for line in lines if line.startswith("stopped task c3")]
    listed = {"cluster": "shop", "serviceName": "checkout", "desiredStatus": "STOPPED"}
    assert fault_proxy.sent("ListTasks") == [listed]


def test_with_rollback_deploy_waits_for_ecs_own_rollback_to_settle(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, ecs_rolling_back())
    fault_proxy.answer("DescribeServices", 200, ecs_rolling_back())  # the rollback still under way
    fault_proxy.answer("DescribeServices", 200, ecs_rolling_back("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")
    assert result.returncode == 5
    assert f"; ECS rolled the service back to {OLD} (PRIMARY COMPLETED, 2/2 running, 0 pending); deploy sent no " in (
        result.stderr
    )
    assert f"waiting for the rollback to {OLD} to settle" in result.stderr.splitlines()
    assert len(fault_proxy.sent("UpdateService")) == 1 and "StopServiceDeployment" not in fault_proxy.operations


def test_rollback_stops_the_deployment_with_stop_service_deployment_where_ecs_offers_it(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    ours = described("IN_PROGRESS")
    ours["services"][0]["currentServiceDeployment"] = DEPLOYMENT_ARN
    fault_proxy.answer("DescribeServices", 200, ours)
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", OLD))
    fault_proxy.answer("StopServiceDeployment", 200, {"serviceDeploymentArn": DEPLOYMENT_ARN})
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-timeout", "0", "--rollback")
    assert result.returncode == 5
    assert fault_proxy.sent("StopServiceDeployment") == [
        {"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"}
    ]
    assert [body["taskDefinition"] for body in fault_proxy.sent("UpdateService")] == [NEW]  # no second update
    assert f"stopping deployment {DEPLOYMENT_ARN} with a rollback (StopServiceDeployment)" in result.stderr
    assert f"ECS rolled the service back to {OLD} (PRIMARY COMPLETED, 2/2 running, 0 pending)" in result.stderr


def test_rollback_falls_back_to_the_previous_revision_where_stop_service_deployment_is_not_offered(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    ours = described("FAILED")
    ours["services"][0]["currentServiceDeployment"] = DEPLOYMENT_ARN
    fault_proxy.answer("DescribeServices", 200, ours)
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", OLD))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")  # moto has no StopServiceDeployment
    assert result.returncode == 5
    assert "StopServiceDeployment" in fault_proxy.operations
    assert "StopServiceDeployment did not roll back (StopServiceDeployment is not offered by this endpoint)" in (
        result.stderr
    )
    assert [body["taskDefinition"] for body in fault_proxy.sent("UpdateService")] == [NEW, OLD]
    assert running(ecs) == OLD


def test_a_rollback_aws_denies_exits_5_and_says_the_service_is_on_the_failing_revision(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("FAILED"))
    fault_proxy.forward("UpdateService")  # the deploy's own update
    denied = {"__type": "AccessDeniedException", "message": "not authorized to perform: ecs:UpdateService"}
    fault_proxy.answer("UpdateService", 400, denied)
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")
    assert result.returncode == 5
    assert "the rollback failed: access denied: the caller needs ecs:UpdateService" in result.stderr
    assert result.stderr.rstrip().endswith(f"the service is still on the failing revision {NEW}")
    assert running(ecs) == NEW


def test_an_update_that_fails_after_registering_names_the_unused_revision_and_deregisters_it_when_asked(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    refused = {"__type": "InvalidParameterException", "message": "Unable to assume the service linked role."}
    fault_proxy.answer("UpdateService", 400, refused)
    kept = deploy(invoke, project, fault_proxy.env(aws_env))
    assert kept.returncode == 3
    assert (
        f"the service was not updated, so the registered revision {NEW} is unused: deregister it with "
        f"`aws ecs deregister-task-definition --task-definition {NEW}`, or run deploy with --deregister-on-failure"
    ) in kept.stderr
    assert ecs.describe_task_definition(taskDefinition=NEW)["taskDefinition"]["status"] == "ACTIVE"
    third = NEW.replace(":2", ":3")
    cleaned = deploy(invoke, project, fault_proxy.env(aws_env), "--deregister-on-failure")
    assert cleaned.returncode == 3
    assert f"the registered revision {third} is unused: deregistered it (--deregister-on-failure)" in cleaned.stderr
    assert ecs.describe_task_definition(taskDefinition=third)["taskDefinition"]["status"] == "INACTIVE"
    assert running(ecs) == OLD


def test_wait_until_none_returns_after_the_update(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-until", "none")
    assert result.returncode == 0, result.stderr
    assert result.stdout == NEW + "\n" and running(ecs) == NEW
    assert fault_proxy.operations.count("DescribeServices") == 1  # the plan's, none after the update
    assert result.stderr.splitlines()[-1] == "not waiting for the deployment (--wait-until none)"


def test_wait_until_stable_waits_for_the_old_deployment_to_drain(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    draining = described("COMPLETED")  # the rollout is COMPLETED, the old deployment still has tasks
    old = {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": OLD, "runningCount": 1, "desiredCount": 0}
    draining["services"][0]["deployments"].append(old)
    fault_proxy.answer("DescribeServices", 200, draining)
    stable = described("COMPLETED")
    stable["services"][0].update(runningCount=2, desiredCount=2)
    fault_proxy.answer("DescribeServices", 200, stable)
    answer = draining["services"][0]
    assert rollout(answer, NEW, "completed")[0] == "completed" and rollout(answer, NEW, "stable")[0] == "in progress"
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-until", "stable")
    assert result.returncode == 0, result.stderr
    assert fault_proxy.operations.count("DescribeServices") == 3
    assert result.stderr.splitlines()[-1] == "service stable: PRIMARY COMPLETED, 2/2 running, 0 pending"


PROD = "environments/prod.yaml"
HOOK = "arn:aws:lambda:eu-west-1:123456789012:function:smoke-test"
ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"
TARGET_GROUPS = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup"
RULES = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
BLUE_GREEN = f"""\
service:
  deploymentController: {{type: ECS}}
  deploymentConfiguration:
    strategy: LINEAR
    bakeTimeInMinutes: 15
    linearConfiguration: {{stepPercent: 25.0, stepBakeTimeInMinutes: 5}}
    deploymentCircuitBreaker: {{enable: true, rollback: true}}
    alarms: {{alarmNames: [checkout-5xx], enable: true, rollback: true}}
    lifecycleHooks: null
  loadBalancers:
    - targetGroupArn: {TARGET_GROUPS}/checkout-blue/0123456789abcdef
      containerName: web
      containerPort: 8080
      advancedConfiguration:
        alternateTargetGroupArn: {TARGET_GROUPS}/checkout-green/fedcba9876543210
        productionListenerRule: {RULES}/1
        testListenerRule: {RULES}/2
        roleArn: arn:aws:iam::123456789012:role/ecs-blue-green
  propagateTags: SERVICE
  enableECSManagedTags: true
"""


def test_the_service_section_is_sent_whole_with_update_service(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write(BLUE_GREEN)
    now = described("COMPLETED", OLD)  # as ECS describes it (moto does not keep deploymentConfiguration)
    hooks = [{"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]
    now["services"][0]["deploymentConfiguration"] = {
        "maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": "BLUE_GREEN", "lifecycleHooks": hooks,
    }  # fmt: skip
    fault_proxy.answer("DescribeServices", 200, now)
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    [update] = fault_proxy.sent("UpdateService")
    assert update["deploymentConfiguration"] == {
        "maximumPercent": 200,  # the service's own, kept
        "minimumHealthyPercent": 100,
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 15,
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 5},
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": ["checkout-5xx"], "enable": True, "rollback": True},
        "lifecycleHooks": [],  # `lifecycleHooks: null` removes the service's hooks
    }
    assert update["loadBalancers"][0]["advancedConfiguration"] == {
        "alternateTargetGroupArn": f"{TARGET_GROUPS}/checkout-green/fedcba9876543210",
        "productionListenerRule": f"{RULES}/1",
        "testListenerRule": f"{RULES}/2",
        "roleArn": "arn:aws:iam::123456789012:role/ecs-blue-green",
    }
    assert update["deploymentController"] == {"type": "ECS"}
    assert update["propagateTags"] == "SERVICE" and update["enableECSManagedTags"] is True
    registered = json.dumps(fault_proxy.sent("RegisterTaskDefinition")[0])
    assert "deploymentConfiguration" not in registered and "LINEAR" not in registered


@pytest.mark.parametrize(
    ("section", "finding"),
    [
        (
            "service:\n  deploymentConfiguration:\n    strategy: BLUE_GREEN\n    bakeTimInMinutes: 5\n",
            f"{PROD}:36:5 service.deploymentConfiguration.bakeTimInMinutes: error: unknown field 'bakeTimInMinutes'; "
            "did you mean 'bakeTimeInMinutes'? [unknown-field]",
        ),
        (
            "service:\n  deploymentConfiguration:\n    strategy: BLUE_GREEN\n    bakeTimeInMinutes: 2000\n",
            f"{PROD}:36:24 service.deploymentConfiguration.bakeTimeInMinutes: error: 2000 minutes is out of range; "
            "ECS allows 0 to 1440 (24 hours) [service-bake-time]",
        ),
        (
            "service:\n  deploymentConfiguration:\n    lifecycleHooks:\n      - hookTargetArn: x\n"
            "        lifecycleStages: [POST_TEST_TRAFIC_SHIFT]\n",
            f"{PROD}:37:27 service.deploymentConfiguration.lifecycleHooks[0].lifecycleStages[0]: error: "
            '"POST_TEST_TRAFIC_SHIFT" is not one of: RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, '
            "TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, "
            "POST_PRODUCTION_TRAFFIC_SHIFT [overlay-schema]",
        ),
        (
            "service:\n  deploymentConfiguration:\n    deploymentCircuitBreaker:\n      enable: true\n",
            f"{PROD}:36:15 service.deploymentConfiguration.deploymentCircuitBreaker: error: UpdateService needs "
            "'rollback' here as well; a layer replaces this mapping as a whole, so write every required member in it "
            "[service-incomplete]",
        ),
    ],
    ids=["typo", "range", "stage", "required"],
)
def test_a_wrong_service_section_is_a_finding_at_its_line_before_anything_is_registered(
    invoke: Any,
    project: Path,
    ecs: Any,
    service: str,
    aws_env: dict[str, str],
    fault_proxy: FaultProxy,
    section: str,
    finding: str,
) -> None:
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(overlay.read_text() + section)
    offline = invoke("validate", cwd=project)
    assert offline.returncode == 1 and finding in offline.stdout + offline.stderr
    for args in (("--dry-run",), ()):
        result = deploy(invoke, project, fault_proxy.env(aws_env), *args)
        assert result.returncode == 1, result.stderr
        assert finding in result.stderr.splitlines()
    assert not {"RegisterTaskDefinition", "UpdateService"} & set(fault_proxy.operations)
    assert ecs.list_task_definitions()["taskDefinitionArns"] == [OLD]


README_DEPLOY = re.compile(r"```text\n\$ (ecs-overlay deploy [^\n]+)\n(.*?)```", flags=re.S)


class FakeTime:
    """deploy's clock: sleeping moves it on, so elapsed times read as in a real run with --poll-interval 10."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def failing_deployment(fault_proxy: FaultProxy) -> None:
    """A new revision whose tasks die: ECS's circuit breaker fails the deployment and rolls back itself."""
    started = "(service checkout) has started 2 tasks: (task 5f0c2a9e) (task 9a7e41d3)."
    failed = "(service checkout) (deployment ecs-svc/2) deployment failed: tasks failed to start."
    rolling = "(service checkout) rolling back to deployment ecs-svc/1."
    steady = "(service checkout) has reached a steady state."
    fault_proxy.forward("DescribeServices")  # the service as it runs
    starting = described("IN_PROGRESS", events=(started,))
    starting["services"][0]["deployments"][0].update(runningCount=0, pendingCount=2)
    fault_proxy.answer("DescribeServices", 200, starting)
    for state, messages in (
        ("IN_PROGRESS", (started, failed, rolling)),
        ("IN_PROGRESS", (started, failed, rolling)),
        ("COMPLETED", (started, failed, rolling, steady)),
    ):
        answer = ecs_rolling_back(state)
        answer["services"][0]["deployments"][1].update(runningCount=0, pendingCount=0)
        answer["services"][0]["events"] = [
            {"id": f"e{i}", "message": message} for i, message in reversed(list(enumerate(messages)))
        ]
        fault_proxy.answer("DescribeServices", 200, answer)
    tasks = [
        {
            "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/shop/9a7e41d3", "taskDefinitionArn": NEW,
            "stoppedAt": 1_700_000_020, "stoppedReason": "Essential container in task exited",
            "containers": [{"name": "web", "exitCode": 1}, {"name": "log-router", "exitCode": 0}],
        },
        {
            "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/shop/5f0c2a9e", "taskDefinitionArn": NEW,
            "stoppedAt": 1_700_000_010, "stoppedReason": "Task failed container health checks",
            "containers": [{"name": "web", "exitCode": 143}, {"name": "log-router", "exitCode": 0}],
        },
    ]  # fmt: skip
    fault_proxy.answer("ListTasks", 200, {"taskArns": [task["taskArn"] for task in tasks]})
    fault_proxy.answer("DescribeTasks", 200, {"tasks": tasks, "failures": []})


def test_the_readme_shows_a_failing_deployment_as_deploy_prints_it(
    invoke: Any,
    project: Path,
    ecs: Any,
    service: str,
    aws_env: dict[str, str],
    fault_proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shlex

    from .conftest import REPO

    [(command, shown)] = README_DEPLOY.findall((REPO / "README.md").read_text(encoding="utf-8"))
    failing_deployment(fault_proxy)
    monkeypatch.setattr("ecs_overlay.deploy.time", FakeTime())
    result = invoke(*shlex.split(command)[1:], cwd=project, env=fault_proxy.env(aws_env))
    assert result.returncode == 5
    assert result.stdout + result.stderr == shown, result.stdout + result.stderr
    assert [body["taskDefinition"] for body in fault_proxy.sent("UpdateService")] == [NEW]


def test_a_rollback_ecs_has_not_started_yet_is_waited_for_when_the_service_rolls_back_itself(
    invoke: Any, project: Path, ecs: Any, service: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    now = described("COMPLETED", OLD)
    breaker = {"enable": True, "rollback": True}
    now["services"][0]["deploymentConfiguration"] = {"deploymentCircuitBreaker": breaker}
    fault_proxy.answer("DescribeServices", 200, now)
    failed = described("FAILED", rolloutStateReason=CIRCUIT_BREAKER)  # still primary: ECS has not started back
    failed["services"][0]["currentServiceDeployment"] = DEPLOYMENT_ARN
    fault_proxy.answer("DescribeServices", 200, failed)
    fault_proxy.answer("DescribeServices", 200, failed)  # the rollback's deployment not there yet
    fault_proxy.answer("DescribeServices", 200, ecs_rolling_back("COMPLETED"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--rollback")
    assert result.returncode == 5
    assert f"status [0s]: waiting for ECS to start the deployment of {OLD}" in result.stderr.splitlines()
    assert f"ECS rolled the service back to {OLD} (PRIMARY COMPLETED, 2/2 running, 0 pending); deploy sent no" in (
        result.stderr
    )
    assert len(fault_proxy.sent("UpdateService")) == 1 and "StopServiceDeployment" not in fault_proxy.operations


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ("AccessDeniedException", "could not read the stopped tasks: ecs:ListTasks"),
        ("ClusterNotFoundException", "could not read the stopped tasks: cluster not found (busy)"),
    ],
)
def test_stopped_tasks_that_cannot_be_read_do_not_hide_the_failed_deployment(
    invoke: Any,
    project: Path,
    ecs: Any,
    service: str,
    aws_env: dict[str, str],
    fault_proxy: FaultProxy,
    error: str,
    said: str,
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("FAILED"))
    fault_proxy.answer("ListTasks", 400, {"__type": error, "message": "busy"})
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 5
    assert said in result.stderr
    assert "Error: the deployment failed: PRIMARY FAILED" in result.stderr


def test_a_null_in_the_service_section_removes_the_setting_through_the_layers() -> None:
    from ecs_overlay import parse_overlay
    from ecs_overlay.deploy import service_settings
    from ecs_overlay.merge import merge_service

    common = parse_overlay(
        "service:\n  propagateTags: SERVICE\n  deploymentConfiguration:\n"
        f"    lifecycleHooks: [{{hookTargetArn: {HOOK}, lifecycleStages: [POST_SCALE_UP]}}]\n",
        "_common.yaml",
        {},
    )
    prod = parse_overlay(
        "service:\n  propagateTags: null\n  loadBalancers: null\n"
        "  deploymentConfiguration: {lifecycleHooks: null, bakeTimeInMinutes: null}\n",
        "prod.yaml",
        {},
    )
    merged = merge_service([common, prod])
    assert merged == {
        "propagateTags": None,
        "deploymentConfiguration": {"lifecycleHooks": None, "bakeTimeInMinutes": None},
        "loadBalancers": None,
    }
    now = {"deploymentConfiguration": {"maximumPercent": 200, "bakeTimeInMinutes": 5, "lifecycleHooks": [{}]}}
    assert service_settings(merged, now) == {
        "deploymentConfiguration": {"maximumPercent": 200, "lifecycleHooks": []},  # a list is sent empty
        "loadBalancers": [],
    }  # propagateTags: null sends nothing: the service keeps its own
    assert merge_service([common]) == common.service
    assert merge_service([common, parse_overlay("service: null\n", "prod.yaml", {})]) is None
