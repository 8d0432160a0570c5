"""One-off tasks before a deploy (database migrations): run on the NEW revision, in the service's
network and capacity, wait for them to stop, and stop the deploy before the service changes when one
fails.

A migration run on the old revision migrates nothing new; one run on a revision the service will not
get leaves a schema the running code does not expect. So the task runs on exactly the revision the
service is about to get, and UpdateService is sent only after it exited 0.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import AwsError, DeploymentError, UsageError
from .secrets import mask_text

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace

_RUN_PERMISSION = "ecs:RunTask (and iam:PassRole on the task and execution roles)"


@dataclass(frozen=True)
class OneOffTask:
    container: str
    command: list[str]
    name: str | None = None  # its name in the environment's `tasks:` section

    def __str__(self) -> str:
        shown = (f"{self.name} " if self.name else "") + f"{self.container}: {shlex.join(self.command)}"
        return mask_text(shown)  # a command line may carry a credential (a database URL)


def parse(text: str) -> OneOffTask:
    """``CONTAINER=COMMAND`` (the command split as a POSIX shell would, without running one)."""
    container, equals, command = text.partition("=")
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise UsageError(f"--run-task-first {text!r}: the command cannot be split into words ({error})") from None
    if not equals or not container.strip() or not words:
        raise UsageError(f"--run-task-first {text!r}: expected CONTAINER=COMMAND, e.g. web='python manage.py migrate'")
    return OneOffTask(container.strip(), words)


def from_section(section: Mapping[str, Any] | None) -> list[OneOffTask]:
    """The environment's `tasks:` section (schema-checked: container and command), in the order written."""
    tasks = []
    for name, spec in (section or {}).items():
        if not spec:
            continue  # `name: null` removed an inherited task
        command = spec["command"]
        try:
            words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
        except ValueError as error:
            raise UsageError(f"tasks.{name}.command cannot be split into words ({error}); write it as a list") from None
        tasks.append(OneOffTask(str(spec["container"]), words, str(name)))
    return tasks


def check_containers(tasks: list[OneOffTask], taskdef: Mapping[str, Any]) -> None:
    """Every task names a container of the revision it runs on (before anything is registered)."""
    names = [str(c.get("name")) for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    for task in tasks:
        if task.container not in names:
            where = f"tasks.{task.name}" if task.name else "--run-task-first"
            raise UsageError(
                f"{where} names container {task.container!r}, which the task definition does not have "
                f"({', '.join(names)})"
            )


def run_request(described: Mapping[str, Any], cluster: str, arn: str, task: OneOffTask) -> dict[str, Any]:
    """RunTask's parameters: the service's network, launch type or capacity providers, platform version."""
    request: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": arn,
        "count": 1,
        "startedBy": "ecs-overlay",
        "overrides": {"containerOverrides": [{"name": task.container, "command": task.command}]},
    }
    for key in ("networkConfiguration", "platformVersion"):
        if described.get(key):
            request[key] = described[key]
    if described.get("capacityProviderStrategy"):
        request["capacityProviderStrategy"] = described["capacityProviderStrategy"]
    elif described.get("launchType"):
        request["launchType"] = described["launchType"]
    return request


def run_first(
    aws: Ecs,
    described: Mapping[str, Any],
    cluster: str,
    arn: str,
    tasks: list[OneOffTask],
    place: AwsPlace,
    line: Callable[[str], None],
    wait_timeout: float,
    poll_interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run each task in turn on ``arn`` and wait for it to stop; DeploymentError (exit 5) for the first
    that does not exit 0, before the service is changed."""
    for task in tasks:
        response = aws.call(
            "ecs", "run_task", _RUN_PERMISSION, f"cluster '{cluster}'", region=place.region,
            role_arn=place.role_arn, **run_request(described, cluster, arn, task),
        )  # fmt: skip
        started = [t for t in response.get("tasks") or [] if isinstance(t, dict) and t.get("taskArn")]
        if not started:
            reasons = "; ".join(
                f"{failure.get('arn', '')} {failure.get('reason', '')}".strip()
                for failure in response.get("failures") or []
                if isinstance(failure, dict)
            )
            raise DeploymentError(
                f"one-off task {task} did not start: {reasons or 'RunTask started no task'}; the service was not "
                f"changed (the new revision {arn} stays registered, unused)"
            )
        task_arn = str(started[0]["taskArn"])
        line(f"one-off task {task} started: {task_arn}")
        stopped = _wait_stopped(aws, cluster, task_arn, task, arn, place, wait_timeout, poll_interval, clock, sleep)
        code, reason = _outcome(stopped, task.container)
        if code != 0:
            said = f"exit code {code}" if code is not None else "no exit code"
            raise DeploymentError(
                mask_text(
                    f"one-off task {task} failed: {said}, stoppedReason: {stopped.get('stoppedReason') or 'none'}"
                    + (f", container reason: {reason}" if reason else "")
                )
                + f" ({task_arn}); the service was not changed (the new revision {arn} stays registered, unused)"
            )
        line(f"one-off task {task} exited 0")


def _wait_stopped(
    aws: Ecs,
    cluster: str,
    task_arn: str,
    task: OneOffTask,
    arn: str,
    place: AwsPlace,
    wait_timeout: float,
    poll_interval: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    deadline = clock() + wait_timeout
    while True:
        response = aws.call(
            "ecs", "describe_tasks", "ecs:DescribeTasks", f"cluster '{cluster}'", region=place.region,
            role_arn=place.role_arn, cluster=cluster, tasks=[task_arn],
        )  # fmt: skip
        found = [t for t in response.get("tasks") or [] if isinstance(t, dict)]
        if not found:
            raise AwsError(f"ECS no longer describes one-off task {task_arn}; check it in the ECS console")
        if found[0].get("lastStatus") == "STOPPED":
            return found[0]
        if clock() >= deadline:
            raise DeploymentError(
                f"one-off task {task} did not stop within {wait_timeout:g} s (--wait-timeout; it is "
                f"{found[0].get('lastStatus')}): {task_arn}; the service was not changed (the new revision {arn} "
                "stays registered, unused)"
            )
        sleep(poll_interval)


def _outcome(stopped: Mapping[str, Any], container: str) -> tuple[int | None, str | None]:
    """The exit code and reason of the container that ran the command."""
    for found in stopped.get("containers") or []:
        if isinstance(found, dict) and found.get("name") == container:
            code = found.get("exitCode")
            return (code if isinstance(code, int) else None), found.get("reason")
    return None, None
