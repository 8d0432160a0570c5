"""The version says which commit the tool was built from (setuptools-scm reads it from git, with the latest release
as the fallback for files without git metadata), and `--version`, SARIF and the wheel's name all say the same."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from .conftest import REPO, clean_environ, copy_checkout, installed_command

README = (REPO / "README.md").read_text(encoding="utf-8")
# The latest release: what a build without git metadata gets (pyproject's [tool.setuptools_scm] fallback_version).
[RELEASE] = re.findall(r'^fallback_version = "(.+)"$', (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.M)
# A release (X.Y.Z, from a tag or the fallback), or a development version naming its commit: X.Y.Z.devN+g<hash>,
# with .d<date> when the working tree had uncommitted changes.
VERSION = re.compile(r"(?P<release>\d+\.\d+\.\d+)(?:\.dev\d+\+g(?P<commit>[0-9a-f]{7,40})(?:\.d\d{8})?)?")


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_version_sarif_and_the_installed_metadata_say_the_same(invoke, project: Path) -> None:
    installed = version("ecs-overlay")
    shown = invoke("--version", cwd=project)
    assert shown.returncode == 0 and shown.stdout == f"ecs-overlay, version {installed}\n"
    sarif = invoke("validate", "--format", "sarif", cwd=project)
    assert json.loads(sarif.stdout)["runs"][0]["tool"]["driver"]["version"] == installed


def test_the_installed_version_names_a_commit_of_this_repository() -> None:
    """What pip installed from this checkout (.ci/run: `pip install -e` in a fresh clone) is a release or names a
    commit this repository has (the one checked out when it was installed)."""
    installed = VERSION.fullmatch(version("ecs-overlay"))
    assert installed, version("ecs-overlay")
    if installed["commit"]:
        assert git("cat-file", "-t", installed["commit"]) == "commit"
        assert git("merge-base", "--is-ancestor", installed["commit"], "HEAD") == ""  # raises when it is not
    else:
        assert installed["release"] == RELEASE or git("tag", "--points-at", "HEAD")


@pytest.mark.e2e
def test_the_wheel_built_from_a_clone_names_its_commit_and_without_git_the_release(tmp_path: Path) -> None:
    """The README's `pip wheel --no-deps -w dist ./ecs-overlay`: from a git clone (as CI and a user have) the wheel's
    version names the clone's commit; from the same files without git metadata, the latest release. Either is the
    `dist/ecs_overlay-*-py3-none-any.whl` the README and the examples install.

    Built with the setuptools and setuptools-scm of this test run (the test extra), which must meet pyproject's
    build-system requires (--check-build-dependencies), instead of an isolated environment installed for each build
    (which only adds the download and install of the same backend, twice)."""
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    command += ["--check-build-dependencies", "-w"]
    subprocess.run(["git", "clone", "-q", str(REPO), str(tmp_path / "ecs-overlay")], check=True, timeout=120)
    subprocess.run([*command, "dist", "./ecs-overlay"], cwd=tmp_path, check=True, capture_output=True, timeout=300)
    [built] = [path.name for path in (tmp_path / "dist").iterdir()]
    name = re.fullmatch(r"ecs_overlay-(?P<version>[^-]+)-py3-none-any\.whl", built)
    assert name, built
    built_version = VERSION.fullmatch(name["version"])
    head = git("rev-parse", "HEAD", cwd=tmp_path / "ecs-overlay")
    assert built_version and built_version["commit"] and head.startswith(built_version["commit"]), (built, head)
    assert "pip install dist/ecs_overlay-*-py3-none-any.whl" in README

    copy_checkout(tmp_path / "exported")  # the same files, no .git
    subprocess.run(
        [*command, "exported-dist", "./exported"], cwd=tmp_path, check=True, capture_output=True, timeout=300
    )
    [exported] = [path.name for path in (tmp_path / "exported-dist").iterdir()]
    assert exported == f"ecs_overlay-{RELEASE}-py3-none-any.whl"


@pytest.mark.e2e
def test_the_quick_start_says_to_activate_the_venv_and_that_puts_ecs_overlay_on_path() -> None:
    """The Quick start installs into .venv/bin; the README's examples then call `ecs-overlay` by name. Its
    activation line, run on this test run's environment, makes that name work from a shell without it on PATH."""
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [activate] = re.findall(r"```sh\n(\. \.venv/bin/activate)\n```", quick_start)
    assert quick_start.index(activate) < quick_start.index("```console\n$ ecs-overlay")
    venv = Path(installed_command()).parent.parent
    line = activate.replace(".venv", shlex.quote(str(venv)), 1)
    env = clean_environ({"PATH": "/usr/bin:/bin"})
    env.pop("VIRTUAL_ENV", None)
    shell = subprocess.run(
        ["bash", "-c", f"{line} && command -v ecs-overlay && ecs-overlay --version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == [
        str(venv / "bin" / "ecs-overlay"),
        f"ecs-overlay, version {version('ecs-overlay')}",
    ]
