"""Faults: AWS misbehaving (a local HTTP server that does it on purpose; the command in-process), full
disks and interruptions (the installed command as a subprocess, ``e2e``). Every one ends with a clear
message and exit 3 (or the signal's code), and no artifact damaged."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLE_BASE, clean_environ, installed_command

PREVIOUS = b'{"family": "previous-artifact"}\n'


def _render(invoke: Any, project: Path, env: dict[str, str], *args: str) -> Any:
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", *args, cwd=project, env=env)
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    assert "Traceback" not in result.stderr
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []
    return result


@pytest.mark.parametrize(("status", "code"), [(500, "InternalFailure"), (503, "ServiceUnavailableException")])
def test_server_errors_are_retried_then_exit_3(invoke, project: Path, fake_ecs: Any, status: int, code: str) -> None:
    fake_ecs.respond(status, {"__type": code, "message": "try later"})
    result = _render(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "3"})
    assert result.returncode == 3
    assert f"AWS failed with HTTP {status}" in result.stderr and "after 2 retries" in result.stderr
    assert len(fake_ecs.requests) == 3


def test_a_hanging_endpoint_times_out_then_exit_3(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.behaviour = "hang"
    result = _render(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "2"}, "--aws-timeout", "0.2")
    assert result.returncode == 3
    assert "cannot reach AWS" in result.stderr and "timeout" in result.stderr.lower()
    assert len(fake_ecs.requests) == 2


def test_a_truncated_response_is_exit_3(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()))
    fake_ecs.behaviour = "truncate"
    result = _render(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "2"})
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: ")


def _limit_file_size() -> None:
    # A full disk, as the writing process sees it: writes past 4 KiB fail (EFBIG) instead of SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.e2e
def test_a_full_disk_is_exit_3_and_keeps_the_previous_artifact(project: Path) -> None:
    (project / "taskdef.json").write_bytes(PREVIOUS)
    process = subprocess.run(
        [installed_command(), "render", "--env", "prod", "--base", "base.json"],
        cwd=project,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_file_size,
    )
    assert process.returncode == 3, process.stderr
    assert "cannot write taskdef.json" in process.stderr and "nothing was written" in process.stderr
    assert "Traceback" not in process.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.e2e
def test_sigterm_at_any_moment_leaves_the_old_pair_or_the_new_pair(project: Path) -> None:
    """Interrupt renders at times spread over their whole run: never a partial file, never a
    temporary left behind, and taskdef.json and appspec.yaml always from the same run."""
    command = [installed_command(), "render", "--env", "prod", "--base", "base.json", "--appspec", "appspec.yaml"]
    env = clean_environ()
    started = time.monotonic()
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True, timeout=60)
    duration = time.monotonic() - started
    new_taskdef = (project / "taskdef.json").read_bytes()
    new_appspec = (project / "appspec.yaml").read_bytes()
    outcomes = set()
    for step in range(24):
        (project / "taskdef.json").write_bytes(PREVIOUS)
        (project / "appspec.yaml").write_bytes(b"previous\n")
        process = subprocess.Popen(
            command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        time.sleep(duration * (0.5 + step / 24))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        taskdef, appspec = (project / "taskdef.json").read_bytes(), (project / "appspec.yaml").read_bytes()
        assert (taskdef, appspec) in ((PREVIOUS, b"previous\n"), (new_taskdef, new_appspec)), step
        assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []
        assert "Traceback" not in stderr
        outcomes.add(process.returncode)
    assert outcomes <= {0, 128 + signal.SIGTERM, -signal.SIGTERM}


@pytest.mark.e2e
def test_the_process_exits_with_the_signal_code_on_sigterm(project: Path) -> None:
    code = (
        "import os, signal, sys\n"
        "from ecs_overlay import cli\n"
        "import ecs_overlay.output as output\n"
        "original = output._stage\n"
        "def stage(target, text):\n"
        "    path = original(target, text)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return path\n"
        "output._stage = stage\n"
        "sys.argv = ['ecs-overlay', 'render', '--env', 'prod', '--base', 'base.json']\n"
        "cli.main()\n"
    )
    (project / "taskdef.json").write_bytes(PREVIOUS)
    python = str(Path(installed_command()).parent / "python")
    process = subprocess.run(
        [python, "-c", code], cwd=project, env=clean_environ(), capture_output=True, text=True, timeout=60
    )
    # The signal arrives mid-write: it is acted on once the artifact is complete, with the signal's code.
    assert process.returncode == 128 + signal.SIGTERM, process.stderr
    assert json.loads((project / "taskdef.json").read_text())["family"] == "checkout-api"
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []
