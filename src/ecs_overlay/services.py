"""Services: a repository of many, each an immediate subdirectory of ``--services DIR`` holding ``environments/``.

One run reads them all in one process: every service gets its own ``Environments`` (its directory
listed once), and all of them share one parse cache, so a layer every service extends
(``extends: ../../_shared/org.yaml``) is read and parsed once per run. Without ``--services`` the
run has one service, the unnamed one, whose environments are ``--environments-dir``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .base import BaseOptions, of_service
from .environments import Environments, ParseCache
from .errors import UsageError

ENVIRONMENTS_FOLDER = "environments"


@dataclass(frozen=True)
class Service:
    """One service: its name (the directory's; empty for the single service of a plain run) and environments."""

    name: str
    environments: Environments

    def base(self, options: BaseOptions) -> BaseOptions:
        """Where this service's bases come from (base.py's ``of_service``)."""
        return of_service(options, self.name)


def discover(directory: Path) -> list[Service]:
    """Every service under ``directory``, sorted by name: each immediate subdirectory holding ``environments/``."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        raise UsageError(f"--services {directory}: not a directory; give the directory holding the services") from None
    parsed: ParseCache = {}
    services = [
        Service(entry.name, Environments(Path(directory) / entry.name / ENVIRONMENTS_FOLDER, parsed))
        for entry in entries
        if entry.is_dir() and os.path.isdir(os.path.join(entry.path, ENVIRONMENTS_FOLDER))
    ]
    if not services:
        raise UsageError(
            f"--services {directory}: no services found; a service is a subdirectory holding {ENVIRONMENTS_FOLDER}/"
        )
    return services


def single(environments: Environments) -> list[Service]:
    """The one service of a run without ``--services``."""
    return [Service("", environments)]
