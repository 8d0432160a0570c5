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

from .conftest import EXAMPLE_BASE, clean_environ, installed_command, without_static_credentials

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
    result = _render(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "5"}, "--aws-timeout", "0.2")
    assert result.returncode == 3
    # --aws-timeout bounds the call with its retries: five attempts do not make it wait five times as long.
    assert "cannot reach AWS: DescribeTaskDefinition timed out after 0.2 s" in result.stderr
    assert fake_ecs.requests


@pytest.mark.e2e
def test_a_trickling_response_ends_the_installed_command_at_the_deadline(run_cli, project: Path, fake_ecs: Any) -> None:
    """The abandoned call's thread does not keep the process alive: the trickle would last minutes."""
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()))
    fake_ecs.behaviour = "trickle"
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = run_cli("render", "--env", "prod", "--aws-timeout", "0.3", cwd=project, env=fake_ecs.env(), timeout=20)
    assert result.returncode == 3 and "timed out after 0.3 s" in result.stderr and "Traceback" not in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


@pytest.mark.e2e
def test_ctrl_c_interrupts_a_waiting_aws_call(project: Path, fake_ecs: Any) -> None:
    fake_ecs.behaviour = "hang"
    (project / "taskdef.json").write_bytes(PREVIOUS)
    process = subprocess.Popen(
        [installed_command(), "render", "--env", "prod", "--aws-timeout", "60"],
        cwd=project,
        env=clean_environ(fake_ecs.env()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(400):  # until the call is under way
        if fake_ecs.requests:
            break
        time.sleep(0.05)
    assert fake_ecs.requests, "the render never called AWS"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)  # long before the 60 s deadline, or the hang's 30 s
    assert process.returncode not in (0, 3), stderr
    assert "Traceback" not in stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_a_trickling_response_times_out_as_a_whole(invoke, project: Path, fake_ecs: Any) -> None:
    """Each byte arrives well within a read timeout (0.05 s apart); the answer as a whole would take minutes."""
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()))
    fake_ecs.behaviour = "trickle"
    result = _render_in_process(invoke, project, fake_ecs.env(), "--aws-timeout", "0.3")
    assert result.returncode == 3
    assert "DescribeTaskDefinition timed out after 0.3 s" in result.stderr and "--aws-timeout" in result.stderr


def test_a_truncated_response_is_exit_3(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()))
    fake_ecs.behaviour = "truncate"
    result = _render(invoke, project, {**fake_ecs.env(), "AWS_MAX_ATTEMPTS": "2"})
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: ")


def _render_in_process(invoke: Any, project: Path, env: dict[str, str], *args: str, command: str = "render") -> Any:
    """A failing run in this process: exit 3 (or as asserted by the caller), no traceback, nothing written."""
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke(command, "--env", "prod", *args, cwd=project, env=env)  # raises on a traceback
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    assert "Traceback" not in result.stderr and result.stderr.splitlines()[-1].startswith("Error: ")
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []
    return result


GARBAGE = "<a file that is not INI>"


def _with_files(setting: dict[str, str], directory: Path) -> dict[str, str]:
    """The setting, with GARBAGE replaced by the path of such a file."""
    garbage = directory / "config"
    garbage.write_text("this is not\n[an ini file\n")
    return {key: str(garbage) if value == GARBAGE else value for key, value in setting.items()}


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ({"AWS_PROFILE": "nope"}, "AWS profile 'nope' not found in the AWS config files; set AWS_PROFILE"),
        ({"AWS_CONFIG_FILE": GARBAGE}, "cannot parse the AWS config file"),
        ({"AWS_ENDPOINT_URL": "not a url"}, 'AWS_ENDPOINT_URL="not a url" is not a URL; set it to one such as https'),
        ({"AWS_ENDPOINT_URL": "http://[::1"}, 'AWS_ENDPOINT_URL="http://[::1" is not a URL'),
        ({"AWS_ENDPOINT_URL_ECS": "ecs here"}, 'AWS_ENDPOINT_URL_ECS="ecs here" is not a URL'),
        ({"AWS_MAX_ATTEMPTS": "abc"}, "AWS_MAX_ATTEMPTS='abc' is not a whole number of at least 1"),
        ({"AWS_MAX_ATTEMPTS": "-1"}, "AWS_MAX_ATTEMPTS='-1' is not a whole number of at least 1"),
        ({"AWS_RETRY_MODE": "bogus"}, "AWS_RETRY_MODE='bogus' is not a retry mode; use standard"),
        ({"AWS_REGION": "eu west 1"}, '"eu west 1" is not an AWS region name; set AWS_REGION (or --region, or the'),
        ({"AWS_DEFAULTS_MODE": "bogus"}, "invalid defaults mode: bogus"),
    ],
)
def test_aws_configuration_mistakes_are_exit_3(
    invoke, project: Path, fake_ecs: Any, tmp_path: Path, setting: dict[str, str], fragment: str
) -> None:
    setting = _with_files(setting, tmp_path)
    result = _render_in_process(invoke, project, {**fake_ecs.env(), **setting})
    assert result.returncode == 3
    assert fragment in result.stderr
    assert fake_ecs.requests == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("UnrecognizedClientException", "The security token included in the request is invalid."),
        ("ExpiredTokenException", "The security token included in the request is expired"),
        ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided."),
    ],
)
def test_credentials_aws_refuses_are_not_reported_as_missing_permissions(
    invoke, project: Path, fake_ecs: Any, code: str, message: str
) -> None:
    fake_ecs.respond(400, {"__type": code, "message": message})
    result = _render_in_process(invoke, project, fake_ecs.env())
    assert result.returncode == 3
    assert f"AWS does not accept these credentials ({code}: {message}); refresh them" in result.stderr
    assert "access denied" not in result.stderr


