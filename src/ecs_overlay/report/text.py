"""The text format: what a person reads in a terminal or a CI log, one line per change, finding or value.

Every line goes through :func:`printable` (terminal.py) as it is written, once: a key or value cannot
move the cursor, recolour the log or forge a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..diff import ADDED, CHANGED, REMOVED, Change, Drift
from ..findings import Finding, counted, short
from ..keyed import Path, format_path
from ..provenance import Origin
from .shown import shown_changes, shown_drifts
from .terminal import printable

SYMBOLS = {ADDED: "+", REMOVED: "-", CHANGED: "~"}
_COLOURS = {ADDED: "32", REMOVED: "31", CHANGED: "33"}


def _paint(line: str, colour_code: str, colour: bool) -> str:
    """One line of the text format: what it shows escaped for the terminal, then the colour around it."""
    shown = printable(line)
    return f"\033[{colour_code}m{shown}\033[0m" if colour else shown


def _where(origin: Origin | None) -> str:
    return f"  ({origin.describe()})" if origin is not None else ""


def change_line(change: Change, colour: bool = False) -> str:
    symbol = SYMBOLS[change.operation]
    if change.operation == CHANGED:
        body = f"{change.readable_path}: {short(change.old)} -> {short(change.new)}"
    else:
        body = f"{change.readable_path}: {short(change.new if change.operation == ADDED else change.old)}"
    return _paint(f"{symbol} {body}", _COLOURS[change.operation], colour) + printable(_where(change.origin))


def count_changes(changes: Sequence[Change]) -> str:
    """``3 changes``, or ``no changes``: how the text and Markdown headings count them."""
    return counted(len(changes), "change") if changes else "no changes"


def changes_text(diffs: Sequence[tuple[str, str, Sequence[Change]]], colour: bool = False) -> str:
    """``diffs``: (environment, heading, changes), changes already masked as wanted."""
    lines: list[str] = []
    for environment, heading, changes in diffs:
        lines.append(_paint(f"== {environment}: {heading}: {count_changes(changes)}", "1", colour))
        lines.extend(change_line(change, colour) for change in changes)
    return "\n".join(lines) + "\n"


def services_text(sections: Sequence[tuple[str, str]]) -> str:
    """Each service's text under a ``=== service NAME`` heading."""
    return "".join(f"=== service {printable(service)}\n{section}" for service, section in sections)


def findings_text(findings: Sequence[tuple[str, Finding]]) -> str:
    """Findings, one line each; a finding with no file says its environment."""
    lines = [f"{f.to_text()} (environment {name})" if f.file is None else f.to_text() for name, f in findings]
    return "".join(f"{printable(line)}\n" for line in lines)


def drift_text(
    environment: str,
    label: str,
    drifts: Sequence[Drift],
    since: Sequence[Change] | None,
    show_values: bool,
    build_time: Sequence[Drift] = (),
) -> str:
    lines = [
        f"== {environment}: live {label}: "
        + (f"{counted(len(drifts), 'managed value')} drifted" if drifts else "no drift")
    ]
    lines.extend(f"! {_drift_line(item)}" for item in shown_drifts(drifts, show_values))
    if build_time:
        lines.append(f"-- build-time values differ (not drift): {len(build_time)}")
        lines.extend(f"~ {_drift_line(item)}" for item in shown_drifts(build_time, show_values))
    if since is not None:
        lines.append(f"-- since the snapshot: {count_changes(since)}")
        lines.extend(change_line(change) for change in shown_changes(since, show_values))
    return "".join(f"{printable(line)}\n" for line in lines)


def _drift_line(item: Drift) -> str:
    live = short(item.live) if item.live_present else "(absent)"
    wanted = short(item.overlay) if item.overlay is not None else "(deleted)"
    return f"{item.readable_path}: live {live}, overlay {wanted}  ({item.origin.describe()})"


def explain_text(entries: Sequence[tuple[Path, Any, Origin]]) -> str:
    """``entries`` from :func:`~.shown.explain_entries`, secrets already masked as wanted."""
    lines = [f"{format_path(path)} = {short(value)}  <- {origin.describe()}" for path, value, origin in entries]
    return "".join(f"{printable(line)}\n" for line in lines)
