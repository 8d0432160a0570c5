"""Every ``console`` example in the README is the real output of the current code (run in-process
when it is one ``[cd DIR &&] ecs-overlay ...`` command, through bash otherwise), the quick start
works with the installed command, and its test command is what .ci/run runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from . import readme_verify
from .conftest import REPO, clean_environ, installed_command, run_in_process

README = (REPO / "README.md").read_text(encoding="utf-8")
CONSOLE_BLOCKS = re.findall(r"```console\n\$ (.+?)\n(.*?)```", README, flags=re.S)
# One command, optionally after a cd: nothing a shell would expand, redirect or chain.
ONE_COMMAND = re.compile(r"(?:cd ([^\s|;&<>$`*?(){}~]+) && )?ecs-overlay((?: [^|;&<>$`*?(){}~]+)?)")


def test_the_readme_has_console_examples() -> None:
    assert len(CONSOLE_BLOCKS) >= 4


@pytest.mark.parametrize(("command", "expected"), CONSOLE_BLOCKS, ids=[c[:60] for c, _ in CONSOLE_BLOCKS])
def test_console_example_is_real_output(
    command: str, expected: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The folders the README's commands use; the tests' own (400 files) only for the examples that name them.
    for name in ("environments", "examples", "tests") if "tests/" in command else ("environments", "examples"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    one_command = ONE_COMMAND.fullmatch(command)
    if one_command:
        directory, args = one_command.groups()
        result = run_in_process(*shlex.split(args), cwd=tmp_path / (directory or "."))
        assert result.stdout + result.stderr == expected
        return
    bin_dir = str(Path(installed_command()).parent)
    env = clean_environ()
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    if command.startswith("python3 tests/readme_verify.py "):  # on this worker's moto server, not one more
        env[readme_verify.STARTED_SERVER] = request.getfixturevalue("moto_endpoint")
    process = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert process.stdout + process.stderr == expected


QUICK_START_SECTION = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
QUICK_START = re.findall(r"```sh\n(python3 -m venv .+?)\n```", QUICK_START_SECTION)


@pytest.mark.e2e
def test_the_quick_start_render_works_with_the_installed_command(tmp_path: Path) -> None:
    install, render = QUICK_START[0].rsplit(" && ", 1)
    assert install == "python3 -m venv .venv && .venv/bin/pip install -q ."  # what the README installs
    assert render.startswith(".venv/bin/ecs-overlay render ")
    for name in ("environments", "examples"):
        shutil.copytree(REPO / name, tmp_path / name)
    command = render.replace(".venv/bin/ecs-overlay", shlex.quote(installed_command()), 1)
    process = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=clean_environ(), capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 0, process.stderr
    containers = json.loads(process.stdout)["containerDefinitions"]
    assert [c["name"] for c in containers] == ["web", "log-router"]
    assert containers[0]["image"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:9d8e7f6"


def test_ci_runs_the_readme_test_command() -> None:
    quick_start = QUICK_START
    assert len(quick_start) == 2
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start[1] in ci


def test_the_overlay_shown_in_the_readme_is_the_example_file() -> None:
    [shown] = re.findall(r"```yaml\n# environments/prod.yaml\n(.*?)```", README, flags=re.S)
    assert shown == (REPO / "environments" / "prod.yaml").read_text(encoding="utf-8")


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python API example runs as written from a copy of the repository's root; its own
    asserts check the rendered image and the variable the inline overlay adds."""
    [example] = PYTHON_BLOCKS
    for name in ("environments", "examples"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md python example", "exec"), namespace)
    assert namespace["result"].ok  # type: ignore[attr-defined]


def test_install_instructions_install_the_vendored_wheel() -> None:
    """The README and the example buildspec install the one wheel built from a checkout, whatever commit's version
    it has (nothing installs `ecs-overlay` from an index that does not serve it), and the changelog has the release
    a build without git metadata gets."""
    import tomllib

    release = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools_scm"]
    buildspec = (REPO / "examples" / "codebuild" / "buildspec.yml").read_text(encoding="utf-8")
    assert "pip install --quiet tools/ecs_overlay-*-py3-none-any.whl" in buildspec
    assert "pip install dist/ecs_overlay-*-py3-none-any.whl" in README
    assert not re.search(r"pip install (--quiet |-q )?ecs-overlay\b", README + buildspec)
    assert f"## [{release['fallback_version']}]" in (REPO / "CHANGELOG.md").read_text(encoding="utf-8")


PIP_INSTALL = re.compile(r"pip install ([^#;&|\n]+)")
ACTION_REF = re.compile(r"uses: [\w.-]+/ecs-overlay@(\S+)")
OPTIONS_WITH_A_VALUE = {"-c", "--constraint", "-r", "--requirement"}


def installed_sources(text: str) -> list[str]:
    """What each ``pip install`` line of ``text`` installs: its arguments less the options."""
    sources = []
    for arguments in PIP_INSTALL.findall(text):
        words = iter(shlex.split(arguments))
        for word in words:
            if word in OPTIONS_WITH_A_VALUE:
                next(words)
            elif not word.startswith("-"):
                sources.append(word)
    return sources


def test_examples_and_the_action_install_ecs_overlay_from_a_pinned_source_that_exists() -> None:
    """Nothing serves ecs-overlay by name and a branch moves: every example and the Action install the
    one vendored wheel (built from the commit the user reviewed), the Action's own checkout, or a git URL pinned to
    a full commit SHA, and use the Action (and the README's pre-commit hook) at a full commit SHA."""
    allowed = re.compile(
        r"(tools|dist)/ecs_overlay-\*-py3-none-any\.whl|\$GITHUB_ACTION_PATH|\./ecs-overlay|git\+https://\S+@[0-9a-f]{40}"
    )
    files = [REPO / "action.yml", *sorted(p for p in (REPO / "examples").rglob("*") if p.suffix in {".yml", ".yaml"})]
    wrong = {}
    installers = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        sources = installed_sources(text)
        refs = ACTION_REF.findall(text)
        installers += [path.name] if sources else []
        bad = [s for s in sources if not allowed.fullmatch(s)]
        bad += [ref for ref in refs if not re.fullmatch("[0-9a-f]{40}", ref)]
        if bad:
            wrong[str(path.relative_to(REPO))] = bad
    assert wrong == {}
    revisions = re.findall(r"^\s+rev: (\S+)", README, flags=re.M)  # the pre-commit snippet
    assert revisions and all(re.fullmatch("[0-9a-f]{40}", rev) for rev in revisions)
    assert set(installers) >= {"action.yml", "buildspec.yml", "buildspec-pr.yml", "buildspec-drift.yml"}
    assert set(installers) >= {"buildspec-ecs-blue-green.yml", "ecs-overlay-drift.yml"}
    assert installed_sources('pip install -q -c c.txt "git+https://x/y@main" ecs-overlay') == [
        "git+https://x/y@main",
        "ecs-overlay",
    ]
