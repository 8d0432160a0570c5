"""Dependency rules: what `dependsOn` conditions need of their target, and no container waiting on itself."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..findings import WARNING, Severity
from ..keyed import Path
from .context import RuleContext
from .registry import Problem, bad, good, rule

DEPENDENCY_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html"

# container name → (the container it waits on, where that is written)
Graph = dict[str, list[tuple[str, Path]]]


@rule(
    "dependency-on-essential",
    summary="a `COMPLETE` or `SUCCESS` dependency targets a non-essential container (one that is meant to exit)",
    source=DEPENDENCY_DOC,
    ecs_error="A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
    examples=[
        bad(
            "containerDefinitions: {web: {dependsOn: {envoy: SUCCESS}}}\n",
            path="containerDefinitions[web].dependsOn[envoy]",
        ),
        bad(
            "containerDefinitions: {web: {dependsOn: {envoy: COMPLETE}}, envoy: {essential: null}}\n",
            path="containerDefinitions[web].dependsOn[envoy]",
        ),
        good("containerDefinitions: {web: {dependsOn: {envoy: SUCCESS}}, envoy: {essential: false}}\n"),
    ],
)
def dependency_on_essential(ctx: RuleContext) -> Iterator[Problem]:
    essential = {name for name, container in _by_name(ctx).items() if container.get("essential", True) is not False}
    for _, where, target, condition in ctx.dependencies():
        if condition in ("SUCCESS", "COMPLETE") and target in essential:
            yield Problem(
                where,
                f"{condition} waits for {json.dumps(target)} to exit, but it is essential; set its "
                "`essential: false` or use START/HEALTHY",
            )


@rule(
    "dependency-healthy",
    summary="a `HEALTHY` dependency targets a container that has a `healthCheck`",
    source=DEPENDENCY_DOC,
    severity=WARNING,
    note="The API reference says HEALTHY 'requires that the dependent container has health checks configured'; "
    "ECS's refusal text is not published, so it is a warning: the dependent container never starts.",
    examples=[
        bad(
            "containerDefinitions: {web: {dependsOn: {envoy: HEALTHY}}}\n",
            path="containerDefinitions[web].dependsOn[envoy]",
        ),
        good(
            "containerDefinitions: {web: {dependsOn: {envoy: HEALTHY}}, envoy: {healthCheck: {command: "
            "[CMD-SHELL, curl -s localhost:9901/ready]}}}\n"
        ),
    ],
)
def dependency_healthy(ctx: RuleContext) -> Iterator[Problem]:
    containers = _by_name(ctx)
    for _, where, target, condition in ctx.dependencies():
        if condition == "HEALTHY" and target in containers and not containers[target].get("healthCheck"):
            yield Problem(
                where,
                f"HEALTHY waits for {json.dumps(target)} to pass its health check, but it has no "
                "healthCheck; add one or use START",
            )


@rule(
    "container-cycle",
    summary="no container waits on itself through `links` (an error), or through `volumesFrom` or `dependsOn` "
    "(a warning: it cannot start)",
    source=DEPENDENCY_DOC,
    ecs_error="Container links should not have a cycle",
    note="ECS's error text is the one for links; a dependsOn cycle can never start either (the API reference: "
    "ECS does not progress a container whose dependencies are unmet).",
    examples=[
        bad(
            "containerDefinitions: {envoy: {dependsOn: {envoy: START}}}\n",
            path="containerDefinitions[envoy].dependsOn[envoy]",
        ),
        bad(
            "containerDefinitions: {envoy: {dependsOn: {web: START}}}\n",
            path="containerDefinitions[envoy].dependsOn[web]",
        ),
        bad(
            "containerDefinitions: {web: {links: [worker]}, worker: {links: [web]}}\n",
            base="ec2",
            path="containerDefinitions[web].links",
        ),
        good("containerDefinitions: {web: {links: [worker]}}\n", base="ec2"),
        good("containerDefinitions: {envoy: {volumesFrom: [{sourceContainer: web}]}, web: {dependsOn: null}}\n"),
    ],
)
def container_cycle(ctx: RuleContext) -> Iterator[Problem]:
    # A links cycle ECS refuses at registration; any other cycle can only be seen failing at launch.
    links: Graph = {}
    every: Graph = {}
    for path, container in ctx.containers():
        name = str(container.get("name"))
        links[name] = [(str(link).split(":", 1)[0], (*path, "links")) for link in container.get("links") or []]
        every[name] = links[name] + [
            (str(source.get("sourceContainer")), (*path, "volumesFrom"))
            for source in container.get("volumesFrom") or []
        ]
    for path, where, target, _ in ctx.dependencies():
        every.setdefault(str(path[-1]), []).append((target, where))
    reported: set[str] = set()
    passes: list[tuple[Graph, Severity | None]] = [(links, None), (every, WARNING)]
    for graph, severity in passes:
        for start, targets in graph.items():
            for target, where in targets:
                if start not in reported and _reaches(graph, target, start):
                    reported.add(start)
                    chain = "itself" if target == start else f"itself through {json.dumps(target)}"
                    yield Problem(
                        where, f"{json.dumps(start)} waits on {chain}; remove one of the dependencies", severity
                    )


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo += [target for target, _ in graph.get(name, [])]
    return False


def _by_name(ctx: RuleContext) -> dict[str, dict[str, object]]:
    return {str(container.get("name")): container for _, container in ctx.containers() if container.get("name")}
