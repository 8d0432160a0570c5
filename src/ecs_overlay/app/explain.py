"""``explain``: the rendered task definition with the origin of every value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ..base import BaseOptions
from ..environments import Environments
from ..errors import UsageError
from ..images import ImageRequest
from ..keyed import Path as KeyedPath
from ..provenance import Origin
from .environment import Context, environment_name, render_environment, require_clean


class ExplainRequest(NamedTuple):
    environment: str | None
    environments: Environments
    base: BaseOptions
    images: Sequence[ImageRequest]
    subtree: str | None
    show_values: bool
    context: Context


class ExplainRun(NamedTuple):
    """What a reporter needs: the environment and its entries (path, value, origin), in the document's order."""

    environment: str
    entries: list[tuple[KeyedPath, Any, Origin]]

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: ExplainRequest) -> ExplainRun:
    from ..report.shown import explain_entries

    name = environment_name(request.environment, request.environments)
    rendered = render_environment(name, request.environments, request.base, request.images, request.context.aws)
    require_clean(rendered)
    entries = explain_entries(rendered.result.taskdef, rendered.result.provenance, request.subtree, request.show_values)
    if request.subtree and not entries:
        raise UsageError(
            f"--path {request.subtree}: nothing there; paths look like containerDefinitions[web].environment"
        )
    return ExplainRun(name, entries)
