"""Container rules: memory, names, how many, which are essential, and what they refer to."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from ..keyed import Item
from ..schemas import closest
from .context import RuleContext
from .registry import Problem, bad, good, rule

MAX_CONTAINERS = 10
CONTAINER_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"


@rule(
    "container-memory",
    summary="without task memory (EC2) every container has `memory` or `memoryReservation`; `memory` ≥ "
    "`memoryReservation`; no container's `memory` above the task's; the reservations (memoryReservation, "
    "else memory) together within the task's memory",
    source=CONTAINER_DOC,
    ecs_error="Invalid setting for container 'worker'. At least one of 'memory' or 'memoryReservation' must be "
    "specified.",
    examples=[
        bad("containerDefinitions: {web: {memory: 1024}}\n", path="containerDefinitions[web].memory"),
        bad("containerDefinitions: {web: {memoryReservation: 600}}\n", path="memory"),
        bad("containerDefinitions: {web: {memory: null}}\n", base="ec2", path="containerDefinitions[web]"),
        bad(
            "containerDefinitions: {web: {memory: 256, memoryReservation: 300}}\n",
            base="ec2",
            path="containerDefinitions[web].memory",
        ),
        good("containerDefinitions: {web: {memory: 512}}\n"),
        good("containerDefinitions: {web: {memory: null, memoryReservation: 128}}\n", base="ec2"),
        good("containerDefinitions: {web: {memory: 256, memoryReservation: 256}}\n", base="ec2"),
    ],
    note="The API reference says memory must be greater than memoryReservation; ECS accepts them equal and "
    "refuses only less (\"'memory' must be greater than or equal to 'memoryReservation'\", as corrected in "
    "awsdocs/amazon-ecs-developer-guide#242): equal is accepted here too.",
)
def container_memory(ctx: RuleContext) -> Iterator[Problem]:
    task_memory = ctx.task_units("memory")
    reserved = 0
    for path, container in ctx.containers():
        memory, reservation = container.get("memory"), container.get("memoryReservation")
        if task_memory is None and not ctx.is_fargate and memory is None and reservation is None:
            yield Problem(path, "without a task-level memory every container needs memory or memoryReservation")
        if isinstance(memory, int) and isinstance(reservation, int) and memory < reservation:
            yield Problem((*path, "memory"), f"memory ({memory}) must be at least memoryReservation ({reservation})")
        if task_memory is not None and isinstance(memory, int) and memory > task_memory:
            yield Problem((*path, "memory"), f"container memory {memory} MiB is more than the task's {task_memory} MiB")
        share = reservation if isinstance(reservation, int) else memory
        reserved += share if isinstance(share, int) else 0
    if task_memory is not None and reserved > task_memory:
        yield Problem(
            ("memory",), f"the containers reserve {reserved} MiB together, more than the task's {task_memory} MiB"
        )


@rule(
    "container-names",
    summary="container names unique within the task definition",
    source=CONTAINER_DOC,
    examples=[
        bad(taskdef={"family": "x", "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}] * 2}),
        good(taskdef={"family": "x", "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}]}),
    ],
)
def container_names(ctx: RuleContext) -> Iterator[Problem]:
    counts = Counter(container.get("name") for _, container in ctx.containers())
    for name, count in counts.items():
        if count > 1:
            yield Problem(
                ("containerDefinitions",),
                f"container name {json.dumps(name)} is used {count} times; names must be unique",
            )


@rule(
    "container-count",
    summary=f"at most {MAX_CONTAINERS} containers per task definition",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html",
    examples=[
        bad(
            "containerDefinitions:\n" + "".join(f"  c{i}: {{image: busybox, essential: false}}\n" for i in range(9)),
            path="containerDefinitions",
        ),
        good(
            "containerDefinitions:\n" + "".join(f"  c{i}: {{image: busybox, essential: false}}\n" for i in range(8)),
        ),
    ],
)
def container_count(ctx: RuleContext) -> Iterator[Problem]:
    count = sum(1 for _ in ctx.containers())
    if count > MAX_CONTAINERS:
        yield Problem(
            ("containerDefinitions",), f"{count} containers; ECS allows at most {MAX_CONTAINERS} per task definition"
        )


@rule(
    "essential-container",
    summary="at least one essential container (an omitted `essential` counts as essential)",
    source=CONTAINER_DOC,
    ecs_error="Task definition does not have any essential container.",
    examples=[
        bad(
            "containerDefinitions: {web: {essential: false}, envoy: {essential: false}}\n",
            path="containerDefinitions",
        ),
        good("containerDefinitions: {web: {essential: null}, envoy: {essential: false}}\n"),
    ],
)
def essential_container(ctx: RuleContext) -> Iterator[Problem]:
    containers = list(ctx.containers())
    if containers and not any(container.get("essential", True) is not False for _, container in containers):
        yield Problem(("containerDefinitions",), "no container is essential; mark at least one `essential: true`")


@rule(
    "container-reference",
    summary="every `dependsOn`, `volumesFrom` and `links` target is a container of the task",
    source=CONTAINER_DOC,
    examples=[
        bad(
            "containerDefinitions: {web: {dependsOn: {metrics: START}}}\n",
            path="containerDefinitions[web].dependsOn[metrics]",
        ),
        bad(
            "containerDefinitions: {web: {volumesFrom: [{sourceContainer: cache}]}}\n",
            path="containerDefinitions[web].volumesFrom",
        ),
        good("containerDefinitions: {web: {dependsOn: {envoy: HEALTHY}, volumesFrom: [{sourceContainer: envoy}]}}\n"),
    ],
)
def container_references(ctx: RuleContext) -> Iterator[Problem]:
    names = sorted(ctx.container_names())
    references = [(where, "dependsOn", target) for _, where, target, _ in ctx.dependencies()]
    for path, container in ctx.containers():
        references += [
            ((*path, "volumesFrom"), "volumesFrom", item.get("sourceContainer"))
            for item in container.get("volumesFrom") or []
        ]
        references += [((*path, "links"), "links", str(link).split(":", 1)[0]) for link in container.get("links") or []]
    for where, field_name, target in references:
        if target not in names:
            guess = closest(str(target), names)
            hint = f'did you mean "{guess}"?' if guess else f"the containers are {', '.join(names) or 'none'}"
            yield Problem(
                where, f"{field_name} names {json.dumps(target)}, which is not a container of this task; {hint}"
            )


@rule(
    "mount-volume",
    summary="every `mountPoints[].sourceVolume` is a volume the task declares",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_MountPoint.html",
    examples=[
        bad(
            "containerDefinitions: {web: {mountPoints: {/cache: {sourceVolume: cache}}}}\n",
            path="containerDefinitions[web].mountPoints[/cache]",
        ),
        good("volumes: {cache: {}}\ncontainerDefinitions: {web: {mountPoints: {/cache: {sourceVolume: cache}}}}\n"),
    ],
)
def mount_volumes(ctx: RuleContext) -> Iterator[Problem]:
    volumes = {volume.get("name") for volume in ctx.taskdef.get("volumes") or [] if isinstance(volume, dict)}
    for path, container in ctx.containers():
        for mount in container.get("mountPoints") or []:
            volume = mount.get("sourceVolume")
            if volume is not None and volume not in volumes:
                yield Problem(
                    (*path, "mountPoints", Item(str(mount.get("containerPath")))),
                    f"sourceVolume {json.dumps(volume)} is not declared in the task's volumes",
                )


@rule(
    "environment-names",
    summary="`environment` and `secrets` names unique within a container, and no name in both",
    source=CONTAINER_DOC,
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {environment: {DB_PASSWORD: x}}}\nallowPlaintext: [DB_PASSWORD]\n",
            path="containerDefinitions[web].environment[DB_PASSWORD]",
        ),
        good("containerDefinitions: {web: {environment: {DB_HOST: db}}}\n"),
    ],
)
def environment_names(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        environment = Counter(item.get("name") for item in container.get("environment") or [])
        secrets = Counter(item.get("name") for item in container.get("secrets") or [])
        for field_name, counts in (("environment", environment), ("secrets", secrets)):
            for name, count in counts.items():
                if count > 1:
                    yield Problem(
                        (*path, field_name, Item(str(name))),
                        f"{json.dumps(name)} appears {count} times in {field_name}",
                    )
        for name in sorted(set(environment) & set(secrets), key=str):
            yield Problem(
                (*path, "environment", Item(str(name))),
                f"{json.dumps(name)} is both an environment variable and a secret; keep one",
            )
