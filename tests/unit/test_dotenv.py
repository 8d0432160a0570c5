"""Dotenv files as docker compose's env_file reads them, and `envFile:` importing them into `environment`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_overlay import render
from ecs_overlay.dotenv import parse_dotenv
from ecs_overlay.environments import load_layers
from ecs_overlay.keyed import Item

from .helpers import base_task, container, env_of, overlay


@pytest.mark.parametrize(
    ("line", "value"),
    [
        # the examples of compose's "env file syntax"
        ("VAR=VAL", "VAL"),
        ('VAR="VAL"', "VAL"),
        ("VAR='VAL'", "VAL"),
        ("VAR=VAL # comment", "VAL"),
        ("VAR=VAL# not a comment", "VAL# not a comment"),
        ('VAR="VAL # not a comment"', "VAL # not a comment"),
        ('VAR="VAL" # comment', "VAL"),
        ("VAR='$OTHER'", "$OTHER"),
        ("VAR='${OTHER}'", "${OTHER}"),
        ("VAR='Let\\'s go!'", "Let's go!"),
        ('VAR="{\\"hello\\": \\"json\\"}"', '{"hello": "json"}'),
        ('VAR="some\\tvalue"', "some\tvalue"),
        ("VAR='some\\tvalue'", "some\\tvalue"),
        ("VAR=some\\tvalue", "some\\tvalue"),
        # and what real files hold
        ("export VAR=VAL", "VAL"),
        ("VAR = VAL  ", "VAL"),
        ("VAR=", ""),
        ("VAR=${OTHER}", "other"),
        ('VAR="${OTHER:-x}-${MISSING:-y}"', "other-y"),
        ("VAR=a=b", "a=b"),
    ],
)
def test_compose_env_file_syntax(line: str, value: str) -> None:
    entries, problems = parse_dotenv(f"# a comment\n\n{line}\n", {"OTHER": "other"})
    assert problems == []
    assert [(entry.name, entry.value, entry.line) for entry in entries] == [("VAR", value, 3)]


def test_a_double_quoted_value_may_span_lines() -> None:
    entries, problems = parse_dotenv('A="one\ntwo"\nB=3\n', {})
    assert [(entry.name, entry.value, entry.line) for entry in entries] == [("A", "one\ntwo", 1), ("B", "3", 3)]
    assert problems == []


def test_a_bare_key_takes_the_process_environment_or_is_left_out() -> None:
    entries, _ = parse_dotenv("SET\nUNSET\n", {"SET": "from the build"})
    assert [(entry.name, entry.value, entry.variables) for entry in entries] == [("SET", "from the build", ("SET",))]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("OK=1\n1BAD=x\n", 2, 1, "'1BAD' is not a variable name"),
        ("  NO SPACES=x\n", 1, 3, "is not a variable name"),
        ("A='never closed\n", 1, 3, "single quote is never closed"),
        ('A="x" y\n', 1, 3, "text after the closing quote"),
        ("A=b${MISSING}\n", 1, 4, "${MISSING} is not set"),
        ("A=${1}\n", 1, 3, "${1}"),
    ],
)
def test_problems_name_their_line_and_column(text: str, line: int, column: int, words: str) -> None:
    entries, [problem] = parse_dotenv(text, {})
    assert (problem.line, problem.column) == (line, column) and words in problem.message, problem


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_variables_join_the_environment_and_what_the_layer_writes_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "config/web.env", "LOG_LEVEL=debug\nCACHE_TTL=60\nSHARED=from web.env\n")
    _write(tmp_path, "config/override.env", "SHARED=from override.env\n")
    env = _write(
        tmp_path,
        "environments/prod.yaml",
        "containerDefinitions:\n  web:\n    environment: {LOG_LEVEL: warn}\n"
        "    envFile: [../config/web.env, ../config/override.env]\n",
    )
    [layer] = load_layers(env, {})
    assert layer.findings == [] and layer.imports == ["../config/web.env", "../config/override.env"]
    result = render(base_task(), [layer])
    assert result.ok, result.findings
    assert env_of(result) == {
        "LOG_LEVEL": "warn",
        "PORT": "8080",
        "CACHE_TTL": "60",
        "SHARED": "from override.env",
    }
    origin = result.provenance.origin(("containerDefinitions", Item("web"), "environment", Item("CACHE_TTL"), "value"))
    assert (Path(origin.file or "").name, origin.line, origin.column) == ("web.env", 2, 11)
    written = result.provenance.origin(("containerDefinitions", Item("web"), "environment", Item("LOG_LEVEL"), "value"))
    assert Path(written.file or "").name == "prod.yaml"


def test_env_file_with_replace_gives_exactly_the_file_and_the_written_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "web.env", "FROM_FILE=1\n")
    env = _write(
        tmp_path,
        "prod.yaml",
        "containerDefinitions:\n  web:\n    envFile: web.env\n    environment: {$replace: {WRITTEN: '2'}}\n",
    )
    result = render(base_task(), load_layers(env, {}))
    assert container(result, "web")["environment"] == [
        {"name": "FROM_FILE", "value": "1"},
        {"name": "WRITTEN", "value": "2"},
    ]


def test_env_file_problems_are_findings_at_the_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "web.env", "GOOD=1\nBAD LINE\n")
    env = _write(tmp_path, "prod.yaml", "containerDefinitions:\n  web:\n    envFile: [web.env, nowhere.env]\n")
    [layer] = load_layers(env, {})
    located = sorted((Path(f.file or "").name, f.line, f.rule) for f in layer.findings)
    assert located == [("prod.yaml", 3, "env-file"), ("web.env", 2, "env-file")]
    missing = next(f for f in layer.findings if f.file and f.file.endswith("prod.yaml"))
    assert "envFile 'nowhere.env'" in missing.message and "no such file" in missing.message
    assert not render(base_task(), [layer]).ok


def test_env_file_needs_an_overlay_read_from_a_file() -> None:
    [finding] = overlay("containerDefinitions: {web: {envFile: web.env}}").findings
    assert finding.rule == "env-file" and "read relative to an overlay file" in finding.message


def test_env_file_is_known_only_on_containers() -> None:
    [finding] = overlay("envFile: web.env").findings
    assert finding.rule == "unknown-field"


def test_an_environments_files_include_its_dotenv_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # `diff --against` with --services skips an environment whose files are all unchanged: web.env is one of them.
    from ecs_overlay.environments import Environments

    _write(tmp_path, "environments/_common.yaml", "containerDefinitions: {web: {envFile: ../config/common.env}}\n")
    _write(tmp_path, "config/common.env", "A=1\n")
    _write(tmp_path, "environments/prod.yaml", "extends: _common.yaml\n")
    files = Environments(tmp_path / "environments").layer_files("prod")
    assert sorted(path.name for path in files) == ["_common.yaml", "common.env", "prod.yaml"]


@pytest.mark.parametrize("written", ["/etc/hostname", "../outside.env", "link.env"])
def test_env_file_outside_the_checkout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    # A pull request's overlay must not print the build machine's files (/proc/self/environ) in its diff.
    checkout = tmp_path / "checkout"
    _write(tmp_path, "outside.env", "LEAKED=1\n")
    _write(checkout, "prod.yaml", f"containerDefinitions:\n  web:\n    envFile: {written}\n")
    (checkout / "link.env").symlink_to(tmp_path / "outside.env")
    monkeypatch.chdir(checkout)
    [layer] = load_layers(checkout / "prod.yaml", {})
    [finding] = layer.findings
    assert finding.rule == "env-file" and f"outside the checkout {checkout.resolve()}" in finding.message
    assert (finding.line, finding.column) == (3, 14)


def test_env_file_may_sit_anywhere_in_the_git_work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A monorepo runs the tool from a service's directory; its envFile may be shared at the top.
    (tmp_path / ".git").mkdir()
    _write(tmp_path, "shared/common.env", "SHARED=1\n")
    env = _write(
        tmp_path,
        "services/api/environments/prod.yaml",
        "containerDefinitions: {web: {envFile: ../../../shared/common.env}}\n",
    )
    monkeypatch.chdir(tmp_path / "services" / "api")
    [layer] = load_layers(env, {})
    assert layer.findings == [] and env_of(render(base_task(), [layer]))["SHARED"] == "1"
