"""Where each value of a rendered task definition came from.

Errors, ``diff``, ``drift`` and ``explain`` all read this one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from .keyed import Path

BASE = "base"
OVERLAY = "overlay"
IMAGE = "image"
TOOL = "tool"  # set by ecs-overlay itself: the environment tag


class Origin(NamedTuple):
    """One source of a value: the live base, an overlay file position, or an ``--image`` option."""

    kind: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    variables: tuple[str, ...] = ()
    detail: str | None = None
    # The text as written, when ``variables`` were interpolated into it: what masking may show of the value.
    template: str | None = None

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
        if self.kind in (IMAGE, TOOL):
            return self.detail or self.kind
        return "base"


BASE_ORIGIN = Origin(BASE)


@dataclass
class Provenance:
    """Origins by path; a path not recorded inherits the origin of its nearest recorded ancestor.

    Each record carries a sequence number: a later record on an ancestor (an overlay replacing a
    whole subtree) outranks earlier records below it, without searching for and deleting them.
    """

    records: dict[Path, tuple[int, Origin]] = field(default_factory=dict)
    sequence: int = 0

    def set(self, path: Path, origin: Origin) -> None:
        """Record that ``origin`` now owns ``path`` and everything below it."""
        self.sequence += 1
        self.records[path] = (self.sequence, origin)

    def _record(self, path: Path) -> tuple[int, Origin] | None:
        best: tuple[int, Origin] | None = None
        for size in range(len(path), -1, -1):
            found = self.records.get(path[:size])
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best

    def origin(self, path: Path) -> Origin:
        found = self._record(path)
        return BASE_ORIGIN if found is None else found[1]

    def locate(self, path: Path) -> Origin:
        """Where to point a finding about ``path``: its own origin, or, when that is the base,
        the first overlay position that set something inside it (a value, or a `null` delete);
        the environment tag ecs-overlay adds points nowhere a user could edit."""
        own = self.origin(path)
        if own.kind != BASE:
            return own
        size = len(path)
        inside = [
            origin
            for recorded, origin in self
            if len(recorded) > size and recorded[:size] == path and origin.kind not in (BASE, TOOL)
        ]
        return min(inside, key=lambda o: (o.line or 0, o.column or 0)) if inside else own

    def __iter__(self) -> Iterator[tuple[Path, Origin]]:
        """The records still in force, in the order they were made."""
        for path, (sequence, origin) in sorted(self.records.items(), key=lambda item: item[1][0]):
            if self._record(path) == (sequence, origin):
                yield path, origin
