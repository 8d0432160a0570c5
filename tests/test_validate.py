"""`ecs-overlay validate` in-process (the pre-commit hook in every layout: test_precommit_layouts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_clean_example_passes_offline(invoke, project: Path) -> None:
    result = invoke("validate", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 2 environments (prod, stage), overlay files: 0 errors, 0 warnings" in result.stderr


def test_findings_of_every_environment_are_reported_together(invoke, project: Path) -> None:
    environments = project / "environments"
    (environments / "prod.yaml").write_text("extends: _common.yaml\ncontainerDefinitions:\n  web:\n    memroy: 1\n")
    (environments / "stage.yaml").write_text("extends: _common.yaml\nnetworkMode: tunnel\n")
    result = invoke("validate", cwd=project)
    assert result.returncode == 1
    assert "environments/prod.yaml:4:5 containerDefinitions[web].memroy: error: unknown field 'memroy'" in result.stdout
    assert 'environments/stage.yaml:2:1 networkMode: error: "tunnel" is not one of' in result.stdout
    assert "2 errors, 0 warnings" in result.stderr


def test_shared_layer_findings_are_reported_once(invoke, project: Path) -> None:
    (project / "environments" / "_common.yaml").write_text("cpuu: 1\n")
    result = invoke("validate", cwd=project)
    assert result.returncode == 1
    assert result.stdout.count("unknown field 'cpuu'") == 1


def test_selected_environments_only(invoke, project: Path) -> None:
    (project / "environments" / "stage.yaml").write_text("networkMode: tunnel\n")
    assert invoke("validate", "--env", "prod", cwd=project).returncode == 0
    assert invoke("validate", "--env", "prod", "--env", "stage", cwd=project).returncode == 1
    assert invoke("validate", "--env", "qa", cwd=project).returncode == 2


def test_with_a_base_the_rendered_results_are_checked_against_ecs_rules(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "extends: _common.yaml\ncpu: 1024\nmemory: 1024\ncontainerDefinitions:\n  web:\n"
        "    environment:\n      DB_PASSWORD: hunter2\n"
    )
    # The layers alone prove the plaintext credential; the Fargate pair depends on the base's launch type.
    alone = invoke("validate", "--env", "prod", "--format", "json", cwd=project)
    assert alone.returncode == 1
    assert {(f["rule"], f["line"], f["severity"]) for f in alone.json()} == {
        ("plaintext-secret", 7, "error"),
        ("fargate-task-size", 3, "warning"),
    }
    result = invoke("validate", "--env", "prod", "--base", "base.json", "--format", "json", cwd=project)
    assert result.returncode == 1
    findings = result.json()
    rules = {(f["rule"], f["file"], f["line"], f["severity"]) for f in findings}
    assert ("fargate-task-size", "environments/prod.yaml", 3, "error") in rules
    assert ("plaintext-secret", "environments/prod.yaml", 7, "error") in rules
    assert {"environment", "file", "line", "column", "path", "rule", "message", "severity"} <= set(findings[0])
    assert "hunter2" not in result.stdout + result.stderr


def test_json_output_of_a_clean_run_is_an_empty_list(invoke, project: Path) -> None:
    result = invoke("validate", "--format", "json", "--base", "base.json", cwd=project)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_validate_with_a_snapshot_directory_checks_each_environment_on_its_own_base(invoke, project: Path) -> None:
    """The pre-commit hook's full check: `--base snapshots/` renders each environment on its snapshot."""
    snapshots = project / "snapshots"
    snapshots.mkdir()
    base = json.loads((project / "base.json").read_text())
    (snapshots / "stage.json").write_text(json.dumps(base))
    base["taskDefinition"]["memory"] = "3000"  # prod's snapshot: a size Fargate refuses with cpu 1024
    (snapshots / "prod.json").write_text(json.dumps(base))
    (project / "environments" / "prod.yaml").write_text("extends: _common.yaml\ncpu: 1024\n")
    result = invoke("validate", "--base", "snapshots/", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert [(f["environment"], f["rule"], f["path"]) for f in findings] == [("prod", "fargate-task-size", "memory")]


def _with_nulls(project: Path) -> Path:
    """The example base as a console dump has it: explicit nulls for the fields it does not set."""
    document = json.loads((project / "base.json").read_text())
    document["taskDefinition"]["pidMode"] = None
    document["taskDefinition"]["containerDefinitions"][0]["user"] = None
    document["taskDefinition"]["containerDefinitions"][0]["healthCheck"] = None
    path = project / "nulls.json"
    path.write_text(json.dumps(document))
    return path


def test_nulls_in_a_base_are_dropped_with_one_note_per_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ecs_overlay.cli import cli

    base = _with_nulls(project)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["validate", "--base", str(base)])
    assert result.exit_code == 0, result.output
    note = "info: dropped 3 null values from the base (null means absent in ECS) [base-null]"
    assert result.stdout.count(note) == 2
    assert f"{note} (environment prod)" in result.stdout and f"{note} (environment stage)" in result.stdout
    assert "None" not in result.output
    assert "0 errors, 0 warnings" in result.stderr

    rendered = CliRunner().invoke(cli, ["render", "--env", "prod", "--base", str(base), "-o", "out.json"])
    assert rendered.exit_code == 0, rendered.output
    assert rendered.stderr.count(note) == 1
    written = json.loads((project / "out.json").read_text())
    assert "pidMode" not in written and "user" not in written["containerDefinitions"][0]


def test_a_field_botocore_does_not_model_in_a_file_base_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ecs_overlay.cli import cli

    document = json.loads((project / "base.json").read_text())
    document["taskDefinition"]["containerDefinitions"][0]["environment"].append(
        {"name": "DB_HOST", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/db-host"}
    )
    (project / "base.json").write_text(json.dumps(document))
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["validate", "--env", "prod", "--base", "base.json"])
    assert result.exit_code == 1
    assert (
        "containerDefinitions[web].environment[DB_HOST].valueFrom: error: the base has a field 'valueFrom' that "
        in result.stdout
    )
    assert "does not model, so RegisterTaskDefinition would refuse it" in result.stdout
    assert "did you mean 'value'?" in result.stdout
    assert "1 error, 0 warnings" in result.stderr
