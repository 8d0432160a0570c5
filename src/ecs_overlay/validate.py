"""Check a rendered task definition against the generated JSON Schema before anything is written."""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError

from . import schemas
from .findings import WARNING, Finding
from .keyed import Path, format_path, keyed_path
from .provenance import BASE, Provenance
from .rules.inputs import CONTAINER_INCOMPLETE, TASKDEF_SCHEMA, UNKNOWN_BASE_FIELD, UNKNOWN_FIELD


def schema_findings(taskdef: dict[str, Any], provenance: Provenance, base_from_api: bool = False) -> list[Finding]:
    """Every schema violation at once, each at its readable path and, from an overlay, its file:line.

    ``base_from_api``: the base came from the ECS API, so a field of it that botocore does not
    model is newer than botocore, not a mistake; from a file it is a mistake ECS would refuse.
    """
    findings: list[Finding] = []
    for error in schemas.errors("taskdef", taskdef):
        for leaf in schemas.leaf_errors(error):
            findings.extend(_explain(leaf, taskdef, provenance, base_from_api))
    findings.extend(_incomplete_containers(taskdef, provenance))
    return findings


def _explain(
    error: ValidationError, taskdef: dict[str, Any], provenance: Provenance, base_from_api: bool
) -> list[Finding]:
    path = keyed_path(tuple(error.absolute_path), taskdef)
    if error.validator == "additionalProperties":
        unknown, allowed = schemas.unknown_fields(error)
        return [_unknown_field(extra, allowed, path, provenance, base_from_api) for extra in unknown]
    if error.validator == "required" and isinstance(error.instance, dict):
        # Point at whatever removed the field (an overlay's `null`), not at its parent.
        required: Any = error.validator_value
        missing = [name for name in required if name not in error.instance]
        return [
            Finding.at(
                provenance.origin((*path, name)),
                TASKDEF_SCHEMA,
                f"'{name}' is required; do not delete it, or give it a value",
                format_path((*path, name)),
            )
            for name in missing
        ]
    text = schemas.message(error, path, (provenance,))
    return [Finding.at(provenance.locate(path), TASKDEF_SCHEMA, text, format_path(path))]


def _unknown_field(name: str, allowed: list[str], parent: Path, provenance: Provenance, base_from_api: bool) -> Finding:
    path = (*parent, name)
    origin = provenance.origin(path)
    if origin.kind == BASE and base_from_api:
        # The ECS API returned a field botocore does not model yet: carry it through, never drop it.
        return Finding(
            UNKNOWN_BASE_FIELD,
            f"the live task definition has a field '{name}' that {schemas.botocore_does_not_model()}; it is passed "
            "through unchanged and unchecked. Upgrade botocore (pip install --upgrade botocore) to check it",
            format_path(path),
            severity=WARNING,
        )
    suggestion = schemas.closest(name, allowed)
    if origin.kind == BASE:
        instead = (
            f"did you mean '{suggestion}'? Otherwise remove it from the base"
            if suggestion
            else "remove it from the base or correct its name"
        )
        return Finding(
            UNKNOWN_FIELD,
            f"the base has a field '{name}' that {schemas.botocore_does_not_model()}, so RegisterTaskDefinition "
            f"would refuse it; {instead}",
            format_path(path),
        )
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    return Finding.at(origin, UNKNOWN_FIELD, f"unknown field '{name}'{hint}", format_path(path))


def _incomplete_containers(taskdef: dict[str, Any], provenance: Provenance) -> list[Finding]:
    """A container an overlay adds must be complete: ECS needs at least its name and image."""
    findings = []
    for index, container in enumerate(taskdef.get("containerDefinitions") or []):
        if not isinstance(container, dict) or container.get("image"):
            continue
        path = keyed_path(("containerDefinitions", index), taskdef)
        image_origin = provenance.origin((*path, "image"))
        findings.append(
            Finding.at(
                image_origin if image_origin.kind != BASE else provenance.origin(path),
                CONTAINER_INCOMPLETE,
                "this container has no image; give it one in the overlay or with --image NAME=URI",
                format_path(path),
            )
        )
    return findings
