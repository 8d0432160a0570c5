"""``verify``: read-only lookups in AWS of what the rendered task definition points at."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..base import BaseOptions, aws_place, service_location
from ..environments import Environments
from ..errors import EXIT_INVALID
from ..findings import Finding
from ..images import ImageRequest
from ..render import RenderOptions
from .environment import Context, Rendered, render_checked


class VerifyRequest(NamedTuple):
    environment: str | None
    environments: Environments
    base: BaseOptions
    images: Sequence[ImageRequest]
    options: RenderOptions
    image_arch: str | None
    context: Context


class VerifyRun(NamedTuple):
    """What a reporter needs: the environment verified and its findings (errors, warnings, passed checks)."""

    environment: str
    findings: list[Finding]
    file: str | None = None  # the environment's own overlay file: where a report places a finding without one

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID if any(finding.is_error for finding in self.findings) else 0


def run(request: VerifyRequest) -> VerifyRun:
    rendered, _ = render_checked(request)
    name = rendered.environment
    return VerifyRun(name, verified(rendered, request.base, request.context), str(request.environments.file(name)))


def verified(rendered: Rendered, base: BaseOptions, context: Context) -> list[Finding]:
    """verify's findings for a rendered environment, with a summary line on the console."""
    from ..merge import merge_verify_roles
    from ..verify import verify as verify_taskdef

    findings = verify_taskdef(
        context.aws.ecs(),
        aws_place(base, rendered.layers),  # the environment's region and account
        rendered.result.taskdef,
        rendered.result.provenance,
        service_location(base, rendered.layers),  # its load-balancer target: the options', else `base:`'s service
        rendered.result.appspec,
        rendered.result.service,  # its load balancers' blue/green resources
        merge_verify_roles(rendered.layers),  # the roles that reach other accounts
        {path: origin for layer in rendered.layers for path, origin in layer.section_origins},
    )
    ok = sum(1 for finding in findings if not finding.is_error and not finding.is_warning)
    failed = sum(1 for finding in findings if finding.is_error)
    unchecked = sum(1 for finding in findings if finding.is_warning)
    context.console.say(
        f"verified environment {rendered.environment}: {ok} ok, {failed} failed, {unchecked} could not check"
    )
    return findings
