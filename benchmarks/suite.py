#!/usr/bin/env python3
"""The test suite's wall time against a reference commit's, each run the way its own `.ci/run` runs it, as a
ratio measured in one run.

    python3 benchmarks/suite.py [--reference a10971b] [--rounds 3] [--keep DIR] [--warm]

Clones this repository twice (the reference commit, and HEAD or `--revision`) into a scratch folder, installs
each as its `.ci/run` does (its own venv, its own constraints), then times the pytest command of each `.ci/run`
(the last link of its chain, the lint and type checks left out) in alternating rounds, with CI=true and no
standard input, as CI runs them. Prints each round's pytest wall time, the medians and their ratio. Target:
at most 0.5 × the reference (issue 20; a10971b is release 0.1.0, 294 tests, run without xdist).

The machines are shared and noisy: run it on a quiet machine, read the ratio as a band, and nothing else of the
machine's should be running. The clones take about 2 minutes to install.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def clone(revision: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO), str(into)], check=True)
    subprocess.run(["git", "checkout", "-q", revision], cwd=into, check=True)
    return into


def ci_chain(checkout: Path) -> list[str]:
    """The commands `.ci/run` chains with `&&`, in order."""
    lines = (checkout / ".ci" / "run").read_text().splitlines()
    [line] = [line for line in lines if "pytest" in line and not line.lstrip().startswith("#")]
    return [part.strip() for part in line.split("&&")]


def install(checkout: Path, env: dict[str, str]) -> None:
    """Everything `.ci/run` does before its checks: the venv and the install."""
    for command in ci_chain(checkout):
        if "pip install" in command or command.startswith("python3 -m venv"):
            subprocess.run(command, shell=True, cwd=checkout, env=env, check=True, stdin=subprocess.DEVNULL)


def timed_pytest(checkout: Path, env: dict[str, str], warm: bool) -> tuple[float, str]:
    """One run of the pytest command of `.ci/run`: its wall time, and pytest's closing line.

    As in CI's fresh clone, the checkout first loses what earlier runs left in it (bytecode, pytest's and
    hypothesis's caches) unless ``warm``, and each run has a temporary folder of its own: pytest
    deletes old runs' folders under the shared one as it exits, and that would charge one commit's leftovers to
    the other's time."""
    [command] = [command for command in ci_chain(checkout) if "pytest" in command]
    if not warm:
        # The venv and the install's metadata are what `.ci/run` made before its pytest; all else goes.
        subprocess.run(["git", "clean", "-xdfq", "-e", ".venv", "-e", "*.egg-info"], cwd=checkout, check=True)
    with tempfile.TemporaryDirectory(prefix="suite-tmp-") as scratch:
        started = time.perf_counter()
        process = subprocess.run(
            shlex.split(command),
            cwd=checkout,
            env={**env, "TMPDIR": scratch},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    closing = next((line for line in reversed(process.stdout.splitlines()) if re.search(r"\d+ passed", line)), "")
    if process.returncode != 0:
        sys.exit(f"{checkout.name}: pytest exited {process.returncode}\n{process.stdout[-3000:]}{process.stderr}")
    return elapsed, closing.strip("= ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default="a10971b", help="the commit to compare with (default: a10971b)")
    parser.add_argument("--revision", default="HEAD", help="the commit to measure (default: HEAD)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: 3)")
    parser.add_argument("--keep", type=Path, help="clone into this folder and leave the clones there")
    parser.add_argument("--warm", action="store_true", help="keep caches between runs (a developer's)")
    options = parser.parse_args()

    scratch = options.keep or Path(tempfile.mkdtemp(prefix="ecs-overlay-suite-"))
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CI": "true"}
    env.pop("VIRTUAL_ENV", None)
    checkouts = {}
    for name, revision in (("reference", options.reference), ("measured", options.revision)):
        resolved = subprocess.run(
            ["git", "rev-parse", "--short", revision], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        checkout = scratch / f"{name}-{resolved}"
        if not checkout.exists():
            clone(resolved, checkout)
        if not (checkout / ".venv" / "bin" / "python").exists():
            install(checkout, env)
        checkouts[name] = checkout

    times: dict[str, list[float]] = {name: [] for name in checkouts}
    for round_number in range(1, options.rounds + 1):
        order = list(checkouts) if round_number % 2 else list(reversed(checkouts))
        for name in order:
            elapsed, closing = timed_pytest(checkouts[name], env, options.warm)
            times[name].append(elapsed)
            print(f"round {round_number}  {checkouts[name].name:<22} {elapsed:6.1f} s  {closing}", flush=True)

    reference, measured = (statistics.median(times[name]) for name in ("reference", "measured"))
    print(f"median  {checkouts['reference'].name:<22} {reference:6.1f} s")
    print(f"median  {checkouts['measured'].name:<22} {measured:6.1f} s")
    print(f"measured / reference  (target <= 0.50)   {measured / reference:6.2f} x")
    if options.keep is None:
        print(f"clones left in {scratch}", file=sys.stderr)


if __name__ == "__main__":
    main()
