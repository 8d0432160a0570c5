"""Command line: parse the options into a request, call the command (app/<command>.py), hand its result to a
reporter or writer, and exit with the result's exit code.

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

from .app.environment import Connection, Context
from .base import BaseOptions
from .environments import Environments
from .errors import EXIT_INVALID, EcsOverlayError, UsageError
from .images import ImageRequest
from .output import Artifact, destination, masked_output, write_all, write_stdout, write_tree
from .render import RenderOptions
from .report.terminal import printable, printable_stderr, raw_stderr
from .rules import DEFAULT_MAX_SIZE
from .secrets import show_values

if TYPE_CHECKING:  # loaded only by the commands that use them
    from .app.environment import Failure
    from .deploy import Progress
    from .diff import IgnoreRule
    from .onetask import OneOffTask  # loaded when --run-task-first is parsed, not when the commands are defined

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
R = TypeVar("R")


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


class _Console:
    """The application layer's console (app/environment.py): standard error, one message a line."""

    def say(self, text: str) -> None:
        click.echo(printable(text), err=True)

    def warn_loudly(self, text: str) -> None:
        click.echo(click.style(text, fg="red", bold=True), err=True)

    def described(self, service: str, finished: int, total: int) -> None:
        """Progress of a ``--services`` run describing its live bases. On a terminal one line, rewritten as each
        service's bases are described; elsewhere a line at each tenth of the services (each service when there
        are 10 or fewer): 200 services log 10 lines, not 200."""
        text = f"described the live bases of service {service} ({finished}/{total})"
        if sys.stderr is not None and sys.stderr.isatty():
            raw_stderr().write("\r\033[K")  # the terminal's own control sequence, past the escaping of messages
            click.echo(printable(text), err=True, nl=finished == total)
        elif finished == total or finished * 10 // total != (finished - 1) * 10 // total:
            click.echo(printable(text), err=True)


def _request(kind: Callable[..., R], parsed: dict[str, Any], **collaborators: Any) -> R:
    """The command's request: what the options said (each option's name is a field of the request), and the
    run's collaborators: the console, and the AWS connection, opened when the first call needs it."""
    base = parsed.get("base")
    region = base.region if base is not None else parsed.pop("region")
    timeout = base.timeout if base is not None else parsed.pop("aws_timeout")
    return kind(**parsed, **collaborators, context=Context(_Console(), Connection(region, timeout)))


def _exit(code: int) -> None:
    """End the command with the result's exit code (click's own exit: nothing past it runs)."""
    if code:
        click.get_current_context().exit(code)


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
        "environments",
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
        "environment",
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
    return click.option("--all", "every", is_flag=True, help="Every environment in the environments directory.")(func)


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
    from .cpu_architecture import normalise

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
def render(**parsed: Any) -> None:
    """Render the environment's task definition and write it, checked, to taskdef.json."""
    from .app import render as command

    result = command.run(_request(command.RenderRequest, parsed))
    write_all(result.artifacts)  # every artifact, or none
    click.echo(result.summary, err=True)


@cli.command()
@render_options
@click.option("--dry-run", is_flag=True, help="Check the request against botocore's model; register nothing.")
@ALLOW_ENVIRONMENT_CHANGE_OPTION
@reports_errors
def register(**parsed: Any) -> None:
    """Render exactly like render, then register the result and print the new revision's ARN."""
    from .app import register as command

    result = command.run(_request(command.RegisterRequest, parsed))
    if result.arn is not None:
        write_stdout(result.arn + "\n")


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


def format_option(command: str, for_ci: bool = True) -> Callable[[F], F]:
    """``--format``: the formats the reporter registry offers for ``command`` (report/reporters.py); ``for_ci``:
    it offers the CI formats (explain does not)."""
    ci = "; sarif, junit and github are for CI" if for_ci else ""
    return click.option(
        "--format",
        "output_format",
        type=_FormatChoice(command),
        default="text",
        show_default=True,
        help=f"Output format{ci} (see the README's format table).",
    )


def _report(output_format: str, command: str, run: Any, services_dir: Path | None, **view: Any) -> None:
    """Standard output gets the run as the chosen reporter renders it."""
    from .report.located import repository_root
    from .report.reporters import REPORTER_BY_NAME, View

    render = getattr(REPORTER_BY_NAME[output_format], command)
    write_stdout(render(run, View(many=services_dir is not None, root=repository_root(Path.cwd()), **view)))


def _print_failures(failures: list[Failure]) -> None:
    """Environments of a many-service run that could not be compared: each error, and the run goes on."""
    for failure in failures:
        _Failure(failure.error).show()
        click.echo(printable(f"(service {failure.service}, environment {failure.environment})"), err=True)


