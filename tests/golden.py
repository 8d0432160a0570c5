"""Golden cases: ``tests/cases/<name>/case.json`` says how to run the installed command;
``expected/`` holds what it must print. ``scripts/regenerate_golden.py`` rewrites expectations;
reviewers read the diff."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

CASES = Path(__file__).resolve().parent / "cases"


@dataclass
class Outcome:
    command: str
    exit_code: int
    stdout: str
    stderr: str

    def files(self) -> dict[str, str]:
        files = {"exit_code": f"{self.exit_code}\n", "stderr.txt": self.stderr}
        if self.stdout:
            # A render's standard output is the task definition; other JSON and text keep their kind.
            if self.command == "render":
                name = "taskdef.json"
            else:
                name = "stdout.json" if self.stdout.startswith(("{", "[")) else "stdout.txt"
            files[name] = self.stdout
        return files


def case_names() -> list[str]:
    return sorted(path.parent.name for path in CASES.glob("*/case.json"))


def run_case(name: str, command: str, environ: dict[str, str]) -> Outcome:
    directory = CASES / name
    case = json.loads((directory / "case.json").read_text(encoding="utf-8"))
    process = subprocess.run(
        [command, *case["args"]],
        cwd=directory,
        env={**environ, **case["env"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Outcome(case["args"][0], process.returncode, process.stdout, process.stderr)


def expected_files(name: str) -> dict[str, str]:
    directory = CASES / name / "expected"
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.iterdir())}


def write_expected(name: str, outcome: Outcome) -> None:
    directory = CASES / name / "expected"
    directory.mkdir(exist_ok=True)
    for stale in directory.iterdir():
        stale.unlink()
    for file_name, text in outcome.files().items():
        (directory / file_name).write_text(text, encoding="utf-8")
