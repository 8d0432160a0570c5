"""Command line: parse options, call the core, print, map the outcome to an exit code.

The only module that imports click.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from .base import BaseOptions
from .environments import Environments
from .errors import EXIT_DIFFERENCES, EXIT_INVALID, EcsOverlayError, InvalidInputError, UsageError
from .findings import Finding, counted
from .images import ImageRequest, container_images, image_definitions, image_detail, placeholders
from .keyed import Item, format_path
from .output import Artifact, check_outputs, masked_output, to_json, write_all, write_stdout, write_tree
from .render import RenderOptions
from .report.terminal import printable, printable_stderr, raw_stderr
from .rules import DEFAULT_MAX_SIZE
from .secrets import show_values
from .services import Service, discover, single
from .workflow import (
    Rendered,
    build_checks,
    environment_name,
    render_environment,
    require_clean,
)

if TYPE_CHECKING:  # review modules load only for the commands that use them
    from . import app
    from .app import Failure
    from .deploy import Progress, WaitUntil
    from .deploy_extras import Extras
    from .diff import IgnoreRule

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class _Failure(click.ClickException):
    """An EcsOverlayError on its way out: its message, its findings, its exit code."""

    def __init__(self, error: EcsOverlayError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance
        self.error = error

    def show(self, file: Any = None) -> None:
        """Each finding and the message on a line of its own: a newline inside one is shown, not obeyed."""
        stream = file or sys.stderr
        for finding in getattr(self.error, "findings", []):
            click.echo(printable(finding.to_text()), file=stream)
        click.echo(f"Error: {printable(self.message)}", file=stream)


def reports_errors(func: F) -> F:
    """Turn the error family into click's: usage errors show the command's usage, exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            raise click.UsageError(printable(error.message), click.get_current_context()) from None
        except EcsOverlayError as error:
            raise _Failure(error) from None

    return wrapper  # type: ignore[return-value]


class _OutputGroup(click.Group):
    """The command group, run inside the output boundary: whatever a run prints, click's own messages included,
    has the values the run knows are secret masked (output.masked_output), then every message on standard error
    shown with its control characters escaped (report/terminal.py). Masking comes first, so that a secret holding a
    newline (a PEM key) is masked before its newline is escaped."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with printable_stderr(), masked_output(os.environ):
            return super().main(*args, **kwargs)


@click.group(
    cls=_OutputGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100},
)
@click.version_option(package_name="ecs-overlay")
def cli() -> None:
    """Live ECS task definition + per-environment YAML overlay + image → validated taskdef.json.

    \b
    Exit codes: 0 written / clean, 1 invalid overlay or task definition,
                2 usage, 3 AWS or I/O failure, 4 differences or drift found,
                5 deployment failed or timed out (deploy, rollback),
                130 / 143 interrupted by SIGINT / SIGTERM.
    """


def _environments_in(_ctx: click.Context, _param: click.Parameter, directory: Path) -> Environments:
    return Environments(directory)  # one per run: the directory is listed once


def environments_dir_option(func: F) -> F:
    return click.option(
        "--environments-dir",
        default="environments",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        callback=_environments_in,
        help="Directory of <env>.yaml overlays; files starting with _ are shared layers.",
    )(func)


def environment_options(func: F) -> F:
    """--env (default $DEPLOY_ENV) and --environments-dir, for commands that render one environment."""
    func = environments_dir_option(func)
    return click.option(
        "--env",
        "env",
        envvar="DEPLOY_ENV",
        show_envvar=True,
        help="Environment to render: <environments-dir>/<env>.yaml.",
    )(func)


REGION_OPTION = click.option(
    "--region", help="AWS region (default: the environment's base.region, then the standard AWS configuration chain)."
)
AWS_TIMEOUT_OPTION = click.option(
    "--aws-timeout",
    type=click.FloatRange(min=0.1),
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="The most time one AWS call may take, every retry included (standard mode, "
    "AWS_MAX_ATTEMPTS) and the whole answer read; past it, exit 3.",
)


ALLOW_ENVIRONMENT_CHANGE_OPTION = click.option(
    "--allow-environment-change",
    is_flag=True,
    help="Write even where the family's latest revision or the service's running one is tagged for another "
    "environment (refused otherwise); said loudly on stderr.",
)


def base_options(func: F) -> F:
    """Where the base task definition comes from; the command receives one ``base: BaseOptions``."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        family: str | None,
        cluster: str | None,
        service: str | None,
        base_file: str | None,
        region: str | None,
        aws_timeout: float,
        **kwargs: Any,
    ) -> Any:
        base = BaseOptions(
            family=family, cluster=cluster, service=service, base_file=base_file, region=region, timeout=aws_timeout
        )
        return func(*args, base=base, **kwargs)

    options = [
        click.option("--family", help="Family, family:revision or task-definition ARN to start from."),
        click.option("--cluster", help="With --service: start from the task definition the service runs now."),
        click.option("--service", help="With --cluster: the ECS service."),
        click.option(
            "--base",
            "base_file",
            metavar="FILE",
            help="Start from `aws ecs describe-task-definition` output in FILE (- for stdin); offline.",
        ),
        REGION_OPTION,
        AWS_TIMEOUT_OPTION,
    ]
    command: Any = wrapper
    for option in reversed(options):
        command = option(command)
    return cast(F, command)


def all_option(func: F) -> F:
    return click.option(
        "--all", "all_environments", is_flag=True, help="Every environment in the environments directory."
    )(func)


