"""Semantic comparison of task definitions: what changes, where, and which overlay line caused it.

Keyed lists are compared by key (a reordered environment list is no change), so every change
has a readable path such as ``containerDefinitions[web].environment[LOG_LEVEL]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from .errors import UsageError
from .keyed import Item, KeyedList, KeyedListSpec, Path, format_path, from_keyed, spec_for, to_keyed
from .provenance import OVERLAY, Origin, Provenance
from .secrets import mask

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    """One difference between an old and a new task definition."""

    path: Path
    operation: str
    old: Any = None
    new: Any = None
    origin: Origin | None = None
    # The origins of both sides, read by masked(): a value built from ${DB_PASSWORD} is a secret.
    provenances: tuple[Provenance, ...] = field(default=(), compare=False, repr=False)

    @property
    def readable_path(self) -> str:
        return format_path(self.path)

    def masked(self) -> Change:
        """The change with every secret in its values replaced by ``****`` (see secrets.py)."""
        return replace(
            self, old=mask(self.path, self.old, self.provenances), new=mask(self.path, self.new, self.provenances)
        )


def compare(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    provenance: Provenance | None = None,
    old_provenance: Provenance | None = None,
) -> list[Change]:
    """Every difference from ``old`` to ``new``; ``provenance`` (of ``new``) says where each came from."""
    changes: list[Change] = []
    _compare(to_keyed(dict(old)), to_keyed(dict(new)), (), changes, provenance)
    known = tuple(p for p in (old_provenance, provenance) if p is not None)
    return [replace(change, provenances=known) for change in changes] if known else changes


def _compare(old: Any, new: Any, path: Path, changes: list[Change], provenance: Provenance | None) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        keyed = isinstance(old, KeyedList) or isinstance(new, KeyedList)
        # Pair-like items (environment, secrets, tags, …) read as one value: environment[LOG_LEVEL]: a -> b
        spec = spec_for(path) if keyed else None
        for key in [*old, *(k for k in new if k not in old)]:
            step: Item | str = Item(key) if keyed else key
            child = (*path, step)
            if _whole_keyed_list(old.get(key), new.get(key)):
                # A keyed list one side lacks reads item by item (`+ tags[env]`), as --ignore writes it.
                _compare(old.get(key) or KeyedList(), new.get(key) or KeyedList(), child, changes, provenance)
            elif key not in new:
                changes.append(Change(child, REMOVED, old=_pair(old[key], spec), origin=_origin(provenance, child)))
            elif key not in old:
                changes.append(Change(child, ADDED, new=_pair(new[key], spec), origin=_origin(provenance, child)))
            elif spec is not None and spec.value and _is_pair(old[key], spec) and _is_pair(new[key], spec):
                if old[key].get(spec.value) != new[key].get(spec.value):
                    changes.append(
                        Change(
                            child,
                            CHANGED,
                            old[key].get(spec.value),
                            new[key].get(spec.value),
                            _origin(provenance, (*child, spec.value)),
                        )
                    )
            else:
                _compare(old[key], new[key], child, changes, provenance)
    elif _plain(old) != _plain(new):
        changes.append(Change(path, CHANGED, _plain(old), _plain(new), _origin(provenance, path)))


def _whole_keyed_list(old: Any, new: Any) -> bool:
    """One side is a non-empty keyed list and the other has none."""
    return (old is None and isinstance(new, KeyedList) and bool(new)) or (
        new is None and isinstance(old, KeyedList) and bool(old)
    )


def _is_pair(item: Any, spec: KeyedListSpec | None) -> bool:
    """An item that is just key and value (``{name: LOG_LEVEL, value: warn}``)."""
    return (
        spec is not None and spec.value is not None and isinstance(item, dict) and set(item) <= {spec.key, spec.value}
    )


def _pair(item: Any, spec: KeyedListSpec | None) -> Any:
    return item.get(spec.value) if spec is not None and spec.value and _is_pair(item, spec) else _plain(item)


def _origin(provenance: Provenance | None, path: Path) -> Origin | None:
    return None if provenance is None else provenance.locate(path)


def _plain(value: Any) -> Any:
    return from_keyed(value)


def value_at(data: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) at a keyed path in plain task-definition data."""
    node: Any = to_keyed(data) if isinstance(data, dict) else data
    for step in path:
        key = step.key if isinstance(step, Item) else step
        if isinstance(node, dict) and key in node:
            node = node[key]
            continue
        if not (isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)):
            return False, None
        node = node[key]
    return True, _plain(node)


def leaves(data: Mapping[str, Any]) -> Iterator[tuple[Path, Any, Path]]:
    """Every value of a task definition: (keyed path, value, path of its origin record).

    Plain lists count as one value; a pair-like item (``environment[LOG_LEVEL]``) is one value whose
    origin is its value field's.
    """
    yield from _leaves(to_keyed(dict(data)), ())


