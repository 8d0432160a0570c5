"""Hostile and broken input through the installed command: a clear message naming the file and the
problem, the right exit code, no traceback, and an existing taskdef.json left byte-for-byte as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_overlay import environments as environments_module
from ecs_overlay.cli import cli
from ecs_overlay.errors import EcsOverlayError
from ecs_overlay.overlay import parse_overlay

from .test_review import committed

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
def test_bad_overlay(run_cli, project: Path, case: str) -> None:
    content, exit_code, fragments = CASES[case]
    overlay = project / "environments" / "prod.yaml"
    if isinstance(content, bytes):
        overlay.write_bytes(content)
    else:
        overlay.write_text(content, encoding="utf-8")
    target = project / "taskdef.json"
    target.write_bytes(PREVIOUS)
    result = run_cli("render", "--env", "prod", "--base", "base.json", cwd=project, timeout=30)
    assert result.returncode == exit_code, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert not (project / "pwned").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".taskdef")] == []


def test_extends_cycle(run_cli, project: Path) -> None:
    environments = project / "environments"
    (environments / "_a.yaml").write_text("extends: _b.yaml\n")
    (environments / "_b.yaml").write_text("extends: _a.yaml\n")
    (environments / "prod.yaml").write_text("extends: _a.yaml\n")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = run_cli("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1
    assert "extends cycle:" in result.stderr and "_a.yaml" in result.stderr and "_b.yaml" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_an_empty_overlay_is_valid_and_renders_the_base(run_cli, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text("")
    result = run_cli("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=project)
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


# -- in-process, as a user hits them: nothing dropped, every ${…} resolved or refused -----------------


def invoke(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Result:
    """The command run in-process from ``project``; a traceback (any other exception) fails the test."""
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, list(args), env={"DEPLOY_ENV": None, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


SILENT_DROPS = {
    "container-without-name": (
        "containerDefinitions:\n  - image: repo/app:1\n",
        "environments/prod.yaml:2:5 containerDefinitions[0]: error: this item has no 'name'",
    ),
    "env-item-without-name": (
        "containerDefinitions:\n  web:\n    environment:\n      - {value: lost}\n",
        "environments/prod.yaml:4:9 containerDefinitions[web].environment[0]: error: this item has no 'name'",
    ),
    "same-port-two-spellings": (
        "containerDefinitions:\n  web:\n    portMappings:\n      9000: {}\n      9000/tcp: {hostPort: 9000}\n",
        "environments/prod.yaml:5:7 containerDefinitions[web].portMappings[9000/tcp]: error: "
        "'9000/tcp' appears twice in portMappings (first at line 4)",
    ),
    "port-protocol-in-capitals": (
        "containerDefinitions:\n  web:\n    portMappings:\n      9000/TCP: {}\n",
        "environments/prod.yaml:4:7 containerDefinitions[web].portMappings: error: '9000/TCP': "
        "the protocol is tcp or udp, in lowercase as ECS accepts it; write 9000/tcp",
    ),
    "secret-twice": (
        "containerDefinitions:\n  web:\n    secrets:\n"
        "      - {name: API_KEY, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/a}\n"
        "      - {name: API_KEY, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/b}\n",
        "environments/prod.yaml:5:9 containerDefinitions[web].secrets[API_KEY]: error: 'API_KEY' appears twice",
    ),
    "container-twice": (
        "containerDefinitions:\n  - {name: web, cpu: 128}\n  - {name: web, cpu: 256}\n",
        "environments/prod.yaml:3:5 containerDefinitions[web]: error: 'web' appears twice in containerDefinitions",
    ),
    "nested-default-unset": (
        "containerDefinitions:\n  web:\n    environment:\n      RELEASE: ${TAG:-${FALLBACK_TAG}}\n",
        "environments/prod.yaml:4:23 containerDefinitions[web].environment[RELEASE]: error: ${FALLBACK_TAG} is not set",
    ),
    "unsupported-variable-form": (
        "containerDefinitions:\n  web:\n    environment:\n      RELEASE: v-${TAG/x/y}\n",
        "environments/prod.yaml:4:18 containerDefinitions[web].environment[RELEASE]: error: '${TAG/x/y}': "
        "this form is not supported",
    ),
    "unclosed-variable": (
        "containerDefinitions:\n  web:\n    image: repo/app:${TAG\n",
        "environments/prod.yaml:3:21 containerDefinitions[web].image: error: '${TAG' has no closing }",
    ),
    "required-variable": (
        "containerDefinitions:\n  web:\n    image: 'repo/app:${TAG:?set TAG to the commit}'\n",
        "environments/prod.yaml:3:22 containerDefinitions[web].image: error: ${TAG} is not set: set TAG to the commit",
    ),
}


@pytest.mark.parametrize("case", sorted(SILENT_DROPS))
def test_nothing_is_dropped_or_left_unresolved(project: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    text, expected = SILENT_DROPS[case]
    (project / "environments" / "prod.yaml").write_text(text, encoding="utf-8")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke(project, monkeypatch, "render", "--env", "prod", "--base", "base.json")
    assert result.exit_code == 1, result.output
    assert expected in result.stderr, result.stderr
    assert "Error: 1 problem in environment 'prod'; nothing was written" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_compose_variable_forms_render_resolved(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "containerDefinitions:\n  web:\n    environment:\n"
        "      A: ${UNSET:-${CODEBUILD_BUILD_NUMBER}}\n"
        "      B: ${EMPTY-kept-empty}\n"
        "      C: ${UNSET-default}\n"
        "      D: $${HOME} stays\n",
        encoding="utf-8",
    )
    env = {"CODEBUILD_BUILD_NUMBER": "42", "EMPTY": "", "UNSET": None}
    result = invoke(project, monkeypatch, "render", "--env", "prod", "--base", "base.json", "-o", "-", env=env)  # type: ignore[dict-item]
    assert result.exit_code == 0, result.stderr
    [web] = [c for c in json.loads(result.stdout)["containerDefinitions"] if c["name"] == "web"]
    values = {item["name"]: item["value"] for item in web["environment"]}
    assert (values["A"], values["B"], values["C"], values["D"]) == ("42", "", "default", "${HOME} stays")
    assert "${" not in result.stdout.replace("${HOME}", "")


def test_an_environment_with_a_yaml_and_a_yml_file_is_an_error_naming_both(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments = project / "environments"
    (environments / "prod.yml").write_text("cpu: 4096\n", encoding="utf-8")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke(project, monkeypatch, "render", "--env", "prod", "--base", "base.json")
    assert result.exit_code == 1
    assert (
        "environments/prod.yaml: error: environment 'prod' has two files, environments/prod.yaml and "
        "environments/prod.yml; keep one" in result.stderr
    )
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    checked = invoke(project, monkeypatch, "validate", "--base", "base.json")
    assert checked.exit_code == 1
    assert "checked 2 environments (prod, stage)" in checked.stderr  # listed once, stage still checked
    assert checked.stdout.count("has two files") == 1


def test_environment_discovery_lists_the_directory_and_reads_each_file_once_per_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments = project / "environments"
    for index in range(12):
        (environments / f"env{index:02d}.yaml").write_text("extends: _common.yaml\n", encoding="utf-8")
    listings: list[str] = []
    real_scandir = os.scandir

    def counting_scandir(path: Any) -> Any:
        listings.append(str(path))
        return real_scandir(path)

    parsed: list[str] = []

    def counting_parse(text: str, file: str, environ: Any) -> Any:
        parsed.append(file)
        return parse_overlay(text, file, environ)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    monkeypatch.setattr(environments_module, "parse_overlay", counting_parse)
    result = invoke(project, monkeypatch, "validate", "--base", "base.json")
    assert result.exit_code == 0, result.output
    assert "checked 14 environments" in result.stderr
    assert listings == ["environments"]
    assert sorted(parsed) == sorted({*parsed}) and len(parsed) == 15  # each file once, _common.yaml included
    listings.clear()
    assert invoke(project, monkeypatch, "diff", "--all", "--base", "base.json").exit_code == 0
    assert listings == ["environments"]


def test_diff_against_a_revision_works_from_outside_the_repository(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = invoke(
        elsewhere,
        monkeypatch,
        "diff",
        "--env",
        "prod",
        "--against",
        "HEAD",
        "--environments-dir",
        str(project / "environments"),
        "--base",
        str(project / "base.json"),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    [change] = json.loads(result.stdout)["environments"]["prod"]["changes"]
    assert (change["path"], change["old"], change["new"]) == (
        "containerDefinitions[web].environment[LOG_LEVEL]",
        "warn",
        "error",
    )


def test_a_problem_in_an_overlay_at_the_revision_says_it_is_at_that_revision(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = project / "environments" / "prod.yaml"
    fixed = prod.read_text()
    prod.write_text(fixed.replace("cpu: 1024", "cpuu: 1024"))
    committed(project)
    prod.write_text(fixed)  # the pull request fixes the typo
    result = invoke(project, monkeypatch, "diff", "--env", "prod", "--against", "HEAD", "--base", "base.json")
    assert result.exit_code == 1
    assert "environments/prod.yaml@HEAD:4:1 cpuu: error: unknown field 'cpuu'" in result.stderr
    assert "in environment 'prod'; it does not render as it is at HEAD" in result.stderr


def test_diff_against_outside_any_repository_is_a_usage_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(project, monkeypatch, "diff", "--env", "prod", "--against", "HEAD", "--base", "base.json")
    assert result.exit_code == 2
    assert "--against HEAD: not a git revision of the repository holding environments" in result.stderr