def _show_values(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        show_values()  # decided once for the run: its output boundary masks nothing
    return value


def show_values_option(func: F) -> F:
    return click.option(
        "--show-values", is_flag=True, callback=_show_values, help="Show secret values instead of **** (see README)."
    )(func)


def _parsed_each(parse: Callable[[str], T]) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], list[T]]:
    """A click callback: each value of a repeatable option through ``parse``, its UsageError as click's own."""

    def callback(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[T]:
        try:
            return [parse(value) for value in values]
        except UsageError as error:
            raise click.BadParameter(error.message) from None

    return callback


def image_option(func: F) -> F:
    return click.option(
        "--image",
        "images",
        multiple=True,
        metavar="[NAME=]URI",
        callback=_parsed_each(ImageRequest.parse),
        help="Set container NAME's image, or (without NAME=) every container running an image from "
        "the same repository. Repeatable.",
    )(func)


def _parse_arch(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    from .architecture import normalise

    architecture = normalise(value)
    if architecture is None:
        raise click.BadParameter(f"{value!r}: use ARM64 (arm64, aarch64) or X86_64 (amd64, x86_64)")
    return architecture


def image_arch_option(func: F) -> F:
    return click.option(
        "--image-arch",
        envvar="IMAGE_ARCH",
        show_envvar=True,
        callback=_parse_arch,
        metavar="ARM64|X86_64",
        help="The image's CPU architecture, checked against runtimePlatform (default: docker image inspect, "
        "when docker has the image).",
    )(func)


def check_options(func: F) -> F:
    """Settings of ECS's rules; the command receives one ``options: RenderOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, max_size: int, **kwargs: Any) -> Any:
        return func(*args, options=RenderOptions(max_size=max_size), **kwargs)

    return cast(
        F,
        click.option(
            "--max-size",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_SIZE,
            show_default=True,
            metavar="BYTES",
            help="Largest task definition (compact JSON) to accept; ECS refuses more than 64 KiB.",
        )(wrapper),
    )


def render_options(func: F) -> F:
    """Everything render reads: environment, base, images, rule settings, image architecture."""
    for decorator in (image_arch_option, check_options, image_option, base_options, environment_options):
        func = decorator(func)
    return func


@cli.command()
@render_options
@click.option(
    "-o",
    "--output",
    default="taskdef.json",
    show_default=True,
    metavar="PATH",
    help="Where to write the task definition; - for standard output.",
)
@click.option(
    "--appspec",
    "appspec_path",
    metavar="PATH",
    help="Also write CodeDeploy's appspec.yaml from the environment's `appspec:` section.",
)
@click.option(
    "--check-appspec",
    "check_appspec_path",
    metavar="PATH",
    help="Check a hand-written appspec against the rendered task definition.",
)
@click.option(
    "--imagedefinitions",
    "imagedefinitions_path",
    metavar="PATH",
    help="Also write CodePipeline's imagedefinitions.json (ECS standard action) for the containers --image set "
    "(every container without --image).",
)
@click.option(
    "--image-detail",
    "image_detail_path",
    metavar="PATH",
    help="Also write CodePipeline's imageDetail.json (ECS blue/green action) for the image --image set.",
)
@click.option(
    "--verify",
    "verify_first",
    is_flag=True,
    help="Before writing, run verify's checks in AWS (findings on stderr); write nothing when one fails.",
)
@reports_errors
def render(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    image_arch: str | None,
    output: str,
    appspec_path: str | None,
    check_appspec_path: str | None,
    imagedefinitions_path: str | None,
    image_detail_path: str | None,
    verify_first: bool,
) -> None:
    """Render the environment's task definition and write it, checked, to taskdef.json."""
    requested = [
        ("--output", output),
        ("--appspec", appspec_path),
        ("--imagedefinitions", imagedefinitions_path),
        ("--image-detail", image_detail_path),
    ]
    check_outputs([(option, path) for option, path in requested if path is not None])  # before any work
    if image_detail_path is not None:
        image_detail(images)  # a usage error before any AWS call
    name, rendered, appspec_text = _render_checked(
        env, environments_dir, base, images, options, image_arch, appspec_path, check_appspec_path
    )
    if verify_first:
        findings = _verified(name, rendered, base)
        for finding in findings:
            if finding.is_error or finding.is_warning:
                click.echo(printable(finding.to_text()), err=True)
        if any(finding.is_error for finding in findings):
            raise InvalidInputError(f"verify found problems in environment '{name}'; nothing was written")
    _print_placeholders(rendered.result.taskdef)
    taskdef = rendered.result.taskdef
    texts = {
        "--output": to_json(taskdef),
        "--appspec": appspec_text,
        "--imagedefinitions": to_json(image_definitions(taskdef, images)) if imagedefinitions_path else None,
        "--image-detail": to_json(image_detail(images)) if image_detail_path else None,
    }
    artifacts = [
        Artifact(option, path, text)
        for option, path in requested
        if path is not None and (text := texts[option]) is not None
    ]
    write_all(artifacts)  # every artifact, or none
    containers = rendered.result.taskdef.get("containerDefinitions", [])
    shown = [_shown(artifact.path) for artifact in artifacts]
    written = " and ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 2 else shown)
    click.echo(
        f"wrote {written}: environment {name}, base {rendered.base_label}, {counted(len(containers), 'container')}",
        err=True,
    )


@cli.command()
@render_options
@click.option("--dry-run", is_flag=True, help="Check the request against botocore's model; register nothing.")
@ALLOW_ENVIRONMENT_CHANGE_OPTION
@reports_errors
def register(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    image_arch: str | None,
    dry_run: bool,
    allow_environment_change: bool = False,
) -> None:
    """Render exactly like render, then register the result and print the new revision's ARN."""
    name, rendered, _ = _render_checked(env, environments_dir, base, images, options, image_arch)
    _check_registerable(rendered, base)
    if dry_run:
        click.echo(
            f"dry run: environment {name} is a valid RegisterTaskDefinition request; nothing registered", err=True
        )
        return
    from .base import aws_place
    from .ownership import check_family

    place = aws_place(base, rendered.layers)  # the environment's region and account, as its base's
    family = str(rendered.result.taskdef.get("family"))
    check_family(base.ecs(), family, name, place, allow_environment_change, _warn_loudly)
    write_stdout(base.ecs().register(rendered.result.taskdef, *place) + "\n")


def _warn_loudly(text: str) -> None:
    click.echo(click.style(text, fg="red", bold=True), err=True)


def _ignore_rule(pattern: str) -> IgnoreRule:
    from .diff import IgnoreRule  # loaded only by the commands that take --ignore

    return IgnoreRule(pattern)


def ignore_option(func: F) -> F:
    """--ignore PATH (repeatable): paths left out of the report and the exit code."""
    return click.option(
        "--ignore",
        "ignore",
        multiple=True,
        metavar="PATH",
        callback=_parsed_each(_ignore_rule),
        help="Leave out changes at PATH and below (repeatable); * matches within one step, e.g. tags[*] or "
        "containerDefinitions[*].environment[GIT_COMMIT].",
    )(func)


def services_option(func: F) -> F:
    return click.option(
        "--services",
        "services_dir",
        type=click.Path(file_okay=False, path_type=Path),
        metavar="DIR",
        help="Many services in one run: every subdirectory of DIR holding environments/ is a service "
        "(--base DIR then reads DIR/<service>/<env>.json).",
    )(func)


class _FormatChoice(click.Choice[str]):
    """The formats the reporter registry offers for a command, read when an option is parsed or helped:
    render and register never load the reporters (their imports cost more than render's own work)."""

    def __init__(self, command: str) -> None:
        self.command = command
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from .report.reporters import formats

        return tuple(formats(self.command))

    @choices.setter
    def choices(self, value: object) -> None:
        pass  # click.Choice sets them in __init__; the registry holds them


def format_option(command: str) -> Callable[[F], F]:
    """``--format``: the formats the reporter registry offers for ``command`` (report/reporters.py)."""
    return click.option(
        "--format",
        "output_format",
        type=_FormatChoice(command),
        default="text",
        show_default=True,
        help="Output format; sarif, junit and github are for CI (see the README's format table).",
    )


def _report(output_format: str, command: str, run: Any, services_dir: Path | None, **view: Any) -> None:
    """Standard output gets the run as the chosen reporter renders it."""
    from .report.located import repository_root
    from .report.reporters import REPORTER_BY_NAME, View

    render = getattr(REPORTER_BY_NAME[output_format], command)
    write_stdout(render(run, View(many=services_dir is not None, root=repository_root(Path.cwd()), **view)))


def _services(services_dir: Path | None, environments: Environments) -> list[Service]:
    return discover(services_dir) if services_dir is not None else single(environments)


def _print_failures(failures: list[Failure]) -> None:
    """Environments of a many-service run that could not be compared: each error, and the run goes on."""
    for failure in failures:
        _Failure(failure.error).show()
        click.echo(printable(f"(service {failure.service}, environment {failure.environment})"), err=True)


@cli.command()
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME",
    help="Environment to check (repeatable; default: every environment).",
)
@environments_dir_option
@services_option
@base_options
@image_option
@check_options
@format_option("validate")
@reports_errors
def validate(
    envs: tuple[str, ...],
    environments_dir: Environments,
    services_dir: Path | None,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    output_format: str,
) -> None:
    """Check overlay files offline; with a base, also every rendered result against ECS's rules.

    Exit 0 when there are no errors (warnings allowed), 1 when there are.
    """
    from . import app
    from .report import by_service

    run = app.validate(
        _services(services_dir, environments_dir),
        app.Selection(envs, every=not envs),
        base if base.given else None,
        images,
        options,
        _describing(),
    )
    _report(output_format, "validate", run, services_dir)
    errors = sum(1 for _, _, finding in run.findings if finding.is_error)
    warnings = sum(1 for _, _, finding in run.findings if finding.is_warning)
    scope = "overlay files" if not base.given else "rendered task definitions"
    names = [name for _, name in run.environments]
    checked = (
        f"{counted(len(names), 'environment')} ({', '.join(names)})"
        if services_dir is None
        else f"{counted(len(by_service(run.environments)), 'service')}, {counted(len(names), 'environment')}"
    )
    click.echo(f"checked {checked}, {scope}: {counted(errors, 'error')}, {counted(warnings, 'warning')}", err=True)
    if errors:
        sys.exit(EXIT_INVALID)


def _check_registerable(rendered: Rendered, base: BaseOptions) -> None:
    """What register and deploy refuse before any call that changes anything."""
    found = placeholders(rendered.result.taskdef)
    if found:
        listed = "; ".join(f"{_image_path(name)} is {image}" for name, image in found)
        raise InvalidInputError(
            f"not registering placeholders as images ({listed}): ECS would try to pull them. Placeholders are for "
            "CodeDeploy's ECS action, through render; to register, pass the real image with --image NAME=URI"
        )
    problems = base.ecs().request_problems(rendered.result.taskdef)
    if problems:
        raise InvalidInputError(f"botocore refuses this RegisterTaskDefinition request: {'; '.join(problems)}")


def _seconds(default: float, help_text: str) -> dict[str, Any]:
    """The settings of an option that takes a duration."""
    return {
        "type": click.FloatRange(min=0),
        "default": default,
        "show_default": True,
        "metavar": "SECONDS",
        "help": help_text,
    }


def deploy_extra_options(func: F) -> F:
    """deploy's options beyond rendering and the rollout (deploy_extras.py); the command receives one ``extras``."""
    from .onetask import OneOffTask

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        force_new_deployment: bool,
        desired_count: int | None,
        revision: str | None,
        run_task_first: list[OneOffTask],
        codedeploy_config: tuple[str, str] | None,
        allow_environment_change: bool,
        **kwargs: Any,
    ) -> Any:
        from .deploy_extras import Extras

        extras = Extras(
            force_new_deployment, desired_count, revision, run_task_first, codedeploy_config, allow_environment_change
        )
        return func(*args, extras=extras, **kwargs)

    def parse_task(text: str) -> OneOffTask:
        from .onetask import parse

        try:
            return parse(text)
        except UsageError as error:
            raise click.BadParameter(error.message) from None

    options = [
        click.option("--force-new-deployment", is_flag=True, help="Start new tasks even if nothing else changed."),
        click.option(
            "--desired-count", type=click.IntRange(min=0), metavar="N", help="Also set the service's desired count."
        ),
        click.option(
            "--revision",
            metavar="N|latest",
            help="Deploy this registered revision of the environment's family (N, latest, family:N or ARN): "
            "nothing is rendered or registered.",
        ),
        click.option(
            "--run-task-first",
            metavar="CONTAINER=COMMAND",
            multiple=True,
            callback=_parsed_each(parse_task),
            help="Before updating the service, run COMMAND in CONTAINER as a one-off task of the new revision "
            "(the service's network and capacity) and stop the deploy unless it exits 0. Repeatable, run in order.",
        ),
        click.option(
            "--codedeploy-config",
            nargs=2,
            metavar="APPLICATION DEPLOYMENT_GROUP",
            help="For a CodeDeploy-controlled service: the CodeDeploy application and deployment group (default: "
            "the environment's appspec.codedeploy, else the one deployment group that deploys the service).",
        ),
        ALLOW_ENVIRONMENT_CHANGE_OPTION,
    ]
    command: Any = wrapper
    for option in reversed(options):
        command = option(command)
    return cast(F, command)


