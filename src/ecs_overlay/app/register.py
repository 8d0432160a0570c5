"""``register``: rendered exactly like render, then registered as the family's next revision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..base import BaseOptions, aws_place
from ..environments import Environments
from ..images import ImageRequest
from ..render import RenderOptions
from .environment import Context, check_registerable, render_checked


class RegisterRequest(NamedTuple):
    environment: str | None
    environments: Environments
    base: BaseOptions
    images: Sequence[ImageRequest]
    options: RenderOptions
    image_arch: str | None
    dry_run: bool
    allow_environment_change: bool
    context: Context


class RegisterRun(NamedTuple):
    """The new revision's ARN (None on a dry run, which registers nothing)."""

    arn: str | None

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: RegisterRequest) -> RegisterRun:
    context = request.context
    rendered, _ = render_checked(request)
    check_registerable(rendered, context.aws.ecs())
    name = rendered.environment
    if request.dry_run:
        context.console.say(
            f"dry run: environment {name} is a valid RegisterTaskDefinition request; nothing registered"
        )
        return RegisterRun(None)
    from ..ownership import check_family

    place = aws_place(request.base, rendered.layers)  # the environment's region and account, as its base's
    family = str(rendered.result.taskdef.get("family"))
    check_family(context.aws.ecs(), family, name, place, request.allow_environment_change, context.console.warn_loudly)
    return RegisterRun(context.aws.ecs().register(rendered.result.taskdef, *place))
