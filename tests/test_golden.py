"""Golden-file cases, run in-process (see tests/golden.py)."""

from __future__ import annotations

import pytest

from .conftest import run_in_process
from .golden import case_names, expected_files, run_case


@pytest.mark.parametrize("name", case_names())
def test_golden_case(name: str) -> None:
    outcome = run_case(name, run_in_process)
    assert outcome.files() == expected_files(name), (
        f"case {name} changed; if that is intended, run scripts/regenerate_golden.py and review the diff"
    )


def test_there_are_golden_cases() -> None:
    assert len(case_names()) >= 5
