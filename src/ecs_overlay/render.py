"""The pure pipeline: stripped base + overlay layers + images → task definition, origins, findings.

No AWS, no click, no filesystem here: everything arrives as data and leaves as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import schemas
from .findings import Finding, has_errors
from .images import ImageRequest, assign_images
from .keyed import Item, from_keyed, to_keyed
from .merge import merge_appspec, merge_layers, merge_service, service_provenance
from .overlay import Overlay
from .ownership import ENVIRONMENT_TAG
from .provenance import IMAGE, TOOL, Origin, Provenance
from .rules import DEFAULT_MAX_SIZE, RuleContext, check, task_size_units
from .validate import schema_findings


class RenderOptions(NamedTuple):
    """Settings of a run that are not part of any input."""

    max_size: int = DEFAULT_MAX_SIZE
    base_from_api: bool = False  # the base came from the ECS API, not from a file: see schema_findings
    environment: str | None = None  # tag the result for this environment (ENVIRONMENT_TAG)


DEFAULT_OPTIONS = RenderOptions()


@dataclass
class RenderResult:
    """What render produced: the task definition, where each value came from, and what is wrong."""

    taskdef: dict[str, Any]
    provenance: Provenance = field(default_factory=Provenance)
    findings: list[Finding] = field(default_factory=list)
    appspec: dict[str, Any] | None = None  # the layers' merged `appspec:` settings
    service: dict[str, Any] | None = None  # the layers' merged `service:` settings (deploy)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


def render(
    base: Mapping[str, Any],
    overlays: Sequence[Overlay] = (),
    images: Sequence[ImageRequest] = (),
    options: RenderOptions = DEFAULT_OPTIONS,
) -> RenderResult:
    """Merge ``overlays`` (shared layers first) onto ``base``, set images, check the result.

    ``base`` is a register-able task definition (see source.py). Inputs are never mutated.
    """
    findings = [finding for overlay in overlays for finding in overlay.findings]
    if has_errors(findings):
        return RenderResult({}, Provenance(), findings)
    merged, provenance = merge_layers(to_keyed(dict(base)), overlays)
    taskdef: dict[str, Any] = schemas.whole_numbers("taskdef", from_keyed(merged))
    _normalise_task_size(taskdef)
    _set_images(taskdef, images, provenance)
    if options.environment is not None:
        _tag_environment(taskdef, options.environment, provenance)
    findings.extend(schema_findings(taskdef, provenance, options.base_from_api))
    if not has_errors(findings):
        # ECS's rules read well-typed data; a schema error is reported first, on its own.
        context = RuleContext(taskdef, provenance, options.max_size, _plaintext_allowed(overlays))
        findings.extend(check(_with_service(context, overlays)))
    return RenderResult(taskdef, provenance, findings, merge_appspec(overlays), merge_service(overlays))


def check_layers(overlays: Sequence[Overlay]) -> list[Finding]:
    """What an environment's layers prove wrong on their own, with no base: their authoring findings,
    then the rules that can judge layers alone (see registry.Rule.offline) on the layers merged."""
    findings = [finding for overlay in overlays for finding in overlay.findings]
    if has_errors(findings):
        return findings
    merged, provenance = merge_layers({}, overlays)
    taskdef: dict[str, Any] = from_keyed(merged)
    _normalise_task_size(taskdef)
    findings.extend(
        check(
            _with_service(
                RuleContext(taskdef, provenance, plaintext_allowed=_plaintext_allowed(overlays), partial=True), overlays
            )
        )
    )
    return findings


def _with_service(context: RuleContext, overlays: Sequence[Overlay]) -> RuleContext:
    """The rules' context with the layers' `service:` section, checked with the task definition."""
    context.service = merge_service(overlays)
    context.service_provenance = service_provenance(overlays)
    return context


def _plaintext_allowed(overlays: Sequence[Overlay]) -> frozenset[str]:
    return frozenset(name for overlay in overlays for name in overlay.allow_plaintext)


def _normalise_task_size(taskdef: dict[str, Any]) -> None:
    """Task cpu and memory as the unit strings ECS expects: 1024 / "1 vCPU" → "1024"."""
    for name in ("cpu", "memory"):
        value = taskdef.get(name)
        if value is None or isinstance(value, bool):
            continue
        units = task_size_units(value, name)
        if units is not None:
            taskdef[name] = str(units)


def _tag_environment(taskdef: dict[str, Any], environment: str, provenance: Provenance) -> None:
    """Name the environment in the task definition's tags, so that a base can say whose it is."""
    tags = taskdef.get("tags") or []
    if not isinstance(tags, list):
        return  # not a tag list: the schema check says so, and a tag cannot be added to it
    others = [tag for tag in tags if not (isinstance(tag, dict) and tag.get("key") == ENVIRONMENT_TAG)]
    taskdef["tags"] = [*others, {"key": ENVIRONMENT_TAG, "value": environment}]
    provenance.set(("tags", Item(ENVIRONMENT_TAG)), Origin(TOOL, detail="set by ecs-overlay"))


def _set_images(taskdef: dict[str, Any], images: Sequence[ImageRequest], provenance: Provenance) -> None:
    listed = taskdef.get("containerDefinitions")
    if not images or not listed or not isinstance(listed, list) or not all(isinstance(c, dict) for c in listed):
        return  # no list of containers: the schema check or no-containers says so, not "--image matches nothing"
    containers: list[dict[str, Any]] = listed
    assigned = assign_images(containers, images)
    for container in containers:
        request = assigned.get(str(container.get("name")))
        if request is not None:
            container["image"] = request.uri
            path = ("containerDefinitions", Item(str(container["name"])), "image")
            provenance.set(path, Origin(IMAGE, detail=request.option_text()))
