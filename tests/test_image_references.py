"""Image references are checked as ECS checks them wherever they come from (base, overlay, --image,
imagedefinitions), and render and `register --dry-run` agree on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Run

REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api"
BASE_IMAGE = f"{REPOSITORY}:3f9c2e1"
RENDER = ("render", "--env", "prod", "--base", "base.json", "-o", "taskdef.json")
REGISTER = ("register", "--env", "prod", "--base", "base.json", "--dry-run")


def _set_base_image(project: Path, image: str) -> None:
    base = project / "base.json"
    base.write_text(base.read_text(encoding="utf-8").replace(BASE_IMAGE, image), encoding="utf-8")


@pytest.mark.parametrize(
    ("image", "ecs_words"),
    [
        ("$ECR_REGISTRY/checkout-api:$TAG", "Container.image contains invalid characters"),
        ("{{ .Env.IMAGE }}", "Container.image contains invalid characters"),
        ("checkout-api:`git rev-parse --short HEAD`", "Container.image contains invalid characters"),
        (":1.4.2", "Container.image repository should not be null or empty"),
        (f"{REPOSITORY}@sha256:abc123", "only a sha256 digest"),
    ],
)
def test_a_base_image_ecs_refuses_fails_render_and_register_alike(
    invoke: Callable[..., Run], project: Path, image: str, ecs_words: str
) -> None:
    _set_base_image(project, image)
    rendered = invoke(*RENDER, cwd=project)
    registered = invoke(*REGISTER, cwd=project)
    for result in (rendered, registered):
        assert result.returncode == 1, result.stderr
        assert "containerDefinitions[web].image" in result.stderr and ecs_words in result.stderr
        assert "(already so in the base)" in result.stderr
    assert not (project / "taskdef.json").exists()
    assert "valid RegisterTaskDefinition request" not in registered.stderr


def test_an_overlay_image_ecs_refuses_is_reported_at_its_line(invoke: Callable[..., Run], project: Path) -> None:
    (project / "environments" / "qa.yaml").write_text(
        "extends: prod.yaml\ncontainerDefinitions:\n  web:\n    image: ':1.4.2'\n", encoding="utf-8"
    )
    for command in ("render", "register"):
        extra = ("-o", "-") if command == "render" else ("--dry-run",)
        result = invoke(command, "--env", "qa", "--base", "base.json", *extra, cwd=project)
        assert result.returncode == 1, result.stderr
        assert "environments/qa.yaml:4:" in result.stderr
        assert "repository should not be null or empty" in result.stderr


@pytest.mark.parametrize("image", [f"{REPOSITORY}@sha512:{'b' * 128}", "a" * 200 + ":" + "t" * 100])
def test_an_image_option_ecs_refuses_is_a_usage_error_before_any_work(
    invoke: Callable[..., Run], project: Path, image: str
) -> None:
    """Docker's grammar takes a sha512 digest and a 301-character reference; ECS refuses both."""
    for args in (RENDER, REGISTER):
        result = invoke(*args, "--image", f"web={image}", cwd=project)
        assert result.returncode == 2, result.stderr
        assert "not a valid image" in result.stderr
    assert not (project / "taskdef.json").exists()


def test_an_uppercase_repository_ecs_registers_is_a_warning(invoke: Callable[..., Run], project: Path) -> None:
    _set_base_image(project, f"{REPOSITORY.replace('checkout-api', 'Checkout-API')}:3f9c2e1")
    result = invoke(*RENDER, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Docker cannot pull it: repository names must be lowercase" in result.stderr


def test_placeholders_render_for_blue_green_but_not_into_imagedefinitions(
    invoke: Callable[..., Run], project: Path
) -> None:
    blue_green = invoke(*RENDER, "--image", "web=<IMAGE1_NAME>", cwd=project)
    assert blue_green.returncode == 0, blue_green.stderr
    assert json.loads((project / "taskdef.json").read_text())["containerDefinitions"][0]["image"] == "<IMAGE1_NAME>"
    (project / "taskdef.json").unlink()
    standard = invoke(
        *RENDER, "--image", "web=<IMAGE1_NAME>", "--imagedefinitions", "imagedefinitions.json", cwd=project
    )
    assert standard.returncode == 1
    assert "web (<IMAGE1_NAME>)" in standard.stderr and "ECS refuses them" in standard.stderr
    assert not (project / "taskdef.json").exists() and not (project / "imagedefinitions.json").exists()
    assert invoke(*REGISTER, "--image", "web=<IMAGE1_NAME>", cwd=project).returncode == 1


@pytest.mark.parametrize(
    ("containers", "said"),
    [
        ({}, "containerDefinitions: error: {} should be a list [taskdef-schema]"),
        ({"web": {"image": "nginx"}}, "should be a list [taskdef-schema]"),
        (["web"], 'containerDefinitions[0]: error: "web" should be a mapping [taskdef-schema]'),
        ([], "the task definition has no containers; add at least one (already so in the base) [no-containers]"),
    ],
)
def test_a_malformed_base_gets_its_own_error_not_an_image_usage_error(
    invoke: Callable[..., Run], tmp_path: Path, containers: object, said: str
) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "ci.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "base.json").write_text(json.dumps({"family": "x", "containerDefinitions": containers}))
    for image in ("web=nginx:1.27", "nginx:1.27"):
        result = invoke("render", "--env", "ci", "--base", "base.json", "--image", image, "-o", "-", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert said in result.stderr and "--image" not in result.stderr


def test_a_bare_shell_variable_in_an_overlay_image_says_how_to_write_one(
    invoke: Callable[..., Run], project: Path
) -> None:
    (project / "environments" / "qa.yaml").write_text(
        "extends: prod.yaml\ncontainerDefinitions:\n  web:\n    image: '$ECR_REGISTRY/checkout-api:$TAG'\n"
    )
    result = invoke("validate", "--env", "qa", cwd=project)
    assert result.returncode == 1
    assert "environments/qa.yaml:4:" in result.stdout and "[image-reference]" in result.stdout
    assert "${VAR} is filled in from the environment; a bare $VAR stays as written" in result.stdout