@cli.command()
@render_options
@click.option(
    "--wait-timeout",
    **_seconds(
        900, "How long to wait for the deployment to complete; past it, exit 5 (and roll back with --rollback)."
    ),
)
@click.option("--poll-interval", **_seconds(10, "Time between two looks at the service while waiting."))
@click.option(
    "--rollback",
    is_flag=True,
    help="When the deployment fails or times out, roll back (StopServiceDeployment, else the previous revision) "
    "and wait for it; when ECS is rolling back itself, only wait for that.",
)
# The failure-handling and waiting options (issue 19's deploy slice), kept together.
@click.option(
    "--wait-until",
    type=click.Choice(["stable", "completed", "none"]),
    default="completed",
    show_default=True,
    help="Wait until the service is stable (one deployment left, all tasks running: the services-stable waiter), "
    "the deployment's rolloutState is COMPLETED, or not at all.",
)
@click.option(
    "--deregister-on-failure",
    is_flag=True,
    help="When UpdateService fails after registering, deregister the revision nothing uses.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be registered and changed; change nothing.")
@deploy_extra_options
@reports_errors
def deploy(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    image_arch: str | None,
    wait_timeout: float,
    poll_interval: float,
    rollback: bool,
    wait_until: str,
    deregister_on_failure: bool,
    dry_run: bool,
    extras: Extras,
) -> None:
    """Render, register, update --cluster/--service to the new revision and wait for the deployment.

    For services ECS deploys itself (rolling, BLUE_GREEN) and CodeDeploy-controlled ones (a CodeDeploy
    deployment with the environment's appspec). The base is the revision the service runs, unless
    --family or --base names another. Exit 5 when the deployment (or a --run-task-first task) fails or
    times out.
    """
    from . import codedeploy, deploy_extras
    from .base import aws_place
    from .deploy import Waiting, plan
    from .deploy import deploy as deploy_service
    from .merge import merge_appspec, merge_base_location, merge_service

    if base.cluster is None or base.service is None:
        raise UsageError("deploy needs the service to update: pass --cluster and --service")
    cluster, service = base.cluster, base.service
    name = environment_name(env, environments_dir)
    layers = environments_dir.load(name)
    place = aws_place(base, layers)  # the environment's region and account
    planned = plan(base.ecs(), cluster, service, place)  # the service as it runs, before any work
    existing: str | None = None
    if extras.revision is not None:  # an existing revision: nothing rendered or registered
        family = deploy_extras.environment_family(layers, planned.previous)
        existing, taskdef = deploy_extras.existing_revision(base.ecs(), extras.revision, family, place)
        service_settings, appspec_settings = merge_service(layers), merge_appspec(layers)
    else:
        # The base: --family or --base, else the environment's `base:` section, else the revision the service
        # runs (described once, above).
        located = base.family or base.base_file or merge_base_location(layers).keys() & {"family", "cluster"}
        render_base = BaseOptions(
            family=base.family if located else planned.previous,
            base_file=base.base_file,
            region=base.region,
            timeout=base.timeout,
        )
        render_base._ecs = base.ecs()  # one connection for the run
        _, rendered, _ = _render_checked(name, environments_dir, render_base, images, options, image_arch)
        _check_registerable(rendered, base)
        taskdef = rendered.result.taskdef
        service_settings, appspec_settings = rendered.result.service, rendered.result.appspec
    planned.configure(service_settings)
    deploy_extras.apply_to_plan(planned, extras, service_settings)
    deploy_extras.add_section_tasks(extras, layers)
    example = planned.update(f"arn:aws:ecs:::task-definition/{taskdef.get('family')}:1")
    problems = base.ecs().request_problems({"cluster": cluster, "service": service, **example}, "UpdateService")
    if problems:
        raise InvalidInputError(
            f"botocore refuses this UpdateService request: {'; '.join(problems)}; fix the `service:` section; "
            "nothing registered"
        )
    target = None
    if planned.controller == "CODE_DEPLOY":
        target = codedeploy.find_target(base.ecs(), cluster, service, place, extras.codedeploy, appspec_settings)
        codedeploy.appspec_content(taskdef, appspec_settings, "<new revision>")  # refused before any write
    new_family = None if existing else str(taskdef.get("family"))
    deploy_extras.check_before_writing(base.ecs(), planned, name, new_family, taskdef, extras, _warn_loudly)
    if dry_run:
        if existing is None:
            write_stdout(to_json(taskdef))
        revision = existing or f"<new revision of {taskdef.get('family')}>"
        if target is not None:
            change = f"a CodeDeploy deployment ({target.application}/{target.group}) of {revision}"
        else:
            change = to_json(planned.update(revision)).rstrip()
        what = "deployed as it is" if existing else "registered as a new revision"
        if extras.tasks:
            what += ", one-off tasks run on it first (" + "; ".join(map(str, extras.tasks)) + "),"
        click.echo(
            f"dry run: environment {name} would be {what} and service {cluster}/{service} "
            f"(now on {planned.previous}) updated with: {change}; nothing registered or changed",
            err=True,
        )
        return
    progress = _progress()
    first = deploy_extras.one_off_tasks(base.ecs(), planned, extras, progress, wait_timeout, poll_interval)
    if target is not None:
        arn = codedeploy.deploy(
            base.ecs(), planned, taskdef, appspec_settings, target, progress, wait_timeout, poll_interval, rollback,
            existing=existing, before_update=first,
        )  # fmt: skip
    else:
        waiting = Waiting(cast("WaitUntil", wait_until), wait_timeout, poll_interval)
        arn = deploy_service(
            base.ecs(), planned, taskdef, progress, waiting, rollback, deregister_on_failure,
            existing=existing, before_update=first,
        )  # fmt: skip
    write_stdout(arn + "\n")


# Without a terminal, an unchanged status is repeated this often: CI logs show the deploy is alive.
HEARTBEAT_SECONDS = 60


def _environment_service(layers: list[Any], cluster: str | None, service: str | None, command: str) -> tuple[str, str]:
    """--cluster/--service, else the environment's `base:` service."""
    from .merge import merge_base_location

    location = merge_base_location(layers)
    cluster = cluster or location.get("cluster")
    service = service or location.get("service")
    if not cluster or not service:
        raise UsageError(f"{command} needs the service: pass --cluster and --service (or set them in `base:`)")
    return str(cluster), str(service)


@cli.command()
@environment_options
@click.option("--cluster", help="The service's cluster (default: the environment's base.cluster).")
@click.option("--service", help="The ECS service to roll back (default: the environment's base.service).")
@click.option(
    "--to-revision",
    type=click.IntRange(min=1),
    metavar="N",
    help="Go back to revision N of the family the service runs (default: the previous revision).",
)
@click.option("--wait-timeout", **_seconds(900, "How long to wait for the rollback to complete; past it, exit 5."))
@click.option("--poll-interval", **_seconds(10, "Time between two looks at the service while waiting."))
@REGION_OPTION
@AWS_TIMEOUT_OPTION
@reports_errors
def rollback(
    env: str | None,
    environments_dir: Environments,
    cluster: str | None,
    service: str | None,
    to_revision: int | None,
    wait_timeout: float,
    poll_interval: float,
    region: str | None,
    aws_timeout: float,
) -> None:
    """Point the service back at its previous revision (or --to-revision N) and wait for the deployment.

    The previous revision: while a rollout runs, the one the older deployment still runs; otherwise the
    newest ACTIVE revision of the running family older than the running one. Nothing is rendered or
    registered; the service's other settings are left as they are. Prints the revision now running.
    """
    from .base import aws_place
    from .deploy import Waiting, plan
    from .deploy import deploy as deploy_service
    from .ownership import check_service
    from .revisions import family_and_revision, previous_revision

    name = environment_name(env, environments_dir)
    layers = environments_dir.load(name)
    cluster, service = _environment_service(layers, cluster, service, "rollback")
    options = BaseOptions(region=region, timeout=aws_timeout)
    place = aws_place(options, layers)
    aws = options.ecs()
    planned = plan(aws, cluster, service, place)
    if planned.controller == "CODE_DEPLOY":
        raise UsageError(
            f"service {cluster}/{service} is deployed by CodeDeploy: stop a running deployment with `aws deploy "
            "stop-deployment --auto-rollback-enabled`, or deploy the previous revision with deploy --revision N"
        )
    check_service(aws, cluster, service, planned.previous, name, place, False, _warn_loudly)
    if to_revision is not None:
        target = aws.describe_task_definition(f"{family_and_revision(planned.previous)[0]}:{to_revision}", *place)
        back = str(target["taskDefinition"].get("taskDefinitionArn"))
    else:
        back = previous_revision(aws, planned.described, place)
    click.echo(f"rolling back service {cluster}/{service}: {planned.previous} -> {back}", err=True)
    waiting = Waiting("completed", wait_timeout, poll_interval)
    arn = deploy_service(aws, planned, {}, _progress(), waiting, existing=back)
    write_stdout(arn + "\n")


@cli.command()
@environment_options
@click.option(
    "--keep", type=click.IntRange(min=1), required=True, metavar="N", help="Keep the newest N ACTIVE revisions."
)
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    help="Also keep every revision a service of this cluster runs (besides the environment's base.cluster). "
    "Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="List what would be kept and deregistered; change nothing.")
@REGION_OPTION
@AWS_TIMEOUT_OPTION
@reports_errors
def deregister(
    env: str | None,
    environments_dir: Environments,
    keep: int,
    clusters: tuple[str, ...],
    dry_run: bool,
    region: str | None,
    aws_timeout: float,
) -> None:
    """Deregister the environment's ACTIVE revisions beyond the newest --keep N.

    Never one that a service runs: every deployment of every service in the environment's base.cluster
    (and each --cluster) is kept, old and new deployments of a rollout alike. The family is the
    environment's `family:`, else its base.family, else the family its base service runs.
    """
    from . import revisions
    from .base import aws_place
    from .deploy_extras import environment_family
    from .merge import merge_base_location

    name = environment_name(env, environments_dir)
    layers = environments_dir.load(name)
    options = BaseOptions(region=region, timeout=aws_timeout)
    place = aws_place(options, layers)
    aws = options.ecs()
    location = merge_base_location(layers)
    running_base = None
    if location.get("cluster") and location.get("service"):
        running_base = aws.service_task_definition(str(location["cluster"]), str(location["service"]), *place)
    try:
        family = environment_family(layers, running_base or "")
    except EcsOverlayError:
        raise UsageError(
            f"environment {name} names no family: set `family:` or `base:` (family, or cluster and service)"
        ) from None
    watched = [*clusters, *([str(location["cluster"])] if location.get("cluster") else [])]
    running = revisions.running_in_clusters(aws, watched, place)
    if running_base:
        running.add(running_base)
    pruning = revisions.prune_plan(family, revisions.family_revisions(aws, family, place), keep, running)
    for arn in pruning.in_use:
        click.echo(f"kept (a service runs it): {arn}", err=True)
    for arn in pruning.deregistered:
        if dry_run:
            click.echo(f"would deregister {arn}", err=True)
        else:
            revisions.deregister(aws, arn, place)
            click.echo(f"deregistered {arn}", err=True)
    done = "would deregister" if dry_run else "deregistered"
    click.echo(
        f"family {family}: kept the newest {counted(len(pruning.kept), 'revision')} and "
        f"{len(pruning.in_use)} in use; {done} {len(pruning.deregistered)}"
        + ("; nothing changed (dry run)" if dry_run else ""),
        err=True,
    )


