"""``--image`` targeting: by container name, or by the repository a container's image comes from.

Sidecars from other repositories are never touched; that is the whole point over the jq line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .errors import UsageError


class ImageRequest(NamedTuple):
    """One ``--image`` option: ``NAME=URI`` (``container`` set) or a bare ``URI``."""

    uri: str
    container: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRequest:
        # An image reference never contains "=", so the first one separates NAME from URI.
        name, sep, uri = text.partition("=")
        if sep:
            if not name or not uri:
                raise UsageError(f"--image {text!r}: write NAME=URI or just URI")
            return cls(uri.strip(), name.strip())
        if not text.strip():
            raise UsageError("--image needs a value: NAME=URI or URI")
        return cls(text.strip())

    def option_text(self) -> str:
        return f"--image {self.container}={self.uri}" if self.container else f"--image {self.uri}"


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
