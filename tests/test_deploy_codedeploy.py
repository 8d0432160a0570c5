"""deploy onto a CodeDeploy-controlled service: the revision registered, the CodeDeploy deployment
created with the AppSpec as content (as CodePipeline's CodeDeployToECS action does) and followed.

moto 5.2.5 models CodeDeploy's applications, deployment groups (with their ECS services) and
CreateDeployment, but its deployments stay "Created" and it has no ListDeploymentTargets,
GetDeploymentTarget or StopDeployment: the fault proxy answers those while the rest goes to moto.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import FaultProxy, moto_client
from .test_deploy import NEW, OLD, deploy, running
from .test_e2e_aws import example_taskdef

ROLE = "arn:aws:iam::123456789012:role/codedeploy-ecs"


@pytest.fixture
def codedeploy(aws_env: dict[str, str], moto_endpoint: str, ecs: Any) -> Any:
    return moto_client("codedeploy", moto_endpoint, aws_env["AWS_REGION"])


def deployment_group(codedeploy: Any, application: str, group: str, cluster: str, service: str) -> None:
    if application not in codedeploy.list_applications()["applications"]:
        codedeploy.create_application(applicationName=application, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=ROLE,
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": service, "clusterName": cluster}],
    )


@pytest.fixture
def blue_green(ecs: Any, codedeploy: Any) -> str:
    """Service shop/checkout on checkout-api-prod:1, deployed by CodeDeploy (checkout-api/checkout-api-prod),
    next to another application whose group deploys another service."""
    arn: str = ecs.register_task_definition(**example_taskdef("prod"))["taskDefinition"]["taskDefinitionArn"]
    assert arn == OLD
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(
        cluster="shop", serviceName="checkout", taskDefinition=arn, desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )  # fmt: skip
    deployment_group(codedeploy, "cart", "cart-prod", "shop", "cart")
    deployment_group(codedeploy, "checkout-api", "checkout-api-prod", "shop", "checkout")
    return arn


def deployment(status: str, **extra: Any) -> dict[str, Any]:
    return {"deploymentInfo": {"deploymentId": "d-FAKE", "status": status, **extra}}


def test_a_codedeploy_service_gets_a_codedeploy_deployment_with_the_new_revision_in_its_appspec(
    invoke: Any, project: Path, ecs: Any, codedeploy: Any, blue_green: str, aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    fault_proxy.forward("GetDeployment")  # moto's own answer: "Created"
    fault_proxy.answer("GetDeployment", 200, deployment("InProgress"))
    fault_proxy.answer("GetDeployment", 200, deployment("Succeeded"))
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    assert result.stdout == NEW + "\n"
    lines = result.stderr.splitlines()
    assert f"registered {NEW}" in lines
    [created] = [line for line in lines if line.startswith("created CodeDeploy deployment")]
    assert created.endswith(f"(checkout-api/checkout-api-prod) of service shop/checkout: {OLD} -> {NEW}")
    [deployment_id] = codedeploy.list_deployments()["deployments"]  # moto's id for it
    assert lines[-4:] == [
        "status [0s]: Created",  # moto's answer
        "status [0s]: InProgress",
        "status [0s]: Succeeded",
        f"deployment {deployment_id} succeeded",
    ]
    [request] = fault_proxy.sent("CreateDeployment")
    assert (request["applicationName"], request["deploymentGroupName"]) == ("checkout-api", "checkout-api-prod")
    revision = request["revision"]
    assert revision["revisionType"] == "AppSpecContent"
    content = json.loads(revision["appSpecContent"]["content"])
    properties = content["Resources"][0]["TargetService"]["Properties"]
    assert properties["TaskDefinition"] == NEW
    assert properties["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8080}
    assert properties["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert content["Hooks"] == [{"AfterAllowTestTraffic": "checkout-api-smoke-test"}]
    assert (
        revision["appSpecContent"]["sha256"]
        == hashlib.sha256(revision["appSpecContent"]["content"].encode()).hexdigest()
    )
    # moto holds the deployment as created; the service itself is CodeDeploy's to change, not UpdateService's.
    stored = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert stored["revision"]["appSpecContent"]["content"] == revision["appSpecContent"]["content"]
    assert "UpdateService" not in fault_proxy.operations and running(ecs) == OLD


def test_a_stopped_codedeploy_deployment_exits_5(
    invoke: Any, project: Path, ecs: Any, blue_green: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    error = {"code": "DEPLOYMENT_STOPPED", "message": "The deployment was stopped by the user."}
    fault_proxy.answer("GetDeployment", 200, deployment("Stopped", errorInformation=error))
    fault_proxy.answer("ListDeploymentTargets", 200, {"targetIds": []})
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 5
    assert "ended Stopped (DEPLOYMENT_STOPPED: The deployment was stopped by the user.)" in result.stderr


def test_a_failed_codedeploy_deployment_exits_5_and_shows_the_failed_lifecycle_event(
    invoke: Any, project: Path, ecs: Any, codedeploy: Any, blue_green: str, aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    error = {"code": "HEALTH_CONSTRAINTS", "message": "The deployment failed because a hook failed."}
    fault_proxy.answer(
        "GetDeployment", 200,
        deployment("Failed", errorInformation=error, rollbackInfo={"rollbackDeploymentId": "d-BACK"}),
    )  # fmt: skip
    fault_proxy.answer("ListDeploymentTargets", 200, {"targetIds": ["shop:checkout"]})
    events = [
        {"lifecycleEventName": "BeforeInstall", "status": "Succeeded"},
        {
            "lifecycleEventName": "AfterAllowTestTraffic",
            "status": "Failed",
            "diagnostics": {
                "errorCode": "ScriptFailed",
                "scriptName": "checkout-api-smoke-test",
                "message": "The Lambda function reported Failed",
                "logTail": "GET /health 503\n",
            },
        },
    ]
    target = {"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": {"lifecycleEvents": events}}}
    fault_proxy.answer("GetDeploymentTarget", 200, target)
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 5, result.stderr
    assert (
        "lifecycle event AfterAllowTestTraffic failed: errorCode ScriptFailed, scriptName checkout-api-smoke-test, "
        "message The Lambda function reported Failed; log tail: GET /health 503"
    ) in result.stderr.splitlines()
    assert "BeforeInstall" not in result.stderr
    [deployment_id] = codedeploy.list_deployments()["deployments"]
    assert (
        f"Error: CodeDeploy deployment {deployment_id} ended Failed (HEALTH_CONSTRAINTS: The deployment failed "
        "because a hook failed.); CodeDeploy rolls back in deployment d-BACK"
    ) in result.stderr
    assert fault_proxy.sent("GetDeploymentTarget") == [{"deploymentId": deployment_id, "targetId": "shop:checkout"}]


def test_a_codedeploy_deployment_still_running_at_the_deadline_is_stopped_with_rollback(
    invoke: Any, project: Path, ecs: Any, codedeploy: Any, blue_green: str, aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    fault_proxy.answer("GetDeployment", 200, deployment("InProgress"))
    fault_proxy.answer("StopDeployment", 200, {"status": "Pending", "statusMessage": "Stopping"})
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--wait-timeout", "0", "--rollback")
    assert result.returncode == 5
    assert "did not finish within 0 s (--wait-timeout): InProgress; stopped it" in result.stderr
    [stop] = fault_proxy.sent("StopDeployment")
    assert (
        stop["autoRollbackEnabled"] is True and stop["deploymentId"] == codedeploy.list_deployments()["deployments"][0]
    )


def test_codedeploy_config_names_the_deployment_group_and_skips_the_search(
    invoke: Any, project: Path, ecs: Any, codedeploy: Any, blue_green: str, aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    deployment_group(codedeploy, "checkout-api", "checkout-api-canary", "shop", "checkout")  # a second group
    fault_proxy.answer("GetDeployment", 200, deployment("Succeeded"))
    ambiguous = deploy(invoke, project, fault_proxy.env(aws_env))
    assert ambiguous.returncode == 2
    assert "2 CodeDeploy deployment groups deploy service shop/checkout" in ambiguous.stderr
    assert "checkout-api/checkout-api-prod, checkout-api/checkout-api-canary" in ambiguous.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations
    fault_proxy.operations.clear()
    chosen = deploy(
        invoke, project, fault_proxy.env(aws_env), "--codedeploy-config", "checkout-api", "checkout-api-canary"
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "ListApplications" not in fault_proxy.operations
    assert fault_proxy.sent("CreateDeployment")[-1]["deploymentGroupName"] == "checkout-api-canary"


def test_the_appspec_codedeploy_setting_names_the_deployment_group(
    invoke: Any, project: Path, ecs: Any, codedeploy: Any, blue_green: str, aws_env: dict[str, str],
    fault_proxy: FaultProxy,
) -> None:  # fmt: skip
    deployment_group(codedeploy, "checkout-api", "checkout-api-canary", "shop", "checkout")
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write(
            "  codedeploy:\n    applicationName: checkout-api\n    deploymentGroupName: checkout-api-canary\n"
            "    deploymentConfigName: CodeDeployDefault.ECSCanary10Percent5Minutes\n"
        )
    fault_proxy.answer("GetDeployment", 200, deployment("Succeeded"))
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    [request] = fault_proxy.sent("CreateDeployment")
    assert request["deploymentGroupName"] == "checkout-api-canary"
    assert request["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert "ListApplications" not in fault_proxy.operations


def test_a_codedeploy_service_without_a_deployment_group_is_refused_before_anything_is_registered(
    invoke: Any, project: Path, ecs: Any, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    arn = ecs.register_task_definition(**example_taskdef("prod"))["taskDefinition"]["taskDefinitionArn"]
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(
        cluster="shop", serviceName="checkout", taskDefinition=arn, desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )  # fmt: skip
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 2
    assert "no CodeDeploy deployment group deploys service shop/checkout; name the one to use with " in result.stderr
    assert "--codedeploy-config APPLICATION DEPLOYMENT_GROUP" in result.stderr
    assert ecs.list_task_definitions()["taskDefinitionArns"] == [arn]


def test_an_appspec_that_cannot_be_built_is_refused_before_anything_is_registered(
    invoke: Any, project: Path, ecs: Any, blue_green: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    with (project / "environments" / "prod.yaml").open("a") as overlay:
        overlay.write("  containerPort: 9999\n")
    result = deploy(invoke, project, fault_proxy.env(aws_env))
    assert result.returncode == 1, result.stderr
    assert "port 9999" in result.stderr
    assert not {"RegisterTaskDefinition", "CreateDeployment"} & set(fault_proxy.operations)


def test_dry_run_names_the_codedeploy_deployment_it_would_create(
    invoke: Any, project: Path, ecs: Any, blue_green: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert (
        "updated with: a CodeDeploy deployment (checkout-api/checkout-api-prod) of <new revision of "
        "checkout-api-prod>; nothing registered or changed"
    ) in result.stderr
    assert not {"RegisterTaskDefinition", "CreateDeployment"} & set(fault_proxy.operations)


def test_options_that_update_the_service_are_refused_for_a_codedeploy_service(
    invoke: Any, project: Path, ecs: Any, blue_green: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--desired-count", "3")
    assert result.returncode == 2
    assert "desiredCount: service shop/checkout is deployed by CodeDeploy" in result.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations


def test_a_registered_revision_is_deployed_through_codedeploy_without_registering(
    invoke: Any, project: Path, ecs: Any, blue_green: str, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.answer("GetDeployment", 200, deployment("Succeeded"))
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--revision", "latest")
    assert result.returncode == 0, result.stderr
    assert result.stdout == OLD + "\n"
    assert "RegisterTaskDefinition" not in fault_proxy.operations
    [request] = fault_proxy.sent("CreateDeployment")
    content = json.loads(request["revision"]["appSpecContent"]["content"])
    assert content["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == OLD


def test_codedeploy_config_for_a_service_ecs_deploys_is_a_usage_error(
    invoke: Any, project: Path, ecs: Any, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    arn = ecs.register_task_definition(**example_taskdef("prod"))["taskDefinition"]["taskDefinitionArn"]
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(cluster="shop", serviceName="checkout", taskDefinition=arn, desiredCount=1)
    result = deploy(invoke, project, fault_proxy.env(aws_env), "--codedeploy-config", "checkout-api", "prod")
    assert result.returncode == 2
    assert "--codedeploy-config: service shop/checkout is deployed by ECS (deploymentController ECS)" in result.stderr
    assert "RegisterTaskDefinition" not in fault_proxy.operations
