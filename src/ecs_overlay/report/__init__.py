"""Turn diffs, drift and origins into text, Markdown or JSON. Pure: strings in, strings out.

The CI formats live beside: ``sarif``, ``junit``, ``github``, ``pr_comment``; ``reporters`` maps each
``--format`` name to what it renders for validate, diff and drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from ..diff import ADDED, CHANGED, REMOVED, Change, Drift, leaves
from ..findings import Finding, counted, short
from ..keyed import Path, format_path
from ..provenance import Origin, Provenance
from ..secrets import mask
from .located import Located
from .markdown import code, text
from .terminal import printable

T = TypeVar("T")

_SYMBOLS = {ADDED: "+", REMOVED: "-", CHANGED: "~"}
_COLOURS = {ADDED: "32", REMOVED: "31", CHANGED: "33"}


def origin_json(origin: Origin | None) -> dict[str, Any] | None:
    if origin is None:
        return None
    record: dict[str, Any] = {"kind": origin.kind}
    for key in ("file", "line", "column", "detail"):
        if getattr(origin, key) is not None:
            record[key] = getattr(origin, key)
    if origin.variables:
        record["variables"] = list(origin.variables)
    return record


def _paint(line: str, colour_code: str, colour: bool) -> str:
    """One line of the text format: what it shows escaped for the terminal, then the colour around it."""
    shown = printable(line)
    return f"\033[{colour_code}m{shown}\033[0m" if colour else shown


def _where(origin: Origin | None) -> str:
    return f"  ({origin.describe()})" if origin is not None else ""


def change_line(change: Change, colour: bool = False) -> str:
    symbol = _SYMBOLS[change.operation]
    if change.operation == CHANGED:
        body = f"{change.readable_path}: {short(change.old)} -> {short(change.new)}"
    else:
        body = f"{change.readable_path}: {short(change.new if change.operation == ADDED else change.old)}"
    return _paint(f"{symbol} {body}", _COLOURS[change.operation], colour) + printable(_where(change.origin))


def _count(changes: Sequence[Change]) -> str:
    return counted(len(changes), "change") if changes else "no changes"


def changes_text(diffs: Sequence[tuple[str, str, Sequence[Change]]], colour: bool = False) -> str:
    """``diffs``: (environment, heading, changes), changes already masked as wanted."""
    lines: list[str] = []
    for environment, heading, changes in diffs:
        lines.append(_paint(f"== {environment}: {heading}: {_count(changes)}", "1", colour))
        lines.extend(change_line(change, colour) for change in changes)
    return "\n".join(lines) + "\n"


def changes_markdown(diffs: Sequence[tuple[str, str, Sequence[Change]]]) -> str:
    """One section per environment, ready to post as a pull-request comment."""
    parts: list[str] = []
    for environment, heading, changes in diffs:
        parts.append(f"### {code(environment)} — {_count(changes)}\n\n_{text(heading)}_\n")
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
        rows.append(f"| {_SYMBOLS[change.operation]} | {code(change.readable_path)} | {old} | {new} | {origin} |")
    return "\n".join(rows)


def change_json(change: Change) -> dict[str, Any]:
    record: dict[str, Any] = {"path": change.readable_path, "operation": change.operation}
    if change.operation != ADDED:
        record["old"] = change.old
    if change.operation != REMOVED:
        record["new"] = change.new
    record["origin"] = origin_json(change.origin)
    return record


def changes_document(diffs: Sequence[tuple[str, str, Sequence[Change]]]) -> dict[str, Any]:
    return {
        "environments": {
            environment: {"compared": heading, "changes": [change_json(c) for c in changes]}
            for environment, heading, changes in diffs
        }
    }


def changes_json(diffs: Sequence[tuple[str, str, Sequence[Change]]]) -> str:
    return _dumps(changes_document(diffs))


def _dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def by_service(items: Iterable[tuple[str, T]]) -> list[tuple[str, list[T]]]:
    """Items grouped by their service, in the order the services first appear."""
    groups: dict[str, list[T]] = {}
    for service, item in items:
        groups.setdefault(service, []).append(item)
    return list(groups.items())


def services_text(sections: Sequence[tuple[str, str]]) -> str:
    """Each service's text under a ``=== service NAME`` heading."""
    return "".join(f"=== service {printable(service)}\n{section}" for service, section in sections)