def _progress() -> Progress:
    """Progress on stderr: a status line rewritten in place on a terminal, plain lines when it changes elsewhere."""
    from .deploy import Progress, duration

    terminal = sys.stderr is not None and sys.stderr.isatty()
    last = [""]
    said_at = [0.0]  # when the last status line was printed (elapsed seconds), for the CI heartbeat

    def erase() -> None:  # the terminal's own control sequence, past the escaping of messages
        raw_stderr().write("\r\033[K")

    def line(text: str) -> None:
        if terminal:
            erase()
        click.echo(text, err=True)

    def status(text: str, elapsed: float) -> None:
        if terminal:
            erase()
            click.echo(f"[{duration(elapsed)}] {text}", err=True, nl=False)
        elif text != last[0]:
            click.echo(f"status [{duration(elapsed)}]: {text}", err=True)
            said_at[0] = elapsed
        elif elapsed - said_at[0] >= HEARTBEAT_SECONDS:  # a CI log that stays silent looks hung
            click.echo(f"status [{duration(elapsed)}]: still {text}", err=True)
            said_at[0] = elapsed
        last[0] = text

    def done() -> None:
        if terminal and last[0]:
            click.echo("", err=True)  # what follows starts on a line of its own
        last[0] = ""

    return Progress(line, status, done)


def _describing() -> Callable[[str, int, int], None]:
    """Progress of a ``--services`` run describing its live bases, on stderr (reports go to stdout). On a
    terminal one line, rewritten as each service's bases are described; elsewhere a line at each tenth of
    the services (each service when there are 10 or fewer): 200 services log 10 lines, not 200."""
    terminal = sys.stderr is not None and sys.stderr.isatty()

    def described(service: str, finished: int, total: int) -> None:
        text = f"described the live bases of service {service} ({finished}/{total})"
        if terminal:
            raw_stderr().write("\r\033[K")  # the terminal's own control sequence, past the escaping of messages
            click.echo(text, err=True, nl=finished == total)
        elif finished == total or finished * 10 // total != (finished - 1) * 10 // total:
            click.echo(text, err=True)

    return described


@cli.command()
@render_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reports_errors
def verify(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    image_arch: str | None,
    output_format: str,
) -> None:
    """Check, read-only, that what the rendered task definition points at exists in AWS.

    Roles and their trust, the execution role's permissions, secrets and parameters, log groups,
    ECR images and their architecture, EFS volumes, FireLens files in S3, the blue/green resources
    of the service: section's load balancers and, with --cluster and --service, the service's
    load-balancer target. Each is looked up in its own region and account (another account only
    through `verify: roles:`). Exit 0 when nothing failed (checks that could not be made are
    warnings), 1 when something did.
    """
    from .report import findings_json, findings_text

    name, rendered, _ = _render_checked(env, environments_dir, base, images, options, image_arch)
    findings = _verified(name, rendered, base)
    shown = [(name, finding) for finding in findings]
    write_stdout(findings_json(shown) if output_format == "json" else findings_text(shown))
    if any(finding.is_error for finding in findings):
        sys.exit(EXIT_INVALID)


def _verified(name: str, rendered: Rendered, base: BaseOptions) -> list[Finding]:
    """verify's findings for a rendered environment, with a summary line on stderr."""
    from .base import aws_place
    from .merge import merge_base_location, merge_verify_roles
    from .verify import verify as verify_taskdef

    location = merge_base_location(rendered.layers)  # the environment's `base:`, when the options name no service
    cluster, service = (
        (base.cluster, base.service) if base.cluster else (location.get("cluster"), location.get("service"))
    )
    target = (str(cluster), str(service)) if cluster and service else None
    place = aws_place(base, rendered.layers)  # the environment's region and account
    findings = verify_taskdef(
        base.ecs(),
        place,
        rendered.result.taskdef,
        rendered.result.provenance,
        target,
        rendered.result.appspec,
        rendered.result.service,  # its load balancers' blue/green resources
        merge_verify_roles(rendered.layers),  # the roles that reach other accounts
        {path: origin for layer in rendered.layers for path, origin in layer.section_origins},
    )
    ok = sum(1 for finding in findings if not finding.is_error and not finding.is_warning)
    failed = sum(1 for finding in findings if finding.is_error)
    unchecked = sum(1 for finding in findings if finding.is_warning)
    click.echo(f"verified environment {name}: {ok} ok, {failed} failed, {unchecked} could not check", err=True)
    return findings


def _selection(env: str | None, all_environments: bool) -> app.Selection:
    from . import app

    return app.Selection((env,) if env else (), every=all_environments)


def _exit_with(differences: bool, failures: list[Failure]) -> None:
    """The worst outcome: an environment that could not be compared (1) outranks differences (4)."""
    if failures:
        sys.exit(EXIT_INVALID)
    if differences:
        sys.exit(EXIT_DIFFERENCES)


