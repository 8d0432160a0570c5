"""``render``: the environment rendered, checked and turned into the artifacts a pipeline reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..base import BaseOptions
from ..environments import Environments
from ..errors import InvalidInputError
from ..findings import counted
from ..images import ImageRequest, image_definitions, image_detail
from ..output import Artifact, check_outputs, destination, to_json
from ..render import RenderOptions
from .environment import Context, render_checked, say_placeholders


class RenderRequest(NamedTuple):
    environment: str | None
    environments: Environments
    base: BaseOptions
    images: Sequence[ImageRequest]
    options: RenderOptions
    image_arch: str | None
    output: str
    appspec_path: str | None
    check_appspec_path: str | None
    imagedefinitions_path: str | None
    image_detail_path: str | None
    verify_first: bool
    context: Context


class RenderRun(NamedTuple):
    """The artifacts to write (every one, or none) and what the line saying so names."""

    environment: str
    artifacts: list[Artifact]
    base_label: str
    containers: int

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code

    @property
    def summary(self) -> str:
        shown = [destination(artifact.path) for artifact in self.artifacts]
        written = " and ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 2 else shown)
        return (
            f"wrote {written}: environment {self.environment}, base {self.base_label}, "
            f"{counted(self.containers, 'container')}"
        )


def run(request: RenderRequest) -> RenderRun:
    requested = [
        ("--output", request.output),
        ("--appspec", request.appspec_path),
        ("--imagedefinitions", request.imagedefinitions_path),
        ("--image-detail", request.image_detail_path),
    ]
    check_outputs([(option, path) for option, path in requested if path is not None])  # before any work
    images = request.images
    if request.image_detail_path is not None:
        image_detail(images)  # a usage error before any AWS call
    rendered, appspec_text = render_checked(request, request.appspec_path, request.check_appspec_path)
    name = rendered.environment
    if request.verify_first:
        from .verify import verified  # verify's checks load only when asked for

        findings = verified(rendered, request.base, request.context)
        for finding in findings:
            if finding.is_error or finding.is_warning:
                request.context.console.say(finding.to_text())
        if any(finding.is_error for finding in findings):
            raise InvalidInputError(f"verify found problems in environment '{name}'; nothing was written")
    taskdef = rendered.result.taskdef
    say_placeholders(taskdef, request.context.console)
    texts = {
        "--output": to_json(taskdef),
        "--appspec": appspec_text,
        "--imagedefinitions": to_json(image_definitions(taskdef, images)) if request.imagedefinitions_path else None,
        "--image-detail": to_json(image_detail(images)) if request.image_detail_path else None,
    }
    artifacts = [
        Artifact(option, path, text)
        for option, path in requested
        if path is not None and (text := texts[option]) is not None
    ]
    return RenderRun(name, artifacts, rendered.base_label, len(taskdef.get("containerDefinitions", [])))
