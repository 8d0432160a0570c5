#!/usr/bin/env python3
"""Rewrite tests/cases/*/expected/ from the installed ecs-overlay; review the diff before committing.

Usage: python scripts/regenerate_golden.py [CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import run_installed  # noqa: E402
from tests.golden import case_names, run_case, write_expected  # noqa: E402


def main(names: list[str]) -> None:
    for name in names or case_names():
        outcome = run_case(name, run_installed)
        write_expected(name, outcome)
        print(f"{name}: exit {outcome.exit_code}")


if __name__ == "__main__":
    main(sys.argv[1:])
