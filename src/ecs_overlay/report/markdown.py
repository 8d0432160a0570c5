"""The markdown format: tables for a pull-request comment or a job summary (``$GITHUB_STEP_SUMMARY``).

Every user's string goes through ``markdown_escape`` (``code``, ``text``) as the table is built, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..diff import ADDED, REMOVED, Change, Drift
from ..findings import Finding, counted, short
from ..keyed import Path, format_path
from ..provenance import Origin
from .located import Located, by_service
from .markdown_escape import code, text
from .shown import shown_changes, shown_drifts
from .text import SYMBOLS, count_changes


def changes_markdown(diffs: Sequence[tuple[str, str, Sequence[Change]]]) -> str:
    """One section per environment, ready to post as a pull-request comment."""
    parts: list[str] = []
    for environment, heading, changes in diffs:
        parts.append(f"### {code(environment)} — {count_changes(changes)}\n\n_{text(heading)}_\n")
        if changes:
            parts.append(changes_table(changes))
        parts.append("")
    return "\n".join(parts)


def changes_table(changes: Sequence[Change]) -> str:
    """A Markdown table of changes (already masked as wanted), one row each."""
    rows = ["| | path | old | new | set by |", "|---|---|---|---|---|"]
    for change in changes:
        old = "" if change.operation == ADDED else code(short(change.old, 60))
        new = "" if change.operation == REMOVED else code(short(change.new, 60))
        origin = code(change.origin.describe()) if change.origin else ""
        rows.append(f"| {SYMBOLS[change.operation]} | {code(change.readable_path)} | {old} | {new} | {origin} |")
    return "\n".join(rows)


def services_markdown(sections: Sequence[tuple[str, str]]) -> str:
    return "".join(f"## Service {code(service)}\n\n{section}" for service, section in sections)


def findings_markdown(environments: Sequence[tuple[str, str]], findings: Sequence[Located]) -> str:
    """Findings as Markdown: a summary line and table, then a table per environment.

    ``environments``: (service, environment) in order, ``service`` "" without ``--services``; under
    ``--services`` each service's environments sit under a ``## Service`` heading.
    """
    many = any(service for service, _ in environments)
    own: dict[tuple[str, str], list[Finding]] = {key: [] for key in environments}
    for item in findings:
        own.setdefault((item.service, item.environment), []).append(item.finding)
    errors, warnings, _ = _severities([item.finding for item in findings])
    head = ["| service | environment | errors | warnings | info |", "|---|---|---:|---:|---:|"]
    if not many:
        head = [head[0].replace("| service ", ""), head[1].replace("|---", "", 1)]
    rows = []
    for service, environment in environments:
        cells = [code(environment), *(str(n) for n in _severities(own[(service, environment)]))]
        rows.append("| " + " | ".join([code(service), *cells] if many else cells) + " |")
    summary = (
        f"{counted(errors, 'error')}, {counted(warnings, 'warning')} "
        f"in {counted(len(environments), 'environment')}.\n\n" + "\n".join([*head, *rows]) + "\n\n"
    )
    sections = [(service, _findings_section(name, own[(service, name)])) for service, name in environments]
    if not many:
        return summary + "".join(section for _, section in sections)
    return summary + services_markdown([(s, "".join(group)) for s, group in by_service(sections)])


def _severities(findings: Sequence[Finding]) -> tuple[int, int, int]:
    errors = sum(1 for f in findings if f.is_error)
    warnings = sum(1 for f in findings if f.is_warning)
    return errors, warnings, len(findings) - errors - warnings


def _findings_section(environment: str, findings: Sequence[Finding]) -> str:
    errors, warnings, _ = _severities(findings)
    count = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}" if findings else "no findings"
    if not findings:
        return f"### {code(environment)} — {count}\n\n"
    rows = ["| severity | rule | where | path | message |", "|---|---|---|---|---|"]
    for f in findings:
        where = code(f.location()) if f.file is not None else ""
        path = code(f.path) if f.path else ""
        rows.append(f"| {text(f.severity)} | {code(f.rule)} | {where} | {path} | {text(f.message)} |")
    return f"### {code(environment)} — {count}\n\n" + "\n".join(rows) + "\n\n"


def drift_markdown(
    environment: str,
    label: str,
    drifts: Sequence[Drift],
    since: Sequence[Change] | None,
    show_values: bool,
    build_time: Sequence[Drift] = (),
) -> str:
    """One environment's drift as Markdown: the drifted managed values, then the build-time values apart."""
    count = f"{counted(len(drifts), 'managed value')} drifted" if drifts else "no drift"
    parts = [f"### {code(environment)} — {count}\n\n_live {text(label)}_\n"]
    if drifts:
        parts.append(_drift_table(shown_drifts(drifts, show_values)) + "\n")
    if build_time:
        parts.append(f"Build-time values differ (not drift): {len(build_time)}\n")
        parts.append(_drift_table(shown_drifts(build_time, show_values)) + "\n")
    if since is not None:
        parts.append(f"Since the snapshot: {count_changes(since)}\n")
        if since:
            parts.append(changes_table(shown_changes(since, show_values)) + "\n")
    return "\n".join(parts) + "\n"


def _drift_table(drifts: Sequence[Drift]) -> str:
    """A Markdown table of drifted values (already masked as wanted), one row each."""
    rows = ["| path | live | overlay | set by |", "|---|---|---|---|"]
    for item in drifts:
        live = code(short(item.live, 60)) if item.live_present else "(absent)"
        wanted = code(short(item.overlay, 60)) if item.overlay is not None else "(deleted)"
        rows.append(f"| {code(item.readable_path)} | {live} | {wanted} | {code(item.origin.describe())} |")
    return "\n".join(rows)


def explain_markdown(entries: Sequence[tuple[Path, Any, Origin]]) -> str:
    """Every value and where it was set, one table row each (secrets already masked as wanted)."""
    rows = ["| path | value | set by |", "|---|---|---|"]
    rows.extend(
        f"| {code(format_path(path))} | {code(short(value, 60))} | {code(origin.describe())} |"
        for path, value, origin in entries
    )
    return "\n".join(rows) + "\n"
