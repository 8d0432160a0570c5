"""Hostile and broken input through the command (in-process): a clear message naming the file and the
problem, the right exit code, no traceback, and an existing taskdef.json left byte-for-byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_overlay.errors import EcsOverlayError
from ecs_overlay.overlay import parse_overlay

PREVIOUS = b'{"family": "previous-artifact"}\n'


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\ncontainerDefinitions: {web: {command: *a9}}\n"


CASES = {
    "yaml-syntax": ("containerDefinitions:\n  web: {image: [unclosed\n", 1, ["environments/prod.yaml:3:1", "YAML"]),
    "not-utf8": (b"family: caf\xe9\n", 1, ["environments/prod.yaml:1: not UTF-8"]),
    "top-level-list": ("- cpu: 256\n", 1, ["environments/prod.yaml:1:1", "must be a mapping"]),
    "top-level-scalar": ("just text\n", 1, ["environments/prod.yaml:1:1", "must be a mapping"]),
    "alias-bomb": (_alias_bomb(), 1, ["environments/prod.yaml", "alias bomb"]),
    "too-large": ("# " + "x" * (1024 * 1024) + "\n", 1, ["environments/prod.yaml", "1048576-byte limit"]),
    "python-tag": (
        'cpu: !!python/object/apply:os.system ["touch pwned"]\n',
        1,
        ["environments/prod.yaml:1:6", "python/object/apply:os.system is not allowed"],
    ),
    "extends-missing": ("extends: _gone.yaml\n", 1, ["environments/prod.yaml:1:10", "_gone.yaml' does not exist"]),
    "env-value-mapping": (
        "containerDefinitions: {web: {environment: {SETTINGS: {a: 1}}}}\n",
        1,
        ["environments/prod.yaml:1:44", "environment variable SETTINGS: the value should be", "not a mapping or list"],
    ),
    "duplicate-key": (
        "cpu: 256\ncpu: 512\n",
        1,
        ["environments/prod.yaml:2:1", "duplicate key 'cpu' (first at line 1)"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_overlay(invoke, project: Path, case: str) -> None:
    content, exit_code, fragments = CASES[case]
    overlay = project / "environments" / "prod.yaml"
    if isinstance(content, bytes):
        overlay.write_bytes(content)
    else:
        overlay.write_text(content, encoding="utf-8")
    target = project / "taskdef.json"
    target.write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == exit_code, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert not (project / "pwned").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".taskdef")] == []


def test_extends_cycle(invoke, project: Path) -> None:
    environments = project / "environments"
    (environments / "_a.yaml").write_text("extends: _b.yaml\n")
    (environments / "_b.yaml").write_text("extends: _a.yaml\n")
    (environments / "prod.yaml").write_text("extends: _a.yaml\n")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1
    assert "extends cycle:" in result.stderr and "_a.yaml" in result.stderr and "_b.yaml" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_an_empty_overlay_is_valid_and_renders_the_base(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text("")
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=project)
    assert result.returncode == 0, result.stderr
    assert len(result.json()["containerDefinitions"]) == 3


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,?\n\t $~01.e")), max_size=80))
def test_arbitrary_yaml_never_escapes_as_an_unexpected_exception(text: str) -> None:
    try:
        overlay = parse_overlay(text, "fuzz.yaml", {})
    except EcsOverlayError:
        return
    for finding in overlay.findings:
        assert finding.file == "fuzz.yaml"
