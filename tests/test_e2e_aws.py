"""AWS through a real HTTP endpoint: moto's standalone server (and, for faults moto cannot make, a
local HTTP server that misbehaves on purpose). The command runs in-process; the tests marked ``e2e``
run the installed ecs-overlay as a subprocess, as CodeBuild would."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from ecs_overlay import schemas
from ecs_overlay.base import registerable

from .conftest import EXAMPLE_BASE, without_static_credentials

APP_REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api"


def example_taskdef(environment: str | None = None) -> dict[str, Any]:
    """The sample app (app + FireLens log router + monitoring sidecar, ARM64 Fargate), register-able;
    in the family of ``environment`` in the example project (checkout-api-stage, checkout-api-prod)."""
    taskdef = registerable(json.loads(EXAMPLE_BASE.read_text()), schemas.describe_only_fields())
    if environment is not None:
        taskdef["family"] = f"checkout-api-{environment}"
    return taskdef


def register(ecs: Any, taskdef: dict[str, Any]) -> str:
    arn: str = ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    return arn


@pytest.mark.e2e
@pytest.mark.parametrize("environment", ["stage", "prod"])
def test_render_from_the_live_family_and_register_the_result(
    run_cli, project: Path, ecs: Any, aws_env: dict[str, str], environment: str
) -> None:
    register(ecs, example_taskdef(environment))
    env = {**aws_env, "DEPLOY_ENV": environment, "CODEBUILD_RESOLVED_SOURCE_VERSION": "9d8e7f6"}
    result = run_cli("render", "--image", f"{APP_REPO}:9d8e7f6", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert f"base checkout-api-{environment}" in result.stderr
    taskdef = json.loads((project / "taskdef.json").read_text())
    containers = {c["name"]: c for c in taskdef["containerDefinitions"]}
    assert containers["web"]["image"] == f"{APP_REPO}:9d8e7f6"
    assert containers["log-router"]["image"] == "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"
    assert taskdef["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert {"key": "env", "value": environment} in taskdef["tags"]
    web_env = {item["name"]: item["value"] for item in containers["web"]["environment"]}
    assert web_env["GIT_COMMIT"] == "9d8e7f6"
    assert containers["web"]["healthCheck"]["command"][0] == "CMD-SHELL"
    if environment == "prod":
        assert (taskdef["cpu"], taskdef["memory"]) == ("1024", "2048")
        assert "datadog-agent" in containers
    else:
        assert "datadog-agent" not in containers

    # The written file is exactly what RegisterTaskDefinition takes.
    registered = ecs.register_task_definition(**taskdef)["taskDefinition"]
    assert registered["revision"] == 2
    assert registered["runtimePlatform"]["cpuArchitecture"] == "ARM64"


def test_family_revision_and_arn_select_that_revision(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    first = example_taskdef()
    first_arn = register(ecs, first)
    second = example_taskdef()
    second["containerDefinitions"][0]["image"] = f"{APP_REPO}:second"
    register(ecs, second)
    for reference in ("checkout-api:1", first_arn):
        result = invoke("render", "--env", "prod", "--family", reference, "-o", "-", cwd=project, env=aws_env)
        assert result.returncode == 0, result.stderr
        assert result.json()["containerDefinitions"][0]["image"].endswith(":3f9c2e1")
    latest = invoke("render", "--env", "prod", "--family", "checkout-api", "-o", "-", cwd=project, env=aws_env)
    assert latest.json()["containerDefinitions"][0]["image"] == f"{APP_REPO}:second"


def test_cluster_and_service_use_the_revision_the_service_runs(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    running_arn = register(ecs, example_taskdef())
    newer = example_taskdef()
    newer["containerDefinitions"][0]["image"] = f"{APP_REPO}:not-deployed-yet"
    register(ecs, newer)
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(cluster="shop", serviceName="checkout", taskDefinition=running_arn, desiredCount=1)
    result = invoke(
        "render", "--env", "prod", "--cluster", "shop", "--service", "checkout", "-o", "-", cwd=project, env=aws_env
    )
    assert result.returncode == 0, result.stderr
    assert result.json()["containerDefinitions"][0]["image"] == f"{APP_REPO}:3f9c2e1"
    assert f"service shop/checkout ({running_arn})" in result.stderr


def test_tags_from_describe_become_task_definition_tags(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    taskdef = example_taskdef()
    taskdef["tags"] = [{"key": "owner", "value": "payments"}]
    register(ecs, taskdef)
    (project / "environments" / "prod.yaml").write_text("family: checkout-api\n")
    result = invoke("render", "--env", "prod", "-o", "-", cwd=project, env=aws_env)
    assert result.returncode == 0, result.stderr
    assert result.json()["tags"] == [
        {"key": "owner", "value": "payments"},
        {"key": "ecs-overlay:environment", "value": "prod"},
    ]


PREVIOUS = b'{"family": "previous-artifact"}\n'


def _run_failing(invoke: Any, project: Path, env: dict[str, str], *args: str) -> Any:
    """Run with an existing taskdef.json; every AWS failure must leave it exactly as it was."""
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", *args, cwd=project, env=env)
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    return result


def _assert_aws_failure(result: Any, project: Path, *fragments: str) -> None:
    assert result.returncode == 3, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_family_is_exit_3(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    result = _run_failing(invoke, project, aws_env, "--family", "nope")
    _assert_aws_failure(result, project, "task definition 'nope' not found")


def test_unknown_service_is_exit_3(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    ecs.create_cluster(clusterName="shop")
    result = _run_failing(invoke, project, aws_env, "--cluster", "shop", "--service", "ghost")
    _assert_aws_failure(result, project, "service 'ghost' not found in cluster 'shop'")


def test_unknown_cluster_is_exit_3(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    result = _run_failing(invoke, project, aws_env, "--cluster", "nowhere", "--service", "x")
    _assert_aws_failure(result, project, "not found")


def test_no_credentials_is_exit_3(invoke, project: Path, moto_endpoint: str) -> None:
    env = {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": "eu-west-1"}
    result = _run_failing(invoke, project, env)
    _assert_aws_failure(result, project, "no AWS credentials found")


def test_no_region_is_exit_3(invoke, project: Path, moto_endpoint: str) -> None:
    env = {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}
    result = _run_failing(invoke, project, env)
    _assert_aws_failure(result, project, "no AWS region configured")


def test_unreachable_endpoint_is_exit_3(invoke, project: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "eu-west-1",
    }
    result = _run_failing(invoke, project, env)
    _assert_aws_failure(result, project, "cannot reach AWS")


def test_access_denied_names_the_permission(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(
        400, {"__type": "AccessDeniedException", "message": "User: arn:aws:sts::1:assumed-role/build is not authorized"}
    )
    result = _run_failing(invoke, project, fake_ecs.env())
    _assert_aws_failure(result, project, "access denied: the caller needs ecs:DescribeTaskDefinition")


def test_throttling_is_retried_then_exit_3(
    invoke, project: Path, fake_ecs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore sleeps a random 0-1 s, then 0-2 s, between throttled attempts; the test counts attempts, not seconds.
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    fake_ecs.respond(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
    result = _run_failing(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "3"})
    _assert_aws_failure(result, project, "AWS throttled the request")
    assert len(fake_ecs.requests) == 3


def test_fields_the_installed_botocore_does_not_know_stop_the_run(invoke, project: Path, fake_ecs: Any) -> None:
    document = json.loads(EXAMPLE_BASE.read_text())
    document["taskDefinition"]["futureIsolationMode"] = "strict"
    document["taskDefinition"]["containerDefinitions"][0]["futureProbe"] = {"path": "/ready"}
    fake_ecs.respond(200, document)
    result = _run_failing(invoke, project, fake_ecs.env())
    _assert_aws_failure(
        result,
        project,
        "taskDefinition.futureIsolationMode",
        "taskDefinition.containerDefinitions[web].futureProbe",
        "Upgrade it",
    )
    import botocore

    assert f"botocore {botocore.__version__}" in result.stderr


def test_region_option_overrides_the_environment(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    register(ecs, example_taskdef("prod"))  # registered in eu-west-1
    elsewhere = {**aws_env, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    assert invoke("render", "--env", "prod", "-o", "-", cwd=project, env=elsewhere).returncode == 3
    result = invoke("render", "--env", "prod", "--region", "eu-west-1", "-o", "-", cwd=project, env=elsewhere)
    assert result.returncode == 0, result.stderr


RUNNING_ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-api:7"


@pytest.mark.parametrize(
    ("args", "calls"),
    [
        (["validate", "--family", "checkout-api"], ["DescribeTaskDefinition"]),
        (["diff", "--all"], ["DescribeTaskDefinition", "DescribeTaskDefinition"]),  # a family per environment
        (["drift", "--all"], ["DescribeTaskDefinition", "DescribeTaskDefinition"]),
        (["diff", "--all", "--cluster", "shop", "--service", "web"], ["DescribeServices", "DescribeTaskDefinition"]),
        (["snapshot", "--env", "prod", "-o", "-"], ["DescribeTaskDefinition"]),
        (["register", "--env", "prod"], ["DescribeTaskDefinition", "RegisterTaskDefinition"]),
    ],
)
def test_a_run_describes_each_reference_once_on_one_session(
    invoke, project: Path, fake_ecs: Any, monkeypatch: pytest.MonkeyPatch, args: list[str], calls: list[str]
) -> None:
    """Each reference is described once (one for both environments when both start from one service), and register
    reuses its render's description and client; the whole run opens one botocore session."""
    import botocore.session

    sessions = []
    original = botocore.session.Session.__init__

    def counted_init(self: Any, *init_args: Any, **init_kwargs: Any) -> None:
        sessions.append(self)
        original(self, *init_args, **init_kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counted_init)
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()), target="DescribeTaskDefinition")
    fake_ecs.respond(
        200, {"services": [{"status": "ACTIVE", "taskDefinition": RUNNING_ARN}], "failures": []}, "DescribeServices"
    )
    fake_ecs.respond(200, {"taskDefinition": {"taskDefinitionArn": RUNNING_ARN}}, target="RegisterTaskDefinition")
    result = invoke(*args, cwd=project, env=fake_ecs.env())
    assert result.returncode in (0, 4), result.stderr  # drift may find drift
    assert fake_ecs.operations() == calls
    assert len(sessions) == 1
    if args[0] == "register":
        assert result.stdout == f"{RUNNING_ARN}\n"
    if "--all" in args or args[0] == "validate":
        assert "prod" in result.stdout + result.stderr and "stage" in result.stdout + result.stderr


def test_each_run_reads_the_aws_settings_of_its_own_environment(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    """Nothing AWS is cached between runs in one process: a second run with another region sees it."""
    register(ecs, example_taskdef("prod"))  # in eu-west-1
    assert invoke("render", "--env", "prod", "-o", "-", cwd=project, env=aws_env).returncode == 0
    elsewhere = invoke("render", "--env", "prod", "-o", "-", cwd=project, env={**aws_env, "AWS_REGION": "us-east-1"})
    assert elsewhere.returncode == 3
    assert "task definition 'checkout-api-prod' not found" in elsewhere.stderr


def test_a_profile_that_assumes_a_role_gets_its_credentials_from_sts(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """Credentials that need another service's model (STS here; SSO likewise) load it through the same session."""
    register(ecs, example_taskdef("prod"))
    (tmp_path / "config").write_text(
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n"
    )
    (tmp_path / "credentials").write_text("[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = without_static_credentials(aws_env)
    env.update(
        {
            "AWS_PROFILE": "deploy",
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        }
    )
    result = invoke("render", "--env", "prod", "-o", "-", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["family"] == "checkout-api-prod"