@cli.command()
@click.option(
    "--env",
    "names",
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
def validate(**parsed: Any) -> None:
    """Check overlay files offline; with a base, also every rendered result against ECS's rules.

    Exit 0 when there are no errors (warnings allowed), 1 when there are.
    """
    from .app import validate as command

    output_format = parsed.pop("output_format")
    result = command.run(_request(command.ValidateRequest, parsed))
    _report(output_format, "validate", result, parsed["services_dir"])
    click.echo(result.summary, err=True)
    _exit(result.exit_code)


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
def deploy(**parsed: Any) -> None:
    """Render, register, update --cluster/--service to the new revision and wait for the deployment.

    For services ECS deploys itself (rolling, BLUE_GREEN) and CodeDeploy-controlled ones (a CodeDeploy
    deployment with the environment's appspec). The base is the revision the service runs, unless
    --family or --base names another. Exit 5 when the deployment (or a --run-task-first task) fails or
    times out.
    """
    from .app import deploy as command

    result = command.run(_request(command.DeployRequest, parsed, progress=_progress()))
    write_stdout(result.output)
    if result.closing is not None:
        click.echo(result.closing, err=True)


# Without a terminal, an unchanged status is repeated this often: CI logs show the deploy is alive.
HEARTBEAT_SECONDS = 60


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
def rollback(**parsed: Any) -> None:
    """Point the service back at its previous revision (or --to-revision N) and wait for the deployment.

    The previous revision: while a rollout runs, the one the older deployment still runs; otherwise the
    newest ACTIVE revision of the running family older than the running one. Nothing is rendered or
    registered; the service's other settings are left as they are. Prints the revision now running.
    """
    from .app.deploy import RollbackRequest
    from .app.deploy import rollback as roll_back

    write_stdout(roll_back(_request(RollbackRequest, parsed, progress=_progress())).arn + "\n")


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
def deregister(**parsed: Any) -> None:
    """Deregister the environment's ACTIVE revisions beyond the newest --keep N.

    Never one that a service runs: every deployment of every service in the environment's base.cluster
    (and each --cluster) is kept, old and new deployments of a rollout alike. The family is the
    environment's `family:`, else its base.family, else the family its base service runs.
    """
    from .app import deregister as command

    click.echo(command.run(_request(command.DeregisterRequest, parsed)).summary, err=True)


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


@cli.command()
@render_options
@format_option("verify")
@reports_errors
def verify(**parsed: Any) -> None:
    """Check, read-only, that what the rendered task definition points at exists in AWS.

    Roles and their trust, the execution role's permissions, secrets and parameters, log groups,
    ECR images and their architecture, EFS volumes, FireLens files in S3, the blue/green resources
    of the service: section's load balancers and, with --cluster and --service, the service's
    load-balancer target. Each is looked up in its own region and account (another account only
    through `verify: roles:`). Exit 0 when nothing failed (checks that could not be made are
    warnings), 1 when something did.
    """
    from .app import verify as command

    output_format = parsed.pop("output_format")
    result = command.run(_request(command.VerifyRequest, parsed))
    _report(output_format, "verify", result, None)
    _exit(result.exit_code)


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
@click.option(
    "--to-env", "to_environment", metavar="NAME", help="Compare environment --env with NAME on the same base."
)
@format_option("diff")
@click.option("--exit-code", "exit_on_changes", is_flag=True, help="Exit 4 when there are differences, 0 when none.")
@ignore_option
@show_values_option
@reports_errors
def diff(**parsed: Any) -> None:
    """Show what a deploy (or a pull request, or another environment) changes, semantically.

    By default: the base as it stands against what render would write.
    """
    from .app import diff as command

    output_format, show_values = parsed.pop("output_format"), parsed.pop("show_values")
    result = command.run(_request(command.DiffRequest, parsed))
    colour = sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    _report(output_format, "diff", result, parsed["services_dir"], show_values=show_values, colour=colour)
    for line in result.closing_lines():
        click.echo(line, err=True)
    _print_failures(result.failures)
    _exit(result.exit_code)


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
def drift(**parsed: Any) -> None:
    """Report values the overlays set that the live task definition no longer has (exit 4 when any).

    Values built from ${VARS} (a commit, a build number) are set by each deploy, not managed: when they
    differ they are listed apart as build-time values, which are not drift and never change the exit code.
    """
    from .app import drift as command

    output_format, show_values = parsed.pop("output_format"), parsed.pop("show_values")
    result = command.run(_request(command.DriftRequest, parsed))
    view = {"show_values": show_values, "snapshot": parsed["snapshot"] is not None}
    _report(output_format, "drift", result, parsed["services_dir"], **view)
    _print_failures(result.failures)
    _exit(result.exit_code)


@cli.command()
@click.option(
    "--env",
    "environment",
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
def snapshot(**parsed: Any) -> None:
    """Save the live base, stripped exactly as render starts from it, for offline diff and drift."""
    from .app import snapshot as command

    result = command.run(_request(command.SnapshotRequest, parsed))
    if result.tree is not None:
        write_tree(result.artifacts, result.tree)
    else:
        write_all(result.artifacts)
    click.echo(result.summary, err=True)


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
        click.echo(f"wrote {destination(output)}: the {kind} schema", err=True)


@cli.command()
@click.option("--cluster", required=True, help="The cluster of the service to adopt.")
@click.option("--service", required=True, help="The ECS service whose running task definition is the base.")
@click.option(
    "--env",
    "environment",
    required=True,
    metavar="NAME",
    help="The environment to write: <environments-dir>/NAME.yaml.",
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
def init(**parsed: Any) -> None:
    """Adopt a running service: write the environment's layer, the overlay schema and a snapshot.

    Only new files are written: an existing layer, schema or snapshot is left byte for byte as it is (--factor
    asks for the one exception). With _common.yaml present, the new layer extends it. Secret values of the
    live service are never written: the snapshot holds ****.
    """
    from .app import init as command

    result = command.run(_request(command.InitRequest, parsed))
    # a new repository has no environments/, schema/ or snapshots/ yet: created, and removed again on failure
    write_tree([Artifact("init", str(path), text) for path, text in result.files.items()], result.root)
    for line in result.notes:
        click.echo(line, err=True)
    click.echo(f"wrote {', '.join(str(path) for path in result.files)}: {result.summary}", err=True)


@cli.command()
@environment_options
@base_options
@image_option
@click.option("--path", "subtree", metavar="PATH", help="Only this subtree, e.g. containerDefinitions[web].")
@format_option("explain", for_ci=False)
@show_values_option
@reports_errors
def explain(**parsed: Any) -> None:
    """Print the rendered task definition with the origin of every value."""
    from .app import explain as command

    output_format = parsed.pop("output_format")
    _report(output_format, "explain", command.run(_request(command.ExplainRequest, parsed)), None)


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
