"""Golden-file cases, run in-process (see tests/golden.py); two of them also through the installed
command, which must print the same."""

from __future__ import annotations

import pytest

from .conftest import run_in_process, run_installed
from .golden import case_names, expected_files, run_case


@pytest.mark.parametrize("name", case_names())
def test_golden_case(name: str) -> None:
    outcome = run_case(name, run_in_process)
    assert outcome.files() == expected_files(name), (
        f"case {name} changed; if that is intended, run scripts/regenerate_golden.py and review the diff"
    )


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["example-stage", "authoring-errors", "diff-text"])
def test_the_installed_command_prints_what_the_in_process_run_prints(name: str) -> None:
    assert run_case(name, run_installed) == run_case(name, run_in_process)


def test_there_are_golden_cases() -> None:
    assert len(case_names()) >= 5
