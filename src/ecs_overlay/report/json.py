"""The json format: the same results as documents a program reads (``jq``), values as JSON values.

Nothing is escaped here beyond what ``json.dumps`` does: a JSON string holds any text safely.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..diff import ADDED, REMOVED, Change, Drift
from ..findings import Finding
from ..keyed import Path, format_path
from ..provenance import Origin
from .shown import shown_changes, shown_drifts


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


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
    return dumps(changes_document(diffs))


def services_json(documents: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """``{"services": {name: {"environments": {...}}}}``."""
    return dumps({"services": dict(documents)})


def findings_json(findings: Sequence[tuple[str, Finding]]) -> str:
    return dumps([{"environment": name, **f.to_json()} for name, f in findings])


def findings_document(environments: Sequence[str], findings: Sequence[tuple[str, Finding]]) -> dict[str, Any]:
    """One service's environments, each with its findings (an empty list when clean)."""
    document: dict[str, list[dict[str, Any]]] = {name: [] for name in environments}
    for name, finding in findings:
        document[name].append(finding.to_json())
    return {"environments": {name: {"findings": listed} for name, listed in document.items()}}


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


def explain_json(entries: Sequence[tuple[Path, Any, Origin]]) -> str:
    return dumps(
        [{"path": format_path(path), "value": value, "origin": origin_json(origin)} for path, value, origin in entries]
    )
