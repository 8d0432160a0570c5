"""--image targeting."""

from __future__ import annotations

import pytest

from ecs_overlay.errors import UsageError
from ecs_overlay.images import ImageRequest, ecs_image_problem, is_placeholder, reference_problem, repository
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


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27-alpine",
        "docker.io/library/nginx:1.25",
        "localhost:5000/app:2",
        "Registry.Example.com:443/team/app:V1",  # the registry part may have capitals; the path may not
        "[::1]:5000/app:1",
        "a__b/c---d/e.f_g:v1.0_rc",
        f"{APP}@sha256:{'0123456789abcdef' * 4}",
        "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
    ],
)
def test_references_docker_accepts_are_accepted(image: str) -> None:
    assert reference_problem(image) is None
    assert ImageRequest.parse(image).uri == image


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (":abc", "repository name is empty"),
        ("@sha256:" + "a" * 64, "repository name is empty"),
        ("repo:", "tag after ':' is empty"),
        ("repo:@sha256:" + "a" * 64, "tag after ':' is empty"),
        ("repo@", "digest after '@' is empty"),
        ("repo@sha256:xyz", "digest after '@' must be"),
        ("repo@sha256:" + "a" * 63, "a sha256 digest is 64 lowercase hex digits"),
        ("repo@md5:" + "a" * 32, "md5 is not one of sha256, sha384, sha512"),
        ("re po", "whitespace"),
        ("Repo:1", "must be lowercase"),
        ("repo:-1", "not an image reference"),
        ("repo:" + "t" * 129, "not an image reference"),
        ("a" * 256, "longer than 255"),
        ("a//b", "not an image reference"),
    ],
)
def test_references_docker_refuses_are_refused(image: str, problem: str) -> None:
    assert problem in (reference_problem(image) or "")
    with pytest.raises(UsageError, match="not a valid image"):
        ImageRequest.parse(f"web={image}")


def test_placeholders_are_not_references_but_are_allowed() -> None:
    assert is_placeholder("<IMAGE1_NAME>") and not is_placeholder("repo:<x>")
    assert ImageRequest.parse("web=<IMAGE1_NAME>") == ImageRequest("<IMAGE1_NAME>", "web")


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("$ECR_REGISTRY/app:$TAG", "'Container.image contains invalid characters'"),
        ("{{ .Values.image }}", "'Container.image contains invalid characters'"),
        ("app:`git rev-parse HEAD`", "'Container.image contains invalid characters'"),
        ("app :1", "'Container.image contains invalid characters'"),
        (":1.4.2", "'Container.image repository should not be null or empty'"),
        ("@sha256:" + "a" * 64, "'Container.image repository should not be null or empty'"),
        (f"{APP}@sha512:{'b' * 128}", "only a sha256 digest"),
        (f"{APP}:1@sha384:{'a' * 96}", "only a sha256 digest"),
        (f"{APP}@sha256:{'a' * 63}", "only a sha256 digest"),
        ("a" * 200 + ":" + "t" * 100, "ECS allows at most 255"),
        ("", "'Container.image should not be null or empty'"),
    ],
)
def test_references_ecs_refuses_are_refused_whoever_writes_them(image: str, problem: str) -> None:
    """ECS's own check of ContainerDefinition.image, which Docker's grammar alone lets through in part."""
    assert problem in (ecs_image_problem(image) or "")
    if image:
        with pytest.raises(UsageError, match="not a valid image"):
            ImageRequest.parse(f"web={image}")


@pytest.mark.parametrize(
    "image",
    [
        f"{APP}:1",
        f"{APP}@sha256:{'0123456789ABCDEF' * 4}",  # ECS takes A-F as well as a-f
        "Registry.Example.com:443/team/App:V1",  # capitals: ECS registers them (Docker then refuses the path's)
        "team/app:build#42",
        "[::1]:5000/app:1",
        "a" * 200 + ":" + "t" * 54,  # 255 characters
    ],
)
def test_references_ecs_registers_pass_its_check(image: str) -> None:
    assert ecs_image_problem(image) is None
