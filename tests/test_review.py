"""diff, drift, snapshot and explain (in-process): a pull request's view in a real git repository,
and drift against moto's standalone server."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from .conftest import REPO, clean_environ
from .test_e2e_aws import example_taskdef, register

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, env=clean_environ(GIT_ENV), check=True, capture_output=True)


def committed(project: Path) -> Path:
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "overlays")
    return project


def test_pull_request_view_shows_only_the_edited_environment(invoke, project: Path) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    result = invoke(
        "diff", "--all", "--against", "HEAD", "--base", "base.json", "--format", "json", "--exit-code", cwd=project
    )
    assert result.returncode == 4, result.stderr
    environments = result.json()["environments"]
    assert environments["stage"]["changes"] == []
    [change] = environments["prod"]["changes"]
    assert change["path"] == "containerDefinitions[web].environment[LOG_LEVEL]"
    assert (change["operation"], change["old"], change["new"]) == ("changed", "warn", "error")
    assert change["origin"] == {"kind": "overlay", "file": "environments/prod.yaml", "line": 15, "column": 18}


def test_pull_request_view_uses_shared_layers_as_they_were(invoke, project: Path) -> None:
    committed(project)
    common = project / "environments" / "_common.yaml"
    common.write_text(common.read_text().replace("PORT: 8080", "PORT: 9090"))
    result = invoke("diff", "--all", "--against", "HEAD", "--base", "base.json", "--format", "markdown", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('| ~ | `containerDefinitions[web].environment[PORT]` | `"8080"` | `"9090"` |') == 2
    assert "### `prod` — 1 change" in result.stdout and "### `stage` — 1 change" in result.stdout


def test_no_changes_exit_0_with_exit_code(invoke, project: Path) -> None:
    committed(project)
    result = invoke("diff", "--all", "--against", "HEAD", "--base", "base.json", "--exit-code", cwd=project)
    assert result.returncode == 0
    assert "== prod: HEAD -> working tree: no changes" in result.stdout


def test_unknown_git_revision_is_a_usage_error(invoke, project: Path) -> None:
    committed(project)
    result = invoke("diff", "--env", "prod", "--against", "origin/nope", "--base", "base.json", cwd=project)
    assert result.returncode == 2
    assert "not a git revision" in result.stderr


def test_reordered_keyed_lists_are_no_change(invoke, project: Path) -> None:
    document = json.loads((project / "base.json").read_text())
    document["taskDefinition"]["containerDefinitions"][0]["environment"].reverse()
    document["tags"] = [{"key": "ecs-overlay:environment", "value": "prod"}]  # deployed by ecs-overlay before
    (project / "reordered.json").write_text(json.dumps(document))
    (project / "environments" / "prod.yaml").write_text("")
    result = invoke("diff", "--env", "prod", "--base", "reordered.json", "--format", "json", cwd=project)
    assert result.json()["environments"]["prod"]["changes"] == []


def test_credential_like_values_are_masked_unless_asked(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "allowPlaintext: [LEGACY_TOKEN]\ncontainerDefinitions: {web: {environment: {LEGACY_TOKEN: s3cr3t-value}}}\n"
    )
    masked = invoke("diff", "--env", "prod", "--base", "base.json", cwd=project)
    assert "s3cr3t-value" not in masked.stdout and "****" in masked.stdout
    shown = invoke("diff", "--env", "prod", "--base", "base.json", "--show-values", cwd=project)
    assert "s3cr3t-value" in shown.stdout
    explained = invoke("explain", "--env", "prod", "--base", "base.json", cwd=project)
    assert "s3cr3t-value" not in explained.stdout
    assert 'containerDefinitions[web].environment[LEGACY_TOKEN] = "****"' in explained.stdout


def test_base_directory_takes_one_snapshot_per_environment(invoke, project: Path) -> None:
    snapshots = project / "snapshots"
    snapshots.mkdir()
    document = json.loads((project / "base.json").read_text())
    (snapshots / "prod.json").write_text(json.dumps(document))
    document["taskDefinition"]["cpu"] = "256"
    document["taskDefinition"]["memory"] = "512"
    (snapshots / "stage.json").write_text(json.dumps(document))
    result = invoke("diff", "--all", "--base", "snapshots", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    stage = result.json()["environments"]["stage"]
    assert stage["compared"].startswith("snapshots/stage.json")
    missing = invoke("diff", "--env", "qa", "--base", "snapshots", cwd=project)
    assert missing.returncode == 2
    (project / "environments" / "qa.yaml").write_text("")
    missing = invoke("diff", "--env", "qa", "--base", "snapshots", cwd=project)
    assert missing.returncode == 3 and "no qa.json; write it with `ecs-overlay snapshot --env qa" in missing.stderr


def test_explain_path_limits_the_output(invoke, project: Path) -> None:
    result = invoke("explain", "--env", "prod", "--base", "base.json", "--path", "cpu", cwd=project)
    assert result.stdout == 'cpu = "1024"  <- environments/prod.yaml:9:6\n'
    nothing = invoke("explain", "--env", "prod", "--base", "base.json", "--path", "nope", cwd=project)
    assert nothing.returncode == 2


def test_explain_markdown_is_a_table_of_values_and_their_origins(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "cpu: '512'\nallowPlaintext: [LEGACY_TOKEN]\n"
        "containerDefinitions: {web: {environment: {LEGACY_TOKEN: s3cr3t-value, 'a|b': '<!-- x -->'}}}\n"
    )
    args = ("explain", "--env", "prod", "--base", "base.json", "--format", "markdown")
    result = invoke(*args, "--path", "containerDefinitions[web].environment", cwd=project)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[:2] == ["| path | value | set by |", "|---|---|---|"]
    token = '| `containerDefinitions[web].environment[LEGACY_TOKEN]` | `"****"` | `environments/prod.yaml:3:58` |'
    assert token in rows
    hostile = next(row for row in rows if "a&#124;b" in row)  # a key or value cannot split a cell or hide the rest
    assert hostile.count(" | ") == 2 and "<!--" not in hostile
    assert "s3cr3t-value" not in result.stdout
    assert invoke(*args, "--path", "cpu", cwd=project).stdout.splitlines()[2] == (
        '| `cpu` | `"512"` | `environments/prod.yaml:1:6` |'
    )


def test_drift_against_the_live_service(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    register(ecs, example_taskdef("prod"))
    env = {**aws_env, "DEPLOY_ENV": "prod"}
    # Deploy: render on the live base and register the result; now live is what the overlays say.
    assert invoke("render", cwd=project, env=env).returncode == 0
    register(ecs, json.loads((project / "taskdef.json").read_text()))
    clean = invoke("drift", cwd=project, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no drift" in clean.stdout

    # Snapshot the deployed state, then a console hot-fix registers a new revision by hand.
    assert invoke("snapshot", "-o", "snapshot.json", cwd=project, env=env).returncode == 0
    described = ecs.describe_task_definition(taskDefinition="checkout-api-prod", include=["TAGS"])
    hotfix = {k: v for k, v in described["taskDefinition"].items() if k in example_taskdef()}
    hotfix["tags"] = described["tags"]
    for variable in hotfix["containerDefinitions"][0]["environment"]:
        if variable["name"] == "LOG_LEVEL":
            variable["value"] = "debug"
    hotfix["containerDefinitions"][0]["user"] = "root"
    register(ecs, hotfix)

    drifted = invoke("drift", "--snapshot", "snapshot.json", cwd=project, env=env)
    assert drifted.returncode == 4
    assert (
        '! containerDefinitions[web].environment[LOG_LEVEL]: live "debug", overlay "warn"  '
        "(environments/prod.yaml:15:18)"
    ) in drifted.stdout
    assert "-- since the snapshot: 2 changes" in drifted.stdout
    assert '+ containerDefinitions[web].user: "root"' in drifted.stdout  # unmanaged, seen only via the snapshot

    as_json = invoke("drift", "--format", "json", cwd=project, env=env).json()
    [item] = as_json["environments"]["prod"]["drift"]
    assert item["origin"]["file"] == "environments/prod.yaml" and item["live"] == "debug"


def test_snapshot_writes_the_stripped_live_base_with_tags(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    taskdef = example_taskdef()
    register(ecs, taskdef)
    result = invoke("snapshot", "--family", "checkout-api", "-o", "-", cwd=project, env=aws_env)
    assert result.returncode == 0, result.stderr
    snapshot = result.json()
    assert "revision" not in snapshot and "taskDefinitionArn" not in snapshot
    assert snapshot["tags"] == taskdef["tags"]
    assert snapshot["runtimePlatform"] == taskdef["runtimePlatform"]


def test_a_new_environment_in_the_pull_request_is_compared_with_the_base(invoke, project: Path) -> None:
    committed(project)
    (project / "environments" / "qa.yaml").write_text("extends: _common.yaml\ncpu: 512\nmemory: 2048\n")
    result = invoke("diff", "--env", "qa", "--against", "HEAD", "--base", "base.json", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    paths = {change["path"] for change in result.json()["environments"]["qa"]["changes"]}
    assert "memory" in paths and "containerDefinitions[web].environment[GIT_COMMIT]" in paths


def test_text_is_coloured_only_for_a_terminal() -> None:
    from ecs_overlay.diff import ADDED, Change
    from ecs_overlay.keyed import Item
    from ecs_overlay.report.text import changes_text

    sections = [("prod", "base -> rendered", [Change(("tags", Item("env")), ADDED, new="prod")])]
    assert '\033[32m+ tags[env]: "prod"\033[0m' in changes_text(sections, colour=True)
    assert "\033[" not in changes_text(sections, colour=False)


def test_drift_right_after_a_deploy_with_build_time_values_reports_nothing(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    """GIT_COMMIT: ${CODEBUILD_RESOLVED_SOURCE_VERSION:-unknown} is rendered with the build's commit and
    registered; a scheduled drift job later runs without the variable. That is not drift: exit 0, and the
    value is listed apart as a build-time value."""
    register(ecs, example_taskdef("prod"))
    env = {**aws_env, "DEPLOY_ENV": "prod"}
    built = invoke("render", cwd=project, env={**env, "CODEBUILD_RESOLVED_SOURCE_VERSION": "9d8e7f6"})
    assert built.returncode == 0, built.stderr
    register(ecs, json.loads((project / "taskdef.json").read_text()))

    later = invoke("drift", cwd=project, env=env)
    assert later.returncode == 0, later.stdout + later.stderr
    assert later.stdout.splitlines()[0].endswith(": no drift")
    assert "-- build-time values differ (not drift): 1" in later.stdout
    assert (
        '~ containerDefinitions[web].environment[GIT_COMMIT]: live "9d8e7f6", overlay "unknown"  '
        "(environments/_common.yaml:"
    ) in later.stdout
    assert "via ${CODEBUILD_RESOLVED_SOURCE_VERSION}" in later.stdout
    assert later.stdout in (REPO / "README.md").read_text(encoding="utf-8")  # the README shows this run
    document = invoke("drift", "--format", "json", cwd=project, env=env).json()["environments"]["prod"]
    assert document["drift"] == []
    assert [item["path"] for item in document["build_time"]] == ["containerDefinitions[web].environment[GIT_COMMIT]"]
    assert document["build_time"][0]["origin"]["variables"] == ["CODEBUILD_RESOLVED_SOURCE_VERSION"]

    # With the same value at drift time, there is nothing to list at all.
    same = invoke("drift", cwd=project, env={**env, "CODEBUILD_RESOLVED_SOURCE_VERSION": "9d8e7f6"})
    assert same.returncode == 0 and "build-time" not in same.stdout


def test_drift_ignore_rules_leave_out_accepted_noise(invoke, project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    register(ecs, example_taskdef("prod"))
    env = {**aws_env, "DEPLOY_ENV": "prod"}
    assert invoke("render", cwd=project, env=env).returncode == 0
    deployed = json.loads((project / "taskdef.json").read_text())
    for variable in deployed["containerDefinitions"][0]["environment"]:
        if variable["name"] == "LOG_LEVEL":
            variable["value"] = "debug"  # a hand-made hot-fix the team accepts
    register(ecs, deployed)
    assert invoke("drift", cwd=project, env=env).returncode == 4
    ignored = invoke("drift", "--ignore", "containerDefinitions[*].environment[LOG_*]", cwd=project, env=env)
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    assert "LOG_LEVEL" not in ignored.stdout and "no drift" in ignored.stdout


def test_diff_ignore_rules_leave_out_paths_and_everything_below(invoke, project: Path) -> None:
    everything = invoke("diff", "--env", "prod", "--base", "base.json", "--format", "json", cwd=project).json()
    paths = [change["path"] for change in everything["environments"]["prod"]["changes"]]
    assert "cpu" in paths and any(path.startswith("containerDefinitions[web].environment[") for path in paths)
    result = invoke(
        "diff", "--env", "prod", "--base", "base.json", "--format", "json", "--exit-code",
        "--ignore", "cpu", "--ignore", "containerDefinitions.*.environment", cwd=project,
    )  # fmt: skip
    kept = [change["path"] for change in result.json()["environments"]["prod"]["changes"]]
    assert kept == [p for p in paths if p != "cpu" and not re.match(r"containerDefinitions\[[^]]+\]\.environment\[", p)]
    assert "tags[env]" in kept
    assert result.returncode == (4 if kept else 0)


def test_an_ignore_rule_that_is_not_a_path_is_a_usage_error(invoke, project: Path) -> None:
    result = invoke("diff", "--env", "prod", "--base", "base.json", "--ignore", "tags[]", cwd=project)
    assert result.returncode == 2
    assert "Invalid value for '--ignore': 'tags[]' is not a path; write it as diff shows paths" in result.stderr


def test_pull_request_view_reports_added_removed_and_renamed_environments_and_layers(invoke, project: Path) -> None:
    (project / "environments" / "_logging.yaml").write_text("containerDefinitions: {web: {environment: {A: b}}}\n")
    committed(project)
    environments = project / "environments"
    (environments / "stage.yaml").rename(environments / "staging.yaml")  # same content
    (environments / "_logging.yaml").rename(environments / "_logs.yaml")
    (environments / "qa.yaml").write_text("extends: _common.yaml\ncpu: 512\nmemory: 2048\n")
    prod = (environments / "prod.yaml").read_text()
    (environments / "prod.yaml").unlink()
    (environments / "production.yaml").write_text(prod.replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))

    result = invoke("diff", "--all", "--against", "HEAD", "--base", "base.json", cwd=project)
    assert result.returncode == 0, result.stderr
    headings = [line for line in result.stdout.splitlines() if line.startswith("== ")]
    added = " added (not at HEAD: compared with the base alone); HEAD -> working tree: "
    assert [re.sub(r"\d+ changes$", "N changes", line) for line in headings] == [
        f"== production: environment production{added}N changes",
        f"== qa: environment qa{added}N changes",
        "== staging: environment stage renamed to staging; HEAD -> working tree: no changes",
        "== prod: environment prod removed (at HEAD, not in the working tree); HEAD -> working tree: no changes",
    ]
    assert result.stderr == "layer _logging.yaml renamed to _logs.yaml\n"
    document = invoke("diff", "--all", "--against", "HEAD", "--base", "base.json", "--format", "json", cwd=project)
    assert document.json()["environments"]["staging"] == {
        "compared": "environment stage renamed to staging; HEAD -> working tree",
        "changes": [],
    }


def test_an_environment_without_a_snapshot_is_reported_as_no_base_and_the_others_are_compared(
    invoke, project: Path
) -> None:
    snapshots = project / "snapshots"
    snapshots.mkdir()
    (snapshots / "prod.json").write_text((project / "base.json").read_text())
    committed(project)
    (project / "environments" / "qa.yaml").write_text("extends: _common.yaml\ncpu: 512\nmemory: 2048\n")
    result = invoke("diff", "--all", "--against", "HEAD", "--base", "snapshots", "--exit-code", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "== prod: HEAD -> working tree: no changes" in result.stdout
    assert "== qa" not in result.stdout and "== stage" not in result.stdout
    for name in ("qa", "stage"):
        assert f"environment {name}: no base, not compared: --base snapshots: no {name}.json; write it with" in (
            result.stderr
        )
    alone = invoke("diff", "--env", "qa", "--base", "snapshots", cwd=project)
    assert alone.returncode == 3 and "no qa.json" in alone.stderr  # asked for by name: an error, as before


def test_drift_without_a_build_variable_that_has_no_default_is_not_a_failure(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    """A value written ${CODEBUILD_BUILD_NUMBER} (no default) cannot render in a scheduled job that lacks the
    variable; drift reads it as written and lists it as a build-time value instead of failing."""
    prod = project / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: warn\n      BUILD: ${CODEBUILD_BUILD_NUMBER}")
    )
    register(ecs, example_taskdef("prod"))
    env = {**aws_env, "DEPLOY_ENV": "prod"}
    built = invoke("render", cwd=project, env={**env, "CODEBUILD_BUILD_NUMBER": "42"})
    assert built.returncode == 0, built.stderr
    register(ecs, json.loads((project / "taskdef.json").read_text()))

    later = invoke("drift", "--format", "json", cwd=project, env=env)
    assert later.returncode == 0, later.stderr
    document = later.json()["environments"]["prod"]
    assert document["drift"] == []
    # every ${…} then reads as written, a defaulted one too: both are build-time values, neither is drift
    assert [(item["path"], item["live"], item["overlay"]) for item in document["build_time"]] == [
        ("containerDefinitions[web].environment[GIT_COMMIT]", "unknown", "${CODEBUILD_RESOLVED_SOURCE_VERSION}"),
        ("containerDefinitions[web].environment[BUILD]", "42", "${CODEBUILD_BUILD_NUMBER}"),
    ]
    render = invoke("render", "-o", "-", cwd=project, env=env)  # render itself still refuses the unset variable
    assert render.returncode == 1 and "${CODEBUILD_BUILD_NUMBER} is not set" in render.stderr
