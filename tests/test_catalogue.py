"""The catalogue of real ECS rejections and tricky valid task definitions (tests/catalogue/).

Each rejected case is a whole task definition that ECS refuses at RegisterTaskDefinition or that
fails deterministically at launch, with its source (AWS documentation or ECS's own error text) and
the finding we must raise: the rule and the field. Each accepted case is a task definition ECS
takes, that a careless rule might refuse. Both are read exactly as `--base FILE` reads a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_overlay import render
from ecs_overlay.base import parse_base, registerable
from ecs_overlay.rules import REGISTRY
from ecs_overlay.schemas import describe_only_fields

CATALOGUE = Path(__file__).parent / "catalogue"
REJECTED = sorted((CATALOGUE / "rejected").glob("*.json"))
ACCEPTED = sorted((CATALOGUE / "accepted").glob("*.json"))


def _case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert case["source"].startswith("https://"), f"{path.name}: every case names its source"
    return case


def _findings(case: dict[str, Any], label: str) -> list[Any]:
    base = registerable(parse_base(json.dumps(case["taskdef"]), label), describe_only_fields())
    return render(base, []).findings


@pytest.mark.parametrize("path", REJECTED, ids=[p.stem for p in REJECTED])
def test_a_rejection_is_caught_naming_the_field(path: Path) -> None:
    case = _case(path)
    assert case["rule"] in REGISTRY, f"{path.name}: unknown rule {case['rule']}"
    errors = [(f.rule, f.path) for f in _findings(case, path.name) if f.is_error]
    assert (case["rule"], case["path"]) in errors, errors


@pytest.mark.parametrize("path", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_an_accepted_definition_has_no_error(path: Path) -> None:
    case = _case(path)
    assert case.get("why"), f"{path.name}: say why a rule might wrongly refuse it"
    errors = [f for f in _findings(case, path.name) if f.is_error]
    assert errors == []


def test_the_catalogue_is_not_empty() -> None:
    assert len(REJECTED) >= 2 and len(ACCEPTED) >= 1
