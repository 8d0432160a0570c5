#!/usr/bin/env python3
"""Benchmarks of ecs-overlay against the shell pipeline it replaces, as ratios measured in one run.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -q . awscli 'moto[server]' \
        && .venv-bench/bin/python benchmarks/run.py

Needs jq and GNU time (Debian: apt-get install jq time). The machines are shared and noisy, so every
figure is a median over several rounds, the commands of a comparison are interleaved round by
round, and only ratios against a reference measured in the same run are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLE = REPO / "examples" / "sample-app" / "describe-task-definition.json"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:9d8e7f6"
JQ_DELETE = (
    ".taskDefinition | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities, "
    ".registeredAt, .registeredBy)"
)
LIBRARIES = "boto3, click, yaml, deepmerge, jsonschema"
GNU_TIME = "/usr/bin/time"


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
    import boto3

    from ecs_overlay import schemas
    from ecs_overlay.source import registerable

    taskdef = registerable(json.loads(EXAMPLE.read_text()), schemas.describe_only_fields())
    client = boto3.client(
        "ecs", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    client.register_task_definition(**taskdef)


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
                "floor": command_line(
                    project,
                    env,
                    [
                        python,
                        "-c",
                        f"import {LIBRARIES}\n"
                        "boto3.client('ecs').describe_task_definition("
                        "taskDefinition='checkout-api', include=['TAGS'])",
                    ],
                ),
                # --image-arch as the example buildspec sets it (IMAGE_ARCH); without it, render asks docker.
                "render (live)": command_line(
                    project,
                    env,
                    [tool, "render", "--env", "prod", "--image", IMAGE, "--image-arch", "ARM64", "-o", "-"],
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
        ("floor (python: import 5 libraries, describe once), median", floor * 1000, "ms"),
        ("render, live base, median", render_live.median * 1000, "ms"),
        ("floor / jq pipeline", floor / jq_time, "x"),
        ("render live / jq pipeline  (target <= 0.75)", render_live.median / jq_time, "x"),
        ("render live / floor        (target <= 1.10)", render_live.median / floor, "x"),
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


def bulk(rounds: int, environments: int = 10, services: int = 100) -> list[tuple[str, float, str]]:
    """In-process render + full validation of environment x service combinations, against validation
    alone (JSON Schema and ECS rules) of the same rendered documents.

    Each environment's overlay layers are loaded once, as a pull-request check loads each environment
    once, and rendered onto every service's base; a second figure parses the overlays for every
    combination, for comparison.
    """
    from ecs_overlay import ImageRequest, parse_overlay, render, schemas
    from ecs_overlay.provenance import Provenance
    from ecs_overlay.rules import RuleContext, check
    from ecs_overlay.source import registerable
    from ecs_overlay.validate import schema_findings

    document = json.loads(EXAMPLE.read_text())
    template = registerable(document, schemas.describe_only_fields())
    texts = {path.stem: path.read_text() for path in sorted((REPO / "environments").glob("*.yaml"))}
    environ = {"CODEBUILD_RESOLVED_SOURCE_VERSION": "9d8e7f6"}
    overlay_texts = []
    for number in range(environments):
        kind = ["prod", "stage"][number % 2]
        own = texts[kind].replace("extends: _common.yaml", "").replace(f"env: {kind}", f"env: {kind}-{number}")
        overlay_texts.append([texts["_common"], own])
    bases = []
    for number in range(services):
        base = json.loads(json.dumps(template))
        base["family"] = f"service-{number}"
        base["containerDefinitions"][0]["image"] = f"{IMAGE.rsplit(':', 1)[0]}-{number}:1"
        bases.append(base)
    combinations = environments * services

    def parse(layers: list[str]) -> list[Any]:
        return [parse_overlay(text, f"layer{index}.yaml", environ) for index, text in enumerate(layers)]

    images = [[ImageRequest.parse(f"web={IMAGE}-{number}")] for number in range(services)]

    def render_all(parse_every_time: bool) -> list[dict[str, Any]]:
        results = []
        parsed = [parse(layers) for layers in overlay_texts]
        for environment, layers in enumerate(overlay_texts):
            for number, base in enumerate(bases):
                overlays = parse(layers) if parse_every_time else parsed[environment]
                result = render(base, overlays, images[number])
                results.append(result.taskdef)
        return results

    rendered = render_all(False)
    assert all(render(bases[0], parse(layers), images[0]).ok for layers in overlay_texts)

    def validate_all() -> None:
        for taskdef in rendered:
            provenance = Provenance()
            schema_findings(taskdef, provenance)
            check(RuleContext(taskdef, provenance))

    timings: dict[str, list[float]] = {"render": [], "render, parsing": [], "validate": []}
    actions: dict[str, Callable[[], object]] = {
        "render": lambda: render_all(False),
        "render, parsing": lambda: render_all(True),
        "validate": validate_all,
    }
    for _ in range(rounds):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            timings[name].append(time.perf_counter() - started)
    rate = {name: combinations / statistics.median(values) for name, values in timings.items()}
    label = f"{environments} environments x {services} services"
    return [
        (f"bulk: render + validate, {label}", rate["render"], "per s"),
        ("bulk: validation alone, same documents", rate["validate"], "per s"),
        ("bulk render throughput / validation-only  (target >= 0.80)", rate["render"] / rate["validate"], "x"),
        ("bulk: render + validate, overlays parsed per combination", rate["render, parsing"], "per s"),
        ("bulk with per-combination parsing / validation-only", rate["render, parsing"] / rate["validate"], "x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="rounds per comparison (median reported)")
    parser.add_argument("--only", choices=["commands", "bulk"], help="run one part")
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
    if arguments.only in (None, "bulk"):
        rows += bulk(max(5, arguments.rounds))
    width = max(len(label) for label, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':>10}")
    for label, value, unit in rows:
        shown = f"{value:.2f}" if unit == "x" else f"{value:.0f}" if value >= 10 else f"{value:.1f}"
        print(f"{label:<{width}}  {shown:>10} {unit}")


if __name__ == "__main__":
    main()
