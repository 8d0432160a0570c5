"""Results as they may be printed, whatever the format: secret values masked unless ``--show-values``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..diff import Change, Drift, leaves
from ..keyed import Path, format_path
from ..provenance import Origin, Provenance
from ..secrets import mask


def shown_changes(changes: Sequence[Change], show_values: bool) -> list[Change]:
    """The changes as they may be printed: secrets masked unless ``--show-values``."""
    return list(changes) if show_values else [change.masked() for change in changes]


def shown_drifts(drifts: Sequence[Drift], show_values: bool) -> list[Drift]:
    return list(drifts) if show_values else [item.masked() for item in drifts]


def explain_entries(
    taskdef: dict[str, Any], provenance: Provenance, prefix: str | None, show_values: bool = False
) -> list[tuple[Path, Any, Origin]]:
    """Every value with its origin, limited to the subtree at ``prefix`` (a readable path);
    secrets masked unless ``show_values``."""
    entries = []
    for path, value, origin_path in leaves(taskdef):
        readable = format_path(path)
        if prefix and not (readable == prefix or readable.startswith((prefix + ".", prefix + "["))):
            continue
        shown = value if show_values else mask(path, value, (provenance,))
        entries.append((path, shown, provenance.origin(origin_path)))
    return entries
