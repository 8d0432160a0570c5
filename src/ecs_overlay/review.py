"""The review commands' edges: diff, drift, snapshot and explain, built from the same stages as render."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import schemas
from .base import ENVIRONMENT_TAG, BaseOptions, environment_tag, fetch_base, read_base_file, registerable
from .diff import Change, Drift, compare, drift
from .environments import Environments, load_layers
from .findings import has_errors
from .images import ImageRequest
from .keyed import Item
from .overlay import Overlay
from .render import RenderResult
from .rules.inputs import UNSET_VARIABLE
from .workflow import problems, render_on

if TYPE_CHECKING:
    from .gitsource import GitSource


@dataclass
class EnvironmentDiff:
    """What changes for one environment, and against what."""

    environment: str
    changes: list[Change]
    old_label: str
    new_label: str
    # what happened to the environment's file in a pull request: added, renamed from another, removed
    status: str | None = None
    # what the reader should know that is no change: the environment tag on a base not yet tagged
    notes: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        compared = f"{self.old_label} -> {self.new_label}"
        return f"{self.status}; {compared}" if self.status else compared


def _checked(name: str, result: RenderResult, revision: str | None = None) -> RenderResult:
    if has_errors(result.findings):
        where = f" as it is at {revision}" if revision else ""
        raise problems(name, result.findings, f"it does not render{where}; fix them first")
    return result


def _layers(name: str, environments: Environments) -> list[Overlay]:
    return _layers_checked(name, environments.load(name))


def _layers_checked(name: str, layers: list[Overlay]) -> list[Overlay]:
    findings = [finding for layer in layers for finding in layer.findings]
    if has_errors(findings):
        raise problems(name, findings, "it does not render; fix them first")
    return layers


def diff_environment(
    name: str,
    environments: Environments,
    base_options: BaseOptions,
    images: Sequence[ImageRequest] = (),
    against: GitSource | None = None,
    to_environment: str | None = None,
    renamed_from: str | None = None,
) -> EnvironmentDiff:
    """The default: the base as it stands against what render would write. ``against`` a git revision
    (the run's one source): the overlays then and now on the same base (``renamed_from``: the file name
    the environment had at the revision). ``to_environment``: two environments on the same base."""
    layers = _layers(name, environments)
    if against is not None:  # the working tree's files stay in the repository: checked before anything is fetched
        for layer_file in environments.layer_files(name):
            against.check_working(layer_file)
    base, base_label = fetch_base(base_options, layers, name)
    if to_environment is not None:
        old = _checked(name, render_on(base, layers, name, images))
        new = _checked(to_environment, render_on(base, _layers(to_environment, environments), to_environment, images))
        changes = compare(old.taskdef, new.taskdef, new.provenance, old.provenance)
        return EnvironmentDiff(to_environment, changes, name, to_environment)
    new = _checked(name, render_on(base, layers, name, images))
    if against is None:
        changes = compare(base.taskdef, new.taskdef, new.provenance)
        if environment_tag(base.taskdef) is not None:
            return EnvironmentDiff(name, changes, base_label, "rendered")
        return _adoption_tag_apart(EnvironmentDiff(name, changes, base_label, "rendered"))
    path = environments.file(name)
    if renamed_from is not None:
        path = path.with_name(renamed_from)
    old_layers = load_layers(path, source=against, parsed=against.parsed) if against.exists(path) else []
    old = _checked(name, render_on(base, old_layers, name, images), against.ref)
    changes = compare(old.taskdef, new.taskdef, new.provenance, old.provenance)
    if renamed_from is not None:
        status = f"environment {Path(renamed_from).stem} renamed to {name}"
    elif not old_layers:
        status = f"environment {name} added (not at {against.ref}: compared with the base alone)"
    else:
        status = None
    return EnvironmentDiff(name, changes, against.ref, "working tree", status)


def _adoption_tag_apart(result: EnvironmentDiff) -> EnvironmentDiff:
    """On a base no environment has claimed yet, the environment tag render adds is bookkeeping, not a change
    the overlays make: a note (as render prints it), left out of the changes and so of ``--exit-code``."""
    tag = ("tags", Item(ENVIRONMENT_TAG))
    result.changes = [change for change in result.changes if change.path != tag]
    result.notes.append(
        f"environment {result.environment}: base not tagged {ENVIRONMENT_TAG} yet (first adoption); "
        f"the next revision is tagged {result.environment}"
    )
    return result


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
    return _layers_checked(name, layers)


def drift_environment(
    name: str, environments: Environments, base_options: BaseOptions, snapshot: str | None
) -> DriftReport:
    """Managed values the live task definition no longer matches; with a snapshot, every change since."""
    layers = _build_time_layers(name, environments)
    live, label = fetch_base(base_options, layers, name)
    result = _checked(name, render_on(live, layers, name))
    found = drift(live.taskdef, result.taskdef, result.provenance)
    managed = [item for item in found if not item.build_time]
    report = DriftReport(name, label, managed, build_time=[item for item in found if item.build_time])
    if snapshot is not None:
        saved = registerable(read_base_file(snapshot, "--snapshot"), schemas.describe_only_fields())
        report.snapshot_changes = compare(saved, live.taskdef)
    return report