@pytest.mark.parametrize("setting", [{"AWS_PROFILE": "nope"}, {"AWS_CONFIG_FILE": GARBAGE}])
def test_a_dry_run_on_a_base_file_needs_no_usable_aws_configuration(
    invoke, project: Path, tmp_path: Path, setting: dict[str, str]
) -> None:
    setting = _with_files(setting, tmp_path)
    result = invoke("register", "--env", "prod", "--base", "base.json", "--dry-run", cwd=project, env=setting)
    assert result.returncode == 0, result.stderr
    assert "valid RegisterTaskDefinition request; nothing registered" in result.stderr


def test_a_malformed_credentials_file_is_named(invoke, project: Path, fake_ecs: Any, tmp_path: Path) -> None:
    setting = _with_files({"AWS_SHARED_CREDENTIALS_FILE": GARBAGE}, tmp_path)
    result = _render_in_process(invoke, project, {**without_static_credentials(fake_ecs.env()), **setting})
    assert result.returncode == 3
    assert f"cannot parse the AWS config file {tmp_path / 'config'}; fix its INI syntax" in result.stderr
    assert "point AWS_SHARED_CREDENTIALS_FILE at a valid one" in result.stderr


def test_a_configuration_value_botocore_reads_while_finding_credentials(invoke, project: Path, fake_ecs: Any) -> None:
    """botocore raises a bare ValueError for it, mid-call: a configuration fault, not a malformed answer."""
    env = {**without_static_credentials(fake_ecs.env()), "AWS_METADATA_SERVICE_TIMEOUT": "abc"}
    result = _render_in_process(invoke, project, env)
    assert result.returncode == 3
    assert "botocore cannot use the AWS configuration" in result.stderr and "malformed" not in result.stderr


def test_a_missing_web_identity_token_file_is_exit_3(invoke, project: Path, fake_ecs: Any, tmp_path: Path) -> None:
    env = without_static_credentials(fake_ecs.env())
    env.update(
        {
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "no-token"),
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/build",
        }
    )
    result = _render_in_process(invoke, project, env)
    assert result.returncode == 3
    assert f"cannot read {tmp_path / 'no-token'} named by the AWS configuration" in result.stderr
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in result.stderr


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[]",
        b'"a string"',
        b"{}",
        {"taskDefinition": {"family": "checkout-api"}},
        {"taskDefinition": "x"},
        {"taskDefinition": {"containerDefinitions": "x"}},
        {"taskDefinition": {"containerDefinitions": ["x"]}},
        {"taskDefinition": {"family": "a", "containerDefinitions": []}, "tags": "x"},
        b"<html>proxy error</html>",
    ],
)
def test_malformed_describe_answers_are_exit_3(invoke, project: Path, fake_ecs: Any, body: Any) -> None:
    fake_ecs.respond(200, body)
    result = _render_in_process(invoke, project, fake_ecs.env())
    assert result.returncode == 3
    assert "malformed DescribeTaskDefinition response" in result.stderr
    assert "AWS_ENDPOINT_URL" in result.stderr


@pytest.mark.parametrize("services", [["web"], "web", [{"status": "ACTIVE"}], None])
def test_malformed_describe_services_answers_are_exit_3(invoke, project: Path, fake_ecs: Any, services: Any) -> None:
    fake_ecs.respond(200, {"services": services, "failures": []}, target="DescribeServices")
    result = _render_in_process(invoke, project, fake_ecs.env(), "--cluster", "shop", "--service", "web")
    assert result.returncode == 3
    assert "DescribeServices response" in result.stderr or "without its task definition" in result.stderr
    assert fake_ecs.operations() == ["DescribeServices"]


