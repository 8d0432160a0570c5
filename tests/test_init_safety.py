"""init is safe: `--env` is a name, never a path; adding an environment leaves every other file byte for byte
as it was; no secret value of the live service lands in the repository. In-process, AWS through moto's server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_environment_base import _running_service

# A layer as a person keeps it: comments, YAML 1.1 spellings kept as text, a leading-zero octal, quotes.
HAND_EDITED = """\
# yaml-language-server: $schema=../schema/overlay.schema.json
# stage: tuned by hand, keep the comments
base:
  cluster: payments
  service: checkout-api-stage
  region: eu-west-1
cpu: 512
memory: 1024
containerDefinitions:
  web:
    environment:
      LOG_LEVEL: debug   # noisy on purpose
      PORT: "8080"
      FLAG: yes
      UMASK: 0022
"""


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def init(invoke: Any, root: Path, env: dict[str, str], name: str, service: str, *extra: str) -> Any:
    return invoke("init", "--cluster", "payments", "--service", service, "--env", name, *extra, cwd=root, env=env)


@pytest.mark.parametrize(
    "name", ["../x", "/x", "_common", "a/b", "a\\b", ".hidden", "..", "", "prod.yaml", "new\nline", "-rf"]
)
def test_env_is_a_name_never_a_path(invoke: Any, tmp_path: Path, fake_ecs: Any, name: str) -> None:
    result = init(invoke, tmp_path, fake_ecs.env(), name, "checkout-api-stage")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "--env" in result.stderr and "environment name" in result.stderr
    assert fake_ecs.operations() == []  # refused before any call to AWS
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere


def test_adding_an_environment_leaves_every_other_file_byte_for_byte(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.create_cluster(clusterName="payments")
    _running_service(ecs, "stage", "512", "debug")
    _running_service(ecs, "prod", "512", "debug")  # shares nearly every value with stage
    assert init(invoke, tmp_path, aws_env, "stage", "checkout-api-stage").returncode == 0
    (tmp_path / "environments" / "stage.yaml").write_text(HAND_EDITED)
    schema = tmp_path / "schema" / "overlay.schema.json"
    schema.write_text(schema.read_text().replace('"title"', '"title" ', 1))  # an older schema, say
    before = tree(tmp_path)

    prod = init(invoke, tmp_path, aws_env, "prod", "checkout-api-prod")
    assert prod.returncode == 0, prod.stderr
    after = tree(tmp_path)
    assert {name: text for name, text in after.items() if name in before} == before
    assert sorted(set(after) - set(before)) == ["environments/prod.yaml", "snapshots/prod.json"]
    assert "schema/overlay.schema.json: note: it differs from this version's schema; left as it is" in prod.stderr
    assert "prod and stage set 7 values alike" in prod.stderr  # said, not done without being asked


def test_no_secret_value_of_the_live_service_is_written(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.create_cluster(clusterName="payments")
    _running_service(ecs, "stage", "512", "debug")  # LEGACY_API_TOKEN=tok-8c1f2a in plain text
    result = init(invoke, tmp_path, aws_env, "stage", "checkout-api-stage")
    assert result.returncode == 0, result.stderr
    for name, content in tree(tmp_path).items():
        assert b"tok-8c1f2a" not in content, name
    snapshot = json.loads((tmp_path / "snapshots" / "stage.json").read_text())
    [web] = [c for c in snapshot["containerDefinitions"] if c["name"] == "web"]
    assert {"name": "LEGACY_API_TOKEN", "value": "****"} in web["environment"]
    assert "snapshots/stage.json: note: web: LEGACY_API_TOKEN written as ****" in result.stderr
    assert "tok-8c1f2a" not in result.stderr + result.stdout


def test_a_failing_init_leaves_no_directory_behind(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.create_cluster(clusterName="payments")
    _running_service(ecs, "stage", "512", "debug")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "snapshots").symlink_to(elsewhere, target_is_directory=True)
    result = init(invoke, project, aws_env, "stage", "checkout-api-stage")
    assert result.returncode == 3, result.stderr
    assert "snapshots/stage.json (init): snapshots is a symlink to a directory outside the working directory" in (
        result.stderr
    )
    assert sorted(path.name for path in project.iterdir()) == ["snapshots"] and list(elsewhere.iterdir()) == []


def test_factor_edits_the_other_files_only_where_the_shared_values_were(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.create_cluster(clusterName="payments")
    _running_service(ecs, "stage", "512", "debug")
    _running_service(ecs, "prod", "512", "debug")
    assert init(invoke, tmp_path, aws_env, "stage", "checkout-api-stage").returncode == 0
    stage = tmp_path / "environments" / "stage.yaml"
    stage.write_text(HAND_EDITED)
    result = init(invoke, tmp_path, aws_env, "prod", "checkout-api-prod", "--factor")
    assert result.returncode == 0, result.stderr
    assert "prod and stage extend _common.yaml" in result.stderr
    assert stage.read_text() == (
        "# yaml-language-server: $schema=../schema/overlay.schema.json\n"
        "# stage: tuned by hand, keep the comments\n"
        "extends: _common.yaml\n"
        "base:\n"
        "  service: checkout-api-stage\n"
        "containerDefinitions:\n"
        "  web:\n"
        "    environment:\n"
        "      UMASK: 0022\n"
    )
    common = (tmp_path / "environments" / "_common.yaml").read_text()
    assert "FLAG: 'yes'" in common and "PORT: '8080'" in common and "cpu: 512" in common
