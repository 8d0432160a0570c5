"""The pre-commit hook in every layout, as a user's repository runs it: pre-commit installs this repository's hook
(.pre-commit-hooks.yaml) from a commit of the working tree, with the configurations the README shows for the
default layout, for many services (`--services`) and for overlays in another folder (`--environments-dir`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import EXAMPLE_ENVIRONMENTS, REPO, clean_environ, copy_checkout
from .test_services import repository

README = (REPO / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## `ecs-overlay validate` and pre-commit") : README.index("## CLI reference")]
HOOK = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]


def shown_configuration() -> dict[str, Any]:
    [shown] = re.findall(r"add this to the repository's `.pre-commit-config.yaml`.*?```yaml\n(.*?)```", SECTION, re.S)
    return yaml.safe_load(shown)  # type: ignore[no-any-return]


def shown_hooks(argument: str) -> dict[str, Any]:
    """The README's hook entry whose `args` hold ``argument`` (each layout's snippet is one list item)."""
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)]
    [hook] = [item for block in blocks if isinstance(block, list) for item in block if argument in item["args"]]
    return hook  # type: ignore[no-any-return]


def runs_on(hook: dict[str, Any], path: str) -> bool:
    """pre-commit's choice: a hook runs when a changed path matches its `files` (the repository's setting, else
    the hook's own) and not its `exclude`."""
    files = hook.get("files", HOOK["files"])
    return re.search(files, path) is not None and not re.search(hook.get("exclude", "^$"), path)


def test_the_hook_runs_validate_over_the_layout_not_on_the_files_pre_commit_passes() -> None:
    assert HOOK["entry"] == "ecs-overlay validate"
    assert HOOK["pass_filenames"] is False and HOOK["require_serial"] is True
    default: dict[str, Any] = shown_configuration()["repos"][0]["hooks"][0]
    services, elsewhere = shown_hooks("--services"), shown_hooks("--environments-dir")
    assert services["args"] == ["--services", "services"]
    assert elsewhere["args"] == ["--environments-dir", "deploy/overlays"]
    layouts: list[tuple[dict[str, Any], list[str], list[str]]] = [
        (default, ["environments/prod.yaml", "environments/_common.yml"], ["README.md", "src/environments.py"]),
        (
            services,
            ["services/checkout/environments/prod.yaml", "services/_shared/org.yaml"],
            ["environments.md", "snapshots/checkout/prod.json", "docs/services/x.yaml"],
        ),
        (elsewhere, ["deploy/overlays/prod.yaml", "deploy/overlays/_common.yaml"], ["deploy/buildspec.yml"]),
    ]
    for hook, runs, skips in layouts:
        assert [path for path in runs if not runs_on(hook, path)] == []
        assert [path for path in skips if runs_on(hook, path)] == []
    # The hook's own default already covers each service's environments/ (not its shared layers).
    assert runs_on({}, "services/checkout/environments/prod.yaml") and not runs_on({}, "services/_shared/org.yaml")


@pytest.mark.e2e
def test_pre_commit_runs_the_hook_in_every_layout_and_a_broken_overlay_fails_it(tmp_path: Path) -> None:
    """One PRE_COMMIT_HOME: the hook's environment is built once, then each layout's repository reuses it."""
    env = clean_environ(
        {
            "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        }
    )
    # As on a user's machine, Python caches bytecode: without it (PYTHONDONTWRITEBYTECODE, set on ours) the hook
    # environment's pip (seeded by virtualenv without bytecode) and the build environment's setuptools (installed by
    # pip without) are compiled again by each of the processes that build and install the hook. Only those two
    # environments (in tmp_path and pip's temporary directory) gain any: what this run's interpreter imports was
    # compiled when it was installed.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def git_commit_all(directory: Path, message: str) -> str:
        for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", message]):
            subprocess.run(command, cwd=directory, env=env, check=True)
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, env=env, capture_output=True, check=True)
        return head.stdout.decode().strip()

    # pre-commit installs hooks from a commit: snapshot this working tree (untracked files too) as one.
    hook_repo = tmp_path / "hook-repo"
    copy_checkout(hook_repo)
    hook_commit = git_commit_all(hook_repo, "hook")

    def layout(name: str, hook: dict[str, Any]) -> Path:
        config = shown_configuration()
        config["repos"][0].update(repo=str(hook_repo), rev=hook_commit, hooks=[hook])
        root = tmp_path / name
        root.mkdir()
        (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        (root / "README.md").write_text("an application\n")
        return root

    def pre_commit(root: Path, *files: str) -> subprocess.CompletedProcess[str]:
        selection = ["--files", *files] if files else ["--all-files"]
        command = [sys.executable, "-m", "pre_commit", "run", *selection]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=540)

    default = layout("default", shown_configuration()["repos"][0]["hooks"][0])
    shutil.copytree(EXAMPLE_ENVIRONMENTS, default / "environments")
    services = layout("services", shown_hooks("--services"))
    repository(services, ["billing", "checkout"], snapshots=False)
    elsewhere = layout("elsewhere", shown_hooks("--environments-dir"))
    shutil.copytree(EXAMPLE_ENVIRONMENTS, elsewhere / "deploy" / "overlays")
    for root in (default, services, elsewhere):
        git_commit_all(root, "example")
        clean = pre_commit(root)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "ecs-overlay validate" in clean.stdout and "Passed" in clean.stdout

    memroy = "containerDefinitions:\n  web:\n    memroy: 512\n"
    typo = ":3:5 containerDefinitions[web].memroy: error: unknown field 'memroy'; did you mean 'memory'?"

    def breaks(root: Path, path: str, text: str = memroy, finding: str = typo) -> None:
        """The hook fails on ``path`` holding ``text``, with ``finding`` placed on that file."""
        original = (root / path).read_text()
        (root / path).write_text(text)
        broken = pre_commit(root, path)
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"{path}{finding}" in broken.stdout
        (root / path).write_text(original)

    breaks(default, "environments/prod.yaml")
    breaks(services, "services/checkout/environments/prod.yaml")
    breaks(services, "services/_shared/org.yaml", "cpuu: 256\n", ":1:1 cpuu: error: unknown field 'cpuu'")
    breaks(elsewhere, "deploy/overlays/prod.yaml")

    # A change outside the overlays does not run the hook, even with a broken overlay in the tree.
    (services / "services" / "checkout" / "environments" / "prod.yaml").write_text(memroy)
    (services / "README.md").write_text("changed\n")
    outside = pre_commit(services, "README.md")
    assert outside.returncode == 0 and "(no files to check)Skipped" in outside.stdout