def test_ecs_refusing_a_registration_is_passed_through_in_ecs_words(invoke, project: Path, fake_ecs: Any) -> None:
    refusal = "Fargate requires task definition to have execution role ARN to support log driver awslogs."
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()), target="DescribeTaskDefinition")
    fake_ecs.respond(400, {"__type": "ClientException", "message": refusal}, target="RegisterTaskDefinition")
    result = _render_in_process(invoke, project, fake_ecs.env(), command="register")
    assert result.returncode == 1  # the definition is what ECS refuses: invalid input, as the README's table says
    assert f"ECS refused the task definition: {refusal}" in result.stderr
    assert "not found" not in result.stderr
    # register used the client and the description of its own render: one describe, one register.
    assert fake_ecs.operations() == ["DescribeTaskDefinition", "RegisterTaskDefinition"]


def test_concurrent_registrations_are_an_aws_failure_not_a_refusal(invoke, project: Path, fake_ecs: Any) -> None:
    busy = "Too many concurrent attempts to create a new revision of the specified family."
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()), target="DescribeTaskDefinition")
    fake_ecs.respond(400, {"__type": "ClientException", "message": busy}, target="RegisterTaskDefinition")
    result = _render_in_process(invoke, project, fake_ecs.env(), command="register")
    assert result.returncode == 3
    family = "family 'checkout-api-prod'"
    assert f"ECS is registering another revision of {family} at this moment (ClientException: {busy})" in result.stderr
    assert "run again in a moment" in result.stderr and "refused" not in result.stderr


def test_a_registration_that_times_out_may_have_happened(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.behaviours["RegisterTaskDefinition"] = "hang"
    # a base file: the registration is the only AWS call, so the deadline need leave no other call time to pass
    args = ("--base", "base.json", "--aws-timeout", "0.2")
    result = _render_in_process(invoke, project, fake_ecs.env(), *args, command="register")
    assert result.returncode == 3
    assert "RegisterTaskDefinition timed out after 0.2 s" in result.stderr
    assert "the revision may have been registered all the same" in result.stderr


def test_a_family_ecs_cannot_describe_is_not_found(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(400, {"__type": "ClientException", "message": "Unable to describe task definition."})
    result = _render_in_process(invoke, project, fake_ecs.env(), "--family", "ghost")
    assert result.returncode == 3
    assert "task definition 'ghost' not found (Unable to describe task definition.)" in result.stderr


def test_another_describe_client_exception_is_passed_through(invoke, project: Path, fake_ecs: Any) -> None:
    message = "The specified task definition revision is INACTIVE and cannot be used with include TAGS."
    fake_ecs.respond(400, {"__type": "ClientException", "message": message})
    result = _render_in_process(invoke, project, fake_ecs.env())
    assert result.returncode == 3
    assert f"AWS refused DescribeTaskDefinition (ClientException): {message}" in result.stderr
    assert "not found" not in result.stderr


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
    # From half the run (the interpreter still starting) to well past its end (a run may take longer than the one
    # timed), a fourteenth of a run apart: before the handler is set, the render and after the end each last longer
    # than that in a run like the one timed; the writes last milliseconds: the next test signals in their midst.
    for step in range(14):
        (project / "taskdef.json").write_bytes(PREVIOUS)
        (project / "appspec.yaml").write_bytes(b"previous\n")
        process = subprocess.Popen(
            command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:  # a run that has ended by its moment has no signal to take: no waiting out the rest of the moment
            _, stderr = process.communicate(timeout=duration * (0.5 + step / 14))
        except subprocess.TimeoutExpired:
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
        "sys.argv = ['ecs-overlay', 'render', '--env', 'prod', '--base', 'base.json', '--appspec', 'appspec.yaml']\n"
        "cli.main()\n"
    )
    (project / "taskdef.json").write_bytes(PREVIOUS)
    (project / "appspec.yaml").write_bytes(b"previous\n")
    python = str(Path(installed_command()).parent / "python")
    process = subprocess.run(
        [python, "-c", code], cwd=project, env=clean_environ(), capture_output=True, text=True, timeout=60
    )
    # The signal arrives mid-write (taskdef.json staged, appspec.yaml not yet): it is acted on once both artifacts
    # are complete, with the signal's code; the moments of the test above seldom land in these milliseconds.
    assert process.returncode == 128 + signal.SIGTERM, process.stderr
    assert json.loads((project / "taskdef.json").read_text())["family"] == "checkout-api-prod"
    assert "TargetService" in (project / "appspec.yaml").read_text()
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []
