"""``diff``: what a deploy, a pull request (``--against``) or another environment (``--to-env``) changes.

With one service (no ``--services``) a failing environment stops the run as it always did; across many services
it is recorded with its service and the run goes on, so every service is reported and the exit code is the worst
outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..base import BaseOptions, fetch_base
from ..diff import Change, IgnoreRule, compare, not_ignored
from ..environments import ENVIRONMENT_SUFFIXES, Environments, load_layers
from ..errors import EXIT_DIFFERENCES, EXIT_INVALID, InvalidInputError, NoBaseError, UsageError
from ..findings import counted, has_errors
from ..images import ImageRequest
from ..keyed import Item
from ..ownership import ENVIRONMENT_TAG, environment_tag
from ..prefetch import Described, describe_ahead
from ..services import Service
from .environment import (
    Connection,
    Context,
    Failure,
    Selection,
    checked,
    loaded_layers,
    many_services,
    render_on,
    selected,
    services_of,
)

if TYPE_CHECKING:
    from ..gitsource import GitSource  # git runs only for --against


class DiffRequest(NamedTuple):
    environment: str | None  # --env
    every: bool  # --all
    environments: Environments
    services_dir: Path | None
    base: BaseOptions
    images: Sequence[ImageRequest]
    against: str | None
    to_environment: str | None
    ignore: Sequence[IgnoreRule]
    exit_on_changes: bool  # --exit-code
    context: Context


def run(request: DiffRequest) -> DiffRun:
    if request.to_environment is not None and (request.against is not None or request.every):
        raise UsageError("--to-env compares two environments; it does not go with --against or --all")
    found = diff(
        services_of(request.services_dir, request.environments),
        Selection((request.environment,) if request.environment else (), every=request.every),
        request.base,
        request.images,
        request.against,
        request.to_environment,
        request.services_dir,
        aws=request.context.aws,
        described=request.context.console.described,
    )
    for _, result in found.diffs:
        result.changes = not_ignored(result.changes, request.ignore)
    found.many = request.services_dir is not None
    found.against = request.against
    found.exit_on_changes = request.exit_on_changes
    return found


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


def diff_environment(
    name: str,
    environments: Environments,
    base_options: BaseOptions,
    images: Sequence[ImageRequest] = (),
    against: GitSource | None = None,
    to_environment: str | None = None,
    renamed_from: str | None = None,
    *,
    aws: Connection,
) -> EnvironmentDiff:
    """The default: the base as it stands against what render would write. ``against`` a git revision
    (the run's one source): the overlays then and now on the same base (``renamed_from``: the file name
    the environment had at the revision). ``to_environment``: two environments on the same base."""
    layers = loaded_layers(name, environments)
    if against is not None:  # the working tree's files stay in the repository: checked before anything is fetched
        for layer_file in environments.layer_files(name):
            against.check_working(layer_file)
    base, base_label = fetch_base(base_options, layers, name, aws.ecs)
    if to_environment is not None:
        old = checked(name, render_on(base, layers, name, images))
        new = checked(
            to_environment, render_on(base, loaded_layers(to_environment, environments), to_environment, images)
        )
        changes = compare(old.taskdef, new.taskdef, new.provenance, old.provenance)
        return EnvironmentDiff(to_environment, changes, name, to_environment)
    new = checked(name, render_on(base, layers, name, images))
    if against is None:
        changes = compare(base.taskdef, new.taskdef, new.provenance)
        if environment_tag(base.taskdef) is not None:
            return EnvironmentDiff(name, changes, base_label, "rendered")
        return _adoption_tag_apart(EnvironmentDiff(name, changes, base_label, "rendered"))
    path = environments.file(name)
    if renamed_from is not None:
        path = path.with_name(renamed_from)
    old_layers = load_layers(path, source=against, parsed=against.parsed) if against.exists(path) else []
    old = checked(name, render_on(base, old_layers, name, images), against.ref)
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
class DiffRun:
    diffs: list[tuple[str, EnvironmentDiff]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchanged_services: int = 0
    unchanged_environments: int = 0
    # (service, environment, why): environments --base DIR has no snapshot for; the others are compared
    no_base: list[tuple[str, str, str]] = field(default_factory=list)
    # (service, sentence): shared layers added, removed or renamed by the pull request
    layer_changes: list[tuple[str, str]] = field(default_factory=list)
    many: bool = False  # --services
    against: str | None = None
    exit_on_changes: bool = False  # --exit-code: exit 4 when there are changes

    @property
    def exit_code(self) -> int:
        """The worst outcome: an environment that could not be compared (1) outranks differences (4)."""
        if self.failures:
            return EXIT_INVALID
        changed = self.exit_on_changes and any(result.changes for _, result in self.diffs)
        return EXIT_DIFFERENCES if changed else 0

    def closing_lines(self) -> list[str]:
        """What the run says after its report: environments not rendered or not compared, layer changes, notes."""
        lines = []
        if self.many and self.against is not None:
            lines.append(
                f"{counted(self.unchanged_services, 'service')} and "
                f"{counted(self.unchanged_environments, 'environment')} unchanged at {self.against}: not rendered"
            )
        for service, sentence in self.layer_changes:
            lines.append(sentence + (f" (service {service})" if self.many else ""))
        for service, name, why in self.no_base:
            where = f"service {service}, " if self.many else ""
            lines.append(f"{where}environment {name}: no base, not compared: {why}")
        for service, result in self.diffs:
            lines.extend(f"info: {note}" + (f" (service {service})" if self.many else "") for note in result.notes)
        return lines


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
    *,
    aws: Connection,
    described: Described | None = None,
) -> DiffRun:
    """Each selected environment's diff. With ``against`` and many services, an environment whose files
    (and every layer it extends) are the same at the revision and in the working tree is not rendered."""
    run = DiffRun()
    many = many_services(services)
    with ExitStack() as stack:
        source = None
        if against is not None:
            from ..gitsource import GitSource

            directory = git_directory or services[0].environments.directory
            source = stack.enter_context(GitSource(against, directory))
        every = selection.every or (many and not selection.names)
        changed = None if source is None else (lambda service, name: not _unchanged(service, name, source))
        describe_ahead(selected(services, selection), base_options, aws.ecs, described, wanted=changed)
        for service, names in selected(services, selection):
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
                        name,
                        service.environments,
                        base,
                        images,
                        source,
                        to_environment,
                        files.renamed.get(name),
                        aws=aws,
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