def _leaves(node: Any, path: Path) -> Iterator[tuple[Path, Any, Path]]:
    spec = spec_for(path) if isinstance(node, KeyedList) else None
    if isinstance(node, dict) and node:
        keyed = isinstance(node, KeyedList)
        for key, child in node.items():
            child_path = (*path, Item(key) if keyed else key)
            if spec is not None and spec.value and _is_pair(child, spec):
                yield child_path, child.get(spec.value), (*child_path, spec.value)
            else:
                yield from _leaves(child, child_path)
    else:
        yield path, _plain(node), path


# ---------------------------------------------------------------------------------------------
# Drift: managed values that the live task definition no longer has


@dataclass(frozen=True)
class Drift:
    """A value an overlay sets that differs in the live task definition."""

    path: Path
    live: Any
    overlay: Any
    origin: Origin
    live_present: bool = True
    provenances: tuple[Provenance, ...] = field(default=(), compare=False, repr=False)

    @property
    def readable_path(self) -> str:
        return format_path(self.path)

    @property
    def build_time(self) -> bool:
        """The overlay value is built from ``${VARS}`` of the build (a commit, a build number): a deploy
        sets it, the overlay does not manage it, so a difference later is not drift."""
        return bool(self.origin.variables)

    def masked(self) -> Drift:
        """The drift with every secret in both values replaced by ``****`` (see secrets.py)."""
        return replace(
            self,
            live=mask(self.path, self.live, self.provenances),
            overlay=mask(self.path, self.overlay, self.provenances),
        )


def drift(live: Mapping[str, Any], rendered: Mapping[str, Any], provenance: Provenance) -> list[Drift]:
    """Each value the overlay layers manage (set or delete) that the live task definition does not match.

    Images are set per deploy, not managed by overlays, and are left out.
    """
    found: list[Drift] = []
    for path, origin in provenance:
        if origin.kind != OVERLAY or any(path[: len(d.path)] == d.path for d in found):
            continue
        wanted_present, wanted = value_at(rendered, path)
        live_present, actual = value_at(live, path)
        if (wanted_present, wanted) != (live_present, actual):
            found.append(_readable_drift(path, actual, wanted if wanted_present else None, origin, live_present))
    found = [replace(item, provenances=(provenance,)) for item in found]
    return sorted(found, key=lambda d: (d.origin.file or "", d.origin.line or 0, d.origin.column or 0))


def _readable_drift(path: Path, live: Any, wanted: Any, origin: Origin, live_present: bool) -> Drift:
    """Pair-like items read as one value: ``environment[LOG_LEVEL]: live "info", overlay "warn"``."""
    if len(path) >= 2 and isinstance(path[-2], Item):
        spec = spec_for(path[:-2])
        if spec is not None and spec.value == path[-1]:
            return Drift(path[:-1], live, wanted, origin, live_present)
    if path and isinstance(path[-1], Item):
        spec = spec_for(path[:-1])
        return Drift(path, _pair(live, spec), _pair(wanted, spec), origin, live_present)
    return Drift(path, live, wanted, origin, live_present)


# ---------------------------------------------------------------------------------------------
# Ignore rules: paths a team accepts as noise, left out of diff and drift


_STEP = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


class IgnoreRule:
    """One ``--ignore`` pattern, in the paths' own notation: ``tags[*]`` (or ``tags.*``),
    ``containerDefinitions[*].environment[GIT_COMMIT]``, ``dockerLabels[com.example.build]``.

    ``*`` matches any text within one step; ``[X]`` and ``.X`` both match a step named X (brackets let a key
    hold dots). A rule covers everything below the path it matches.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        steps: list[re.Pattern[str]] = []
        position = 0
        while position < len(pattern):
            if pattern[position] == "." and steps:
                position += 1
            found = _STEP.match(pattern, position)
            if found is None or (found.group(1) is not None and not found.group(1)):
                raise UsageError(
                    f"'{pattern}' is not a path; write it as diff shows paths, "
                    "e.g. tags[*] or containerDefinitions[*].environment[GIT_COMMIT]"
                )
            text = found.group(1) if found.group(1) is not None else found.group(2)
            steps.append(re.compile(".*".join(re.escape(part) for part in text.split("*"))))
            position = found.end()
        if not steps:
            raise UsageError("'' is not a path; write one such as tags[*]")
        self.steps = steps

    def covers(self, path: Path) -> bool:
        return len(path) >= len(self.steps) and all(
            step.fullmatch(str(part)) for step, part in zip(self.steps, path, strict=False)
        )


class _HasPath(Protocol):
    @property
    def path(self) -> Path: ...


P = TypeVar("P", bound=_HasPath)


def not_ignored(items: Iterable[P], rules: Iterable[IgnoreRule]) -> list[P]:
    """The changes (or drifts) no rule covers."""
    kept = list(rules)
    return [item for item in items if not any(rule.covers(item.path) for rule in kept)]
