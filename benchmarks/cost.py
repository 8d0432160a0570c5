#!/usr/bin/env python3
"""Bounded cost for hostile input, as ratios and figures measured in one run.

    .venv/bin/python benchmarks/cost.py [--mappings 24000] [--rounds 5]

* 24k port mappings against 24k environment variables in one container: render (merge, schema, every
  ECS rule) on a base holding either, in this process, medians over interleaved rounds. The duplicate-port
  check used to compare each mapping with every earlier one; the target is at most 1.5 times the variables.
* YAML alias amplification: a 100 KiB overlay naming one 83 KiB value a thousand times (85 MB expanded), and
  the classic nested-list "billion laughs" of 100 KiB, each given to `ecs-overlay validate` in a process of
  its own: its wall time (with a small Python wrapper's start-up) and peak RSS (targets: refused, under 1 s
  and under 100 MiB), next to the same command on the example project; and the time `parse_overlay` takes
  to refuse each, in this process.

The machines are shared and noisy: only the ratios, and figures far from their targets, mean anything.
"""

from __future__ import annotations

import argparse
import copy
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
sys.path.insert(0, str(REPO))


def bases(count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The example base with ``count`` port mappings in its first container, and with ``count`` variables."""
    from ecs_overlay import schemas
    from ecs_overlay.base import registerable

    base = registerable(json.loads(EXAMPLE.read_text()), schemas.describe_only_fields())
    ports, variables = copy.deepcopy(base), copy.deepcopy(base)
    ports["containerDefinitions"][0]["portMappings"] = [
        {"containerPort": 10_000 + index, "protocol": "tcp" if index % 2 else "udp"} for index in range(count)
    ]
    variables["containerDefinitions"][0]["environment"] = [
        {"name": f"VAR_{index}", "value": f"value-{index}"} for index in range(count)
    ]
    return ports, variables


def time_render(base: dict[str, Any]) -> float:
    from ecs_overlay.render import render

    started = time.perf_counter()
    render(copy.deepcopy(base), [])
    return time.perf_counter() - started


def billion_laughs(size: int = 100 * 1024) -> str:
    """Nine levels of ten aliases each to the level below: 10^9 strings once expanded."""
    lines = ['family: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"x{level}: &a{level} [" + ", ".join(f"*a{level - 1}" for _ in range(10)) + "]")
    text = "\n".join(lines) + "\ncontainerDefinitions:\n  web:\n    command: *a9\n"
    return text + "#" * (size - len(text) - 1) + "\n"


# Runs the command and prints its peak RSS. A small process of its own: a child forked from this one would
# count this process's memory (the 24k-item bases) as its own until it runs the command.
_PEAK = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_validate(directory: Path) -> tuple[float, float, int, str]:
    """``ecs-overlay validate`` in ``directory``: wall seconds, its own peak RSS in MiB, exit code, and the
    first line it printed."""
    started = time.perf_counter()
    measured = subprocess.run(
        [sys.executable, "-c", _PEAK, COMMAND, "validate"], cwd=directory, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    code, peak = (int(word) for word in measured.stdout.split())
    shown = subprocess.run([COMMAND, "validate"], cwd=directory, capture_output=True, text=True)
    lines = (shown.stderr or shown.stdout).splitlines()
    return elapsed, peak / 1024, code, lines[0] if lines else ""


def refusal(text: str, rounds: int = 5) -> float:
    """The median time ``parse_overlay`` takes to refuse ``text``, in this process."""
    from ecs_overlay.errors import InvalidInputError
    from ecs_overlay.overlay import parse_overlay

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        try:
            parse_overlay(text, "bomb.yaml", {})
        except InvalidInputError:
            times.append(time.perf_counter() - started)
        else:
            raise SystemExit("check failed: the bomb was not refused")
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mappings", type=int, default=24_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    ports, variables = bases(options.mappings)
    time_render(variables)  # imports and schema loading paid before the first timed round
    port_times, variable_times = [], []
    for _ in range(options.rounds):
        variable_times.append(time_render(variables))
        port_times.append(time_render(ports))
    port_median, variable_median = statistics.median(port_times), statistics.median(variable_times)

    rows = [
        (f"render, {options.mappings} environment variables, median", f"{variable_median * 1000:.0f} ms"),
        (f"render, {options.mappings} port mappings, median", f"{port_median * 1000:.0f} ms"),
        ("port mappings / variables  (target <= 1.50)", f"{port_median / variable_median:.2f} x"),
    ]
    with tempfile.TemporaryDirectory() as temporary:
        from tests.test_bounded_cost import scalar_alias_bomb

        root = Path(temporary)
        cases = {
            "the example project (reference)": None,
            "100 KiB file, one value named 1000 times": scalar_alias_bomb(),
            "100 KiB file, nested-list billion laughs": billion_laughs(),
        }
        for label, text in cases.items():
            directory = root / str(len(rows))
            if text is None:
                shutil.copytree(REPO / "environments", directory / "environments")
            else:
                (directory / "environments").mkdir(parents=True)
                (directory / "environments" / "bomb.yaml").write_text(text)
            elapsed, peak, code, first = run_validate(directory)
            rows.append((f"validate, {label}: exit {code}, wall", f"{elapsed * 1000:.0f} ms"))
            rows.append((f"validate, {label}: peak RSS", f"{peak:.0f} MiB"))
            if text is not None:
                rows.append((f"  {first[:90]}", ""))
                rows.append((f"parse_overlay, {label}: refused in, median", f"{refusal(text) * 1000:.1f} ms"))
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
