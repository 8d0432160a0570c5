"""deploy for CodeDeploy-controlled services (deploymentController CODE_DEPLOY), as CodePipeline's
CodeDeployToECS action does it: register the revision, fill its ARN into the AppSpec built from the
environment's `appspec:` section, CreateDeployment with the AppSpec as its content, and follow the
deployment to its end, showing the lifecycle event that failed and why.

Which application and deployment group: `--codedeploy-config APPLICATION DEPLOYMENT_GROUP`, else the
`appspec.codedeploy` setting of the environment, else the one deployment group whose ECS services
include the service (found by listing the account's applications and groups).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import appspec
from .errors import AwsError, DeploymentError, InvalidInputError, UsageError
from .findings import Finding
from .secrets import mask_text

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace
    from .deploy import Plan, Progress

_FINISHED_BADLY = ("Failed", "Stopped")
_READ = "codedeploy:ListApplications, codedeploy:ListDeploymentGroups and codedeploy:GetDeploymentGroup"
_FOLLOW = "codedeploy:GetDeployment, codedeploy:ListDeploymentTargets and codedeploy:GetDeploymentTarget"


class Target(NamedTuple):
    """Where CodeDeploy deploys the service: its application and deployment group."""

    application: str
    group: str
    config: str | None = None  # deploymentConfigName, when the run overrides the group's


def find_target(
    aws: Ecs,
    cluster: str,
    service: str,
    place: AwsPlace,
    given: tuple[str, str] | None,
    settings: Mapping[str, Any] | None,
) -> Target:
    """--codedeploy-config, else `appspec: codedeploy:`, else the deployment group that deploys the service."""
    configured = (settings or {}).get("codedeploy") or {}
    config = configured.get("deploymentConfigName")
    if given is not None:
        return Target(given[0], given[1], config)
    if configured.get("applicationName") and configured.get("deploymentGroupName"):
        return Target(str(configured["applicationName"]), str(configured["deploymentGroupName"]), config)
    if configured.get("applicationName") or configured.get("deploymentGroupName"):
        raise UsageError(
            "appspec.codedeploy needs applicationName and deploymentGroupName together; set both (or neither, "
            "to find the deployment group that deploys the service)"
        )
    found = _groups_deploying(aws, cluster, service, place)
    if len(found) == 1:
        return Target(*found[0], config)
    listed = ", ".join(f"{application}/{group}" for application, group in found)
    what = f"{len(found)} CodeDeploy deployment groups deploy" if found else "no CodeDeploy deployment group deploys"
    raise UsageError(
        f"{what} service {cluster}/{service}{f' ({listed})' if found else ''}; name the one to use with "
        "--codedeploy-config APPLICATION DEPLOYMENT_GROUP, or set appspec.codedeploy.applicationName and "
        "deploymentGroupName in the environment"
    )


def _groups_deploying(aws: Ecs, cluster: str, service: str, place: AwsPlace) -> list[tuple[str, str]]:
    found = []
    for application in _listed(aws, "list_applications", "applications", place):
        for group in _listed(aws, "list_deployment_groups", "deploymentGroups", place, applicationName=application):
            info = (
                _call(
                    aws, "get_deployment_group", _READ, place, applicationName=application, deploymentGroupName=group
                ).get("deploymentGroupInfo")
                or {}
            )
            for ecs_service in info.get("ecsServices") or []:
                if (
                    isinstance(ecs_service, dict)
                    and ecs_service.get("serviceName") == service
                    and _name(str(ecs_service.get("clusterName"))) == _name(cluster)
                ):
                    found.append((application, group))
    return found


def _listed(aws: Ecs, operation: str, key: str, place: AwsPlace, **params: Any) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        page = _call(aws, operation, _READ, place, **params, **({"nextToken": token} if token else {}))
        names += [name for name in page.get(key) or [] if isinstance(name, str)]
        token = page.get("nextToken")
        if not token:
            return names


def _name(cluster: str) -> str:
    """A cluster's name, from its name or ARN."""
    return cluster.rsplit("/", 1)[-1]


def _call(aws: Ecs, operation: str, permission: str, place: AwsPlace, **params: Any) -> dict[str, Any]:
    return aws.call("codedeploy", operation, permission, region=place.region, role_arn=place.role_arn, **params)


