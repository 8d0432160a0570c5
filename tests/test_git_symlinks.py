"""Review reads what git holds: symlinks among the overlay files resolved on both sides as git stores them
(mode 120000, the target path as the blob), and outputs that refuse to write through a symlinked directory
that leaves the output folder. In-process, in real git repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .test_review import committed
from .test_services import repository

DIFF_ALL = ("diff", "--all", "--against", "HEAD", "--base", "base.json", "--format", "json")


def files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_a_layer_replaced_by_a_symlink_to_another_file_shows_the_change(invoke: Any, project: Path) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.unlink()
    prod.symlink_to("stage.yaml")  # prod now renders what stage says
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 0, result.stderr
    environments = result.json()["environments"]
    assert environments["stage"]["changes"] == []
    changed = {change["path"]: (change.get("old"), change.get("new")) for change in environments["prod"]["changes"]}
    assert changed["containerDefinitions[web].environment[LOG_LEVEL]"] == ("warn", "debug")
    assert changed["family"] == ("checkout-api-prod", "checkout-api-stage")


def test_a_symlink_at_the_revision_is_read_as_its_target_there(invoke: Any, project: Path) -> None:
    environments = project / "environments"
    (environments / "qa.yaml").symlink_to("stage.yaml")
    committed(project)
    qa = environments / "qa.yaml"
    text = (environments / "stage.yaml").read_text()
    qa.unlink()
    qa.write_text(text.replace("LOG_LEVEL: debug", "LOG_LEVEL: trace"))  # now a file of its own, one value changed
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 0, result.stderr
    [change] = result.json()["environments"]["qa"]["changes"]
    assert (change["path"], change["old"], change["new"]) == (
        "containerDefinitions[web].environment[LOG_LEVEL]",
        "debug",
        "trace",
    )


def test_a_symlinked_shared_layer_at_the_revision_is_followed(invoke: Any, project: Path) -> None:
    environments = project / "environments"
    (environments / "_defaults.yaml").write_text((environments / "_common.yaml").read_text())
    (environments / "_common.yaml").unlink()
    (environments / "_common.yaml").symlink_to("_defaults.yaml")
    committed(project)
    defaults = environments / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("PORT: 8080", "PORT: 9090"))
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 0, result.stderr
    for name in ("stage", "prod"):
        [change] = result.json()["environments"][name]["changes"]
        assert (change["old"], change["new"]) == ("8080", "9090")


def test_services_mode_renders_an_environment_whose_file_became_a_symlink(invoke: Any, tmp_path: Path) -> None:
    root = committed(repository(tmp_path, ["a", "b"]))
    prod = root / "services" / "a" / "environments" / "prod.yaml"
    prod.unlink()
    prod.symlink_to("stage.yaml")
    args = ("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", "--format", "json")
    result = invoke(*args, cwd=root)
    assert result.returncode == 0, result.stderr
    services = result.json()["services"]
    assert list(services) == ["a"] and list(services["a"]["environments"]) == ["prod"]
    changed = {change["path"]: change["new"] for change in services["a"]["environments"]["prod"]["changes"]}
    assert changed["tags[env]"] == "stage" and changed["family"] == "a-stage"
    assert "1 service and 3 environments unchanged at HEAD" in result.stderr


def test_a_symlink_at_the_revision_that_leaves_the_repository_is_a_clear_error(invoke: Any, project: Path) -> None:
    (project.parent / "outside.yaml").write_text("cpu: 4096\n")
    prod = project / "environments" / "prod.yaml"
    text = prod.read_text()
    prod.unlink()
    prod.symlink_to("../../outside.yaml")
    committed(project)
    prod.unlink()
    prod.write_text(text)
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "environments/prod.yaml at HEAD is a symlink to ../../outside.yaml, which leaves the repository" in (
        result.stderr
    )


def test_a_symlink_loop_at_the_revision_is_a_clear_error(invoke: Any, project: Path) -> None:
    environments = project / "environments"
    (environments / "qa.yaml").symlink_to("uat.yaml")
    (environments / "uat.yaml").symlink_to("qa.yaml")
    committed(project)
    for name in ("qa", "uat"):
        (environments / f"{name}.yaml").unlink()
        (environments / f"{name}.yaml").write_text(f"tags:\n  env: {name}\n")
    result = invoke("diff", "--env", "qa", "--against", "HEAD", "--base", "base.json", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "environments/qa.yaml at HEAD: symlinks loop" in result.stderr


def test_a_working_tree_symlink_that_leaves_the_repository_is_a_clear_error(invoke: Any, project: Path) -> None:
    committed(project)
    (project.parent / "elsewhere.yaml").write_text("tags:\n  env: elsewhere\n")
    prod = project / "environments" / "prod.yaml"
    prod.unlink()
    prod.symlink_to(project.parent / "elsewhere.yaml")
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "environments/prod.yaml is a symlink that leaves the repository" in result.stderr


def test_a_working_tree_symlink_loop_is_a_clear_error(invoke: Any, project: Path) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.unlink()
    prod.symlink_to("prod.yaml")
    result = invoke(*DIFF_ALL, cwd=project)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "environments/prod.yaml: symlinks loop" in result.stderr


def test_snapshot_services_refuses_a_service_folder_that_is_a_symlink_out_of_the_output(
    invoke: Any, tmp_path: Path, fake_ecs: Any
) -> None:
    from .conftest import EXAMPLE_BASE

    root = repository(tmp_path / "repo", ["a", "b"], snapshots=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "out").mkdir()
    (root / "out" / "b").symlink_to(elsewhere, target_is_directory=True)
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()), target="DescribeTaskDefinition")
    before = files(root)
    result = invoke("snapshot", "--services", "services", "-o", "out", cwd=root, env=fake_ecs.env())
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "out/b/prod.json (--output): out/b is a symlink to a directory outside out; nothing was written" in (
        result.stderr
    )
    assert list(elsewhere.iterdir()) == [] and files(root) == before
    assert sorted(path.name for path in (root / "out").iterdir()) == ["b"]  # out/a was not left behind


def test_services_mode_renders_a_service_whose_folder_became_a_symlink(invoke: Any, tmp_path: Path) -> None:
    import shutil

    root = committed(repository(tmp_path, ["a", "b"]))
    environments = root / "services" / "a" / "environments"
    shutil.rmtree(environments)
    environments.symlink_to("../b/environments", target_is_directory=True)  # a now deploys what b says
    args = ("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", "--format", "json")
    result = invoke(*args, cwd=root)
    assert result.returncode == 0, result.stderr
    services = result.json()["services"]
    assert list(services) == ["a"] and sorted(services["a"]["environments"]) == ["prod", "stage"]
    changed = {change["path"]: change["new"] for change in services["a"]["environments"]["prod"]["changes"]}
    assert changed["family"] == "b-prod" and changed["tags[service]"] == "b"


def test_an_environments_dir_reached_through_a_symlink_from_outside_is_read_where_it_is(
    invoke: Any, project: Path, tmp_path_factory: Any
) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    outside = tmp_path_factory.mktemp("outside")
    (outside / "envs").symlink_to(project / "environments", target_is_directory=True)
    args = ("diff", "--all", "--against", "HEAD", "--environments-dir", "envs", "--base", str(project / "base.json"))
    result = invoke(*args, "--format", "json", cwd=outside)
    assert result.returncode == 0, result.stderr
    environments = result.json()["environments"]
    assert environments["stage"]["changes"] == []
    [change] = environments["prod"]["changes"]
    assert (change["old"], change["new"]) == ("warn", "error")


def test_render_reports_an_environment_file_that_is_a_symlink_loop(invoke: Any, project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    prod.unlink()
    prod.symlink_to("prod.yaml")
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1, result.stderr
    assert result.stderr == "Error: environments/prod.yaml: symlinks loop; point the symlink at a file\n"
    assert not (project / "taskdef.json").exists()
