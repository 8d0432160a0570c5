"""Command line: parse options, call the core, print, map the outcome to an exit code.

The only module that imports click.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import EcsOverlayError, UsageError
from .images import ImageRequest
from .output import to_json, write_all
from .workflow import BaseOptions, environment_name, render_environment, require_clean

F = TypeVar("F", bound=Callable[..., Any])


class _Failure(click.ClickException):
    """An EcsOverlayError on its way out: its message, its findings, its exit code."""

    def __init__(self, error: EcsOverlayError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance
        self.error = error

    def show(self, file: Any = None) -> None:
        stream = file or sys.stderr
        for finding in getattr(self.error, "findings", []):
            click.echo(finding.to_text(), file=stream)
        click.echo(f"Error: {self.message}", file=stream)


def reports_errors(func: F) -> F:
    """Turn the error family into click's: usage errors show the command's usage, exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            raise click.UsageError(error.message, click.get_current_context()) from None
        except EcsOverlayError as error:
            raise _Failure(error) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100})
@click.version_option(package_name="ecs-overlay")
def cli() -> None:
    """Live ECS task definition + per-environment YAML overlay + image → validated taskdef.json.

    \b
    Exit codes: 0 written / clean, 1 invalid overlay or task definition,
                2 usage, 3 AWS or I/O failure.
    """


def environment_options(func: F) -> F:
    """--env and --environments-dir, shared by every command that reads an environment."""
    func = click.option(
        "--environments-dir",
        default="environments",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory of <env>.yaml overlays; files starting with _ are shared layers.",
    )(func)
    return click.option(
        "--env",
        "env",
        envvar="DEPLOY_ENV",
        show_envvar=True,
        help="Environment to render: <environments-dir>/<env>.yaml.",
    )(func)


def base_options(func: F) -> F:
    """Where the base task definition comes from, shared by every command that needs one."""
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
        click.option("--region", help="AWS region (default: the standard AWS configuration chain)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def image_option(func: F) -> F:
    return click.option(
        "--image",
        "images",
        multiple=True,
        metavar="[NAME=]URI",
        help="Set container NAME's image, or (without NAME=) every container running an image from "
        "the same repository. Repeatable.",
    )(func)


def _base(
    family: str | None, cluster: str | None, service: str | None, base_file: str | None, region: str | None
) -> BaseOptions:
    return BaseOptions(family=family, cluster=cluster, service=service, base_file=base_file, region=region)


@cli.command()
@environment_options
@base_options
@image_option
@click.option(
    "-o",
    "--output",
    default="taskdef.json",
    show_default=True,
    metavar="PATH",
    help="Where to write the task definition; - for standard output.",
)
@reports_errors
def render(
    env: str | None,
    environments_dir: Path,
    family: str | None,
    cluster: str | None,
    service: str | None,
    base_file: str | None,
    region: str | None,
    images: tuple[str, ...],
    output: str,
) -> None:
    """Render the environment's task definition and write it, checked, to taskdef.json."""
    name = environment_name(env, environments_dir)
    requests = [ImageRequest.parse(text) for text in images]
    rendered = render_environment(name, environments_dir, _base(family, cluster, service, base_file, region), requests)
    require_clean(rendered)
    _print_warnings(rendered.result.findings)
    write_all([(output, to_json(rendered.result.taskdef))])
    containers = rendered.result.taskdef.get("containerDefinitions", [])
    target = "standard output" if output == "-" else output
    click.echo(
        f"wrote {target}: environment {name}, base {rendered.base_label}, "
        f"{len(containers)} container{'s' if len(containers) != 1 else ''}",
        err=True,
    )


def _print_warnings(findings: list[Any]) -> None:
    for finding in findings:
        if not finding.is_error:
            click.echo(finding.to_text(), err=True)


def main() -> None:
    cli(prog_name="ecs-overlay")


if __name__ == "__main__":  # pragma: no cover
    main()
