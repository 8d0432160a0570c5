"""CodeDeploy and CodeBuild: appspec, architecture, placeholders, register (in-process), and the
example buildspec line run through bash with the installed command (``e2e``)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, clean_environ, installed_command
from .test_e2e_aws import APP_REPO, example_taskdef, register

BASE = ("--base", "base.json")
PREVIOUS_TASKDEF = b'{"family": "previous"}\n'
PREVIOUS_APPSPEC = b"version: 0.0 # previous\n"


def _existing_artifacts(project: Path) -> None:
    (project / "taskdef.json").write_bytes(PREVIOUS_TASKDEF)
    (project / "appspec.yaml").write_bytes(PREVIOUS_APPSPEC)


def _artifacts_untouched(project: Path) -> bool:
    return (project / "taskdef.json").read_bytes() == PREVIOUS_TASKDEF and (
        project / "appspec.yaml"
    ).read_bytes() == PREVIOUS_APPSPEC


def test_render_writes_taskdef_and_appspec(invoke, project: Path) -> None:
    result = invoke("render", "--env", "prod", *BASE, "--appspec", "appspec.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "wrote taskdef.json and appspec.yaml" in result.stderr
    appspec = yaml.safe_load((project / "appspec.yaml").read_text())
    assert appspec["version"] == 0.0
    [resource] = appspec["Resources"]
    properties = resource["TargetService"]["Properties"]
    assert resource["TargetService"]["Type"] == "AWS::ECS::Service"
    assert properties["TaskDefinition"] == "<TASK_DEFINITION>"
    assert properties["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8080}
    assert properties["PlatformVersion"] == "LATEST"
    assert properties["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert appspec["Hooks"] == [{"AfterAllowTestTraffic": "checkout-api-smoke-test"}]
    assert "appspec" not in json.loads((project / "taskdef.json").read_text())


def test_appspec_target_is_inferred_from_the_only_essential_container_with_one_port(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "extends: _common.yaml\nappspec: {containerName: null, containerPort: null, capacityProviderStrategy: "
        "[{capacityProvider: FARGATE_SPOT, weight: 3}, {capacityProvider: FARGATE, base: 1, weight: 1}]}\n"
    )
    result = invoke("render", "--env", "prod", *BASE, "--appspec", "appspec.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    properties = yaml.safe_load((project / "appspec.yaml").read_text())["Resources"][0]["TargetService"]["Properties"]
    assert properties["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8080}
    assert properties["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
    ]


def test_ambiguous_appspec_target_lists_the_candidates_and_writes_nothing(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "extends: _common.yaml\nappspec: {containerName: null, containerPort: null}\n"
        "containerDefinitions: {datadog-agent: {essential: true}}\n"
    )
    _existing_artifacts(project)
    result = invoke("render", "--env", "prod", *BASE, "--appspec", "appspec.yaml", cwd=project)
    assert result.returncode == 1
    assert "Candidates: web:8080, datadog-agent:8126" in result.stderr
    assert _artifacts_untouched(project)


def test_appspec_naming_a_missing_container_or_port_writes_nothing(invoke, project: Path) -> None:
    for setting, message in (
        ("{containerName: api}", "container 'api', which the task definition does not have"),
        ("{containerPort: 9090}", "port 9090 of 'web', which maps only: 8080"),
    ):
        (project / "environments" / "prod.yaml").write_text(f"extends: _common.yaml\nappspec: {setting}\n")
        _existing_artifacts(project)
        result = invoke("render", "--env", "prod", *BASE, "--appspec", "appspec.yaml", cwd=project)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert _artifacts_untouched(project)


def test_appspec_section_is_checked_by_the_overlay_schema(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text("appspec:\n  containerNmae: web\n")
    result = invoke("render", "--env", "prod", *BASE, cwd=project)
    assert result.returncode == 1
    assert (
        "environments/prod.yaml:2:3 appspec.containerNmae: error: unknown field 'containerNmae'; did you mean "
        "'containerName'?" in result.stderr
    )


def _appspec(container: str = "web", port: int = 8080, task_definition: str = "<TASK_DEFINITION>") -> str:
    return yaml.safe_dump(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition,
                            "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port},
                        },
                    }
                }
            ],
        }
    )


def test_check_appspec_accepts_a_matching_hand_written_appspec(invoke, project: Path) -> None:
    (project / "mine.yaml").write_text(_appspec())
    result = invoke("render", "--env", "prod", *BASE, "--check-appspec", "mine.yaml", cwd=project)
    assert result.returncode == 0, result.stderr


def test_check_appspec_refuses_wrong_container_port_and_placeholder(invoke, project: Path) -> None:
    (project / "mine.yaml").write_text(_appspec("api", 80, "arn:aws:ecs:eu-west-1:1:task-definition/x:1"))
    _existing_artifacts(project)
    result = invoke("render", "--env", "prod", *BASE, "--check-appspec", "mine.yaml", cwd=project)
    assert result.returncode == 1
    assert (
        "mine.yaml Resources[0].TargetService.Properties.TaskDefinition: error: TaskDefinition must be the "
        "placeholder <TASK_DEFINITION>" in result.stderr
    )
    assert "container 'api', which the task definition does not have" in result.stderr
    assert _artifacts_untouched(project)


def test_image_architecture_must_match_runtime_platform(invoke, project: Path) -> None:
    image = f"{APP_REPO}:abc"
    for arch in ("ARM64", "arm64", "aarch64"):
        assert (
            invoke("render", "--env", "prod", *BASE, "--image", image, "--image-arch", arch, cwd=project).returncode
            == 0
        )
    _existing_artifacts(project)
    result = invoke("render", "--env", "prod", *BASE, "--image", image, cwd=project, env={"IMAGE_ARCH": "amd64"})
    assert result.returncode == 1
    assert "is built for X86_64 but the task runs on ARM64" in result.stderr
    assert "exec format error" in result.stderr and "runtimePlatform: {cpuArchitecture: X86_64}" in result.stderr
    assert "docker buildx build --platform linux/arm64" in result.stderr
    assert _artifacts_untouched(project)
    bad = invoke("render", "--env", "prod", *BASE, "--image-arch", "sparc", cwd=project)
    assert bad.returncode == 2 and "use ARM64" in bad.stderr


def test_absent_runtime_platform_means_x86_64(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text("extends: _common.yaml\nruntimePlatform: null\n")
    result = invoke("render", "--env", "prod", *BASE, "--image-arch", "arm64", cwd=project)
    assert result.returncode == 1
    assert "runs on X86_64 (runtimePlatform.cpuArchitecture (absent, so X86_64))" in result.stderr


def test_architecture_is_read_from_docker_when_not_given(invoke, project: Path, tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    docker = fake_bin / "docker"
    docker.write_text('#!/bin/sh\n[ "$1 $2" = "image inspect" ] && echo amd64 && exit 0\nexit 1\n')
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}"}
    result = invoke("render", "--env", "prod", *BASE, "--image", f"{APP_REPO}:abc", cwd=project, env=env)
    assert result.returncode == 1 and "is built for X86_64 but the task runs on ARM64" in result.stderr


def test_pipeline_placeholder_images_are_written_as_given(invoke, project: Path) -> None:
    result = invoke("render", "--env", "prod", *BASE, "--image", "web=<IMAGE1_NAME>", "-o", "-", cwd=project)
    assert result.returncode == 0, result.stderr
    images = {c["name"]: c["image"] for c in result.json()["containerDefinitions"]}
    assert images["web"] == "<IMAGE1_NAME>" and images["log-router"].startswith("public.ecr.aws/")


def test_register_creates_exactly_one_revision(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    register(ecs, example_taskdef("prod"))
    result = invoke("register", "--env", "prod", "--image", f"{APP_REPO}:abc", cwd=project, env=aws_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-api-prod:2\n"
    arns = ecs.list_task_definitions(familyPrefix="checkout-api-prod")["taskDefinitionArns"]
    assert len(arns) == 2
    registered = ecs.describe_task_definition(taskDefinition="checkout-api-prod:2", include=["TAGS"])
    assert registered["taskDefinition"]["containerDefinitions"][0]["image"] == f"{APP_REPO}:abc"
    assert {"key": "env", "value": "prod"} in registered["tags"]
    # The environment tag is registered with the revision: the next render knows whose base it is.
    assert {"key": "ecs-overlay:environment", "value": "prod"} in registered["tags"]


def test_register_dry_run_calls_no_aws(invoke, project: Path) -> None:
    result = invoke("register", "--env", "prod", *BASE, "--dry-run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "valid RegisterTaskDefinition request; nothing registered" in result.stderr and result.stdout == ""


def test_register_access_denied_names_register_and_pass_role(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(400, {"__type": "AccessDeniedException", "message": "not authorized"})
    result = invoke("register", "--env", "prod", *BASE, cwd=project, env=fake_ecs.env())
    assert result.returncode == 3
    assert "ecs:RegisterTaskDefinition (and iam:PassRole" in result.stderr


@pytest.mark.e2e
def test_the_example_buildspec_line_produces_a_deployable_pair(
    project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    register(ecs, example_taskdef("prod"))
    buildspec = yaml.safe_load((REPO / "examples" / "codebuild" / "buildspec.yml").read_text())
    [line] = [command for command in buildspec["phases"]["build"]["commands"] if command.startswith("ecs-overlay")]
    assert buildspec["artifacts"]["files"] == ["taskdef.json", "appspec.yaml"]
    env = clean_environ(
        {
            **aws_env,
            **buildspec["env"]["variables"],
            "DEPLOY_ENV": "prod",
            "REPOSITORY_URI": APP_REPO,
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "4f2d9c1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
            "PATH": f"{Path(installed_command()).parent}:{os.environ['PATH']}",
        }
    )
    process = subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    taskdef = json.loads((project / "taskdef.json").read_text())
    web = taskdef["containerDefinitions"][0]
    assert web["image"] == f"{APP_REPO}:4f2d9c1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
    assert {"name": "GIT_COMMIT", "value": "4f2d9c1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"} in web["environment"]
    appspec = yaml.safe_load((project / "appspec.yaml").read_text())
    info = appspec["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"]
    assert info == {"ContainerName": "web", "ContainerPort": 8080}
    # Deployable: the API takes the task definition as written.
    ecs.register_task_definition(**taskdef)
