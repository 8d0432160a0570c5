"""The pure pipeline: stripped base + overlay layers + images → task definition, origins, findings.

No AWS, no click, no filesystem here: everything arrives as data and leaves as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, has_errors
from .images import ImageRequest, assign_images
from .keyed import Item, from_keyed, to_keyed
from .merge import merge_layers
from .overlay import Overlay
from .provenance import IMAGE, Origin, Provenance
from .validate import schema_findings

TASK_STRING_FIELDS = ("cpu", "memory")


@dataclass
class RenderResult:
    """What render produced: the task definition, where each value came from, and what is wrong."""

    taskdef: dict[str, Any]
    provenance: Provenance = field(default_factory=Provenance)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


def render(
    base: Mapping[str, Any], overlays: Sequence[Overlay] = (), images: Sequence[ImageRequest] = ()
) -> RenderResult:
    """Merge ``overlays`` (shared layers first) onto ``base``, set images, check the result.

    ``base`` is a register-able task definition (see source.py). Inputs are never mutated.
    """
    findings = [finding for overlay in overlays for finding in overlay.findings]
    if has_errors(findings):
        return RenderResult({}, Provenance(), findings)
    merged, provenance = merge_layers(to_keyed(dict(base)), overlays)
    taskdef: dict[str, Any] = from_keyed(merged)
    for name in TASK_STRING_FIELDS:
        if isinstance(taskdef.get(name), int) and not isinstance(taskdef[name], bool):
            taskdef[name] = str(taskdef[name])  # ECS takes task cpu and memory as strings
    _set_images(taskdef, images, provenance)
    findings.extend(schema_findings(taskdef, provenance))
    return RenderResult(taskdef, provenance, findings)


def _set_images(taskdef: dict[str, Any], images: Sequence[ImageRequest], provenance: Provenance) -> None:
    if not images:
        return
    containers = [c for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    assigned = assign_images(containers, images)
    for container in containers:
        request = assigned.get(str(container.get("name")))
        if request is not None:
            container["image"] = request.uri
            path = ("containerDefinitions", Item(str(container["name"])), "image")
            provenance.set(path, Origin(IMAGE, detail=request.option_text()))
