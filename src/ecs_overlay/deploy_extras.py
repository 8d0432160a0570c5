"""What `deploy` does around the rollout itself (deploy.py): an existing revision instead of a new one
(--revision), the service's own members (--desired-count, --force-new-deployment, `service:`'s
propagateTags and enableECSManagedTags), one-off tasks first (onetask.py), CodeDeploy-controlled
services (codedeploy.py), and the cross-environment refusal (ownership.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import ownership
from .errors import UsageError
from .onetask import OneOffTask, check_containers, from_section, run_first
from .revisions import family_and_revision

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace
    from .deploy import Plan, Progress
    from .overlay import Overlay

# `service:` members a CodeDeploy-controlled service refuses (deploy.py's Plan.settings sends them to ECS services).
TAG_SERVICE_MEMBERS = ("propagateTags", "enableECSManagedTags")


@dataclass
class Extras:
    """The deploy command's options beyond rendering and the rollout."""

    force_new_deployment: bool = False
    desired_count: int | None = None
    revision: str | None = None  # N, latest, family:N or an ARN: deploy it instead of registering
    tasks: list[OneOffTask] = field(default_factory=list)
    codedeploy: tuple[str, str] | None = None  # (application, deployment group)
    allow_environment_change: bool = False


def environment_family(layers: Sequence[Overlay], running: str) -> str:
    """The family the environment registers into: its `family:`, else its `base: family`, else the running one's."""
    from .merge import merge_base_location

    for layer in reversed(layers):
        family = layer.data.get("family")
        if isinstance(family, str) and family:
            return family
    located = merge_base_location(layers).get("family")
    if isinstance(located, str) and located:
        return family_and_revision(located)[0] if ":" in located.rsplit("/", 1)[-1] else located.rsplit("/", 1)[-1]
    return family_and_revision(running)[0]


def existing_revision(aws: Ecs, wanted: str, family: str, place: AwsPlace) -> tuple[str, dict[str, Any]]:
    """The ARN and task definition of --revision (N, latest, family:N, ARN), checked to be the environment's family."""
    reference = family if wanted == "latest" else f"{family}:{wanted}" if wanted.isdigit() else wanted
    described = aws.describe_task_definition(reference, *place)
    taskdef = described["taskDefinition"]
    arn = str(taskdef.get("taskDefinitionArn") or reference)
    if taskdef.get("family") != family:
        raise UsageError(
            f"--revision {wanted} is {arn}, of family {taskdef.get('family')}; the environment registers into family "
            f"{family}. Pass a revision of {family} (N, latest, or {family}:N)"
        )
    return arn, {**taskdef, "tags": described.get("tags") or []}


def apply_to_plan(planned: Plan, extras: Extras, service_settings: Mapping[str, Any] | None) -> None:
    """UpdateService members the options and `service:` set, besides the task definition."""
    if extras.codedeploy is not None and planned.controller != "CODE_DEPLOY":
        raise UsageError(
            f"--codedeploy-config: service {planned.cluster}/{planned.service} is deployed by ECS "
            f"(deploymentController {planned.controller}), not CodeDeploy; leave the option out"
        )
    written = service_settings or {}
    changes: dict[str, Any] = {}
    if extras.desired_count is not None:
        changes["desiredCount"] = extras.desired_count
    if extras.force_new_deployment:
        changes["forceNewDeployment"] = True
    tag_members = [key for key in TAG_SERVICE_MEMBERS if written.get(key) is not None]
    if (changes or tag_members) and planned.controller == "CODE_DEPLOY":
        listed = ", ".join(sorted([*changes, *tag_members]))
        raise UsageError(
            f"{listed}: service {planned.cluster}/{planned.service} is deployed by CodeDeploy, whose deployment "
            "replaces the task set; change these with `aws ecs update-service` instead"
        )
    planned.extra_changes.update(changes)


def check_before_writing(
    aws: Ecs,
    planned: Plan,
    environment: str,
    family: str | None,
    taskdef: Mapping[str, Any],
    extras: Extras,
    warn: Callable[[str], None],
) -> None:
    """Everything deploy refuses before its first write: another environment's family, revision (``family``
    None: deploying ``taskdef`` as registered) or service; tasks naming containers the revision lacks."""
    allowed = extras.allow_environment_change
    if family is not None:
        ownership.check_family(aws, family, environment, planned.place, allowed, warn)
    else:  # --revision: the revision itself
        arn = str(taskdef.get("taskDefinitionArn"))
        ownership.check_revision(arn, list(taskdef.get("tags") or []), environment, allowed, warn)
    ownership.check_service(
        aws, planned.cluster, planned.service, planned.previous, environment, planned.place, allowed, warn
    )
    check_containers(extras.tasks, taskdef)


def add_section_tasks(extras: Extras, layers: Sequence[Overlay]) -> None:
    """The environment's `tasks:` run first, in the order written, then --run-task-first's."""
    from .merge import merge_tasks

    extras.tasks = [*from_section(merge_tasks(layers)), *extras.tasks]


def one_off_tasks(
    aws: Ecs, planned: Plan, extras: Extras, progress: Progress, wait_timeout: float, poll_interval: float
) -> Callable[[str], None] | None:
    """The hook that runs --run-task-first's tasks on the new revision before the service changes."""
    if not extras.tasks:
        return None

    def run(arn: str) -> None:
        run_first(
            aws, planned.described, planned.cluster, arn, extras.tasks, planned.place, progress.line, wait_timeout,
            poll_interval,
        )  # fmt: skip

    return run
