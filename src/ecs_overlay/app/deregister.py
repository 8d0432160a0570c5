"""``deregister``: the environment's family pruned to its newest revisions, never one a service runs."""

from __future__ import annotations

from typing import NamedTuple

from ..base import BaseOptions, aws_place, service_location
from ..environments import Environments
from ..errors import EcsOverlayError, UsageError
from ..findings import counted
from .environment import Context, environment_name


class DeregisterRequest(NamedTuple):
    environment: str | None
    environments: Environments
    keep: int
    clusters: tuple[str, ...]
    dry_run: bool
    context: Context


class DeregisterRun(NamedTuple):
    summary: str

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: DeregisterRequest) -> DeregisterRun:
    from .. import revisions
    from ..deploy_extras import environment_family
    from ..merge import merge_base_location

    context, dry_run = request.context, request.dry_run
    name = environment_name(request.environment, request.environments)
    layers = request.environments.load(name)
    place = aws_place(BaseOptions(region=context.aws.region), layers)
    aws = context.aws.ecs()
    service = service_location(BaseOptions(), layers)  # the environment's `base:` service
    running_base = aws.service_task_definition(*service, *place) if service is not None else None
    try:
        family = environment_family(layers, running_base or "")
    except EcsOverlayError:
        raise UsageError(
            f"environment {name} names no family: set `family:` or `base:` (family, or cluster and service)"
        ) from None
    cluster = merge_base_location(layers).get("cluster")  # every service of the environment's cluster
    watched = [*request.clusters, *([str(cluster)] if cluster else [])]
    running = revisions.running_in_clusters(aws, watched, place)
    if running_base:
        running.add(running_base)
    pruning = revisions.prune_plan(family, revisions.family_revisions(aws, family, place), request.keep, running)
    for arn in pruning.in_use:
        context.console.say(f"kept (a service runs it): {arn}")
    for arn in pruning.deregistered:
        if dry_run:
            context.console.say(f"would deregister {arn}")
        else:
            revisions.deregister(aws, arn, place)
            context.console.say(f"deregistered {arn}")
    done = "would deregister" if dry_run else "deregistered"
    return DeregisterRun(
        f"family {family}: kept the newest {counted(len(pruning.kept), 'revision')} and "
        f"{len(pruning.in_use)} in use; {done} {len(pruning.deregistered)}"
        + ("; nothing changed (dry run)" if dry_run else "")
    )