@cli.command()
@environment_options
@all_option
@services_option
@base_options
@image_option
@click.option(
    "--against",
    metavar="GIT_REF",
    help="Compare the overlays at GIT_REF (read with git, no checkout) with the working tree.",
)
@click.option("--to-env", metavar="NAME", help="Compare environment --env with NAME on the same base.")
@format_option("diff")
@click.option("--exit-code", is_flag=True, help="Exit 4 when there are differences, 0 when none.")
@ignore_option
@show_values_option
@reports_errors
def diff(
    env: str | None,
    environments_dir: Environments,
    all_environments: bool,
    services_dir: Path | None,
    base: BaseOptions,
    images: list[ImageRequest],
    against: str | None,
    to_env: str | None,
    output_format: str,
    exit_code: bool,
    ignore: list[IgnoreRule],
    show_values: bool,
) -> None:
    """Show what a deploy (or a pull request, or another environment) changes, semantically.

    By default: the base as it stands against what render would write.
    """
    from . import app

    if to_env is not None and (against is not None or all_environments):
        raise UsageError("--to-env compares two environments; it does not go with --against or --all")
    run = app.diff(
        _services(services_dir, environments_dir),
        _selection(env, all_environments),
        base,
        images,
        against,
        to_env,
        services_dir,
        _describing(),
    )
    app.drop_ignored(run, ignore)
    colour = sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    _report(output_format, "diff", run, services_dir, show_values=show_values, colour=colour)
    if services_dir is not None and against is not None:
        click.echo(
            f"{counted(run.unchanged_services, 'service')} and {counted(run.unchanged_environments, 'environment')} "
            f"unchanged at {against}: not rendered",
            err=True,
        )
    many = services_dir is not None
    for service, sentence in run.layer_changes:
        click.echo(sentence + (f" (service {service})" if many else ""), err=True)
    for service, name, why in run.no_base:
        where = f"service {service}, " if many else ""
        click.echo(f"{where}environment {name}: no base, not compared: {why}", err=True)
    for service, result in run.diffs:
        for note in result.notes:
            click.echo(f"info: {note}" + (f" (service {service})" if many else ""), err=True)
    _print_failures(run.failures)
    _exit_with(exit_code and any(result.changes for _, result in run.diffs), run.failures)


@cli.command()
@environment_options
@all_option
@services_option
@base_options
@click.option("--snapshot", metavar="FILE", help="Also report every change, managed or not, since this snapshot.")
@format_option("drift")
@ignore_option
@show_values_option
@reports_errors
def drift(
    env: str | None,
    environments_dir: Environments,
    all_environments: bool,
    services_dir: Path | None,
    base: BaseOptions,
    snapshot: str | None,
    output_format: str,
    ignore: list[IgnoreRule],
    show_values: bool,
) -> None:
    """Report values the overlays set that the live task definition no longer has (exit 4 when any).

    Values built from ${VARS} (a commit, a build number) are set by each deploy, not managed: when they
    differ they are listed apart as build-time values, which are not drift and never change the exit code.
    """
    from . import app

    run = app.drift(
        _services(services_dir, environments_dir), _selection(env, all_environments), base, snapshot, _describing()
    )
    app.drop_ignored(run, ignore)
    _report(output_format, "drift", run, services_dir, show_values=show_values, snapshot=snapshot is not None)
    _print_failures(run.failures)
    _exit_with(any(r.drifts or r.snapshot_changes for _, r in run.reports), run.failures)


@cli.command()
@click.option(
    "--env",
    "env",
    envvar="DEPLOY_ENV",
    show_envvar=True,
    help="Environment whose overlay names the family (when no --family is given).",
)
@environments_dir_option
@services_option
@base_options
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="PATH",
    help="File to write; - for standard output. With --services: a directory, written as PATH/<service>/<env>.json.",
)
@reports_errors
def snapshot(
    env: str | None, environments_dir: Environments, services_dir: Path | None, base: BaseOptions, output: str
) -> None:
    """Save the live base, stripped exactly as render starts from it, for offline diff and drift."""
    if services_dir is not None:
        _snapshot_services(env, services_dir, base, output)
        return
    from .base import snapshot_base

    check_outputs([("--output", output)])
    taskdef, label = snapshot_base(env, environments_dir, base)
    write_all([Artifact("--output", output, to_json(taskdef))])
    click.echo(f"wrote {_shown(output)}: snapshot of {label}", err=True)


@cli.command()
@click.argument("kind", type=click.Choice(["overlay", "taskdef"]), default="overlay")
@click.option(
    "-o", "--output", default="-", show_default=True, metavar="FILE", help="File to write; - for standard output."
)
@reports_errors
def schema(kind: str, output: str) -> None:
    """Print the JSON Schema of overlay files (or, with taskdef, of task definitions) for editors.

    Its $id is the raw URL the same file is published at. Point an overlay at it with a first line
    `# yaml-language-server: $schema=<path or URL>`.
    """
    from . import schemas

    write_all([Artifact("--output", output, schemas.shipped_text(kind))])
    if output != "-":
        click.echo(f"wrote {_shown(output)}: the {kind} schema", err=True)


def _snapshot_services(env: str | None, services_dir: Path, base: BaseOptions, output: str) -> None:
    """Every service's environments' live bases, as OUTPUT/<service>/<env>.json: all of them, or none."""
    from . import app

    if output == "-":
        raise UsageError("--output with --services is a directory (OUTPUT/<service>/<env>.json), not -")
    taken = app.snapshots(
        discover(services_dir), app.Selection((env,) if env else (), every=not env), base, _describing()
    )
    write_tree(
        [
            Artifact("--output", str(Path(output) / service / f"{name}.json"), to_json(taskdef))
            for service, name, taskdef, _ in taken
        ],
        Path(output),
    )
    click.echo(
        f"wrote {output}/: snapshots of {counted(len(taken), 'environment')} "
        f"of {counted(len({service for service, _, _, _ in taken}), 'service')}",
        err=True,
    )


