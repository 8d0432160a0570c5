"""``--image`` targeting: by container name, or by the repository a container's image comes from.

Sidecars from other repositories are never touched; that is the whole point over the jq line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from .errors import InvalidInputError, UsageError

# Docker's image reference grammar, as distribution/reference defines it (regexp.go; reference.go's Parse adds
# the 255-character name limit and the lowercase rule; go-digest checks the digest's length by algorithm):
# https://github.com/distribution/reference/blob/main/regexp.go
# https://github.com/distribution/reference/blob/main/reference.go
# https://github.com/opencontainers/go-digest/blob/master/algorithm.go
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX = 255
_EXAMPLE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:3f9c2e1"
# ECS's own limits on ContainerDefinition.image, which it checks at RegisterTaskDefinition whatever Docker would
# make of the reference: up to 255 letters, digits, hyphens, underscores, colons, periods, forward slashes and
# number signs; with a digest, the 255 count the part before "@", and the digest is sha256: and 64 hex digits.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html (image)
# The brackets of an IPv6 registry ([::1]:5000/app) are not in that list, but Docker takes them and no refusal by
# ECS is on record: they are let through rather than risk a false alarm.
_ECS_IMAGE_NAME = re.compile(r"[A-Za-z0-9_.:/#\[\]-]*")
_ECS_DIGEST = re.compile(r"sha256:[0-9A-Fa-f]{64}")
ECS_IMAGE_MAX = 255
# CodePipeline's CodeDeployToECS action replaces a placeholder such as <IMAGE1_NAME> with the image of an
# input artifact: https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECSbluegreen.html
_PLACEHOLDER = re.compile(r"<[^<>]+>")


class ImageRequest(NamedTuple):
    """One ``--image`` option: ``NAME=URI`` (``container`` set) or a bare ``URI``."""

    uri: str
    container: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRequest:
        # An image reference never contains "=", so the first one separates NAME from URI.
        name, sep, uri = text.partition("=")
        if sep:
            if not name.strip() or not uri.strip():
                raise UsageError(f"--image {text}: write NAME=URI or just URI")
            return cls(_checked_reference(uri.strip(), text), name.strip())
        if not text.strip():
            raise UsageError("--image needs a value: NAME=URI or URI")
        return cls(_checked_reference(text.strip(), text))

    def option_text(self) -> str:
        return f"--image {self.container}={self.uri}" if self.container else f"--image {self.uri}"


def is_placeholder(image: str) -> bool:
    """``<IMAGE1_NAME>``: text for CodeDeploy's ECS action to replace, not an image ECS could pull."""
    return _PLACEHOLDER.fullmatch(image) is not None


def reference_problem(image: str) -> str | None:
    """Why Docker would refuse ``image`` as a reference, or None when it is well formed."""
    if any(character.isspace() for character in image):
        return "it contains whitespace"
    if image.startswith((":", "@", "/")):
        return "the repository name is empty"
    if image.endswith(":") or ":@" in image:
        return "the tag after ':' is empty; give a tag or leave out the ':'"
    if image.endswith("@"):
        return "the digest after '@' is empty"
    match = _REFERENCE.fullmatch(image) if len(image) <= 4 * _NAME_MAX else None
    if match is None:
        if _REFERENCE.fullmatch(image.lower()) is not None:
            return "repository names must be lowercase"
        if "@" in image and _REFERENCE.fullmatch(image.rsplit("@", 1)[0]) is not None:
            return "the digest after '@' must be an algorithm and hex digits, such as sha256:<64 hex digits>"
        return "it is not an image reference ([REGISTRY/]REPOSITORY[:TAG][@DIGEST])"
    if len(match["name"]) > _NAME_MAX:
        return f"the repository name is longer than {_NAME_MAX} characters"
    digest = match["digest"]
    if digest is not None:
        algorithm, _, encoded = digest.partition(":")
        length = _DIGEST_LENGTHS.get(algorithm)
        if length is None:
            return f"the digest algorithm {algorithm} is not one of {', '.join(_DIGEST_LENGTHS)}"
        if len(encoded) != length or encoded != encoded.lower():
            return f"a {algorithm} digest is {length} lowercase hex digits"
    return None


