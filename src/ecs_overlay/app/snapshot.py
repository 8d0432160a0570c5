"""``snapshot``: the live base, stripped exactly as render starts from it, saved for offline diff and drift."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..base import BaseOptions, fetch_base
from ..environments import Environments
from ..errors import UsageError
from ..findings import counted
from ..output import Artifact, check_outputs, destination, to_json
from ..prefetch import Described, describe_ahead, loaded_layers
from ..services import Service, discover
from .environment import Connection, Context, Selection, selected


class SnapshotRequest(NamedTuple):
    environment: str | None
    environments: Environments
    services_dir: Path | None
    base: BaseOptions
    output: str
    context: Context


class SnapshotRun(NamedTuple):
    """The snapshots to write, every one or none: under ``tree`` (with --services, a directory) or as one file."""

    artifacts: list[Artifact]
    summary: str
    tree: Path | None = None

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: SnapshotRequest) -> SnapshotRun:
    output = request.output
    if request.services_dir is not None:
        return _services(request.environment, request.services_dir, request.base, output, request.context)
    check_outputs([("--output", output)])
    taskdef, label = snapshot_base(request.environment, request.environments, request.base, request.context.aws)
    summary = f"wrote {destination(output)}: snapshot of {label}"
    return SnapshotRun([Artifact("--output", output, to_json(taskdef))], summary)


def _services(env: str | None, services_dir: Path, base: BaseOptions, output: str, context: Context) -> SnapshotRun:
    """Every service's environments' live bases, as OUTPUT/<service>/<env>.json: all of them, or none."""
    if output == "-":
        raise UsageError("--output with --services is a directory (OUTPUT/<service>/<env>.json), not -")
    selection = Selection((env,) if env else (), every=not env)
    taken = snapshots(discover(services_dir), selection, base, context.aws, context.console.described)
    return SnapshotRun(
        [
            Artifact("--output", str(Path(output) / service / f"{name}.json"), to_json(taskdef))
            for service, name, taskdef, _ in taken
        ],
        f"wrote {output}/: snapshots of {counted(len(taken), 'environment')} "
        f"of {counted(len({service for service, _, _, _ in taken}), 'service')}",
        Path(output),
    )


def snapshot_base(
    name: str | None, environments: Environments, base_options: BaseOptions, aws: Connection
) -> tuple[dict[str, Any], str]:
    """The live base, stripped exactly as render starts from it."""
    layers = environments.load(name) if name else []
    base, label = fetch_base(base_options, layers, name, aws.ecs)
    return base.taskdef, label


def snapshots(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions,
    aws: Connection,
    described: Described | None = None,
) -> list[tuple[str, str, dict[str, Any], str]]:
    """(service, environment, live base, where it came from) for every selected environment of every service."""
    describe_ahead(selected(services, selection), base_options, aws.ecs, described, layers=loaded_layers)
    return [
        (service.name, name, *snapshot_base(name, service.environments, base_options, aws))
        for service, names in selected(services, selection)
        for name in names
    ]
