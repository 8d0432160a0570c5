"""Overlay files: line marks, authoring errors, ${VAR}, extends."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_overlay.errors import InvalidInputError
from ecs_overlay.keyed import Item
from ecs_overlay.environments import load_layers
from ecs_overlay.overlay import parse_overlay

from .helpers import base_task, env_of, overlay, rendered


def test_leaves_remember_file_line_and_column() -> None:
    layer = overlay(
        """\
        containerDefinitions:
          web:
            environment:
              LOG_LEVEL: warn
    """,
        file="environments/prod.yaml",
    )
    origins = dict(layer.origins)
    origin = origins[("containerDefinitions", Item("web"), "environment", Item("LOG_LEVEL"), "value")]
    assert origin.location() == "environments/prod.yaml:4:18"


def test_unknown_keys_are_errors_with_a_suggestion() -> None:
    layer = overlay("""\
        containerDefinitions:
          web:
            memroy: 512
            enviroment: {A: b}
        cpuu: 256
    """)
    messages = {(f.line, f.message) for f in layer.findings}
    assert (3, "unknown field 'memroy'; did you mean 'memory'?") in messages
    assert (4, "unknown field 'enviroment'; did you mean 'environment'?") in messages
    assert (5, "unknown field 'cpuu'; did you mean 'cpu'?") in messages
    paths = {f.path for f in layer.findings}
    assert "containerDefinitions[web].memroy" in paths


def test_duplicate_keys_are_errors_naming_both_lines() -> None:
    layer = overlay("""\
        cpu: 256
        memory: 512
        cpu: 1024
    """)
    [finding] = layer.findings
    assert finding.rule == "duplicate-key"
    assert finding.line == 3
    assert "first at line 1" in finding.message


def test_syntax_errors_point_at_the_line() -> None:
    layer = overlay("cpu: 256\ncontainerDefinitions:\n  web: [unclosed\n")
    [finding] = layer.findings
    assert finding.rule == "yaml-syntax"
    assert finding.line is not None and finding.line >= 3


def test_top_level_must_be_a_mapping() -> None:
    [finding] = overlay("- cpu: 256\n").findings
    assert "must be a mapping" in finding.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_overlay_is_valid_and_changes_nothing(text: str) -> None:
    layer = overlay(text)
    assert layer.findings == [] and layer.data == {}


def test_wrong_types_are_reported_with_the_line() -> None:
    layer = overlay("containerDefinitions:\n  web:\n    essential: maybe\n    memory: lots\n")
    assert {(f.line, f.path) for f in layer.findings} == {
        (3, "containerDefinitions[web].essential"),
        (4, "containerDefinitions[web].memory"),
    }


def test_all_findings_of_a_file_are_reported_together() -> None:
    layer = overlay("cpuu: 1\nmemroy: 2\nnetworkMode: tunnel\n")
    assert len(layer.findings) == 3


def test_variables_are_interpolated_with_defaults_and_escapes() -> None:
    result = rendered(
        base_task(),
        """
        containerDefinitions:
          web:
            image: ${REPO}:${TAG:-latest}
            environment:
              RELEASE: ${TAG:-dev}-$${NOT_A_VAR}
              EMPTY_DEFAULT: ${EMPTY:-fallback}
    """,
        environ={"REPO": "registry/shop", "EMPTY": ""},
    )
    assert result.ok, result.findings
    web = result.taskdef["containerDefinitions"][0]
    assert web["image"] == "registry/shop:latest"
    assert env_of(result)["RELEASE"] == "dev-${NOT_A_VAR}"
    assert env_of(result)["EMPTY_DEFAULT"] == "fallback"
    origin = result.provenance.origin(("containerDefinitions", Item("web"), "image"))
    assert origin.variables == ("REPO", "TAG")


def test_an_unset_variable_without_default_names_the_variable_and_line() -> None:
    layer = overlay("cpu: 256\ncontainerDefinitions:\n  web:\n    image: repo:${IMAGE_TAG}\n")
    [finding] = layer.findings
    assert finding.rule == "unset-variable"
    assert "${IMAGE_TAG}" in finding.message
    assert (finding.file, finding.line) == ("env.yaml", 4)


def test_an_alias_bomb_is_refused_by_the_node_budget() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    lines.append("containerDefinitions: {web: {command: *a9}}")
    with pytest.raises(InvalidInputError, match="alias"):
        parse_overlay("\n".join(lines), "bomb.yaml", {})


def test_merge_keys_are_refused() -> None:
    layer = overlay("x: &x {cpu: 1}\n<<: *x\n")
    assert any(f.rule == "yaml-merge-key" for f in layer.findings)


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_layers_shared_files_first(tmp_path: Path) -> None:
    _write(tmp_path, "_base.yaml", "containerDefinitions: {web: {environment: {A: base, B: base}}}\n")
    _write(tmp_path, "_logging.yaml", "extends: _base.yaml\ncontainerDefinitions: {web: {environment: {B: log}}}\n")
    env = _write(
        tmp_path,
        "prod.yaml",
        "extends: [_base.yaml, _logging.yaml]\ncontainerDefinitions: {web: {environment: {A: prod}}}\n",
    )
    layers = load_layers(env, {})
    assert [Path(layer.file).name for layer in layers] == ["_base.yaml", "_logging.yaml", "prod.yaml"]
    result = rendered(base_task(), "")
    from ecs_overlay import render

    result = render(base_task(), layers)
    assert env_of(result)["A"] == "prod" and env_of(result)["B"] == "log"


def test_extends_cycles_are_errors(tmp_path: Path) -> None:
    _write(tmp_path, "_a.yaml", "extends: _b.yaml\n")
    _write(tmp_path, "_b.yaml", "extends: _a.yaml\n")
    env = _write(tmp_path, "prod.yaml", "extends: _a.yaml\n")
    with pytest.raises(InvalidInputError, match="extends cycle: .*_a.yaml -> .*_b.yaml -> .*_a.yaml"):
        load_layers(env, {})


def test_a_missing_extends_target_is_a_finding_at_its_line(tmp_path: Path) -> None:
    env = _write(tmp_path, "prod.yaml", "cpu: 256\nextends: _nowhere.yaml\n")
    [layer] = load_layers(env, {})
    [finding] = layer.findings
    assert finding.rule == "extends-missing" and finding.line == 2 and "_nowhere.yaml" in finding.message


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    env = _write(tmp_path, "prod.yaml", "# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(InvalidInputError, match="limit"):
        load_layers(env, {})


def test_non_utf8_files_are_refused_with_the_line(tmp_path: Path) -> None:
    env = tmp_path / "prod.yaml"
    env.write_bytes(b"cpu: 256\nfamily: caf\xe9\n")
    with pytest.raises(InvalidInputError, match=r"prod.yaml:2: not UTF-8"):
        load_layers(env, {})
