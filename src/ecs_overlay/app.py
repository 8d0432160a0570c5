"""A run of a command over services × environments: load, fetch, render, check; result objects out.

Commands in ``cli.py`` parse options, call one of these and hand the result to a reporter
(``report/reporters.py``). With one service (no ``--services``) a failing environment stops the run as
it always did; across many services it is recorded with its service and the run goes on, so every
service is reported and the exit code is the worst outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import BaseOptions, snapshot_base
from .diff import IgnoreRule, not_ignored
from .environments import ENVIRONMENT_SUFFIXES
from .errors import EcsOverlayError, InvalidInputError, NoBaseError, UsageError
from .findings import Finding, has_errors
from .images import ImageRequest
from .prefetch import Described, describe_ahead, loaded_layers
from .render import DEFAULT_OPTIONS, RenderOptions, check_layers
from .review import DriftReport, EnvironmentDiff, _build_time_layers, diff_environment, drift_environment
from .services import Service
from .workflow import environment_name, render_environment

if TYPE_CHECKING:
    from .gitsource import GitSource  # git runs only for --against
    from .overlay import Overlay


@dataclass
class Failure:
    """An environment that could not be compared: its service, name and the error (with its findings)."""

    service: str
    environment: str
    error: InvalidInputError


@dataclass
class Selection:
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


def _many(services: Sequence[Service]) -> bool:
    """A run with ``--services`` (its services have names), not the one service of ``--environments-dir``."""
    return len(services) > 1 or bool(services[0].name)


def _selected(services: Sequence[Service], selection: Selection) -> list[tuple[Service, list[str]]]:
    many = _many(services)
    chosen = [(service, selection.of(service, many)) for service in services]
    if many and not any(names for _, names in chosen):
        wanted = f"environment {', '.join(selection.names)}" if selection.names else "any environment"
        raise UsageError(f"no service has {wanted}; a service's environments are <service>/environments/<env>.yaml")
    return chosen


@dataclass
class ValidateRun:
    """Findings per service and environment (a shared layer's finding once, where it was first met)."""

    findings: list[tuple[str, str, Finding]] = field(default_factory=list)
    environments: list[tuple[str, str]] = field(default_factory=list)
    # Each environment's own overlay file: where a report places a finding that has no file of its own.
    files: dict[tuple[str, str], str] = field(default_factory=dict)


def validate(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions | None,
    images: Sequence[ImageRequest],
    options: RenderOptions = DEFAULT_OPTIONS,
    described: Described | None = None,
) -> ValidateRun:
    """Findings of every environment: its overlay files alone, or rendered on a base when one is given.

    A shared layer used by several environments (or services) is reported once per finding, not once per use.
    """
    run = ValidateRun()
    seen: set[Finding] = set()
    describe_ahead(_selected(services, selection), base_options, described)
    for service, names in _selected(services, selection):
        base = service.base(base_options) if base_options is not None else None
        for name in names:
            if base is None:
                findings = check_layers(service.environments.load(name))
            else:
                findings = render_environment(name, service.environments, base, images, options).result.findings
            for finding in findings:
                if finding.file is None or finding not in seen:
                    seen.add(finding)
                    run.findings.append((service.name, name, finding))
        run.environments.extend((service.name, name) for name in names)
        for name in names:
            with suppress(EcsOverlayError):  # prod.yaml and prod.yml both: a finding already says so
                run.files[(service.name, name)] = str(service.environments.file(name))
    return run


@dataclass
class DiffRun:
    diffs: list[tuple[str, EnvironmentDiff]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchanged_services: int = 0
    unchanged_environments: int = 0
    # (service, environment, why): environments --base DIR has no snapshot for; the others are compared
    no_base: list[tuple[str, str, str]] = field(default_factory=list)
    # (service, sentence): shared layers added, removed or renamed by the pull request
    layer_changes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class FileChanges:
    """How a pull request changed a service's environment files: new name → old file name for renames
    (same content), environments only at the revision, and sentences about shared layers."""

    renamed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


def file_changes(service: Service, source: GitSource) -> FileChanges:
    """Environment and layer files added, removed or renamed between the revision and the working tree.

    A rename is a file gone and one new with the same content (the same git blob id); a renamed file that
    was also edited reads as one removed and one added."""
    directory = service.environments.directory
    then = {
        name: blob for name, blob in source.files_in(directory).items() if Path(name).suffix in ENVIRONMENT_SUFFIXES
    }
    try:
        now = sorted(entry.name for entry in directory.iterdir() if entry.suffix in ENVIRONMENT_SUFFIXES)
    except OSError:
        now = []  # no environments directory in the working tree: every environment was removed
    gone = {name: blob for name, blob in then.items() if name not in now}
    changes = FileChanges()
    for name in (name for name in now if name not in then):
        blob = source.working_blob(directory / name, len(next(iter(then.values()), "")))
        old = next((old for old, old_blob in gone.items() if old_blob == blob), None)
        kind = "layer" if name.startswith("_") else "environment"
        if old is not None and old.startswith("_") == name.startswith("_"):
            del gone[old]
            if kind == "environment":
                changes.renamed[Path(name).stem] = old
            else:
                changes.layers.append(f"layer {old} renamed to {name}")
        elif kind == "layer":
            changes.layers.append(f"layer {name} added (not at {source.ref})")
    for old in gone:
        if old.startswith("_"):
            changes.layers.append(f"layer {old} removed (at {source.ref}, not in the working tree)")
        else:
            changes.removed.append(Path(old).stem)
    return changes


def diff(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions,
    images: Sequence[ImageRequest],
    against: str | None = None,
    to_environment: str | None = None,
    git_directory: Path | None = None,
    described: Described | None = None,
) -> DiffRun:
    """Each selected environment's diff. With ``against`` and many services, an environment whose files
    (and every layer it extends) are the same at the revision and in the working tree is not rendered."""
    run = DiffRun()
    many = _many(services)
    with ExitStack() as stack:
        source = None
        if against is not None:
            from .gitsource import GitSource

            directory = git_directory or services[0].environments.directory
            source = stack.enter_context(GitSource(against, directory))
        every = selection.every or (many and not selection.names)
        changed = None if source is None else (lambda service, name: not _unchanged(service, name, source))
        describe_ahead(_selected(services, selection), base_options, described, wanted=changed)
        for service, names in _selected(services, selection):
            files = file_changes(service, source) if source is not None and every else FileChanges()
            if many and source is not None:
                touched = [name for name in names if not _unchanged(service, name, source)]
                run.unchanged_environments += len(names) - len(touched)
                if names and not touched and not files.removed and not files.layers:
                    run.unchanged_services += 1
                names = touched
            base = service.base(base_options)
            run.layer_changes.extend((service.name, sentence) for sentence in files.layers)
            for name in names:
                try:
                    found = diff_environment(
                        name, service.environments, base, images, source, to_environment, files.renamed.get(name)
                    )
                except NoBaseError as error:
                    if not every:
                        raise
                    run.no_base.append((service.name, name, error.message))
                except InvalidInputError as error:
                    if not many:
                        raise
                    run.failures.append(Failure(service.name, name, error))
                else:
                    run.diffs.append((service.name, found))
            for name in files.removed:
                status = f"environment {name} removed (at {against}, not in the working tree)"
                run.diffs.append((service.name, EnvironmentDiff(name, [], str(against), "working tree", status)))
    return run


def _unchanged(service: Service, name: str, source: GitSource) -> bool:
    """Every file of the environment is the same at the revision; a layer that does not load (a deleted
    ``extends`` target, a mistake) counts as a change, so that it is rendered and reported."""
    layers = service.environments.load(name)
    if has_errors([finding for layer in layers for finding in layer.findings]):
        return False
    return all(source.unchanged(path) for path in service.environments.layer_files(name))


@dataclass
class DriftRun:
    reports: list[tuple[str, DriftReport]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def drift(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions,
    snapshot: str | None,
    described: Described | None = None,
) -> DriftRun:
    run = DriftRun()
    many = _many(services)
    describe_ahead(_selected(services, selection), base_options, described, layers=_drift_layers)
    for service, names in _selected(services, selection):
        base = service.base(base_options)
        for name in names:
            try:
                run.reports.append((service.name, drift_environment(name, service.environments, base, snapshot)))
            except InvalidInputError as error:
                if not many:
                    raise
                run.failures.append(Failure(service.name, name, error))
    return run


def _drift_layers(service: Service, name: str) -> Sequence[Overlay]:
    return _build_time_layers(name, service.environments)


def drop_ignored(run: DiffRun | DriftRun, rules: Sequence[IgnoreRule]) -> None:
    """Leave out of ``run`` every change and drift an ``--ignore`` rule covers, before it is reported or counted."""
    if not rules:
        return
    if isinstance(run, DiffRun):
        for _, result in run.diffs:
            result.changes = not_ignored(result.changes, rules)
        return
    for _, report in run.reports:
        report.drifts = not_ignored(report.drifts, rules)
        report.build_time = not_ignored(report.build_time, rules)
        report.snapshot_changes = not_ignored(report.snapshot_changes, rules)


def snapshots(
    services: Sequence[Service], selection: Selection, base_options: BaseOptions, described: Described | None = None
) -> list[tuple[str, str, dict[str, Any], str]]:
    """(service, environment, live base, where it came from) for every selected environment of every service."""
    describe_ahead(_selected(services, selection), base_options, described, layers=loaded_layers)
    return [
        (service.name, name, *snapshot_base(name, service.environments, base_options))
        for service, names in _selected(services, selection)
        for name in names
    ]
