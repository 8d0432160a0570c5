"""--services against live AWS: the bases described ahead, several at a time (moto's server behind the
fault proxy, each answer held back a moment), with the same reports, failures and order as one after
another, and progress on stderr as services are done."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .test_e2e_aws import example_taskdef, register
from .test_review import committed
from .test_services import edit, repository

SERVICES = ["svc-a", "svc-b", "svc-c", "svc-d", "svc-e", "svc-f"]
TAG = "ecs-overlay:environment"
PROGRESS = "described the live bases of service"


def live(root: Path, ecs: Any, missing: tuple[str, ...] = (), tagged: dict[str, str] | None = None) -> Path:
    """SERVICES with stage and prod, each environment's base the ECS service `<service>-<env>` of cluster main
    (except those `missing`); `tagged`: a base's environment tag, as another environment's render left it."""
    repository(root, SERVICES, snapshots=False)
    ecs.create_cluster(clusterName="main")
    for name in SERVICES:
        for env in ("stage", "prod"):
            edit(root, name, env, "tags:", f"base:\n  cluster: main\n  service: {name}-{env}\ntags:")
            if f"{name}-{env}" in missing:
                continue
            taskdef = {**example_taskdef(), "family": f"{name}-{env}"}
            if f"{name}-{env}" in (tagged or {}):
                taskdef["tags"] = [{"key": TAG, "value": (tagged or {})[f"{name}-{env}"]}]
            arn = register(ecs, taskdef)
            ecs.create_service(cluster="main", serviceName=f"{name}-{env}", taskDefinition=arn, desiredCount=0)
    return root


def at_once(count: int, proxy: Any, aws_env: dict[str, str]) -> dict[str, str]:
    return {**proxy.env(aws_env), "ECS_OVERLAY_AWS_CONCURRENCY": str(count)}


def progress(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(PROGRESS)]


def test_drift_describes_bases_several_at_a_time_and_reports_as_one_after_another(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = live(tmp_path, ecs)
    args = ("drift", "--all", "--services", "services", "--format", "json")
    serial = invoke(*args, cwd=root, env=at_once(1, fault_proxy, aws_env))
    assert serial.returncode == 4, serial.stderr  # the overlays' tags are not on the live bases
    assert fault_proxy.most_at_once == 1
    serial_calls = Counter(fault_proxy.operations)
    assert serial_calls == {"DescribeServices": 12, "DescribeTaskDefinition": 12}
    assert progress(serial.stderr) == []  # one after another, as the run asks: nothing described ahead

    fault_proxy.operations.clear()
    fault_proxy.most_at_once = 0
    fault_proxy.gather(3, linger=0.1)  # the first calls held till three are at once, and a moment more: a fourth shows
    together = invoke(*args, cwd=root, env=at_once(3, fault_proxy, aws_env))
    assert 1 < fault_proxy.most_at_once <= 3
    assert Counter(fault_proxy.operations) == serial_calls  # each base described once, ahead or not
    assert (together.returncode, together.stdout) == (serial.returncode, serial.stdout)
    assert list(together.json()["services"]) == SERVICES
    assert [line for line in together.stderr.splitlines() if not line.startswith(PROGRESS)] == (
        serial.stderr.splitlines()
    )


def test_failures_are_reported_per_environment_in_the_services_order(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    # svc-b's prod base carries stage's tag (a bleed: that environment fails, the run goes on), and so does
    # svc-e's; svc-b's answers come after svc-e's, so described ahead its failure is known after svc-e's.
    root = live(tmp_path, ecs, tagged={"svc-b-prod": "stage", "svc-e-prod": "stage"})
    fault_proxy.answer_after("svc-b-prod", "task-definition/svc-e-prod")
    args = ("drift", "--all", "--services", "services")
    together = invoke(*args, cwd=root, env=at_once(4, fault_proxy, aws_env))
    fault_proxy.after.clear()  # one after another, svc-b-prod is asked for before svc-e-prod: nothing to hold
    serial = invoke(*args, cwd=root, env=at_once(1, fault_proxy, aws_env))
    assert together.returncode == serial.returncode == 1
    assert together.stdout == serial.stdout
    failures = [line for line in together.stderr.splitlines() if "would start from a base rendered for" in line]
    assert len(failures) == 2 and "svc-b" in failures[0] and "svc-e" in failures[1], together.stderr
    assert [line for line in together.stderr.splitlines() if not line.startswith(PROGRESS)] == (
        serial.stderr.splitlines()
    )


def test_an_aws_failure_ends_the_run_at_the_first_environment_in_order_described_once(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = live(tmp_path, ecs, missing=("svc-c-stage", "svc-f-prod"))
    fault_proxy.answer_after("svc-c-stage", "svc-f-prod")  # svc-f's failure is known first
    together = invoke("drift", "--all", "--services", "services", cwd=root, env=at_once(4, fault_proxy, aws_env))
    asked = Counter(body["services"][0] for body in fault_proxy.sent("DescribeServices"))
    fault_proxy.after.clear()  # one after another, the run ends before it asks for svc-f-prod: nothing to hold
    serial = invoke("drift", "--all", "--services", "services", cwd=root, env=at_once(1, fault_proxy, aws_env))
    assert together.returncode == serial.returncode == 3
    assert "service 'svc-c-stage' not found in cluster 'main'" in together.stderr
    assert together.stdout == serial.stdout == ""
    assert asked["svc-c-stage"] == 1  # the failure described ahead is the answer the run gets: not asked again
    assert asked["svc-f-prod"] == 1  # described ahead, never reported: the run ends before it


def test_a_base_throttled_ahead_is_asked_again_when_the_run_comes_to_it(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = live(tmp_path, ecs)
    for _ in range(12):  # every DescribeServices described ahead is throttled; then moto answers
        fault_proxy.answer("DescribeServices", 400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
    fault_proxy.forward("DescribeServices")
    env = {**at_once(4, fault_proxy, aws_env), "AWS_MAX_ATTEMPTS": "1"}  # no retry within a call
    result = invoke("drift", "--all", "--services", "services", "--format", "json", cwd=root, env=env)
    assert result.returncode == 4, result.stderr
    assert list(result.json()["services"]) == SERVICES
    assert Counter(fault_proxy.operations) == {"DescribeServices": 24, "DescribeTaskDefinition": 12}


def test_every_describing_thread_keeps_its_connection(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    root = live(tmp_path, ecs)
    fault_proxy.gather(12)  # all twelve at once: more than botocore's default pool of 10 connections
    result = invoke("drift", "--all", "--services", "services", cwd=root, env=at_once(32, fault_proxy, aws_env))
    assert result.returncode == 4, result.stderr
    assert fault_proxy.most_at_once > 10
    assert not [record for record in caplog.records if "Connection pool is full" in record.getMessage()]


def test_progress_names_each_service_as_its_bases_are_described_on_stderr(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = live(tmp_path, ecs)
    result = invoke("snapshot", "--services", "services", "-o", "snap", cwd=root, env=at_once(4, fault_proxy, aws_env))
    assert result.returncode == 0, result.stderr
    lines = progress(result.stderr)
    assert [line.rsplit(" ", 1)[1] for line in lines] == [f"({count}/6)" for count in range(1, 7)]
    assert sorted(line.split()[6] for line in lines) == SERVICES
    assert result.stdout == ""
    assert len(list((root / "snap").rglob("*.json"))) == 12

    one = ("--environments-dir", "services/svc-a/environments")
    single = invoke("drift", "--all", *one, cwd=root, env=at_once(4, fault_proxy, aws_env))
    assert single.returncode == 4 and PROGRESS not in single.stderr  # one service: nothing described ahead


def test_a_pull_request_view_describes_only_the_environments_it_renders(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = committed(live(tmp_path, ecs))
    edit(root, "svc-c", "prod", "env: prod", "env: production")
    edit(root, "svc-e", "stage", "env: stage", "env: staging")
    args = ("diff", "--all", "--against", "HEAD", "--services", "services", "--format", "json")
    result = invoke(*args, cwd=root, env=at_once(4, fault_proxy, aws_env))
    assert result.returncode == 0, result.stderr
    assert list(result.json()["services"]) == ["svc-c", "svc-e"]
    assert sorted(body["services"][0] for body in fault_proxy.sent("DescribeServices")) == ["svc-c-prod", "svc-e-stage"]
    assert [line.split()[6] for line in progress(result.stderr)] in (["svc-c", "svc-e"], ["svc-e", "svc-c"])


def test_each_environment_keeps_its_region_and_role(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str], moto_endpoint: str
) -> None:
    import boto3

    role = "arn:aws:iam::210987654321:role/ecs-overlay-read"
    credentials = boto3.client(
        "sts", endpoint_url=moto_endpoint, region_name="us-west-2", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).assume_role(RoleArn=role, RoleSessionName="arrange")["Credentials"]  # fmt: skip
    other_account = boto3.client(
        "ecs", endpoint_url=moto_endpoint, region_name="us-west-2", aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
    )  # fmt: skip
    root = repository(tmp_path, SERVICES, snapshots=False)
    for name in SERVICES:  # stage in the caller's account and region; prod in another account, in us-west-2
        register(ecs, {**example_taskdef(), "family": f"{name}-stage", "cpu": "512", "memory": "1024"})
        register(other_account, {**example_taskdef(), "family": f"{name}-prod", "cpu": "2048", "memory": "4096"})
        edit(root, name, "prod", "tags:", f"base:\n  region: us-west-2\n  roleArn: {role}\ntags:")
    result = invoke("snapshot", "--services", "services", "-o", "snap", cwd=root, env=at_once(4, fault_proxy, aws_env))
    assert result.returncode == 0, result.stderr
    assert len(progress(result.stderr)) == 6
    for name in SERVICES:
        for env, cpu in (("stage", "512"), ("prod", "2048")):
            snapshot = json.loads((root / "snap" / name / f"{env}.json").read_text())
            assert (snapshot["family"], snapshot["cpu"]) == (f"{name}-{env}", cpu)
    assert fault_proxy.operations.count("AssumeRole") == 1  # the role assumed once for the run, by one thread


def test_progress_in_a_log_is_a_line_at_each_tenth_of_the_services(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecs_overlay.cli import _Console

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    described = _Console().described
    for count in range(1, 201):
        described(f"svc-{count:03d}", count, 200)
    lines = sys.stderr.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == [f"{PROGRESS} svc-{count:03d} ({count}/200)" for count in range(20, 201, 20)]


def test_progress_on_a_terminal_is_one_line_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecs_overlay.cli import _Console

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    described = _Console().described
    for count in range(1, 4):
        described(f"svc-{count}", count, 3)
    assert (
        sys.stderr.getvalue()
        == "".join(  # type: ignore[attr-defined]
            f"\r\033[K{PROGRESS} svc-{count} ({count}/3)" for count in range(1, 4)
        )
        + "\n"
    )


def test_an_unusable_concurrency_setting_is_an_aws_configuration_error(
    invoke: Any, tmp_path: Path, ecs: Any, fault_proxy: Any, aws_env: dict[str, str]
) -> None:
    root = live(tmp_path, ecs)
    result = invoke("drift", "--all", "--services", "services", cwd=root, env=at_once(0, fault_proxy, aws_env))
    assert result.returncode == 3
    assert "ECS_OVERLAY_AWS_CONCURRENCY='0' is not a whole number from 1 to 32; fix it or unset it" in result.stderr
    assert fault_proxy.operations == []


def test_offline_services_runs_load_no_botocore_and_start_no_thread(tmp_path: Path) -> None:
    root = repository(tmp_path, SERVICES[:3])
    code = (
        "import sys, threading; from ecs_overlay.cli import cli\n"
        "sys.argv = ['ecs-overlay', 'drift', '--all', '--services', 'services', '--base', 'snapshots']\n"
        "started = []\n"
        "threading.Thread.start = lambda self: started.append(self.name)\n"
        "try:\n    cli(prog_name='ecs-overlay')\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')), file=sys.stderr)\n"
        "print('STARTED', started, file=sys.stderr)"
    )
    process = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert "=== service svc-c" in process.stdout, process.stderr
    assert "LOADED []" in process.stderr and "STARTED []" in process.stderr, process.stderr
