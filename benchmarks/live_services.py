#!/usr/bin/env python3
"""`--services` against a slow live endpoint: bases described ahead, several at a time, against one after
another, as a ratio measured in one run.

    .venv/bin/python benchmarks/live_services.py [--services 200] [--latency 0.1] [--workers N]

Builds a synthetic repository (N services × 4 environments, each environment's `base:` an ECS service of its
own) and serves ECS on 127.0.0.1 from this process: DescribeServices and DescribeTaskDefinition answered
after `--latency` seconds each, as a distant endpoint would (two calls per environment). Times
`drift --all --services DIR --format json` as a process of its own, once with ECS_OVERLAY_AWS_CONCURRENCY=1
(the serial reference: each base described when the run comes to it) and once as it runs by default (or
with `--workers N`), and checks that both print the same report and make the same calls, and how many
calls the endpoint answered at once (at most the worker count). Target: under 0.25 × the serial time.

The machines are shared and noisy: only the ratio, and figures far from their target, mean anything.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-app" / "describe-task-definition.json"
COMMAND = str(Path(sys.executable).parent / "ecs-overlay")
ENVIRONMENTS = ("dev", "qa", "stage", "prod")
REGION = "eu-west-1"
ACCOUNT = "123456789012"


class SlowEcs:
    """ECS's two read calls a base needs, each answered after ``latency`` seconds; counts calls and the
    most answered at once."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self.most_at_once = 0
        self._answering = 0
        self._lock = threading.Lock()
        example = json.loads(EXAMPLE.read_text())
        ecs = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its pooled connections

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                with ecs._lock:
                    ecs.calls[operation] += 1
                    ecs._answering += 1
                    ecs.most_at_once = max(ecs.most_at_once, ecs._answering)
                try:
                    time.sleep(ecs.latency)
                    status, body = ecs.answer(operation, request, example)
                finally:
                    with ecs._lock:
                        ecs._answering -= 1
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def answer(operation: str, request: dict[str, Any], example: dict[str, Any]) -> tuple[int, Any]:
        if operation == "DescribeServices":
            name = request["services"][0]
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}:7"
            service = {"serviceName": name, "status": "ACTIVE", "taskDefinition": arn}
            return 200, {"services": [service], "failures": []}
        if operation == "DescribeTaskDefinition":
            family = request["taskDefinition"].rsplit("/", 1)[-1].split(":")[0]
            document = json.loads(json.dumps(example))
            document["taskDefinition"]["family"] = family
            document["taskDefinition"]["taskDefinitionArn"] = request["taskDefinition"]
            return 200, document
        return 400, {"__type": "InvalidAction", "message": f"{operation} is not served here"}

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.most_at_once = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def build(root: Path, count: int) -> Path:
    services = root / "services"
    for number in range(count):
        name = f"svc-{number:03d}"
        environments = services / name / "environments"
        environments.mkdir(parents=True)
        (environments / "_common.yaml").write_text(
            f"containerDefinitions:\n  web:\n    environment:\n      SERVICE: {name}\ntags:\n  service: {name}\n"
        )
        for env in ENVIRONMENTS:
            (environments / f"{env}.yaml").write_text(
                f"extends: _common.yaml\nbase:\n  cluster: main\n  service: {name}-{env}\n"
                f"containerDefinitions:\n  web:\n    environment:\n      LOG_LEVEL: info\ntags:\n  env: {env}\n"
            )
    return services


def timed(services: Path, endpoint: str, workers: str | None) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "ECS_OVERLAY_AWS_CONCURRENCY"
    }
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    if workers is not None:
        env["ECS_OVERLAY_AWS_CONCURRENCY"] = workers
    args = [COMMAND, "drift", "--all", "--services", str(services), "--format", "json"]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=services.parent, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 4) or "Traceback" in result.stderr:
        sys.exit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument("--workers", help="ECS_OVERLAY_AWS_CONCURRENCY for the concurrent run (default: unset)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ecs-overlay-live-services-"))
    ecs = SlowEcs(options.latency)
    try:
        services = build(root, options.services)
        serial, serial_result = timed(services, ecs.url, "1")
        serial_calls, serial_most = dict(ecs.calls), ecs.most_at_once
        ecs.reset()
        ahead, ahead_result = timed(services, ecs.url, options.workers)
        calls = sum(serial_calls.values())
        environments = options.services * len(ENVIRONMENTS)
        rows = [
            (f"drift --all --services, {options.services} services × 4 environments", ""),
            (f"AWS calls per run ({options.latency:g} s each)", f"{calls}"),
            ("one after another (ECS_OVERLAY_AWS_CONCURRENCY=1)", f"{serial:.2f} s"),
            (f"described ahead ({options.workers or 'default'} at a time)", f"{ahead:.2f} s"),
            ("ahead / one after another  (target < 0.25)", f"{ahead / serial:.3f} x"),
            ("most calls answered at once: one after another", f"{serial_most}"),
            ("most calls answered at once: described ahead", f"{ecs.most_at_once}"),
        ]
        checks = [
            (
                "same report (stdout) and exit code",
                (ahead_result.returncode, ahead_result.stdout) == (serial_result.returncode, serial_result.stdout),
            ),
            (f"every environment reported ({environments})", _environments(ahead_result.stdout) == environments),
            ("same calls, each base described once", dict(ecs.calls) == serial_calls and calls == 2 * environments),
            ("calls made at once: 1, then more than 1", serial_most == 1 and ecs.most_at_once > 1),
        ]
        width = max(len(label) for label, _ in rows)
        print(f"{'measure':<{width}}  value")
        for label, value in rows:
            print(f"{label:<{width}}  {value:>8}")
        for label, passed in checks:
            print(f"check: {label}: {'yes' if passed else 'NO'}")
        if not all(passed for _, passed in checks):
            sys.exit(1)
    finally:
        ecs.close()
        shutil.rmtree(root, ignore_errors=True)


def _environments(stdout: str) -> int:
    document = json.loads(stdout)
    return sum(len(service["environments"]) for service in document["services"].values())


if __name__ == "__main__":
    main()