def appspec_content(taskdef: Mapping[str, Any], settings: Mapping[str, Any] | None, arn: str) -> str:
    """The AppSpec (JSON, which CodeDeploy reads as it reads YAML) with ``arn`` as its TaskDefinition."""
    document = appspec.build(taskdef, settings or {})
    if isinstance(document, Finding):
        raise InvalidInputError(f"cannot build the AppSpec for CodeDeploy: {document.message}")
    document["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] = arn
    return json.dumps(document, indent=2)


def deploy(
    aws: Ecs,
    planned: Plan,
    taskdef: dict[str, Any],
    settings: Mapping[str, Any] | None,
    target: Target,
    progress: Progress,
    wait_timeout: float,
    poll_interval: float,
    rollback: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    existing: str | None = None,
    before_update: Callable[[str], None] | None = None,
) -> str:
    """Register (unless ``existing``), create the CodeDeploy deployment and follow it; the revision's ARN.

    A deployment that ends Failed or Stopped, or does not end within ``wait_timeout``, raises
    DeploymentError (exit 5); with ``rollback``, one still running at the deadline is stopped with
    CodeDeploy's own rollback (StopDeployment, autoRollbackEnabled).
    """
    appspec_content(taskdef, settings, "<checked before registering>")
    arn = existing or aws.register(taskdef, *planned.place)
    progress.line(f"deploying the registered revision {arn}" if existing else f"registered {arn}")
    if before_update is not None:
        before_update(arn)
    content = appspec_content(taskdef, settings, arn)
    request: dict[str, Any] = {
        "applicationName": target.application,
        "deploymentGroupName": target.group,
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
        },
        "description": f"ecs-overlay: {planned.cluster}/{planned.service} to {arn}",
    }
    if target.config:
        request["deploymentConfigName"] = target.config
    created = _call(
        aws, "create_deployment", "codedeploy:CreateDeployment (and iam:PassRole)", planned.place, **request
    )
    deployment = created.get("deploymentId")
    if not isinstance(deployment, str):
        raise AwsError("AWS sent a malformed CreateDeployment response (no deploymentId); check AWS_ENDPOINT_URL")
    progress.line(
        f"created CodeDeploy deployment {deployment} ({target.application}/{target.group}) of service "
        f"{planned.cluster}/{planned.service}: {planned.previous} -> {arn}"
    )
    started = clock()
    deadline = started + wait_timeout
    while True:
        info = _call(aws, "get_deployment", _FOLLOW, planned.place, deploymentId=deployment).get("deploymentInfo")
        info = info if isinstance(info, dict) else {}
        status = str(info.get("status") or "unknown")
        state = _state(info)
        progress.status(state, clock() - started)
        if status == "Succeeded":
            progress.done()
            progress.line(f"deployment {deployment} succeeded")
            return arn
        if status in _FINISHED_BADLY:
            progress.done()
            for problem in lifecycle_failures(aws, deployment, planned.place):
                progress.line(problem)
            raise DeploymentError(f"CodeDeploy deployment {deployment} ended {state}; {_rolled_back(info)}")
        if clock() >= deadline:
            progress.done()
            raise DeploymentError(
                f"CodeDeploy deployment {deployment} did not finish within {wait_timeout:g} s (--wait-timeout): "
                f"{state}; " + _stop(aws, deployment, planned.place, rollback, progress)
            )
        sleep(poll_interval)


def _state(info: Mapping[str, Any]) -> str:
    status = str(info.get("status") or "unknown")
    error = info.get("errorInformation") or {}
    if status == "Ready":
        status += " (waiting to reroute traffic: continue it with `aws deploy continue-deployment`)"
    if error:
        status += f" ({error.get('code', 'no code')}: {error.get('message', 'no message')})"
    return status


def _rolled_back(info: Mapping[str, Any]) -> str:
    rollback = info.get("rollbackInfo") or {}
    if rollback.get("rollbackDeploymentId"):
        return f"CodeDeploy rolls back in deployment {rollback['rollbackDeploymentId']}" + (
            f" ({rollback['rollbackMessage']})" if rollback.get("rollbackMessage") else ""
        )
    return (
        "CodeDeploy reported no rollback deployment (automatic rollback on failure is the deployment group's setting)"
    )


def _stop(aws: Ecs, deployment: str, place: AwsPlace, rollback: bool, progress: Progress) -> str:
    if not rollback:
        return (
            f"it goes on; stop it with `aws deploy stop-deployment --deployment-id {deployment} "
            "--auto-rollback-enabled`, or run deploy with --rollback"
        )
    _call(aws, "stop_deployment", "codedeploy:StopDeployment", place, deploymentId=deployment, autoRollbackEnabled=True)
    progress.line(f"stopped CodeDeploy deployment {deployment} with its rollback")
    return "stopped it; CodeDeploy rolls back to the original task set"


def lifecycle_failures(aws: Ecs, deployment: str, place: AwsPlace) -> list[str]:
    """One line per lifecycle event that failed, with CodeDeploy's diagnostics (the hook's error and log tail)."""
    targets = _call(aws, "list_deployment_targets", _FOLLOW, place, deploymentId=deployment).get("targetIds") or []
    lines = []
    for target_id in targets:
        found = _call(aws, "get_deployment_target", _FOLLOW, place, deploymentId=deployment, targetId=target_id)
        ecs_target = (found.get("deploymentTarget") or {}).get("ecsTarget") or {}
        for event in ecs_target.get("lifecycleEvents") or []:
            if not isinstance(event, dict) or event.get("status") != "Failed":
                continue
            diagnostics = event.get("diagnostics") or {}
            details = ", ".join(
                f"{key} {diagnostics[key]}" for key in ("errorCode", "scriptName", "message") if diagnostics.get(key)
            )
            line = f"lifecycle event {event.get('lifecycleEventName')} failed" + (f": {details}" if details else "")
            if diagnostics.get("logTail"):
                line += f"; log tail: {str(diagnostics['logTail']).strip()}"
            lines.append(mask_text(line))  # a hook's log tail may quote a credential
    return lines
