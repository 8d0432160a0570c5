"""The edges around the pure core: pick the environment, fetch the base, load the layers.

Commands call these and render; none of them re-implements a stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .base import Base, BaseOptions, fetch_base, read_input
from .environments import Environments
from .errors import InvalidInputError, UsageError
from .findings import Finding, counted
from .images import ImageRequest
from .overlay import Overlay
from .render import DEFAULT_OPTIONS, RenderOptions, RenderResult, render


@dataclass
class Rendered:
    """One environment rendered: the result plus what it was made from, for printing."""

    environment: str
    layers: list[Overlay]
    result: RenderResult
    base_label: str
    base: dict[str, Any] = field(default_factory=dict)
    notes: list[Finding] = field(default_factory=list)  # for where the result is written: see Base.adoption_notes


def environment_name(name: str | None, environments: Environments) -> str:
    """The environment to render; a usage error listing the choices when none was given."""
    if name:
        return name
    available = environments.names()
    listed = ", ".join(available) if available else f"none found in {environments.directory}/"
    raise UsageError(f"no environment given; pass --env NAME or set DEPLOY_ENV. Available environments: {listed}")


def render_environment(
    name: str,
    environments: Environments,
    base_options: BaseOptions,
    images: Sequence[ImageRequest],
    options: RenderOptions = DEFAULT_OPTIONS,
) -> Rendered:
    layers = environments.load(name)
    findings = [finding for layer in layers for finding in layer.findings]
    if any(finding.is_error for finding in findings):
        # Overlay mistakes are reported before any AWS call: they need no base to be found.
        return Rendered(name, layers, RenderResult({}, findings=findings), "")
    base, label = fetch_base(base_options, layers, name)
    result = render_on(base, layers, name, images, options)
    return Rendered(name, layers, result, label, base.taskdef, base.adoption_notes())


def render_on(
    base: Base,
    layers: Sequence[Overlay],
    environment: str,
    images: Sequence[ImageRequest] = (),
    options: RenderOptions = DEFAULT_OPTIONS,
) -> RenderResult:
    """Render ``environment`` on a base as it was read: the notes about reading it come first among the findings."""
    result = render(
        base.taskdef, layers, images, options._replace(base_from_api=base.from_api, environment=environment)
    )
    return replace(result, findings=[*base.notes(), *result.findings])


def problems(environment: str, findings: Sequence[Finding], outcome: str = "nothing was written") -> InvalidInputError:
    """The error that carries every finding of an environment: "2 problems in environment 'prod'; …"."""
    errors = sum(1 for finding in findings if finding.is_error)
    return InvalidInputError(f"{counted(errors, 'problem')} in environment '{environment}'; {outcome}", findings)


def require_clean(rendered: Rendered) -> None:
    """Raise with every finding when the rendered task definition must not be written."""
    if not rendered.result.ok:
        raise problems(rendered.environment, rendered.result.findings)


def build_checks(
    rendered: Rendered,
    images: Sequence[ImageRequest],
    image_arch: str | None,
    appspec_path: str | None = None,
    check_appspec_path: str | None = None,
) -> str | None:
    """The checks that need more than the task definition: image architecture and the AppSpec.

    Returns the AppSpec YAML to write (when ``appspec_path`` is given); raises with every finding.
    """
    if not (images or image_arch or appspec_path or check_appspec_path):
        return None
    from . import appspec
    from .architecture import docker_architecture, mismatch

    taskdef = rendered.result.taskdef
    findings: list[Finding] = []

    if image_arch is not None:
        label = " and ".join(request.uri for request in images) or "the image"
        found = mismatch(image_arch, label, taskdef, rendered.result.provenance)
        findings.extend([found] if found else [])
    else:
        for request in images:
            detected = docker_architecture(request.uri)
            found = mismatch(detected, request.uri, taskdef, rendered.result.provenance) if detected else None
            findings.extend([found] if found else [])
    document = None
    if appspec_path is not None:
        built = appspec.build(taskdef, rendered.result.appspec or {})
        if isinstance(built, Finding):
            findings.append(built)
        else:
            document = appspec.to_yaml(built)
    if check_appspec_path is not None:
        text = read_input(check_appspec_path, "--check-appspec")
        findings.extend(appspec.check(text, check_appspec_path, taskdef))
    if findings:
        raise problems(rendered.environment, findings)
    return document
