#!/usr/bin/env python3
"""Re-run every ``console`` example in README.md and write its real output back; review the diff.

Runs in a temporary copy of the example files, with the installed ecs-overlay on PATH.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import clean_environ, installed_command  # noqa: E402


def run(command: str) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        for name in ("environments", "examples", "tests"):
            shutil.copytree(REPO / name, Path(scratch) / name, ignore=shutil.ignore_patterns("__pycache__"))
        env = clean_environ()
        env["PATH"] = f"{Path(installed_command()).parent}:{env.get('PATH', '')}"
        process = subprocess.run(
            ["bash", "-c", command], cwd=scratch, env=env, capture_output=True, text=True, timeout=60
        )
        return process.stdout + process.stderr


def main() -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    updated = re.sub(
        r"```console\n\$ (.+?)\n(.*?)```",
        lambda match: f"```console\n$ {match.group(1)}\n{run(match.group(1))}```",
        text,
        flags=re.S,
    )
    readme.write_text(updated, encoding="utf-8")
    print("README.md updated" if updated != text else "README.md already up to date")


if __name__ == "__main__":
    main()
