"""The command offline (--base), in-process: options, exit codes, messages, atomic output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import EXAMPLE_BASE, REPO


def test_renders_to_taskdef_json_by_default(invoke, project: Path) -> None:
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 0, result.stderr
    text = (project / "taskdef.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "containerDefinitions": [\n    {\n      "name": "web"')
    taskdef = json.loads(text)
    assert "taskDefinitionArn" not in taskdef and "revision" not in taskdef
    assert taskdef["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert "wrote taskdef.json: environment prod" in result.stderr


def test_deploy_env_selects_the_environment(invoke, project: Path) -> None:
    result = invoke("render", "--base", "base.json", "-o", "-", cwd=project, env={"DEPLOY_ENV": "stage"})
    assert result.returncode == 0, result.stderr
    assert [c["name"] for c in result.json()["containerDefinitions"]] == ["web", "log-router"]


def test_no_environment_is_a_usage_error_listing_environments(invoke, project: Path) -> None:
    result = invoke("render", "--base", "base.json", cwd=project)
    assert result.returncode == 2
    assert "Available environments: prod, stage" in result.stderr
    assert "_common" not in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_environment_is_a_usage_error_listing_environments(invoke, project: Path) -> None:
    result = invoke("render", "--env", "qa", "--base", "base.json", cwd=project)
    assert result.returncode == 2
    assert "unknown environment 'qa'; available environments: prod, stage" in result.stderr


def test_shared_layers_are_not_environments(invoke, project: Path) -> None:
    result = invoke("render", "--env", "_common", "--base", "base.json", cwd=project)
    assert result.returncode == 2


def test_base_from_stdin(invoke, project: Path) -> None:
    result = invoke("render", "--env", "prod", "--base", "-", "-o", "-", cwd=project, stdin=EXAMPLE_BASE.read_text())
    assert result.returncode == 0, result.stderr
    assert result.json()["family"] == "checkout-api-prod"


def test_bare_task_definition_base(invoke, project: Path) -> None:
    bare = json.loads(EXAMPLE_BASE.read_text())["taskDefinition"]
    (project / "bare.json").write_text(json.dumps(bare))
    result = invoke("render", "--env", "prod", "--base", "bare.json", "-o", "-", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "revision" not in result.json()


def test_output_keeps_the_base_key_order(invoke, project: Path) -> None:
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=project)
    original = json.loads(EXAMPLE_BASE.read_text())["taskDefinition"]
    expected_order = [key for key in original if key in result.json()]
    assert list(result.json())[: len(expected_order)] == expected_order


def _existing_artifact(project: Path) -> tuple[Path, bytes]:
    target = project / "taskdef.json"
    target.write_bytes(b'{"previous": "artifact"}\n')
    return target, target.read_bytes()


@pytest.mark.parametrize(
    ("args", "overlay", "exit_code", "message"),
    [
        (["--env", "prod", "--base", "base.json"], "memroy: 1\n", 1, "did you mean 'memory'"),
        (["--env", "prod", "--base", "missing.json"], None, 3, "--base missing.json: no such file"),
        (["--env", "prod", "--base", "base.json", "--image", "nope=x:1"], None, 2, "no container named 'nope'"),
        (
            ["--env", "prod", "--base", "base.json", "--image", "ghcr.io/other/thing:1"],
            None,
            2,
            "no container runs an image from ghcr.io/other/thing",
        ),
        (["--env", "prod", "--base", "base.json", "--family", "x"], None, 2, "give only one base"),
        (["--env", "prod", "--cluster", "c"], None, 2, "--cluster and --service go together"),
        (["--env", "prod", "--base", "base.json"], "cpu: [\n", 1, "environments/prod.yaml:2"),
        (
            ["--env", "prod", "--base", "base.json"],
            "containerDefinitions: {web: {image: '${UNSET_TAG}'}}\n",
            1,
            "${UNSET_TAG} is not set",
        ),
    ],
)
def test_failures_write_nothing_and_leave_the_artifact_untouched(
    invoke, project: Path, args: list[str], overlay: str | None, exit_code: int, message: str
) -> None:
    if overlay is not None:
        (project / "environments" / "prod.yaml").write_text(overlay)
    target, before = _existing_artifact(project)
    result = invoke("render", *args, cwd=project)
    assert result.returncode == exit_code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in project.iterdir()) == ["base.json", "environments", "taskdef.json"]


def test_non_json_base_names_the_file_and_line(invoke, project: Path) -> None:
    (project / "base.json").write_text('{\n  "family": oops\n}\n')
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1
    assert "base.json:2:13: not JSON" in result.stderr


def test_unwritable_output_directory_is_exit_3_and_keeps_the_artifact(invoke, project: Path) -> None:
    if os.geteuid() == 0:
        # root ignores directory permissions; a missing directory fails the same code path.
        result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "no/such/dir/taskdef.json", cwd=project)
        assert result.returncode == 3
        assert "cannot write" in result.stderr and "nothing was written" in result.stderr
        return
    out = project / "out"
    out.mkdir()
    target, before = _existing_artifact(out)
    out.chmod(0o555)
    try:
        result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "out/taskdef.json", cwd=project)
    finally:
        out.chmod(0o755)
    assert result.returncode == 3
    assert target.read_bytes() == before


def test_existing_file_mode_is_kept(invoke, project: Path) -> None:
    target = project / "taskdef.json"
    target.write_text("{}\n")
    target.chmod(0o640)
    assert invoke("render", "--env", "prod", "--base", "base.json", cwd=project).returncode == 0
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.e2e
@pytest.mark.parametrize(
    "args",
    [
        ["render", "--env", "prod", "--base", "base.json", "-o", "-"],
        ["validate", "--base", "base.json"],
        ["validate"],
        ["diff", "--all", "--base", "base.json"],
        ["explain", "--env", "prod", "--base", "base.json"],
    ],
)
def test_offline_commands_never_import_boto3_or_botocore(project: Path, args: list[str]) -> None:
    import subprocess
    import sys

    # cli, not main: main() ends the process with os._exit, before anything could look at sys.modules.
    code = (
        f"import sys; from ecs_overlay.cli import cli; sys.argv = ['ecs-overlay', *{args!r}]\n"
        "try:\n    cli(prog_name='ecs-overlay')\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')), file=sys.stderr)"
    )
    process = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=60)
    assert "LOADED []" in process.stderr, process.stderr


def test_help_lists_exit_codes(invoke) -> None:
    result = invoke("--help")
    assert result.returncode == 0 and "2 usage, 3 AWS or I/O failure" in result.stdout


def test_device_outputs_are_written_in_place_not_replaced(invoke, project: Path) -> None:
    # A rename over /dev/null would turn the device into a regular file (as root it would succeed).
    fifo = project / "artifact.pipe"
    os.mkfifo(fifo)
    import threading

    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "artifact.pipe", cwd=project)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(received[0])["family"] == "checkout-api-prod"
    assert fifo.is_fifo()


def test_schema_prints_the_shipped_overlay_schema(invoke, tmp_path: Path) -> None:
    result = invoke("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (REPO / "schema" / "overlay.schema.json").read_text(encoding="utf-8")
    taskdef = invoke("schema", "taskdef", cwd=tmp_path)
    assert json.loads(taskdef.stdout)["title"].startswith("ECS task definition")


def test_schema_output_writes_the_file_and_a_failed_write_says_why(invoke, tmp_path: Path) -> None:
    written = invoke("schema", "-o", "overlay.schema.json", cwd=tmp_path)
    assert written.returncode == 0 and written.stdout == ""
    assert written.stderr == "wrote overlay.schema.json: the overlay schema\n"
    shipped = (REPO / "schema" / "overlay.schema.json").read_bytes()
    assert (tmp_path / "overlay.schema.json").read_bytes() == shipped
    failed = invoke("schema", "-o", "missing/overlay.schema.json", cwd=tmp_path)
    assert failed.returncode == 3
    assert "missing/overlay.schema.json (--output): the directory missing does not exist" in failed.stderr
    assert not (tmp_path / "missing").exists()
