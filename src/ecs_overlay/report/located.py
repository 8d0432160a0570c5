"""What the CI formats report: findings placed at a service, an environment and (mostly) an overlay line.

Validate's and verify's findings are used as they are; drift becomes one finding per drifted value, placed where the
overlay sets that value, so that SARIF, JUnit and GitHub annotations point at the line to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar
from urllib.parse import quote

from ..diff import Drift
from ..findings import ERROR, Finding, short
from ..rules.inputs import DRIFT

T = TypeVar("T")


def qualified(service: str, environment: str) -> str:
    """``service/environment``, or the environment alone (one service, no ``--services``)."""
    return f"{service}/{environment}" if service else environment


class Located(NamedTuple):
    """A finding of one environment of one service (``service`` is "" without ``--services``)."""

    service: str
    environment: str
    finding: Finding

    @property
    def scope(self) -> str:
        """``service S, environment E``, or ``environment E``: how a message says where it belongs."""
        return (
            f"service {self.service}, environment {self.environment}"
            if self.service
            else f"environment {self.environment}"
        )


def by_service(items: Iterable[tuple[str, T]]) -> list[tuple[str, list[T]]]:
    """Items grouped by their service, in the order the services first appear."""
    groups: dict[str, list[T]] = {}
    for service, item in items:
        groups.setdefault(service, []).append(item)
    return list(groups.items())


@dataclass(frozen=True)
class Scope:
    """The environments a run covered, each with its overlay file (where a finding without a file goes)."""

    environments: Sequence[tuple[str, str]]
    files: dict[tuple[str, str], str]


def drift_finding(service: str, environment: str, item: Drift, label: str) -> Located:
    """A drifted value (already masked as wanted) as an error at the overlay line that sets it."""
    live = short(item.live) if item.live_present else "no value"
    wanted = short(item.overlay) if item.overlay is not None else "it deleted"
    message = f"live {label} has {live}, the overlays set {wanted}"
    return Located(service, environment, Finding.at(item.origin, DRIFT, message, item.readable_path, ERROR))


def repository_root(start: Path) -> Path:
    """The git work tree ``start`` is in (the nearest directory up holding ``.git``), else ``start``:
    what SARIF and GitHub annotations take file paths relative to."""
    start = start.absolute()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def relative_path(file: str, root: Path) -> str | None:
    """``file`` (absolute, or relative to the working directory) relative to ``root`` with forward
    slashes, as a GitHub annotation names it; None when it is outside ``root``."""
    absolute = Path(os.path.normpath(Path(file).absolute()))
    try:
        return absolute.relative_to(root.absolute()).as_posix()
    except ValueError:
        return None


def relative_uri(file: str, root: Path) -> str:
    """``file`` as a SARIF artifact location: a relative reference from the repository root, percent-encoded
    as RFC 3986 wants (a space, ``#``, ``%``, ``?``, ``:``, any non-ASCII byte); a file outside it as a
    ``file:`` URI. A name that is not UTF-8 keeps its bytes."""
    relative = relative_path(file, root)
    if relative is None:
        return Path(os.path.normpath(Path(file).absolute())).as_uri()
    return quote(os.fsencode(relative), safe="/")
