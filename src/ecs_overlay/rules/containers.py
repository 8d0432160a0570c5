"""Container rules: memory, names, how many, which are essential, and what they refer to."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from ..findings import WARNING
from ..images import ecs_image_problem, is_placeholder, reference_problem
from ..keyed import Item, Path
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


@rule(
    "image-reference",
    summary="every container `image` is one ECS registers (letters, digits, `-_:./#`; a repository; at most 255 "
    "characters before a digest; a digest only `sha256:` + 64 hex) and, as a warning, one Docker can pull",
    source=CONTAINER_DOC,
    ecs_error="Container.image contains invalid characters. | Container.image repository should not be null or empty.",
    note="Render keeps CodePipeline placeholders such as `<IMAGE1_NAME>` (CodeDeploy's ECS action replaces them); "
    "register and deploy refuse them before any call. ECS registers uppercase repository names and `#`, which "
    "Docker's reference grammar refuses at pull: a warning, not an error.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {image: '$ECR_REGISTRY/shop:$TAG'}}\n", path="containerDefinitions[web].image"
        ),
        bad("containerDefinitions: {web: {image: '{{ .Env.IMAGE }}'}}\n", path="containerDefinitions[web].image"),
        bad("containerDefinitions: {web: {image: 'shop :1'}}\n", path="containerDefinitions[web].image"),
        bad("containerDefinitions: {web: {image: ':1.4.2'}}\n", path="containerDefinitions[web].image"),
        bad("containerDefinitions: {web: {image: 'shop@sha256:abc123'}}\n", path="containerDefinitions[web].image"),
        bad("containerDefinitions: {web: {image: 'shop:" + "1" * 252 + "'}}\n", path="containerDefinitions[web].image"),
        bad("containerDefinitions: {web: {image: 'Shop:1'}}\n", path="containerDefinitions[web].image"),
        good("containerDefinitions: {web: {image: 'shop@sha256:" + "a1" * 32 + "'}}\n"),
        good("containerDefinitions: {web: {image: 'registry.example.com:5000/team/shop:1.4.2'}}\n"),
        good("containerDefinitions: {web: {image: 'team/" + "a" * 240 + ":1'}}\n"),
        good("containerDefinitions: {web: {image: '<IMAGE1_NAME>'}}\n"),
    ],
)
def image_reference(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        image = container.get("image")
        if not isinstance(image, str) or is_placeholder(image):
            continue
        refused = ecs_image_problem(image)
        if refused:
            hint = " (in an overlay, ${VAR} is filled in from the environment; a bare $VAR stays as written)"
            yield Problem(
                (*path, "image"), f"ECS refuses the image {json.dumps(image)}: {refused}{hint if '$' in image else ''}"
            )
        elif (unpullable := reference_problem(image)) is not None:
            yield Problem(
                (*path, "image"),
                f"ECS registers the image {json.dumps(image)} but Docker cannot pull it: {unpullable}",
                WARNING,
            )


RESOURCE_REQUIREMENT_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ResourceRequirement.html"


@rule(
    "resource-requirements",
    summary="a GPU requirement has `value` or `sharingStrategy` (not both; all GPU containers alike; not on "
    "EXTERNAL), `sharingStrategy` only for GPUs; `NeuronDevice` is `ALL`, in one container, on Managed Instances; "
    "an `InferenceAccelerator` names a task `inferenceAccelerators` device",
    source=RESOURCE_REQUIREMENT_DOC,
    note="The Managed Instances conditions are checked only where requiresCompatibilities is stated. "
    "Neuron devices can also be passed by hand as `linuxParameters.devices` (EC2 and Managed Instances); the "
    "Neuron guide says to use one approach, not both, which is advice rather than a rejection: not checked.",
    examples=[
        bad(
            "containerDefinitions: {web: {resourceRequirements: [{type: GPU, value: '1', "
            "sharingStrategy: {nvidiaMps: {memory: 4096}}}]}}\n",
            base="ec2",
            path="containerDefinitions[web].resourceRequirements[GPU]",
        ),
        bad(
            "containerDefinitions: {web: {resourceRequirements: [{type: GPU, value: '1'}]}, "
            "worker: {resourceRequirements: [{type: GPU, sharingStrategy: {nvidiaMps: {memory: 4096}}}]}}\n",
            base="ec2",
            path="containerDefinitions",
        ),
        bad(
            "requiresCompatibilities: [EXTERNAL]\ncontainerDefinitions: {web: {resourceRequirements: "
            "[{type: GPU, sharingStrategy: {nvidiaMps: {memory: 4096}}}]}}\n",
            base="ec2",
            path="containerDefinitions[web].resourceRequirements[GPU].sharingStrategy",
        ),
        bad(
            "requiresCompatibilities: [MANAGED_INSTANCES]\n"
            "containerDefinitions: {web: {resourceRequirements: [{type: NeuronDevice, value: '2'}]}}\n",
            base="ec2",
            path="containerDefinitions[web].resourceRequirements[NeuronDevice].value",
        ),
        bad(
            "containerDefinitions: {web: {resourceRequirements: [{type: NeuronDevice, value: ALL}]}}\n",
            base="ec2",
            path="containerDefinitions[web].resourceRequirements[NeuronDevice]",
        ),
        bad(
            "containerDefinitions: {web: {resourceRequirements: [{type: InferenceAccelerator, value: device_1}]}}\n",
            base="ec2",
            path="containerDefinitions[web].resourceRequirements[InferenceAccelerator].value",
        ),
        good(
            "containerDefinitions: {web: {resourceRequirements: [{type: GPU, sharingStrategy: "
            "{nvidiaMps: {memory: 4096, maxComputePercent: 50}}}]}, worker: {resourceRequirements: "
            "[{type: GPU, sharingStrategy: {nvidiaMps: {memory: 2048}}}]}}\n",
            base="ec2",
        ),
        good(
            "requiresCompatibilities: [MANAGED_INSTANCES]\n"
            "containerDefinitions: {web: {resourceRequirements: [{type: NeuronDevice, value: ALL}]}}\n",
            base="ec2",
        ),
        good(
            "requiresCompatibilities: null\n"
            "containerDefinitions: {web: {resourceRequirements: [{type: NeuronDevice, value: ALL}]}}\n",
            base="ec2",
        ),
        good(
            "inferenceAccelerators: [{deviceName: device_1, deviceType: eia2.medium}]\n"
            "containerDefinitions: {web: {resourceRequirements: [{type: InferenceAccelerator, value: device_1}]}}\n",
            base="ec2",
        ),
    ],
)
def resource_requirements(ctx: RuleContext) -> Iterator[Problem]:
    accelerators = {
        str(device.get("deviceName"))
        for device in ctx.taskdef.get("inferenceAccelerators") or []
        if isinstance(device, dict)
    }
    gpu_forms: dict[str, Path] = {}
    neuron: list[Path] = []
    compatibilities = ctx.compatibilities
    for path, container in ctx.containers():
        for requirement in container.get("resourceRequirements") or []:
            if not isinstance(requirement, dict):
                continue
            kind, value, sharing = requirement.get("type"), requirement.get("value"), requirement.get("sharingStrategy")
            where: Path = (*path, "resourceRequirements", Item(str(kind)))
            if sharing is not None and kind != "GPU":
                yield Problem((*where, "sharingStrategy"), f"sharingStrategy is for GPU requirements only, not {kind}")
            if kind == "GPU":
                if (value is None) == (sharing is None):
                    yield Problem(where, "a GPU requirement takes either `value` (whole GPUs) or `sharingStrategy`")
                    continue
                gpu_forms.setdefault("sharingStrategy" if sharing is not None else "value", path)
                if sharing is not None and "EXTERNAL" in compatibilities:
                    yield Problem(
                        (*where, "sharingStrategy"), "GPU sharing is not supported on EXTERNAL (ECS Anywhere) tasks"
                    )
            elif kind == "NeuronDevice":
                neuron.append(path)
                if value != "ALL":
                    yield Problem((*where, "value"), f"a NeuronDevice value must be ALL, not {json.dumps(value)}")
                if compatibilities and "MANAGED_INSTANCES" not in compatibilities:
                    yield Problem(
                        where,
                        "NeuronDevice requirements run only on Managed Instances: add MANAGED_INSTANCES to "
                        "requiresCompatibilities, or pass the devices as linuxParameters.devices on EC2",
                    )
            elif kind == "InferenceAccelerator" and str(value) not in accelerators:
                yield Problem(
                    (*where, "value"),
                    f"no task inferenceAccelerators entry has the deviceName {json.dumps(value)}",
                )
    if len(gpu_forms) > 1:
        yield Problem(
            ("containerDefinitions",),
            "the containers that request GPUs must all use the same form: all `value` or all `sharingStrategy`",
        )
    if len(neuron) > 1:
        yield Problem(neuron[1], "only one container in a task can request NeuronDevice resources")


SYSTEM_CONTROL_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_SystemControl.html"
# The namespaced kernel parameters ECS (and Docker) accept, by namespace.
_IPC_SYSCTLS = frozenset(
    ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni")
) | {"kernel.shm_rmid_forced"}


def sysctl_namespace(name: str) -> str | None:
    """``ipc`` or ``network`` for a namespaced kernel parameter, None for one the container cannot set."""
    if name in _IPC_SYSCTLS or name.startswith("fs.mqueue."):
        return "ipc"
    if name.startswith("net."):
        return "network"
    return None


@rule(
    "system-controls",
    summary="`systemControls` set only namespaced kernel parameters (`kernel.msg*`, `kernel.sem`, `kernel.shm*`, "
    "`fs.mqueue.*`, `net.*`), no IPC ones with `ipcMode: host` and no `net.*` with `networkMode: host`",
    source=SYSTEM_CONTROL_DOC,
    note="Docker refuses any other sysctl when it creates the container ('sysctl … is not whitelisted' / 'not "
    "allowed in host network namespace'), so the task cannot start: an error, though registration may accept it.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {systemControls: [{namespace: vm.swappiness, value: '10'}]}}\n",
            base="ec2",
            path="containerDefinitions[web].systemControls[vm.swappiness]",
        ),
        bad(
            "ipcMode: host\ncontainerDefinitions: {web: {systemControls: [{namespace: kernel.shmmax, "
            "value: '68719476736'}]}}\n",
            base="ec2",
            path="containerDefinitions[web].systemControls[kernel.shmmax]",
        ),
        bad(
            "networkMode: host\ncontainerDefinitions: {web: {portMappings: [{containerPort: 80}], systemControls: "
            "[{namespace: net.core.somaxconn, value: '1024'}]}}\n",
            base="ec2",
            path="containerDefinitions[web].systemControls[net.core.somaxconn]",
        ),
        good(
            "ipcMode: task\ncontainerDefinitions: {web: {systemControls: [{namespace: kernel.shmmax, "
            "value: '68719476736'}, {namespace: net.core.somaxconn, value: '1024'}, "
            "{namespace: fs.mqueue.msg_max, value: '64'}]}}\n",
            base="ec2",
        ),
    ],
)
def system_controls(ctx: RuleContext) -> Iterator[Problem]:
    host_ipc, host_network = ctx.taskdef.get("ipcMode") == "host", ctx.network_mode == "host"
    for path, container in ctx.containers():
        for control in container.get("systemControls") or []:
            name = control.get("namespace") if isinstance(control, dict) else None
            if not isinstance(name, str):
                continue
            where = (*path, "systemControls", Item(name))
            namespace = sysctl_namespace(name)
            if namespace is None:
                yield Problem(
                    where,
                    f"{name} is not a namespaced kernel parameter; a container can set only kernel.msg*, kernel.sem, "
                    "kernel.shm*, fs.mqueue.* and net.* (set others on the host)",
                )
            elif namespace == "ipc" and host_ipc:
                yield Problem(where, f"{name} is an IPC parameter, which a task with ipcMode host cannot set")
            elif namespace == "network" and host_network:
                yield Problem(where, f"{name} is a network parameter, which a task with networkMode host cannot set")
