#!/usr/bin/env python3
"""Benchmarks of ecs-overlay against the shell pipeline it replaces, as ratios measured in one run.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -q . awscli 'moto[server]' \
        && .venv-bench/bin/python benchmarks/run.py

Needs jq and GNU time (Debian: apt-get install jq time) and git. The machines are shared and noisy, so
every figure is a median over several rounds, the commands of a comparison are interleaved round by
round, and only ratios against a reference measured in the same run are reported.

The last comparison runs the previous release (--previous, a git revision of this repository) from
a second virtual environment, .venv-previous, built on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLE = REPO / "examples" / "sample-app" / "describe-task-definition.json"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:9d8e7f6"
JQ_DELETE = (
    ".taskDefinition | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities, "
    ".registeredAt, .registeredBy)"
)
LIBRARIES = "botocore.session, click, yaml, deepmerge, jsonschema"
GNU_TIME = "/usr/bin/time"
PREVIOUS_RELEASE = "a10971b"
PROD_FAMILY = "checkout-api-prod"
PREVIOUS_VENV = REPO / ".venv-previous"


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> int:
        return int(statistics.median(self.peak_kib))


def run_pipeline(stages: Sequence[Sequence[str]], env: dict[str, str], cwd: Path, output: Path) -> tuple[float, int]:
    """Run commands connected by pipes: wall time, and the summed peak RSS of the stages (they run at
    once). GNU time reports each peak: a child's own ru_maxrss would include this driver's pages."""
    started = time.perf_counter()
    processes: list[subprocess.Popen[bytes]] = []
    reports = [cwd / f".peak-{index}" for index in range(len(stages))]
    with open(output, "wb") as sink:
        previous = None
        for index, stage in enumerate(stages):
            last = index == len(stages) - 1
            process = subprocess.Popen(
                [GNU_TIME, "-f", "%M", "-o", str(reports[index]), *stage],
                stdin=previous,
                stdout=sink if last else subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
            )
            if previous is not None:
                previous.close()
            previous = process.stdout
            processes.append(process)
        for process in processes:
            if process.wait() != 0:
                raise SystemExit(f"benchmark command failed: {process.args}")
    elapsed = time.perf_counter() - started
    return elapsed, sum(int(report.read_text().split()[-1]) for report in reports)


def measure(commands: dict[str, Callable[[], tuple[float, int]]], rounds: int) -> dict[str, Sample]:
    samples = {name: Sample() for name in commands}
    for command in commands.values():
        command()  # warm the page cache and the interpreter's bytecode cache
    for _ in range(rounds):
        for name, command in commands.items():
            seconds, peak = command()
            samples[name].seconds.append(seconds)
            samples[name].peak_kib.append(peak)
    return samples


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's standalone server in its own process, so that this driver stays small (see peak RSS)."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
            return server, endpoint
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("moto's server did not start")


def register_example(endpoint: str) -> None:
    import botocore.session

    from ecs_overlay import schemas
    from ecs_overlay.base import registerable

    taskdef = registerable(json.loads(EXAMPLE.read_text()), schemas.describe_only_fields())
    client = botocore.session.get_session().create_client(
        "ecs", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    client.register_task_definition(**taskdef)
    # render and register read prod's own family (environments/prod.yaml's `family:`), as a real setup does.
    client.register_task_definition(**{**taskdef, "family": PROD_FAMILY})


def command_line(project: Path, env: dict[str, str], *stages: Sequence[str]) -> Callable[[], tuple[float, int]]:
    return lambda: run_pipeline(stages, env, project, project / "out.json")


def live_and_offline(rounds: int) -> list[tuple[str, float, str]]:
    aws = shutil.which("aws", path=f"{BIN}:{os.environ.get('PATH', '')}")
    jq = shutil.which("jq")
    if aws is None or jq is None or not Path(GNU_TIME).exists():
        raise SystemExit("needs the AWS CLI (pip install awscli), jq and GNU time (apt-get install jq time)")
    server, endpoint = start_moto()
    try:
        register_example(endpoint)
        project = Path(tempfile.mkdtemp(prefix="ecs-overlay-bench-"))
        shutil.copytree(REPO / "environments", project / "environments")
        shutil.copy(EXAMPLE, project / "base.json")
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        python = sys.executable
        tool = str(BIN / "ecs-overlay")
        live = measure(
            {
                "jq pipeline": command_line(
                    project,
                    env,
                    [aws, "ecs", "describe-task-definition", "--task-definition", "checkout-api", "--include", "TAGS"],
                    [jq, JQ_DELETE],
                    [jq, "--arg", "image", IMAGE, ".containerDefinitions[].image = $image"],
                ),
                # The libraries render needs, used the plain way: one botocore client, one describe.
                "floor": command_line(
                    project,
                    env,
                    [
                        python,
                        "-c",
                        f"import {LIBRARIES}\n"
                        "botocore.session.get_session().create_client('ecs').describe_task_definition("
                        "taskDefinition='checkout-api', include=['TAGS'])",
                    ],
                ),
                # --image-arch as the example buildspec sets it (IMAGE_ARCH); without it, render asks docker.
                "render (live)": command_line(
                    project,
                    env,
                    [tool, "render", "--env", "prod", "--image", IMAGE, "--image-arch", "ARM64", "-o", "-"],
                ),
                # Each round registers one more revision in moto; describe reads the latest, which is the same.
                "register": command_line(
                    project,
                    env,
                    [tool, "register", "--env", "prod", "--image", IMAGE, "--image-arch", "ARM64"],
                ),
            },
            rounds,
        )
        offline = measure(
            {
                "import floor": command_line(project, env, [python, "-c", "import click, yaml, deepmerge, jsonschema"]),
                "render (offline)": command_line(
                    project,
                    env,
                    [
                        tool,
                        "render",
                        "--env",
                        "prod",
                        "--base",
                        "base.json",
                        "--image",
                        IMAGE,
                        "--image-arch",
                        "ARM64",
                        "-o",
                        "-",
                    ],
                ),
            },
            rounds,
        )
    finally:
        server.terminate()
        server.wait()
    jq_time, floor = live["jq pipeline"].median, live["floor"].median
    render_live = live["render (live)"]
    rows = [
        ("jq pipeline (aws + jq + jq), median", jq_time * 1000, "ms"),
        ("floor (python: import 5 libraries, botocore describe once), median", floor * 1000, "ms"),
        ("render, live base, median", render_live.median * 1000, "ms"),
        ("register, live base, median", live["register"].median * 1000, "ms"),
        ("floor / jq pipeline", floor / jq_time, "x"),
        ("render live / jq pipeline  (target <= 0.75)", render_live.median / jq_time, "x"),
        ("render live / floor        (target <= 1.10)", render_live.median / floor, "x"),
        ("register / render live     (target <= 1.15)", live["register"].median / render_live.median, "x"),
        ("import floor (click, yaml, deepmerge, jsonschema), median", offline["import floor"].median * 1000, "ms"),
        ("render, --base file, median", offline["render (offline)"].median * 1000, "ms"),
        (
            "render offline / import floor  (target <= 1.15)",
            offline["render (offline)"].median / offline["import floor"].median,
            "x",
        ),
        ("peak RSS, render live", render_live.peak / 1024, "MiB"),
        ("peak RSS, jq pipeline (sum of its 3 processes)", live["jq pipeline"].peak / 1024, "MiB"),
        ("peak RSS render / jq pipeline  (target <= 1.00)", render_live.peak / live["jq pipeline"].peak, "x"),
    ]
    return rows


def previous_release(revision: str) -> Path:
    """The ``ecs-overlay`` command of ``revision``, installed (once) in its own virtual environment."""
    command = PREVIOUS_VENV / "bin" / "ecs-overlay"
    stamp = PREVIOUS_VENV / "revision"
    if command.exists() and stamp.exists() and stamp.read_text() == revision:
        return command
    print(f"building {PREVIOUS_VENV.name} with ecs-overlay at {revision} (once)", file=sys.stderr)
    source = Path(tempfile.mkdtemp(prefix="ecs-overlay-previous-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PREVIOUS_VENV)], check=True)
    subprocess.run([str(PREVIOUS_VENV / "bin" / "pip"), "install", "-q", str(source)], check=True)
    stamp.write_text(revision)
    shutil.rmtree(source)
    return command


def validate_many(rounds: int, revision: str, environments: int = 100) -> list[tuple[str, float, str]]:
    """What a pull-request check runs: ``validate`` of every environment of a directory on one base
    (render + JSON Schema + ECS's rules for each), this code against the previous release's."""
    previous = previous_release(revision)
    project = Path(tempfile.mkdtemp(prefix="ecs-overlay-bench-validate-"))
    directory = project / "environments"
    directory.mkdir()
    shutil.copy(REPO / "environments" / "_common.yaml", directory)
    shutil.copy(EXAMPLE, project / "base.json")
    texts = {kind: (REPO / "environments" / f"{kind}.yaml").read_text() for kind in ("prod", "stage")}
    # The `base:` section (where the base lives) is newer than the previous release, and --base makes it moot.
    texts = {kind: re.sub(r"(?m)^base:\n(?:[ \t]+.*\n)*", "", text) for kind, text in texts.items()}
    for number in range(environments):
        kind = ["prod", "stage"][number % 2]
        text = texts[kind].replace(f"env: {kind}", f"env: {kind}-{number}")
        (directory / f"{kind}-{number:03d}.yaml").write_text(text)
    env = {**os.environ, "CODEBUILD_RESOLVED_SOURCE_VERSION": "9d8e7f6"}
    arguments = ["validate", "--base", "base.json"]
    samples = measure(
        {
            "this code": command_line(project, env, [str(BIN / "ecs-overlay"), *arguments]),
            "previous": command_line(project, env, [str(previous), *arguments]),
        },
        rounds,
    )
    current, before = samples["this code"].median, samples["previous"].median
    return [
        (f"validate, {environments} environments on one base, median", current * 1000, "ms"),
        (f"same with the previous release ({revision}), median", before * 1000, "ms"),
        ("validate throughput / previous release's  (higher is better)", before / current, "x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11, help="rounds per comparison (median reported)")
    parser.add_argument("--only", choices=["commands", "validate"], help="run one part")
    parser.add_argument(
        "--previous", default=PREVIOUS_RELEASE, metavar="REVISION", help="the previous release to compare validate with"
    )
    arguments = parser.parse_args()
    import ecs_overlay

    if "site-packages" not in str(Path(ecs_overlay.__file__).resolve()):
        print(
            "warning: ecs_overlay is an editable install; its import hook slows every command down. "
            "Measure a regular install (see the command at the top of this file).",
            file=sys.stderr,
        )
    rows: list[tuple[str, float, str]] = []
    if arguments.only in (None, "commands"):
        rows += live_and_offline(arguments.rounds)
    if arguments.only in (None, "validate"):
        rows += validate_many(arguments.rounds, arguments.previous)
    width = max(len(label) for label, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':>10}")
    for label, value, unit in rows:
        shown = f"{value:.2f}" if unit == "x" else f"{value:.0f}" if value >= 10 else f"{value:.1f}"
        print(f"{label:<{width}}  {shown:>10} {unit}")


if __name__ == "__main__":
    main()
