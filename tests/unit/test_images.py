"""--image targeting."""

from __future__ import annotations

import pytest

from ecs_overlay.errors import UsageError
from ecs_overlay.images import ImageRequest, repository
from ecs_overlay.keyed import Item

from .helpers import base_task, container, rendered

APP = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/shop"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"{APP}:1", APP),
        (f"{APP}@sha256:abc", APP),
        (f"{APP}:1@sha256:abc", APP),
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.27", "docker.io/library/nginx"),
        ("docker.io/library/nginx:1.25", "docker.io/library/nginx"),
        ("grafana/agent:v1", "docker.io/grafana/agent"),
        ("localhost:5000/app:2", "localhost:5000/app"),
        ("registry.example.com:5000/team/app", "registry.example.com:5000/team/app"),
    ],
)
def test_repository_ignores_tag_and_digest(image: str, expected: str) -> None:
    assert repository(image) == expected


def test_bare_uri_sets_only_containers_from_the_same_repository() -> None:
    result = rendered(base_task(), "", images=(f"{APP}:2",))
    assert container(result, "web")["image"] == f"{APP}:2"
    assert container(result, "envoy")["image"] == "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29"
    origin = result.provenance.origin(("containerDefinitions", Item("web"), "image"))
    assert origin.describe() == f"--image {APP}:2"


def test_name_equals_uri_sets_that_container() -> None:
    result = rendered(base_task(), "", images=("envoy=public.ecr.aws/appmesh/aws-appmesh-envoy:v1.30",))
    assert container(result, "envoy")["image"].endswith(":v1.30")
    assert container(result, "web")["image"] == f"{APP}:1"


def test_unknown_container_name_lists_the_containers() -> None:
    with pytest.raises(UsageError, match=r"no container named 'api'.*web \(.*shop:1\); envoy"):
        rendered(base_task(), "", images=("api=x:1",))


def test_unmatched_repository_lists_containers_and_images() -> None:
    with pytest.raises(UsageError, match=r"no container runs an image from .*other.*web \("):
        rendered(base_task(), "", images=("111111111111.dkr.ecr.eu-west-1.amazonaws.com/other:3",))


def test_a_single_container_takes_an_unmatched_image() -> None:
    base = base_task()
    base["containerDefinitions"] = base["containerDefinitions"][:1]
    base["containerDefinitions"][0].pop("dependsOn")
    result = rendered(base, "", images=("ghcr.io/acme/shop:9",))
    assert container(result, "web")["image"] == "ghcr.io/acme/shop:9"


def test_image_applies_after_overlays_and_to_new_containers() -> None:
    result = rendered(
        base_task(),
        "containerDefinitions: {worker: {image: placeholder, essential: false}}",
        images=("worker=repo/worker:5",),
    )
    assert container(result, "worker")["image"] == "repo/worker:5"


@pytest.mark.parametrize("text", ["=x", "web=", "  "])
def test_malformed_image_options_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        ImageRequest.parse(text)


def test_placeholder_images_are_written_as_given() -> None:
    result = rendered(base_task(), "", images=("web=<IMAGE1_NAME>",))
    assert container(result, "web")["image"] == "<IMAGE1_NAME>"
