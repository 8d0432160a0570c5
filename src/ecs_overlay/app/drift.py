"""``drift``: values the overlays set that the live task definition no longer has."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .. import schemas
from ..base import BaseOptions, fetch_base, read_base_file, registerable
from ..diff import Change, Drift, IgnoreRule, compare, not_ignored
from ..diff import drift as drifted
from ..environments import Environments, load_layers
from ..errors import EXIT_DIFFERENCES, EXIT_INVALID, InvalidInputError
from ..overlay import Overlay
from ..prefetch import Described, describe_ahead
from ..rules.inputs import UNSET_VARIABLE
from ..services import Service
from .environment import (
    Connection,
    Context,
    Failure,
    Selection,
    checked,
    checked_layers,
    many_services,
    render_on,
    selected,
    services_of,
)


class DriftRequest(NamedTuple):
    environment: str | None  # --env
    every: bool  # --all
    environments: Environments
    services_dir: Path | None
    base: BaseOptions
    snapshot: str | None
    ignore: Sequence[IgnoreRule]
    context: Context


def run(request: DriftRequest) -> DriftRun:
    found = drift(
        services_of(request.services_dir, request.environments),
        Selection((request.environment,) if request.environment else (), every=request.every),
        request.base,
        request.snapshot,
        request.context.aws,
        request.context.console.described,
    )
    for _, report in found.reports:
        report.drifts = not_ignored(report.drifts, request.ignore)
        report.build_time = not_ignored(report.build_time, request.ignore)
        report.snapshot_changes = not_ignored(report.snapshot_changes, request.ignore)
    return found


@dataclass
class DriftReport:
    environment: str
    base_label: str
    drifts: list[Drift] = field(default_factory=list)
    snapshot_changes: list[Change] = field(default_factory=list)
    # values built from ${VARS} of the build that differ now: reported apart, never drift (see Drift.build_time)
    build_time: list[Drift] = field(default_factory=list)


class _UnsetAsWritten(dict[str, str]):
    """The environment, where a variable the build set but this run lacks reads as its own ``${NAME}``."""

    def get(self, name: str, default: str | None = None) -> str:  # type: ignore[override]
        return super().get(name, f"${{{name}}}")


def _build_time_layers(name: str, environments: Environments) -> list[Overlay]:
    """The layers as drift reads them. A scheduled job lacks the build's variables: when the only errors are
    unset ones (``${CODEBUILD_BUILD_NUMBER}`` without a default), every variable the run lacks reads as its
    ``${NAME}`` (one with a default too), so those values are build-time values that differ, not a reason to fail."""
    layers = environments.load(name)
    errors = [finding for layer in layers for finding in layer.findings if finding.is_error]
    if errors and all(finding.rule == UNSET_VARIABLE for finding in errors):
        layers = load_layers(environments.file(name), _UnsetAsWritten(os.environ))
    return checked_layers(name, layers)


def drift_environment(
    name: str, environments: Environments, base_options: BaseOptions, snapshot: str | None, aws: Connection
) -> DriftReport:
    """Managed values the live task definition no longer matches; with a snapshot, every change since."""
    layers = _build_time_layers(name, environments)
    live, label = fetch_base(base_options, layers, name, aws.ecs)
    result = checked(name, render_on(live, layers, name))
    found = drifted(live.taskdef, result.taskdef, result.provenance)
    managed = [item for item in found if not item.build_time]
    report = DriftReport(name, label, managed, build_time=[item for item in found if item.build_time])
    if snapshot is not None:
        saved = registerable(read_base_file(snapshot, "--snapshot"), schemas.describe_only_fields())
        report.snapshot_changes = compare(saved, live.taskdef)
    return report


@dataclass
class DriftRun:
    reports: list[tuple[str, DriftReport]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The worst outcome: an environment that could not be compared (1) outranks drift (4)."""
        if self.failures:
            return EXIT_INVALID
        return EXIT_DIFFERENCES if any(r.drifts or r.snapshot_changes for _, r in self.reports) else 0


def drift(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions,
    snapshot: str | None,
    aws: Connection,
    described: Described | None = None,
) -> DriftRun:
    run = DriftRun()
    many = many_services(services)
    describe_ahead(selected(services, selection), base_options, aws.ecs, described, layers=_drift_layers)
    for service, names in selected(services, selection):
        base = service.base(base_options)
        for name in names:
            try:
                run.reports.append((service.name, drift_environment(name, service.environments, base, snapshot, aws)))
            except InvalidInputError as error:
                if not many:
                    raise
                run.failures.append(Failure(service.name, name, error))
    return run


def _drift_layers(service: Service, name: str) -> Sequence[Overlay]:
    """The layers drift renders an environment from (its build-time values unset as written)."""
    return _build_time_layers(name, service.environments)
