"""The edges around the pure core: pick the environment, fetch the base, load the layers.

Commands call these and render; none of them re-implements a stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import schemas
from .environments import Environments
from .errors import InvalidInputError, OutputError, UsageError
from .findings import Finding, counted
from .images import ImageRequest
from .overlay import Overlay
from .render import DEFAULT_OPTIONS, RenderOptions, RenderResult, check_layers, render
from .source import Base, read_base, read_base_file, read_input

if TYPE_CHECKING:  # botocore loads only for live runs
    from .aws import Ecs


@dataclass
class BaseOptions:
    """Where the base comes from: exactly one of family, cluster+service, or a file.

    One BaseOptions per run: it holds the run's one AWS connection, so every command of the run
    (each environment of ``--all``, and ``register`` after its render) shares one client and
    describes each reference once.
    """

    family: str | None = None
    cluster: str | None = None
    service: str | None = None
    base_file: str | None = None
    region: str | None = None
    timeout: float = 30
    _ecs: Ecs | None = field(default=None, init=False, repr=False, compare=False)

    def ecs(self) -> Ecs:
        """The run's ECS connection, opened on first use (offline runs never import botocore)."""
        if self._ecs is None:
            from .aws import Ecs

            self._ecs = Ecs(self.region, self.timeout)
        return self._ecs

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.family, self.cluster, self.service, self.base_file))

    def check(self) -> None:
        if (self.cluster is None) != (self.service is None):
            raise UsageError("--cluster and --service go together: give both, or neither")
        chosen = [
            name
            for name, given in (
                ("--family", self.family),
                ("--cluster/--service", self.cluster),
                ("--base", self.base_file),
            )
            if given
        ]
        if len(chosen) > 1:
            raise UsageError(f"give only one base: {' or '.join(chosen)}")


@dataclass
class Rendered:
    """One environment rendered: the result plus what it was made from, for printing."""

    environment: str
    layers: list[Overlay]
    result: RenderResult
    base_label: str
    base: dict[str, Any] = field(default_factory=dict)


def environment_name(name: str | None, environments: Environments) -> str:
    """The environment to render; a usage error listing the choices when none was given."""
    if name:
        return name
    available = environments.names()
    listed = ", ".join(available) if available else f"none found in {environments.directory}/"
    raise UsageError(f"no environment given; pass --env NAME or set DEPLOY_ENV. Available environments: {listed}")


def fetch_base(options: BaseOptions, layers: Sequence[Overlay], environment: str | None = None) -> tuple[Base, str]:
    """The register-able base and a label saying where it came from.

    ``--base DIR`` holds one ``<environment>.json`` per environment (as ``snapshot`` writes them),
    for teams whose environments live in different accounts.
    """
    options.check()
    if options.base_file is not None:
        path = options.base_file
        if path != "-" and Path(path).is_dir():
            if environment is None:
                raise UsageError(f"--base {path} is a directory; give a file, or name the environment")
            path = str(Path(path) / f"{environment}.json")
            if not Path(path).is_file():
                raise OutputError(
                    f"--base {options.base_file}: no {environment}.json; write it with "
                    f"`ecs-overlay snapshot --env {environment} -o {path}`"
                )
        return read_base(read_base_file(path), schemas.describe_only_fields()), path
    ecs = options.ecs()
    if options.cluster is not None and options.service is not None:
        reference = ecs.service_task_definition(options.cluster, options.service)
        label = f"service {options.cluster}/{options.service} ({reference})"
    else:
        reference = options.family or _overlay_family(layers)
        label = reference
    document = ecs.describe_task_definition(reference)
    return read_base(document, ecs.describe_only_fields())._replace(from_api=True), label


def _overlay_family(layers: Sequence[Overlay]) -> str:
    for layer in reversed(layers):
        family = layer.data.get("family")
        if isinstance(family, str) and family:
            return family
    raise UsageError(
        "no base given: pass --family, --cluster and --service, or --base FILE, "
        "or set `family:` in the environment's overlay"
    )


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
    return Rendered(name, layers, render_on(base, layers, images, options), label, base.taskdef)


def render_on(
    base: Base, layers: Sequence[Overlay], images: Sequence[ImageRequest] = (), options: RenderOptions = DEFAULT_OPTIONS
) -> RenderResult:
    """Render on a base as it was read: the notes about reading it come first among the findings."""
    result = render(base.taskdef, layers, images, options._replace(base_from_api=base.from_api))
    return replace(result, findings=[*base.notes(), *result.findings])


def validate_environments(
    names: Sequence[str],
    environments: Environments,
    base_options: BaseOptions | None,
    images: Sequence[ImageRequest],
    options: RenderOptions = DEFAULT_OPTIONS,
) -> list[tuple[str, Finding]]:
    """Findings of every environment: its overlay files alone, or rendered on a base when one is given.

    A shared layer used by several environments is reported once per finding, not once per use.
    """
    seen: set[Finding] = set()
    results: list[tuple[str, Finding]] = []
    for name in names:
        if base_options is None:
            findings = check_layers(environments.load(name))
        else:
            findings = render_environment(name, environments, base_options, images, options).result.findings
        for finding in findings:
            if finding.file is None or finding not in seen:
                seen.add(finding)
                results.append((name, finding))
    return results


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
