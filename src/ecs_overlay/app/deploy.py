"""``deploy`` and ``rollback``: a service moved to a revision and watched until the deployment ends.

Rollback lives here because it is a deploy of an existing revision: the same plan of the service as it runs,
the same UpdateService and the same wait (deploy.py), so that the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple, cast

from ..base import BaseOptions, aws_place, service_location
from ..environments import Environments
from ..errors import InvalidInputError, UsageError
from ..images import ImageRequest
from ..output import to_json
from ..render import RenderOptions
from .environment import Context, check_registerable, environment_name, render_checked

if TYPE_CHECKING:
    from ..deploy import Progress, WaitUntil
    from ..deploy_extras import Extras


class DeployRequest(NamedTuple):
    environment: str | None
    environments: Environments
    base: BaseOptions  # its --cluster and --service name the service to update, not a base
    images: Sequence[ImageRequest]
    options: RenderOptions
    image_arch: str | None
    wait_timeout: float
    poll_interval: float
    rollback: bool
    wait_until: str
    deregister_on_failure: bool
    dry_run: bool
    extras: Extras
    progress: Progress
    context: Context


class DeployRun(NamedTuple):
    """What goes to standard output (the revision now running; a dry run's task definition), then the line
    that closes a dry run."""

    output: str
    closing: str | None = None

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: DeployRequest) -> DeployRun:
    from .. import codedeploy, deploy_extras
    from ..deploy import Waiting, plan
    from ..deploy import deploy as deploy_service
    from ..merge import merge_appspec, merge_service

    base, extras, context = request.base, request.extras, request.context
    if base.cluster is None or base.service is None:
        raise UsageError("deploy needs the service to update: pass --cluster and --service")
    cluster, service = base.cluster, base.service
    aws = context.aws.ecs()
    name = environment_name(request.environment, request.environments)
    layers = request.environments.load(name)
    place = aws_place(base, layers)  # the environment's region and account
    planned = plan(aws, cluster, service, place)  # the service as it runs, before any work
    existing: str | None = None
    if extras.revision is not None:  # an existing revision: nothing rendered or registered
        family = deploy_extras.environment_family(layers, planned.previous)
        existing, taskdef = deploy_extras.existing_revision(aws, extras.revision, family, place)
        service_settings, appspec_settings = merge_service(layers), merge_appspec(layers)
    else:
        # The base: --family or --base, else the environment's `base:` section, else the revision the service
        # runs (described once, above).
        base_options = replace(base, cluster=None, service=None)
        rendered, _ = render_checked(request, base=base_options, running=planned.previous)
        check_registerable(rendered, aws)
        taskdef = rendered.result.taskdef
        service_settings, appspec_settings = rendered.result.service, rendered.result.appspec
    planned.configure(service_settings)
    deploy_extras.apply_to_plan(planned, extras, service_settings)
    deploy_extras.add_section_tasks(extras, layers)
    example = planned.update(f"arn:aws:ecs:::task-definition/{taskdef.get('family')}:1")
    problems = aws.request_problems({"cluster": cluster, "service": service, **example}, "UpdateService")
    if problems:
        raise InvalidInputError(
            f"botocore refuses this UpdateService request: {'; '.join(problems)}; fix the `service:` section; "
            "nothing registered"
        )
    target = None
    if planned.controller == "CODE_DEPLOY":
        target = codedeploy.find_target(aws, cluster, service, place, extras.codedeploy, appspec_settings)
        codedeploy.appspec_content(taskdef, appspec_settings, "<new revision>")  # refused before any write
    new_family = None if existing else str(taskdef.get("family"))
    deploy_extras.check_before_writing(aws, planned, name, new_family, taskdef, extras, context.console.warn_loudly)
    if request.dry_run:
        revision = existing or f"<new revision of {taskdef.get('family')}>"
        if target is not None:
            change = f"a CodeDeploy deployment ({target.application}/{target.group}) of {revision}"
        else:
            change = to_json(planned.update(revision)).rstrip()
        what = "deployed as it is" if existing else "registered as a new revision"
        if extras.tasks:
            what += ", one-off tasks run on it first (" + "; ".join(map(str, extras.tasks)) + "),"
        return DeployRun(
            "" if existing is not None else to_json(taskdef),
            f"dry run: environment {name} would be {what} and service {cluster}/{service} "
            f"(now on {planned.previous}) updated with: {change}; nothing registered or changed",
        )
    progress = request.progress
    wait_timeout, poll_interval = request.wait_timeout, request.poll_interval
    first = deploy_extras.one_off_tasks(aws, planned, extras, progress, wait_timeout, poll_interval)
    if target is not None:
        arn = codedeploy.deploy(
            aws, planned, taskdef, appspec_settings, target, progress, wait_timeout, poll_interval, request.rollback,
            existing=existing, before_update=first,
        )  # fmt: skip
    else:
        waiting = Waiting(cast("WaitUntil", request.wait_until), wait_timeout, poll_interval)
        arn = deploy_service(
            aws, planned, taskdef, progress, waiting, request.rollback, request.deregister_on_failure,
            existing=existing, before_update=first,
        )  # fmt: skip
    return DeployRun(arn + "\n")


class RollbackRequest(NamedTuple):
    environment: str | None
    environments: Environments
    cluster: str | None
    service: str | None
    to_revision: int | None
    wait_timeout: float
    poll_interval: float
    progress: Progress
    context: Context


class RollbackRun(NamedTuple):
    arn: str  # the revision the service runs now

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def rollback(request: RollbackRequest) -> RollbackRun:
    from ..deploy import Waiting, plan
    from ..deploy import deploy as deploy_service
    from ..ownership import check_service
    from ..revisions import family_and_revision, previous_revision

    context = request.context
    name = environment_name(request.environment, request.environments)
    layers = request.environments.load(name)
    options = BaseOptions(cluster=request.cluster, service=request.service, region=context.aws.region)
    where = service_location(options, layers)
    if where is None:
        raise UsageError("rollback needs the service: pass --cluster and --service (or set them in `base:`)")
    cluster, service = where
    place = aws_place(options, layers)
    aws = context.aws.ecs()
    planned = plan(aws, cluster, service, place)
    if planned.controller == "CODE_DEPLOY":
        raise UsageError(
            f"service {cluster}/{service} is deployed by CodeDeploy: stop a running deployment with `aws deploy "
            "stop-deployment --auto-rollback-enabled`, or deploy the previous revision with deploy --revision N"
        )
    check_service(aws, cluster, service, planned.previous, name, place, False, context.console.warn_loudly)
    if request.to_revision is not None:
        described = aws.describe_task_definition(
            f"{family_and_revision(planned.previous)[0]}:{request.to_revision}", *place
        )
        back = str(described["taskDefinition"].get("taskDefinitionArn"))
    else:
        back = previous_revision(aws, planned.described, place)
    context.console.say(f"rolling back service {cluster}/{service}: {planned.previous} -> {back}")
    waiting = Waiting("completed", request.wait_timeout, request.poll_interval)
    return RollbackRun(deploy_service(aws, planned, {}, request.progress, waiting, existing=back))
