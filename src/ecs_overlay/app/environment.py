"""What every command's run shares: its console and AWS connection, the environments it selects, and one
environment rendered with every check (load the layers, fetch the base, render, check, say what was kept).

The commands (app/<command>.py) call these; none of them re-implements a stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..base import Base, BaseOptions, fetch_base, read_input
from ..environments import Environments
from ..errors import InvalidInputError, UsageError
from ..findings import Finding, counted, has_errors
from ..images import ImageRequest, container_images, placeholders
from ..keyed import Item, format_path
from ..overlay import Overlay
from ..render import DEFAULT_OPTIONS, RenderOptions, RenderResult, render
from ..services import Service, discover, single

if TYPE_CHECKING:
    from ..aws import Ecs  # botocore loads with the first AWS call, never for an offline run


class Console(Protocol):
    """Where a command speaks while it runs (standard error, in cli.py): notes, warnings, summaries."""

    def say(self, text: str) -> None:
        """A line as it is."""

    def warn_loudly(self, text: str) -> None:
        """A line nobody should miss (a cross-environment write going ahead)."""

    def described(self, service: str, finished: int, total: int) -> None:
        """Progress of a ``--services`` run: every live base of ``service`` described (``finished`` of ``total``)."""


class Connection:
    """The run's one AWS connection, opened on first use: offline runs never import botocore, and every
    environment of a run (each of ``--all``, ``register`` after its render) shares one client."""

    def __init__(self, region: str | None = None, timeout: float = 30) -> None:
        self.region = region
        self.timeout = timeout
        self._ecs: Ecs | None = None

    def ecs(self) -> Ecs:
        if self._ecs is None:
            from ..aws import Ecs

            self._ecs = Ecs(self.region, self.timeout)
        return self._ecs


class Context(NamedTuple):
    """A run's collaborators, given to every command: where it speaks and its AWS connection."""

    console: Console
    aws: Connection


class Failure(NamedTuple):
    """An environment that could not be compared: its service, name and the error (with its findings)."""

    service: str
    environment: str
    error: InvalidInputError


class Selection(NamedTuple):
    """Which environments of each service a command runs on: ``--env`` names, or ``--all``."""

    names: Sequence[str] = ()
    every: bool = False

    def of(self, service: Service, many: bool) -> list[str]:
        if self.every or (many and not self.names):
            names = service.environments.names()
            if not names and not many:
                raise UsageError(f"no environments found in {service.environments.directory}/; pass --environments-dir")
            return names
        if not many:
            return [environment_name(self.names[0] if self.names else None, service.environments)] + list(
                self.names[1:]
            )
        available = set(service.environments.names())
        return [name for name in self.names if name in available]  # a service without that environment is skipped


def services_of(services_dir: Path | None, environments: Environments) -> list[Service]:
    """The run's services: every one under ``--services DIR``, else the one of ``--environments-dir``."""
    return discover(services_dir) if services_dir is not None else single(environments)


def many_services(services: Sequence[Service]) -> bool:
    """A run with ``--services`` (its services have names), not the one service of ``--environments-dir``."""
    return len(services) > 1 or bool(services[0].name)


def selected(services: Sequence[Service], selection: Selection) -> list[tuple[Service, list[str]]]:
    several = many_services(services)
    chosen = [(service, selection.of(service, several)) for service in services]
    if several and not any(names for _, names in chosen):
        wanted = f"environment {', '.join(selection.names)}" if selection.names else "any environment"
        raise UsageError(f"no service has {wanted}; a service's environments are <service>/environments/<env>.yaml")
    return chosen


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
    aws: Connection,
    options: RenderOptions = DEFAULT_OPTIONS,
    running: str | None = None,
) -> Rendered:
    """``running``: the revision a service runs, the base when nothing else names one (deploy)."""
    layers = environments.load(name)
    findings = [finding for layer in layers for finding in layer.findings]
    if any(finding.is_error for finding in findings):
        # Overlay mistakes are reported before any AWS call: they need no base to be found.
        return Rendered(name, layers, RenderResult({}, findings=findings), "")
    base, label = fetch_base(base_options, layers, name, aws.ecs, running)
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
    from .. import appspec
    from ..cpu_architecture import docker_architecture, mismatch

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


