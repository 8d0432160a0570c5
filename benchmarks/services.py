#!/usr/bin/env python3
"""Many services in one process against one process per service, as ratios measured in one run.

    .venv/bin/python benchmarks/services.py [--services 200] [--rounds 3]

Builds a synthetic repository (N services × 4 environments, every service's `_common.yaml`
extending one organisation-wide layer, a snapshot per environment) in a temporary git repository,
commits it, then changes a few services in the working tree. Times, in one run:

* `validate --services DIR --base SNAPDIR` against one `validate --environments-dir DIR/<svc>/environments
  --base SNAPDIR/<svc>` per service, and checks both find the same findings;
* `diff --all --against HEAD --services DIR --base SNAPDIR` against one `diff --all --against HEAD` per
  service, and checks it reports exactly the services the change touched.

Needs git. The machines are shared and noisy: the one-process commands are timed over several rounds
(median) and only the ratios mean anything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "sample-app" / "describe-task-definition.json"
COMMAND = str(Path(sys.executable).parent / "ecs-overlay")
ENVIRONMENTS = ("dev", "qa", "stage", "prod")
TOUCHED = ("svc-003", "svc-042", "svc-150")  # changed in the working tree after the commit
BROKEN = "svc-007"  # one service with a mistake, so that the findings compared are not all empty

ORG_LAYER = """\
# Organisation-wide settings every service extends.
tags:
  cost-centre: platform
  managed-by: ecs-overlay
containerDefinitions:
  log-router:
    memoryReservation: 50
"""


def build(root: Path, count: int) -> tuple[Path, Path]:
    """The repository (services under root/services) and the snapshots (root/snapshots), committed."""
    services = root / "services"
    snapshots = root / "snapshots"
    (services / "_shared").mkdir(parents=True)
    (services / "_shared" / "org.yaml").write_text(ORG_LAYER)
    example = json.loads(EXAMPLE.read_text())
    for number in range(count):
        name = f"svc-{number:03d}"
        environments = services / name / "environments"
        environments.mkdir(parents=True)
        (environments / "_common.yaml").write_text(
            "extends: ../../_shared/org.yaml\n"
            "containerDefinitions:\n  web:\n    environment:\n      PORT: 8080\n"
            f"tags:\n  service: {name}\n"
        )
        for env in ENVIRONMENTS:
            mistake = "memroy: 2048\n" if (name, env) == (BROKEN, "qa") else ""
            (environments / f"{env}.yaml").write_text(
                "extends: _common.yaml\n"
                f"family: {name}-{env}\n{mistake}"
                f"containerDefinitions:\n  web:\n    environment:\n      LOG_LEVEL: info\n      SERVICE: {name}\n"
                f"tags:\n  env: {env}\n"
            )
            document = json.loads(json.dumps(example))
            document["taskDefinition"]["family"] = f"{name}-{env}"
            (snapshots / name).mkdir(parents=True, exist_ok=True)
            (snapshots / name / f"{env}.json").write_text(json.dumps(document))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "services"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "services"], cwd=root, check=True)
    for name in (name for name in TOUCHED if (services / name).is_dir()):
        prod = services / name / "environments" / "prod.yaml"
        prod.write_text(prod.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn"))
    return services, snapshots


def run(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run([COMMAND, *args], cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1, 4) or "Traceback" in result.stderr:
        sys.exit(f"ecs-overlay {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result


def per_service(args: list[str], services: Path, snapshots: Path, root: Path) -> tuple[float, dict[str, Any]]:
    """One process per service: total time, and each service's JSON output."""
    total = 0.0
    outputs: dict[str, Any] = {}
    for directory in sorted(path for path in services.iterdir() if (path / "environments").is_dir()):
        name = directory.name
        service_args = ["--environments-dir", str(directory / "environments"), "--base", str(snapshots / name)]
        elapsed, result = run([*args, *service_args, "--format", "json"], root)
        total += elapsed
        outputs[name] = json.loads(result.stdout) if result.stdout else {"environments": {}}  # failed: see stderr
    return total, outputs


def one_process(args: list[str], services: Path, snapshots: Path, root: Path, rounds: int) -> tuple[float, Any]:
    times = []
    output: Any = None
    for _ in range(rounds):
        elapsed, result = run([*args, "--services", str(services), "--base", str(snapshots), "--format", "json"], root)
        times.append(elapsed)
        output = json.loads(result.stdout)
    return statistics.median(times), output


def same_findings(many: dict[str, Any], each: dict[str, Any]) -> bool:
    """The findings of the one-process run and of the per-service runs, as sets per service."""

    def record(finding: dict[str, Any]) -> str:
        return json.dumps({key: value for key, value in finding.items() if key != "environment"}, sort_keys=True)

    for name, found in each.items():
        environments = many["services"].get(name, {}).get("environments", {})
        together = {record(f) for env in environments.values() for f in env["findings"]}
        if together != {record(f) for f in found}:
            return False
    return True


def touched(output: dict[str, Any]) -> set[str]:
    """Services with at least one change in a diff's JSON (per service: {"environments": ...})."""
    return {
        name for name, document in output.items() if any(env["changes"] for env in document["environments"].values())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the one-process commands (median)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ecs-overlay-services-"))
    try:
        services, snapshots = build(root, options.services)
        rows: list[tuple[str, str]] = []
        checks: list[tuple[str, bool]] = []

        validate_many, many = one_process(["validate"], services, snapshots, root, options.rounds)
        validate_each, each = per_service(["validate"], services, snapshots, root)
        rows += [
            (f"validate --services, {options.services} services × 4 environments, median", f"{validate_many:.2f} s"),
            ("validate, one process per service, total", f"{validate_each:.2f} s"),
            ("one process / per service  (target <= 0.10)", f"{validate_many / validate_each:.3f} x"),
        ]
        checks.append(("validate: same findings", same_findings(many, each)))

        diff = ["diff", "--all", "--against", "HEAD"]
        diff_many, changed = one_process(diff, services, snapshots, root, options.rounds)
        diff_each, each_diff = per_service(diff, services, snapshots, root)
        rows += [
            ("diff --all --against HEAD --services, median", f"{diff_many:.2f} s"),
            ("diff --all --against HEAD, one process per service, total", f"{diff_each:.2f} s"),
            ("one process / per service  (target <= 0.10)", f"{diff_many / diff_each:.3f} x"),
        ]
        reported = set(changed["services"])
        expected = {name for name in TOUCHED if (services / name).is_dir()}
        checks.append((f"diff --services reports exactly {', '.join(sorted(expected))}", reported == expected))
        checks.append(("per-service diffs change the same services", touched(each_diff) == expected))

        width = max(len(label) for label, _ in rows)
        print(f"{'measure':<{width}}  value")
        for label, value in rows:
            print(f"{label:<{width}}  {value:>8}")
        for label, passed in checks:
            print(f"check: {label}: {'yes' if passed else 'NO'}")
        if not all(passed for _, passed in checks):
            sys.exit(1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
