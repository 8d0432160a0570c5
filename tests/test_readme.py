"""Every ``console`` example in the README is the real output of the current code, and the quick
start is what .ci/run runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, clean_environ, installed_command

README = (REPO / "README.md").read_text(encoding="utf-8")
CONSOLE_BLOCKS = re.findall(r"```console\n\$ (.+?)\n(.*?)```", README, flags=re.S)


def test_the_readme_has_console_examples() -> None:
    assert len(CONSOLE_BLOCKS) >= 4


@pytest.mark.parametrize(("command", "expected"), CONSOLE_BLOCKS, ids=[c[:60] for c, _ in CONSOLE_BLOCKS])
def test_console_example_is_real_output(command: str, expected: str, tmp_path: Path) -> None:
    for name in ("environments", "examples", "tests"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = str(Path(installed_command()).parent)
    env = clean_environ()
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    process = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert process.stdout + process.stderr == expected


def test_ci_runs_the_readme_test_command() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    quick_start = re.findall(r"```sh\n(python3 -m venv .+?)\n```", section)
    assert len(quick_start) == 2
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start[1] in ci


def test_the_overlay_shown_in_the_readme_is_the_example_file() -> None:
    [shown] = re.findall(r"```yaml\n# environments/prod.yaml\n(.*?)```", README, flags=re.S)
    assert shown == (REPO / "environments" / "prod.yaml").read_text(encoding="utf-8")