def services_markdown(sections: Sequence[tuple[str, str]]) -> str:
    return "".join(f"## Service {code(service)}\n\n{section}" for service, section in sections)


def services_json(documents: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """``{"services": {name: {"environments": {...}}}}``."""
    return _dumps({"services": dict(documents)})


def findings_text(findings: Sequence[tuple[str, Finding]]) -> str:
    """Validate's findings, one line each; a finding with no file says its environment."""
    lines = [f"{f.to_text()} (environment {name})" if f.file is None else f.to_text() for name, f in findings]
    return "".join(f"{printable(line)}\n" for line in lines)


def findings_json(findings: Sequence[tuple[str, Finding]]) -> str:
    return _dumps([{"environment": name, **f.to_json()} for name, f in findings])


def findings_markdown(environments: Sequence[tuple[str, str]], findings: Sequence[Located]) -> str:
    """Validate's findings as Markdown: a summary line and table, then a table per environment.

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


def findings_document(environments: Sequence[str], findings: Sequence[tuple[str, Finding]]) -> dict[str, Any]:
    """One service's environments, each with its findings (an empty list when clean)."""
    document: dict[str, list[dict[str, Any]]] = {name: [] for name in environments}
    for name, finding in findings:
        document[name].append(finding.to_json())
    return {"environments": {name: {"findings": listed} for name, listed in document.items()}}


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
        lines.append(f"-- since the snapshot: {_count(since)}")
        lines.extend(change_line(change) for change in shown_changes(since, show_values))
    return "".join(f"{printable(line)}\n" for line in lines)


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
        parts.append(f"Since the snapshot: {_count(since)}\n")
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


def _drift_line(item: Drift) -> str:
    live = short(item.live) if item.live_present else "(absent)"
    wanted = short(item.overlay) if item.overlay is not None else "(deleted)"
    return f"{item.readable_path}: live {live}, overlay {wanted}  ({item.origin.describe()})"


def drift_json(
    label: str,
    drifts: Sequence[Drift],
    since: Sequence[Change] | None,
    show_values: bool,
    build_time: Sequence[Drift] = (),
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "live": label,
        "drift": [_drift_record(d) for d in shown_drifts(drifts, show_values)],
        "build_time": [_drift_record(d) for d in shown_drifts(build_time, show_values)],
    }
    if since is not None:
        record["since_snapshot"] = [change_json(c) for c in shown_changes(since, show_values)]
    return record


def _drift_record(item: Drift) -> dict[str, Any]:
    return {
        "path": item.readable_path,
        "live": item.live if item.live_present else None,
        "live_present": item.live_present,
        "overlay": item.overlay,
        "origin": origin_json(item.origin),
    }


def shown_changes(changes: Sequence[Change], show_values: bool) -> list[Change]:
    """The changes as they may be printed: secrets masked unless ``--show-values``."""
    return list(changes) if show_values else [change.masked() for change in changes]


def shown_drifts(drifts: Sequence[Drift], show_values: bool) -> list[Drift]:
    return list(drifts) if show_values else [item.masked() for item in drifts]


def explain_lines(entries: Sequence[tuple[Path, Any, Origin]]) -> str:
    """``entries`` from :func:`explain_entries`, secrets already masked as wanted."""
    lines = [f"{format_path(path)} = {short(value)}  <- {origin.describe()}" for path, value, origin in entries]
    return "".join(f"{printable(line)}\n" for line in lines)


def explain_json(entries: Sequence[tuple[Path, Any, Origin]]) -> str:
    return (
        json.dumps(
            [
                {
                    "path": format_path(path),
                    "value": value,
                    "origin": origin_json(origin),
                }
                for path, value, origin in entries
            ],
            indent=2,
            ensure_ascii=False,
            default=str,
        )
        + "\n"
    )


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