def ecs_image_problem(image: str) -> str | None:
    """Why RegisterTaskDefinition refuses ``image`` (ECS's own check, not Docker's), or None when ECS takes it."""
    if not image:
        return "the image is empty (ECS: 'Container.image should not be null or empty')"
    name, at, digest = image.partition("@")
    if not _ECS_IMAGE_NAME.fullmatch(name):
        shown = " ".join(sorted({repr(c) for c in name if not _ECS_IMAGE_NAME.fullmatch(c)}))
        return (
            f"it contains characters ECS refuses ({shown}; ECS: 'Container.image contains invalid characters'): "
            "an image is letters, digits and - _ : . / # only; resolve a ${VAR}, {{ … }} or shell expansion first"
        )
    slash, colon = name.rfind("/"), name.rfind(":")
    repository_name = name[:colon] if colon > slash else name
    if not repository_name:
        return (
            "the repository before the tag or digest is empty "
            "(ECS: 'Container.image repository should not be null or empty')"
        )
    if len(name) > ECS_IMAGE_MAX:
        return f"it is {len(name)} characters before any digest; ECS allows at most {ECS_IMAGE_MAX}"
    if at and not _ECS_DIGEST.fullmatch(digest):
        return "ECS takes only a sha256 digest: '@sha256:' and exactly 64 hex digits"
    return None


def _checked_reference(uri: str, text: str) -> str:
    problem = None if is_placeholder(uri) else reference_problem(uri) or ecs_image_problem(uri)
    if problem:
        raise UsageError(f"--image {text}: not a valid image: {problem}. Write it as Docker does, such as {_EXAMPLE}")
    return uri


def placeholders(taskdef: dict[str, Any]) -> list[tuple[str, str]]:
    """``(container, image)`` of every container whose image is a placeholder."""
    return [(name, image) for name, image in container_images(taskdef) if is_placeholder(image)]


def container_images(taskdef: dict[str, Any]) -> list[tuple[str, str]]:
    """``(container, image)`` of every container, in order."""
    return [
        (str(c.get("name")), str(c.get("image", "")))
        for c in taskdef.get("containerDefinitions") or []
        if isinstance(c, dict)
    ]


def repository(image: str) -> str:
    """``registry/repository`` of an image reference, without tag or digest.

    Docker Hub short names are spelled out (``nginx`` → ``docker.io/library/nginx``) so that
    ``nginx:1.27`` and ``docker.io/library/nginx:1.25`` count as the same repository.
    """
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    first, _, rest = name.partition("/")
    if not rest:
        return f"docker.io/library/{first}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def assign_images(containers: Sequence[dict[str, Any]], requests: Sequence[ImageRequest]) -> dict[str, ImageRequest]:
    """Which request sets which container's image: ``{container name: request}``.

    Raises a usage error, listing the containers and their images, when a request matches nothing.
    """
    assigned: dict[str, ImageRequest] = {}
    names = [str(container.get("name")) for container in containers]
    for request in requests:
        if request.container is not None:
            if request.container not in names:
                raise UsageError(
                    f"{request.option_text()}: no container named '{request.container}'. "
                    f"Containers: {_listing(containers)}"
                )
            assigned[request.container] = request
            continue
        wanted = repository(request.uri)
        matches = [str(c.get("name")) for c in containers if repository(str(c.get("image", ""))) == wanted]
        if not matches and len(containers) == 1:
            matches = names
        if not matches:
            raise UsageError(
                f"{request.option_text()}: no container runs an image from {wanted}. "
                f"Name the container with --image NAME={request.uri}. Containers: {_listing(containers)}"
            )
        for name in matches:
            assigned[name] = request
    return assigned


def _listing(containers: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{c.get('name')} ({c.get('image', 'no image')})" for c in containers) or "none"


def image_definitions(taskdef: dict[str, Any], requests: Sequence[ImageRequest]) -> list[dict[str, str]]:
    """CodePipeline's ``imagedefinitions.json`` (the ECS standard action): ``[{"name", "imageUri"}]`` for
    the containers whose images ``requests`` set, or every container when there are none."""
    containers = [c for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    chosen = assign_images(containers, requests) if requests else None
    definitions = [
        {"name": name, "imageUri": image}
        for name, image in container_images(taskdef)
        if chosen is None or name in chosen
    ]
    unfilled = [f"{entry['name']} ({entry['imageUri']})" for entry in definitions if is_placeholder(entry["imageUri"])]
    if unfilled:
        # The standard ECS action registers these as they are; only the blue/green action fills placeholders.
        raise InvalidInputError(
            f"imagedefinitions.json would hand placeholders to CodePipeline's ECS deploy action, which registers "
            f"them as images ({'; '.join(unfilled)}): ECS refuses them. Pass the real image with --image NAME=URI; "
            "placeholders are for the blue/green action's taskdef.json"
        )
    return definitions


def image_detail(requests: Sequence[ImageRequest]) -> dict[str, str]:
    """CodePipeline's ``imageDetail.json`` (the ECS blue/green action): the one image ``--image`` set."""
    uris = list(dict.fromkeys(request.uri for request in requests))
    if len(uris) != 1:
        given = "none was given" if not uris else f"{len(uris)} were given ({', '.join(uris)})"
        raise UsageError(
            f"--image-detail names one image (CodeDeploy puts it in place of <IMAGE1_NAME>) and {given}; "
            "pass exactly one --image"
        )
    return {"ImageURI": uris[0]}