class RendersEnvironment(Protocol):
    """What a request of render, register, deploy and verify says about the environment to render."""

    @property
    def environment(self) -> str | None: ...
    @property
    def environments(self) -> Environments: ...
    @property
    def base(self) -> BaseOptions: ...
    @property
    def images(self) -> Sequence[ImageRequest]: ...
    @property
    def options(self) -> RenderOptions: ...
    @property
    def image_arch(self) -> str | None: ...
    @property
    def context(self) -> Context: ...


def render_checked(
    request: RendersEnvironment,
    appspec_path: str | None = None,
    check_appspec_path: str | None = None,
    base: BaseOptions | None = None,
    running: str | None = None,
) -> tuple[Rendered, str | None]:
    """What render, register, deploy and verify share: the environment rendered and every check passed, or an
    error; its warnings and the images a run without --image kept said on the console. Returns the AppSpec to
    write, when ``appspec_path`` asks for one. ``base`` and ``running``: deploy's base (see :func:`locate`)."""
    images, context = request.images, request.context
    name = environment_name(request.environment, request.environments)
    rendered = render_environment(
        name, request.environments, base or request.base, images, context.aws, request.options, running
    )
    require_clean(rendered)
    appspec_text = build_checks(rendered, images, request.image_arch, appspec_path, check_appspec_path)
    for finding in [*rendered.notes, *rendered.result.findings]:
        if not finding.is_error:
            context.console.say(finding.to_text())
    if not images:  # so that a forgotten --image shows in the build log
        kept = ", ".join(f"{container} {image}" for container, image in container_images(rendered.result.taskdef))
        context.console.say(f"kept images (no --image given): {kept or 'none'}")
    return rendered, appspec_text


def image_path(container: str) -> str:
    return format_path(("containerDefinitions", Item(container), "image"))


def say_placeholders(taskdef: dict[str, Any], console: Console) -> None:
    """Render may write placeholders (CodeDeploy's ECS action fills them in); it says so."""
    for container, image in placeholders(taskdef):
        console.say(
            f"{image_path(container)}: note: {image} is a placeholder; CodeDeploy's ECS blue/green action replaces "
            "it with the image of an input artifact (imageDetail.json). ECS cannot register or run it as it is"
        )


def check_registerable(rendered: Rendered, ecs: Ecs) -> None:
    """What register and deploy refuse before any call that changes anything."""
    found = placeholders(rendered.result.taskdef)
    if found:
        listed = "; ".join(f"{image_path(container)} is {image}" for container, image in found)
        raise InvalidInputError(
            f"not registering placeholders as images ({listed}): ECS would try to pull them. Placeholders are for "
            "CodeDeploy's ECS action, through render; to register, pass the real image with --image NAME=URI"
        )
    problems = ecs.request_problems(rendered.result.taskdef)
    if problems:
        raise InvalidInputError(f"botocore refuses this RegisterTaskDefinition request: {'; '.join(problems)}")


def checked(name: str, result: RenderResult, revision: str | None = None) -> RenderResult:
    """``result``, or the error carrying its findings: diff and drift compare only what renders."""
    if has_errors(result.findings):
        where = f" as it is at {revision}" if revision else ""
        raise problems(name, result.findings, f"it does not render{where}; fix them first")
    return result


def loaded_layers(name: str, environments: Environments) -> list[Overlay]:
    return checked_layers(name, environments.load(name))


def checked_layers(name: str, layers: list[Overlay]) -> list[Overlay]:
    findings = [finding for layer in layers for finding in layer.findings]
    if has_errors(findings):
        raise problems(name, findings, "it does not render; fix them first")
    return layers