@cli.command()
@click.option("--cluster", required=True, help="The cluster of the service to adopt.")
@click.option("--service", required=True, help="The ECS service whose running task definition is the base.")
@click.option(
    "--env", "env", required=True, metavar="NAME", help="The environment to write: <environments-dir>/NAME.yaml."
)
@environments_dir_option
@REGION_OPTION
@AWS_TIMEOUT_OPTION
@click.option("--force", is_flag=True, help="Overwrite the environment's file if it exists.")
@click.option(
    "--factor",
    is_flag=True,
    help="Without _common.yaml: move what this and the environments init wrote before set alike into a new "
    "_common.yaml, editing their files there only (comments and spellings kept).",
)
@reports_errors
def init(
    cluster: str,
    service: str,
    env: str,
    environments_dir: Environments,
    region: str | None,
    aws_timeout: float,
    force: bool,
    factor: bool,
) -> None:
    """Adopt a running service: write the environment's layer, the overlay schema and a snapshot.

    Only new files are written: an existing layer, schema or snapshot is left byte for byte as it is (--factor
    asks for the one exception). With _common.yaml present, the new layer extends it. Secret values of the
    live service are never written: the snapshot holds ****.
    """
    from .adopt import adopt_environment

    adoption = adopt_environment(
        env,
        environments_dir,
        BaseOptions(cluster=cluster, service=service, region=region, timeout=aws_timeout),
        force,
        factor,
    )
    # a new repository has no environments/, schema/ or snapshots/ yet: created, and removed again on failure
    write_tree(
        [Artifact("init", str(path), text) for path, text in adoption.files.items()],
        environments_dir.directory.parent,
    )
    for line in adoption.notes:
        click.echo(line, err=True)
    click.echo(f"wrote {', '.join(str(path) for path in adoption.files)}: {adoption.summary}", err=True)


@cli.command()
@environment_options
@base_options
@image_option
@click.option("--path", "subtree", metavar="PATH", help="Only this subtree, e.g. containerDefinitions[web].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@show_values_option
@reports_errors
def explain(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    subtree: str | None,
    output_format: str,
    show_values: bool,
) -> None:
    """Print the rendered task definition with the origin of every value."""
    from .report import explain_entries, explain_json, explain_lines

    name = environment_name(env, environments_dir)
    rendered = render_environment(name, environments_dir, base, images)
    require_clean(rendered)
    entries = explain_entries(rendered.result.taskdef, rendered.result.provenance, subtree, show_values)
    if subtree and not entries:
        raise UsageError(f"--path {subtree}: nothing there; paths look like containerDefinitions[web].environment")
    if output_format == "json":
        write_stdout(explain_json(entries))
    else:
        write_stdout(explain_lines(entries))


def _render_checked(
    env: str | None,
    environments_dir: Environments,
    base: BaseOptions,
    images: list[ImageRequest],
    options: RenderOptions,
    image_arch: str | None,
    appspec_path: str | None = None,
    check_appspec_path: str | None = None,
) -> tuple[str, Rendered, str | None]:
    """What render and register share: the environment rendered and every check passed, or an error."""
    name = environment_name(env, environments_dir)
    rendered = render_environment(name, environments_dir, base, images, options)
    require_clean(rendered)
    appspec_text = build_checks(rendered, images, image_arch, appspec_path, check_appspec_path)
    _print_warnings([*rendered.notes, *rendered.result.findings])
    _print_images(rendered.result.taskdef, images)
    return name, rendered, appspec_text


def _print_images(taskdef: dict[str, Any], images: list[ImageRequest]) -> None:
    """Which images a run without --image kept, so that a forgotten --image shows in the build log."""
    if not images:
        kept = ", ".join(f"{name} {image}" for name, image in container_images(taskdef)) or "none"
        click.echo(f"kept images (no --image given): {kept}", err=True)


def _print_placeholders(taskdef: dict[str, Any]) -> None:
    """Render may write placeholders (CodeDeploy's ECS action fills them in); it says so."""
    for name, image in placeholders(taskdef):
        click.echo(
            f"{_image_path(name)}: note: {image} is a placeholder; CodeDeploy's ECS blue/green action replaces it "
            "with the image of an input artifact (imageDetail.json). ECS cannot register or run it as it is",
            err=True,
        )


def _image_path(container: str) -> str:
    return format_path(("containerDefinitions", Item(container), "image"))


def _shown(path: str) -> str:
    return "standard output" if path == "-" else path


def _print_warnings(findings: list[Finding]) -> None:
    for finding in findings:
        if not finding.is_error:
            click.echo(printable(finding.to_text()), err=True)


class _Interrupted(SystemExit):
    """SIGINT or SIGTERM (a cancelled CodeBuild job): unwinds like an exception, so temporary files are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        self.signal_name = signal.Signals(signum).name


def _interrupted(signum: int, _frame: Any) -> None:
    raise _Interrupted(signum)


def main() -> None:
    for held in (signal.SIGINT, signal.SIGTERM):
        signal.signal(held, _interrupted)
    code: object = 0
    try:
        cli(prog_name="ecs-overlay")
    except _Interrupted as stop:
        _say(f"Error: interrupted by {stop.signal_name}")
        code = stop.code
    except SystemExit as done:
        code = done.code
    finally:
        _release_stdout()
    _end_process(code)


def _end_process(code: object) -> NoReturn:
    """Exit with ``code`` (as ``sys.exit`` reads it) without tearing the interpreter down.

    Every output is written, renamed into place and flushed by now; unloading jsonschema, botocore
    and the parsed schemas module by module would cost about a tenth of a short run for nothing.
    """
    if isinstance(code, str):
        _say(code)
        code = EXIT_INVALID
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0)


def _say(message: str) -> None:
    """A line on stderr, if anyone is still listening."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(message, file=sys.stderr, flush=True)


def _release_stdout() -> None:
    """A reader that went away is reported once (exit 3), not again by Python's own flush at exit."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    main()
