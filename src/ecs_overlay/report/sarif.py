"""SARIF 2.1.0, as GitHub code scanning reads it: one run, rules from the rules registry, results at overlay lines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..findings import ERROR, INFO, WARNING, Severity
from ..rules.registry import REGISTRY
from .located import Located, Scope, relative_uri

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/ecs-overlay/ecs-overlay#readme"
_LEVELS: dict[Severity, str] = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _rule(rule_id: str) -> dict[str, Any]:
    entry = REGISTRY[rule_id]  # every finding's id is one declare() or rule() returned
    described: dict[str, Any] = {
        "id": entry.id,
        "shortDescription": {"text": entry.summary},
        "helpUri": entry.source,
        "defaultConfiguration": {"level": _LEVELS[entry.severity]},
    }
    if entry.ecs_error:
        described["fullDescription"] = {"text": f"{entry.summary} ECS says: {entry.ecs_error}"}
    return described


def _location(item: Located, scope: Scope, root: Path) -> list[dict[str, Any]]:
    finding = item.finding
    file = finding.file or scope.files.get((item.service, item.environment))
    if file is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": relative_uri(file, root)}}
    if finding.file is not None and finding.line is not None:
        physical["region"] = {"startLine": finding.line, "startColumn": finding.column or 1}
    return [{"physicalLocation": physical}]


def sarif(items: Sequence[Located], scope: Scope, root: Path, version: str) -> dict[str, Any]:
    """The SARIF log; a finding with no file is placed on its environment's overlay file (no region)."""
    rule_ids = list(dict.fromkeys(item.finding.rule for item in items))
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    results = []
    for item in items:
        finding = item.finding
        where = f"{finding.path}: " if finding.path else ""
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _LEVELS[finding.severity],
            "message": {"text": f"{where}{finding.message} ({item.scope})"},
            "locations": _location(item, scope, root),
        }
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecs-overlay",
                        "version": version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule_id) for rule_id in rule_ids],
                    }
                },
                "results": results,
            }
        ],
    }
