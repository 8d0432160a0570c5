"""deploy: register the rendered task definition, point the service at it, and follow the rollout to its end.

For services ECS deploys itself (rolling updates and ECS-native blue/green). The steps talk to AWS
through the run's one connection (``aws.Ecs``) and report through two callables, so the command
decides how progress looks (a rewritten status line on a terminal, plain lines in CI).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import DeploymentError, UsageError

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace

# The members of UpdateService's deploymentConfiguration an environment's `service:` section may set;
# the rest of the service's configuration is left as it is.
MANAGED_DEPLOYMENT_FIELDS = ("strategy", "bakeTimeInMinutes", "lifecycleHooks", "deploymentCircuitBreaker")


@dataclass
class Plan:
    """What a deploy changes: the service as it is, and the update it would get (before registering)."""

    cluster: str
    service: str
    place: AwsPlace  # the environment's region and account
    previous: str  # the task definition the service runs now
    described: dict[str, Any] = field(default_factory=dict, repr=False)
    deployment_configuration: dict[str, Any] | None = None  # None: left as it is
    # UpdateService members set by options (--desired-count, --force-new-deployment) and pass-through
    # `service:` keys (propagateTags, enableECSManagedTags); see deploy_options.py.
    extra_changes: dict[str, Any] = field(default_factory=dict)

    @property
    def controller(self) -> str:
        return str((self.described.get("deploymentController") or {}).get("type", "ECS"))

    def configure(self, settings: Mapping[str, Any] | None) -> None:
        """Take the managed fields of an environment's `service:` section over the service's own."""
        wanted = (settings or {}).get("deploymentConfiguration") or {}
        if wanted:
            current = self.described.get("deploymentConfiguration") or {}
            managed = {key: wanted[key] for key in MANAGED_DEPLOYMENT_FIELDS if key in wanted}
            self.deployment_configuration = {**current, **managed}

    def update(self, taskdef_arn: str) -> dict[str, Any]:
        changes: dict[str, Any] = {"taskDefinition": taskdef_arn}
        if self.deployment_configuration is not None:
            changes["deploymentConfiguration"] = self.deployment_configuration
        return {**changes, **self.extra_changes}


@dataclass
class Progress:
    """Where to say things: ``line`` for what stays in the log, ``status`` for the line that changes,
    ``done`` once waiting is over (a status line on a terminal is ended before anything else is said)."""

    line: Callable[[str], None]
    status: Callable[[str], None]
    done: Callable[[], None]


def plan(aws: Ecs, cluster: str, service: str, place: AwsPlace) -> Plan:
    """The service as it runs now, checked to be one ECS or CodeDeploy deploys."""
    described = aws.describe_service(cluster, service, *place)
    controller = (described.get("deploymentController") or {}).get("type", "ECS")
    if controller not in ("ECS", "CODE_DEPLOY"):  # CODE_DEPLOY: codedeploy.py creates the deployment
        raise UsageError(
            f"service {cluster}/{service} has deploymentController {controller}; deploy updates only services "
            "ECS deploys itself (ECS: rolling or BLUE_GREEN) or CodeDeploy deploys (CODE_DEPLOY)"
        )
    return Plan(cluster, service, place, str(described.get("taskDefinition")), described)


def deploy(
    aws: Ecs,
    planned: Plan,
    taskdef: dict[str, Any],
    progress: Progress,
    wait_timeout: float,
    poll_interval: float,
    rollback: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    existing: str | None = None,
    before_update: Callable[[str], None] | None = None,
) -> str:
    """Register, update the service, wait for the rollout; the new revision's ARN.

    ``existing``: deploy this registered revision instead of registering ``taskdef`` (--revision, rollback);
    ``before_update(arn)`` runs between the two (one-off tasks, onetask.py) and may stop the deploy.

    A rollout that fails or does not finish within ``wait_timeout`` raises DeploymentError (exit 5),
    after updating the service back to the revision it ran before when ``rollback`` is set.
    """
    arn = existing or aws.register(taskdef, *planned.place)
    progress.line(f"deploying the registered revision {arn}" if existing else f"registered {arn}")
    if before_update is not None:
        before_update(arn)
    seen = {event.get("id") for event in planned.described.get("events") or []}
    aws.update_service(planned.cluster, planned.service, *planned.place, **planned.update(arn))
    progress.line(f"updated service {planned.cluster}/{planned.service}: {planned.previous} -> {arn}")
    deadline = clock() + wait_timeout
    while True:
        described = aws.describe_service(planned.cluster, planned.service, *planned.place)
        for event in reversed(described.get("events") or []):
            if event.get("id") not in seen:
                seen.add(event.get("id"))
                progress.line(f"event: {event.get('message')}")
        outcome, state = rollout(described, arn)
        progress.status(state)
        if outcome == "completed":
            progress.done()
            progress.line(f"deployment completed: {state}")
            return arn
        failure = f"the deployment failed: {state}" if outcome == "failed" else None
        if failure is None and clock() >= deadline:
            failure = f"the deployment did not complete within {wait_timeout:g} s (--wait-timeout): {state}"
        if failure is not None:
            progress.done()
            raise DeploymentError(failure + "; " + _after_failure(aws, planned, rollback, progress))
        sleep(poll_interval)


def rollout(described: Mapping[str, Any], arn: str) -> tuple[str, str]:
    """("completed" | "failed" | "in progress", a one-line state) of the deployment of ``arn``."""
    deployments = [d for d in described.get("deployments") or [] if isinstance(d, dict)]
    ours = next((d for d in deployments if d.get("taskDefinition") == arn), None)
    if ours is None:
        return "failed", f"the service has no deployment of {arn} any more (another deploy or a rollback replaced it)"
    counts = (
        f"{ours.get('runningCount', 0)}/{ours.get('desiredCount', 0)} running, {ours.get('pendingCount', 0)} pending"
    )
    state = ours.get("rolloutState")
    reason = ours.get("rolloutStateReason")
    text = f"{ours.get('status', '?')} {state or 'no rollout state'}, {counts}" + (f" ({reason})" if reason else "")
    if state == "FAILED" or ours.get("status") == "INACTIVE":
        return "failed", text
    primary = ours.get("status") == "PRIMARY"
    if primary and state == "COMPLETED":
        return "completed", text
    # Without a rollout state (an older API answer): done when it is the only deployment, all running.
    if primary and state is None and len(deployments) == 1 and ours.get("runningCount") == ours.get("desiredCount"):
        return "completed", text
    return "in progress", text


def _after_failure(aws: Ecs, planned: Plan, rollback: bool, progress: Progress) -> str:
    if not rollback:
        return (
            f"the service keeps the new revision; roll back with `aws ecs update-service --cluster {planned.cluster} "
            f"--service {planned.service} --task-definition {planned.previous}`, or run deploy with --rollback"
        )
    aws.update_service(planned.cluster, planned.service, *planned.place, taskDefinition=planned.previous)
    progress.line(f"rolled back: service {planned.cluster}/{planned.service} updated to {planned.previous}")
    return f"rolled back to {planned.previous} (ECS is deploying it now)"
