"""deploy: register the rendered task definition, point the service at it, and follow the rollout to its end.

For services ECS deploys itself (rolling updates and ECS-native blue/green). The steps talk to AWS
through the run's one connection (``aws.Ecs``) and report through two callables, so the command
decides how progress looks (a rewritten status line on a terminal, plain lines in CI).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import schemas
from .errors import AwsError, DeploymentError, UsageError
from .secrets import mask_text

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace

WaitUntil = Literal["stable", "completed", "none"]
WAIT_UNTIL: tuple[WaitUntil, ...] = ("stable", "completed", "none")
# Stopped tasks shown when a deployment fails: the most recent few say why tasks die.
STOPPED_TASKS_SHOWN = 5


@dataclass
class Plan:
    """What a deploy changes: the service as it is, and the update it would get (before registering)."""

    cluster: str
    service: str
    place: AwsPlace  # the environment's region and account
    previous: str  # the task definition the service runs now
    described: dict[str, Any] = field(default_factory=dict, repr=False)
    # The UpdateService members the environment's `service:` section sets, as they will be sent.
    settings: dict[str, Any] = field(default_factory=dict)
    # UpdateService members set by options (--desired-count, --force-new-deployment); see deploy_extras.py.
    extra_changes: dict[str, Any] = field(default_factory=dict)

    @property
    def controller(self) -> str:
        return str((self.described.get("deploymentController") or {}).get("type", "ECS"))

    def configure(self, section: Mapping[str, Any] | None) -> None:
        """Take an environment's `service:` section (merged, checked) as the update's settings."""
        self.settings = service_settings(section, self.described)

    def update(self, taskdef_arn: str) -> dict[str, Any]:
        return {"taskDefinition": taskdef_arn, **self.settings, **self.extra_changes}

    def ecs_rolls_back(self) -> bool:
        """Whether ECS itself rolls a failed deployment back (circuit breaker or alarms with rollback)."""
        configuration = self.settings.get("deploymentConfiguration") or self.described.get("deploymentConfiguration")
        configuration = configuration if isinstance(configuration, dict) else {}
        return any(
            isinstance(configuration.get(name), dict)
            and configuration[name].get("enable")
            and configuration[name].get("rollback")
            for name in ("deploymentCircuitBreaker", "alarms")
        )


def service_settings(section: Mapping[str, Any] | None, described: Mapping[str, Any]) -> dict[str, Any]:
    """The UpdateService members a `service:` section sends.

    ``deploymentConfiguration`` is sent over the service's current one, member by member (a member the
    section writes replaces the service's whole). A null removes: a list is sent empty
    (``lifecycleHooks: null`` clears the hooks), anything else is left out of what is sent.
    """
    settings: dict[str, Any] = {}
    properties = schemas.load("service")["properties"]
    definitions = schemas.load("service")["$defs"]
    for name, wanted in (section or {}).items():
        schema = schemas.resolve(properties.get(name, {}), schemas.load("service"))
        if name == "deploymentConfiguration" and isinstance(wanted, dict):
            current = described.get("deploymentConfiguration")
            configuration = dict(current) if isinstance(current, dict) else {}
            members = definitions["DeploymentConfiguration"]["properties"]
            for member, value in wanted.items():
                configuration.pop(member, None)
                if value is not None:
                    configuration[member] = _without_nulls(value)
                elif members.get(member, {}).get("type") == "array":
                    configuration[member] = []
            settings[name] = configuration
        elif wanted is not None:
            settings[name] = _without_nulls(wanted)
        elif schema.get("type") == "array":
            settings[name] = []
    return settings


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(child) for key, child in value.items() if child is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


@dataclass
class Progress:
    """Where to say things: ``line`` for what stays in the log, ``status`` for the line that changes (with
    the seconds waited so far), ``done`` once waiting is over (a status line on a terminal is ended before
    anything else is said)."""

    line: Callable[[str], None]
    status: Callable[[str, float], None]
    done: Callable[[], None]


@dataclass(frozen=True)
class Waiting:
    """How deploy waits: until the service is ``stable`` (the services-stable waiter's test), the
    rollout ``completed`` (rolloutState COMPLETED), or ``none``; at most ``timeout`` seconds."""

    until: WaitUntil = "completed"
    timeout: float = 900
    poll_interval: float = 10


def duration(seconds: float) -> str:
    """``75`` → ``1m15s``; ``8`` → ``8s``: how long deploy has waited, as a progress line says it."""
    whole = int(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


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


class _Run:
    """One deploy after registering: the service's events seen so far and the clock it waits by."""

    def __init__(
        self,
        aws: Ecs,
        planned: Plan,
        progress: Progress,
        waiting: Waiting,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.aws = aws
        self.planned = planned
        self.progress = progress
        self.waiting = waiting
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.seen = {event.get("id") for event in planned.described.get("events") or []}
        self.service_deployment: str | None = None  # our deployment's ARN (for StopServiceDeployment)

    def describe(self) -> dict[str, Any]:
        planned = self.planned
        described = self.aws.describe_service(planned.cluster, planned.service, *planned.place)
        for event in reversed(described.get("events") or []):
            if event.get("id") not in self.seen:
                self.seen.add(event.get("id"))
                self.progress.line(f"event: {event.get('message')}")
        return described

    def watch(self, arn: str, until: WaitUntil, rollback: bool = False) -> tuple[str, str, dict[str, Any]]:
        """Poll until the deployment of ``arn`` ends: (outcome, its state, the service as last described);
        the outcome is "completed", "failed", "rolled back" (by ECS), or "timed out". A ``rollback``'s
        deployment may not have started yet: until it has, it is in progress."""
        deadline = self.clock() + self.waiting.timeout
        while True:
            described = self.describe()
            outcome, state = rollout(described, arn, until)
            if rollback and _ours(described, arn) is None:
                outcome, state = "in progress", f"waiting for ECS to start the deployment of {arn}"
            current = described.get("currentServiceDeployment")
            if isinstance(current, str) and _primary(described, arn):
                self.service_deployment = current
            self.progress.status(state, self.clock() - self.started)
            if outcome == "failed" and not rollback and self._ecs_rolling_back(described, arn):
                outcome = "rolled back"
            if outcome != "in progress":
                self.progress.done()
                return outcome, state, described
            if self.clock() >= deadline:
                self.progress.done()
                return "timed out", state, described
            self.sleep(self.waiting.poll_interval)

    def _ecs_rolling_back(self, described: Mapping[str, Any], arn: str) -> bool:
        """Whether ECS rolls back the failed deployment of ``arn`` itself: another revision's deployment is
        primary (the previous one, or any after ours failed), or the service is set to roll back and will."""
        ours = _ours(described, arn)
        failed = ours is not None and ours.get("rolloutState") == "FAILED"
        primary = _primary_deployment(described)
        if primary is not None and primary.get("taskDefinition") not in (None, arn):
            return primary.get("taskDefinition") == self.planned.previous or failed
        return failed and self.planned.ecs_rolls_back()

    def stopped_tasks(self, arn: str) -> None:
        """Say why the new revision's tasks died: the latest stopped tasks' reasons and exit codes."""
        planned, region, role_arn = self.planned, *self.planned.place
        listed = self.aws.ask(
            "ecs",
            "list_tasks",
            "ecs:ListTasks",
            region=region,
            role_arn=role_arn,
            cluster=planned.cluster,
            serviceName=planned.service,
            desiredStatus="STOPPED",
        )
        arns = listed.body.get("taskArns") if listed.status == "ok" and isinstance(listed.body, dict) else None
        if listed.status != "ok":
            self.progress.line(f"could not read the stopped tasks: {listed.reason or listed.status}")
            return
        if not arns:
            return
        answer = self.aws.ask(
            "ecs",
            "describe_tasks",
            "ecs:DescribeTasks",
            region=region,
            role_arn=role_arn,
            cluster=planned.cluster,
            tasks=arns[:100],
        )
        if answer.status != "ok" or not isinstance(answer.body, dict):
            self.progress.line(f"could not describe the stopped tasks: {answer.reason or answer.status}")
            return
        tasks = [t for t in answer.body.get("tasks") or [] if isinstance(t, dict) and t.get("taskDefinitionArn") == arn]
        tasks.sort(key=_stopped_at, reverse=True)
        for task in tasks[:STOPPED_TASKS_SHOWN]:
            self.progress.line(stopped_task_line(task))
        if len(tasks) > STOPPED_TASKS_SHOWN:
            self.progress.line(f"… and {len(tasks) - STOPPED_TASKS_SHOWN} more stopped tasks of {arn}")

    def settle(self, target: str, who: str) -> str:
        """Wait for the rollback to ``target`` to complete; what became of it, as a clause."""
        self.progress.line(f"waiting for the rollback to {target} to settle")
        outcome, state, _ = self.watch(target, "completed", rollback=True)
        if outcome == "completed":
            return f"{who} rolled the service back to {target} ({state})"
        if outcome == "timed out":
            return (
                f"{who} is rolling the service back to {target}, not settled within {self.waiting.timeout:g} s "
                f"(--wait-timeout): {state}"
            )
        return f"the rollback to {target} failed too: {state}; check the service in the ECS console"


def deploy(
    aws: Ecs,
    planned: Plan,
    taskdef: dict[str, Any],
    progress: Progress,
    waiting: Waiting | None = None,
    rollback: bool = False,
    deregister_on_failure: bool = False,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    existing: str | None = None,
    before_update: Callable[[str], None] | None = None,
) -> str:
    """Register, update the service, wait for the rollout as ``waiting`` says; the new revision's ARN.

    ``existing``: deploy this registered revision instead of registering ``taskdef`` (--revision, rollback);
    ``before_update(arn)`` runs between the two (one-off tasks, onetask.py) and may stop the deploy.

    A rollout that fails or does not finish within the wait raises DeploymentError (exit 5): when ECS
    is rolling back already, no second update is sent; otherwise, with ``rollback``, the deployment is
    stopped with a rollback (StopServiceDeployment), or the service updated back to the revision it ran.
    """
    waiting = waiting or Waiting()
    arn = existing or aws.register(taskdef, *planned.place)
    progress.line(f"deploying the registered revision {arn}" if existing else f"registered {arn}")
    if before_update is not None:
        before_update(arn)
    try:
        updated = aws.update_service(planned.cluster, planned.service, *planned.place, **planned.update(arn))
    except AwsError as error:
        if existing:  # nothing was registered for this deploy
            raise
        raise AwsError(f"{error.message}; {_unused_revision(aws, planned, arn, deregister_on_failure)}") from None
    progress.line(f"updated service {planned.cluster}/{planned.service}: {planned.previous} -> {arn}")
    if waiting.until == "none":
        progress.line("not waiting for the deployment (--wait-until none)")
        return arn
    run = _Run(aws, planned, progress, waiting, clock or time.monotonic, sleep or time.sleep)
    current = updated.get("currentServiceDeployment")
    run.service_deployment = current if isinstance(current, str) else None
    outcome, state, described = run.watch(arn, waiting.until)
    if outcome == "completed":
        progress.line(f"{'service stable' if waiting.until == 'stable' else 'deployment completed'}: {state}")
        return arn
    try:
        run.stopped_tasks(arn)
    except AwsError as error:  # telling why tasks died must not hide that the deployment failed
        progress.line(f"could not read the stopped tasks: {error.message}")
    if outcome == "rolled back":
        primary = _primary_deployment(described)
        rolled_to = primary.get("taskDefinition") if primary else None
        target = str(rolled_to) if rolled_to and rolled_to != arn else planned.previous
        if rollback:
            settled = run.settle(target, "ECS")
            raise DeploymentError(f"the deployment failed: {state}; {settled}; deploy sent no update of its own")
        raise DeploymentError(
            f"the deployment failed: {state}; ECS is rolling the service back to {target} itself, so deploy sends "
            "no update of its own"
        )
    failure = (
        f"the deployment failed: {state}"
        if outcome == "failed"
        else f"the deployment did not {_goal(waiting.until)} within {waiting.timeout:g} s (--wait-timeout): {state}"
    )
    raise DeploymentError(failure + "; " + _after_failure(run, arn, rollback))


def _goal(until: WaitUntil) -> str:
    return "become stable" if until == "stable" else "complete"


def _after_failure(run: _Run, arn: str, rollback: bool) -> str:
    planned, progress = run.planned, run.progress
    if not rollback:
        return (
            f"the service keeps the new revision; roll back with `aws ecs update-service --cluster {planned.cluster} "
            f"--service {planned.service} --task-definition {planned.previous}`, or run deploy with --rollback"
        )
    if run.service_deployment is not None:
        region, role_arn = planned.place
        try:
            stopped = run.aws.ask(
                "ecs",
                "stop_service_deployment",
                "ecs:StopServiceDeployment",
                region=region,
                role_arn=role_arn,
                serviceDeploymentArn=run.service_deployment,
                stopType="ROLLBACK",
            )
            refusal = "" if stopped.status == "ok" else stopped.reason or stopped.status
        except AwsError as error:
            refusal = error.message
        if not refusal:
            progress.line(f"stopping deployment {run.service_deployment} with a rollback (StopServiceDeployment)")
            return run.settle(planned.previous, "ECS")
        progress.line(f"StopServiceDeployment did not roll back ({refusal}); updating the service back instead")
    try:
        run.aws.update_service(planned.cluster, planned.service, *planned.place, taskDefinition=planned.previous)
    except AwsError as error:
        return f"the rollback failed: {error.message}; the service is still on the failing revision {arn}"
    progress.line(f"rolling back: service {planned.cluster}/{planned.service} updated to {planned.previous}")
    return run.settle(planned.previous, "deploy")


def _unused_revision(aws: Ecs, planned: Plan, arn: str, deregister: bool) -> str:
    """After UpdateService failed: the revision registered for nothing, deregistered when asked."""
    unused = f"the service was not updated, so the registered revision {arn} is unused"
    if not deregister:
        return (
            f"{unused}: deregister it with `aws ecs deregister-task-definition --task-definition {arn}`, or run "
            "deploy with --deregister-on-failure"
        )
    try:
        aws.deregister_task_definition(arn, *planned.place)
    except AwsError as error:
        return f"{unused}, and deregistering it failed: {error.message}"
    return f"{unused}: deregistered it (--deregister-on-failure)"


def rollout(described: Mapping[str, Any], arn: str, until: WaitUntil = "completed") -> tuple[str, str]:
    """("completed" | "failed" | "in progress", a one-line state) of the deployment of ``arn``.

    ``until`` "completed": its rolloutState is COMPLETED (without a rollout state, an older API answer:
    it is the only deployment, all running). "stable": what the services-stable waiter asks, one
    deployment left and the service's running count at its desired count.
    """
    deployments = [d for d in described.get("deployments") or [] if isinstance(d, dict)]
    ours = _ours(described, arn)
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
    if until == "stable":
        service_counts = described.get("runningCount", ours.get("runningCount"))
        desired = described.get("desiredCount", ours.get("desiredCount"))
        if primary and len(deployments) == 1 and service_counts == desired:
            return "completed", text
        return "in progress", text
    if primary and state == "COMPLETED":
        return "completed", text
    if primary and state is None and len(deployments) == 1 and ours.get("runningCount") == ours.get("desiredCount"):
        return "completed", text
    return "in progress", text


def stopped_task_line(task: Mapping[str, Any]) -> str:
    """``stopped task 1a2b…: Essential container in task exited (web exit 1: OutOfMemoryError)``."""
    task_id = str(task.get("taskArn", "?")).rsplit("/", 1)[-1]
    reason = mask_text(str(task.get("stoppedReason") or task.get("stopCode") or "no reason given"))
    containers = []
    for container in task.get("containers") or []:
        if not isinstance(container, dict):
            continue
        code = container.get("exitCode")
        said = container.get("reason")
        if not code and not said:  # a container that ended well (or never ran) says nothing about the failure
            continue
        text = f"{container.get('name', '?')} exit {code if code is not None else '-'}"
        containers.append(text + (f": {mask_text(str(said))}" if said else ""))
    return f"stopped task {task_id}: {reason}" + (f" ({'; '.join(containers)})" if containers else "")


def _ours(described: Mapping[str, Any], arn: str) -> dict[str, Any] | None:
    deployments = [d for d in described.get("deployments") or [] if isinstance(d, dict)]
    return next((d for d in deployments if d.get("taskDefinition") == arn), None)


def _primary_deployment(described: Mapping[str, Any]) -> dict[str, Any] | None:
    deployments = [d for d in described.get("deployments") or [] if isinstance(d, dict)]
    return next((d for d in deployments if d.get("status") == "PRIMARY"), None)


def _primary(described: Mapping[str, Any], arn: str) -> bool:
    primary = _primary_deployment(described)
    return primary is not None and primary.get("taskDefinition") == arn


def _stopped_at(task: Mapping[str, Any]) -> float:
    when = task.get("stoppedAt")
    if isinstance(when, (int, float)):
        return float(when)
    stamp = getattr(when, "timestamp", None)  # botocore parses timestamps into datetimes
    return float(stamp()) if callable(stamp) else 0.0
