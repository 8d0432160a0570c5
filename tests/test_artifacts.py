"""CodePipeline's artifacts: imagedefinitions.json (ECS standard action) and imageDetail.json (blue/green action),
written with taskdef.json and appspec.yaml, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .test_e2e_aws import APP_REPO

BASE = ("--base", "base.json")


def test_imagedefinitions_lists_the_containers_image_set(invoke: Any, project: Path) -> None:
    result = invoke(
        "render", "--env", "prod", *BASE, "--image", f"{APP_REPO}:9d8e7f6",
        "--imagedefinitions", "imagedefinitions.json", cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = json.loads((project / "imagedefinitions.json").read_text())
    assert written == [{"name": "web", "imageUri": f"{APP_REPO}:9d8e7f6"}]
    taskdef = json.loads((project / "taskdef.json").read_text())
    assert taskdef["containerDefinitions"][0]["image"] == written[0]["imageUri"]  # consistent with the taskdef
    assert "wrote taskdef.json and imagedefinitions.json" in result.stderr


def test_imagedefinitions_without_image_lists_every_container(invoke: Any, project: Path) -> None:
    result = invoke("render", "--env", "prod", *BASE, "--imagedefinitions", "images.json", cwd=project)
    assert result.returncode == 0, result.stderr
    taskdef = json.loads((project / "taskdef.json").read_text())
    assert json.loads((project / "images.json").read_text()) == [
        {"name": c["name"], "imageUri": c["image"]} for c in taskdef["containerDefinitions"]
    ]


def test_image_detail_holds_the_image_set(invoke: Any, project: Path) -> None:
    result = invoke(
        "render", "--env", "prod", *BASE, "--image", f"web={APP_REPO}:9d8e7f6", "--appspec", "appspec.yaml",
        "--image-detail", "imageDetail.json", cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads((project / "imageDetail.json").read_text()) == {"ImageURI": f"{APP_REPO}:9d8e7f6"}
    assert "wrote taskdef.json, appspec.yaml and imageDetail.json" in result.stderr


def test_image_detail_needs_exactly_one_image_and_nothing_is_written(invoke: Any, project: Path) -> None:
    result = invoke("render", "--env", "prod", *BASE, "--image-detail", "imageDetail.json", cwd=project)
    assert result.returncode == 2
    assert "--image-detail names one image" in result.stderr and "none was given" in result.stderr
    assert not (project / "taskdef.json").exists() and not (project / "imageDetail.json").exists()


def test_a_failing_render_leaves_every_artifact_as_it_was(invoke: Any, project: Path) -> None:
    for name in ("taskdef.json", "imagedefinitions.json", "imageDetail.json"):
        (project / name).write_text("previous\n")
    (project / "environments" / "prod.yaml").write_text("extends: _common.yaml\nmemory: lots\n")
    result = invoke(
        "render", "--env", "prod", *BASE, "--image", f"{APP_REPO}:new", "--imagedefinitions", "imagedefinitions.json",
        "--image-detail", "imageDetail.json", cwd=project,
    )  # fmt: skip
    assert result.returncode == 1
    for name in ("taskdef.json", "imagedefinitions.json", "imageDetail.json"):
        assert (project / name).read_text() == "previous\n"


def test_two_artifacts_may_not_share_a_file(invoke: Any, project: Path) -> None:
    result = invoke("render", "--env", "prod", *BASE, "--imagedefinitions", "taskdef.json", cwd=project)
    assert result.returncode == 2
    assert "--output taskdef.json and --imagedefinitions taskdef.json are the same file" in result.stderr
