"""``validate``: every environment's overlay files checked offline, or rendered on a base and checked."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..base import BaseOptions
from ..environments import Environments
from ..errors import EXIT_INVALID, EcsOverlayError
from ..findings import Finding, counted
from ..images import ImageRequest
from ..prefetch import Described, describe_ahead
from ..render import DEFAULT_OPTIONS, RenderOptions, check_layers
from ..services import Service
from .environment import Connection, Context, Selection, render_environment, selected, services_of


@dataclass
class ValidateRun:
    """Findings per service and environment (a shared layer's finding once, where it was first met)."""

    findings: list[tuple[str, str, Finding]] = field(default_factory=list)
    environments: list[tuple[str, str]] = field(default_factory=list)
    # Each environment's own overlay file: where a report places a finding that has no file of its own.
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    rendered: bool = False  # rendered on a base, not the overlay files alone
    many: bool = False  # --services

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID if any(finding.is_error for _, _, finding in self.findings) else 0

    @property
    def summary(self) -> str:
        """The line that closes the run: what was checked and what was found."""
        from ..report.located import by_service

        errors = sum(1 for _, _, finding in self.findings if finding.is_error)
        warnings = sum(1 for _, _, finding in self.findings if finding.is_warning)
        scope = "rendered task definitions" if self.rendered else "overlay files"
        names = [name for _, name in self.environments]
        checked = (
            f"{counted(len(by_service(self.environments)), 'service')}, {counted(len(names), 'environment')}"
            if self.many
            else f"{counted(len(names), 'environment')} ({', '.join(names)})"
        )
        return f"checked {checked}, {scope}: {counted(errors, 'error')}, {counted(warnings, 'warning')}"


class ValidateRequest(NamedTuple):
    names: tuple[str, ...]  # --env: these environments; none: every one
    environments: Environments
    services_dir: Path | None
    base: BaseOptions
    images: Sequence[ImageRequest]
    options: RenderOptions
    context: Context


def run(request: ValidateRequest) -> ValidateRun:
    base = request.base if request.base.given else None
    found = validate(
        services_of(request.services_dir, request.environments),
        Selection(request.names, every=not request.names),
        base,
        request.images,
        request.context.aws,
        request.options,
        request.context.console.described,
    )
    found.rendered = base is not None
    found.many = request.services_dir is not None
    return found


def validate(
    services: Sequence[Service],
    selection: Selection,
    base_options: BaseOptions | None,
    images: Sequence[ImageRequest],
    aws: Connection,
    options: RenderOptions = DEFAULT_OPTIONS,
    described: Described | None = None,
) -> ValidateRun:
    """Findings of every environment: its overlay files alone, or rendered on a base when one is given.

    A shared layer used by several environments (or services) is reported once per finding, not once per use.
    """
    run = ValidateRun()
    seen: set[Finding] = set()
    describe_ahead(selected(services, selection), base_options, aws.ecs, described)
    for service, names in selected(services, selection):
        base = service.base(base_options) if base_options is not None else None
        for name in names:
            if base is None:
                findings = check_layers(service.environments.load(name))
            else:
                findings = render_environment(name, service.environments, base, images, aws, options).result.findings
            for finding in findings:
                if finding.file is None or finding not in seen:
                    seen.add(finding)
                    run.findings.append((service.name, name, finding))
        run.environments.extend((service.name, name) for name in names)
        for name in names:
            with suppress(EcsOverlayError):  # prod.yaml and prod.yml both: a finding already says so
                run.files[(service.name, name)] = str(service.environments.file(name))
    return run
