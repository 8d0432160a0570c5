"""Golden cases: ``tests/cases/<name>/case.json`` says how to run the command; ``expected/`` holds
what it must print. The tests run it in-process; ``scripts/regenerate_golden.py`` rewrites the
expectations from the installed command, and reviewers read the diff."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .conftest import Run

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


def run_case(name: str, run: Callable[..., Run]) -> Outcome:
    """Run a case with ``run`` (tests.conftest's ``run_in_process`` or ``run_installed``)."""
    directory = CASES / name
    case = json.loads((directory / "case.json").read_text(encoding="utf-8"))
    result = run(*case["args"], cwd=directory, env=case["env"])
    return Outcome(case["args"][0], result.returncode, result.stdout, result.stderr)


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
