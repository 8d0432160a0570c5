"""The rules registry: every rule is sourced, documented by generation, and proven by its examples both ways."""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

import pytest

from ecs_overlay import parse_overlay, render
from ecs_overlay.rules import REGISTRY, RULE_MODULES, RULES
from ecs_overlay.rules.docs import README_END, README_START, readme_table, reference
from ecs_overlay.rules.examples import BASES, example_base
from ecs_overlay.rules.registry import Example, declare, in_order

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "ecs_overlay"
ECS_RULES = [entry for entry in REGISTRY.values() if entry.check is not None]
EXAMPLES = [(entry.id, index, example) for entry in ECS_RULES for index, example in enumerate(entry.examples)]


def _render(example: Example):  # type: ignore[no-untyped-def]
    base = dict(example.taskdef) if example.taskdef is not None else example_base(example.base)
    layers = [parse_overlay(example.overlay, "example.yaml", {})] if example.overlay else []
    return render(base, layers)


@pytest.mark.parametrize("name", sorted(BASES))
def test_the_example_bases_are_valid(name: str) -> None:
    result = render(example_base(name), [])
    assert result.findings == []


@pytest.mark.parametrize(("rule_id", "index", "example"), EXAMPLES, ids=[f"{r}-{i}" for r, i, _ in EXAMPLES])
def test_rule_example(rule_id: str, index: int, example: Example) -> None:
    result = _render(example)
    mine = [finding for finding in result.findings if finding.rule == rule_id]
    if example.flagged:
        assert mine, f"{rule_id} should flag example {index}; findings: {result.findings}"
        if example.path is not None:
            assert example.path in [finding.path for finding in mine], mine
    else:
        assert not mine, mine
        assert result.ok, f"the valid neighbour {index} of {rule_id} has errors: {result.findings}"


@pytest.mark.parametrize("entry", ECS_RULES, ids=[entry.id for entry in ECS_RULES])
def test_every_rule_is_sourced_and_proven_both_ways(entry) -> None:  # type: ignore[no-untyped-def]
    assert entry.source.startswith("https://docs.aws.amazon.com/") or entry.ecs_error, entry.id
    assert any(example.flagged for example in entry.examples), f"{entry.id} has no flagged example"
    assert any(not example.flagged for example in entry.examples), f"{entry.id} has no valid neighbour"
    assert entry.summary and not entry.summary.endswith(".")


def test_an_id_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        declare("yaml-syntax", summary="again", source="https://example.com", category="overlay")


def test_the_rule_order_is_stated_once_and_is_the_documented_order() -> None:
    defining = sorted(path.stem for path in (SOURCE / "rules").glob("*.py") if "@rule(" in path.read_text())
    listed = [module.__name__.rsplit(".", 1)[1] for module in RULE_MODULES]
    assert sorted(listed) == defining  # every module that defines a rule, once
    assert {entry.id for entry in RULES} == {entry.id for entry in ECS_RULES} and len(RULES) == len(ECS_RULES)
    positions = [listed.index(entry.check.__module__.rsplit(".", 1)[1]) for entry in RULES if entry.check]
    assert positions == sorted(positions)  # module by module, as RULE_MODULES lists them
    reference = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert re.findall(r"^\| \[`([a-z0-9-]+)`\]", reference, re.MULTILINE) == [entry.id for entry in RULES]


def test_a_rule_module_left_out_of_the_order_is_an_error() -> None:
    with pytest.raises(ValueError, match="rule modules missing from the order: ecs_overlay.rules.service"):
        in_order([module for module in RULE_MODULES if module.__name__ != "ecs_overlay.rules.service"])


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}


@functools.cache
def _parsed(source: Path) -> tuple[tuple[Path, ast.Module], ...]:
    """Every module under ``source`` parsed once for the scans below (they only read the trees)."""
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(source.rglob("*.py")))


def _id_literals_in_source() -> list[str]:
    """Every string in the source, outside rules/ (where ids are declared) and docstrings, that spells a finding
    id; a command's name that is also an id (``drift``) is a command's name there."""
    from ecs_overlay.cli import cli

    ids = set(REGISTRY) - set(cli.commands)
    found = []
    for path, tree in _parsed(SOURCE):
        if path.parent.name == "rules":
            continue
        docstrings = _docstrings(tree)
        found += [
            f"{path.relative_to(SOURCE)}:{node.lineno}: {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in ids and id(node) not in docstrings
        ]
    return found


def _findings_given_a_literal_id() -> list[str]:
    """``Finding(…)`` and ``Finding.at(…)`` calls anywhere in the source whose id is a string literal."""
    found = []
    for path, tree in _parsed(SOURCE):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "Finding":
                rule = node.args[0] if node.args else None
            elif isinstance(func, ast.Attribute) and func.attr == "at" and getattr(func.value, "id", "") == "Finding":
                rule = node.args[1] if len(node.args) > 1 else None
            else:
                continue
            rule = next((k.value for k in node.keywords if k.arg == "rule"), rule)
            if isinstance(rule, ast.Constant | ast.JoinedStr):
                found.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    return found


def _rule_ids_made_outside_the_registry() -> list[str]:
    """``RuleId(…)`` calls outside rules/registry.py: mypy takes a Finding's id only as a ``RuleId``."""
    return [
        f"{path.relative_to(SOURCE)}:{node.lineno}"
        for path, tree in _parsed(SOURCE)
        if path != SOURCE / "rules" / "registry.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "RuleId"
    ]


def test_finding_ids_are_the_constants_the_registry_returns() -> None:
    """An id is written once, where declare() or rule() registers it; everywhere else it is that constant,
    so that a misspelt id is an import error rather than a finding with no summary and no source."""
    assert _id_literals_in_source() == []
    assert _findings_given_a_literal_id() == []
    assert _rule_ids_made_outside_the_registry() == []


def test_the_scans_find_a_literal_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "module.py").write_text(
        '"""base-null in a docstring is prose."""\nFinding("base-null", "m")\nFinding.at(None, f"x-{1}", "m")\n'
        'RuleId("made-here")\n'
    )
    monkeypatch.setattr(sys.modules[__name__], "SOURCE", tmp_path)
    assert _id_literals_in_source() == ["module.py:2: 'base-null'"]
    assert _findings_given_a_literal_id() == ["module.py:2", "module.py:3"]
    assert _rule_ids_made_outside_the_registry() == ["module.py:4"]


def test_the_readme_table_is_generated_from_the_registry() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_table(), "run scripts/generate_rule_docs.py"
    for entry in ECS_RULES:
        assert f"| `{entry.id}` |" in readme


def test_the_rules_reference_is_generated_from_the_registry() -> None:
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == reference(), "run scripts/generate_rule_docs.py"
