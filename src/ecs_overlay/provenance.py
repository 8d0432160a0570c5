"""Where each value of a rendered task definition came from.

Errors, ``diff``, ``drift`` and ``explain`` all read this one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .keyed import Path

BASE = "base"
OVERLAY = "overlay"
IMAGE = "image"


@dataclass(frozen=True)
class Origin:
    """One source of a value: the live base, an overlay file position, or an ``--image`` option."""

    kind: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    variables: tuple[str, ...] = ()
    detail: str | None = None

    def location(self) -> str | None:
        """``file:line:column`` when the value came from a file."""
        if self.file is None:
            return None
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    def describe(self) -> str:
        if self.kind == OVERLAY:
            text = self.location() or "overlay"
            if self.variables:
                text += " via " + ", ".join(f"${{{name}}}" for name in self.variables)
            return text
        if self.kind == IMAGE:
            return self.detail or "--image"
        return "base"


BASE_ORIGIN = Origin(BASE)


@dataclass
class Provenance:
    """Origins by path; a path not recorded inherits the origin of its nearest recorded ancestor."""

    origins: dict[Path, Origin] = field(default_factory=dict)

    def set(self, path: Path, origin: Origin) -> None:
        """Record that ``origin`` now owns ``path`` and everything below it."""
        size = len(path)
        for recorded in [p for p in self.origins if len(p) > size and p[:size] == path]:
            del self.origins[recorded]
        self.origins[path] = origin

    def origin(self, path: Path) -> Origin:
        for size in range(len(path), -1, -1):
            found = self.origins.get(path[:size])
            if found is not None:
                return found
        return BASE_ORIGIN

    def locate(self, path: Path) -> Origin:
        """Where to point a finding about ``path``: its own origin, or, when that is the base,
        the first overlay position that set something inside it (a value, or a `null` delete)."""
        own = self.origin(path)
        if own.kind != BASE:
            return own
        size = len(path)
        inside = [
            origin
            for recorded, origin in self.origins.items()
            if len(recorded) > size and recorded[:size] == path and origin.kind != BASE
        ]
        return min(inside, key=lambda o: (o.line or 0, o.column or 0)) if inside else own

    def __iter__(self) -> Iterator[tuple[Path, Origin]]:
        return iter(self.origins.items())
