"""Fargate rules: the parameters Fargate refuses (typical when an EC2 definition moves), and Windows on Fargate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..findings import WARNING
from ..keyed import Item, Path
from .context import RuleContext
from .registry import Problem, bad, good, rule
from .task import FARGATE_SIZES, TASK_SIZE_DOC, fargate_size_problems

FARGATE_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html"
WINDOWS_DOC = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#windows-considerations"
)
_ON_EC2 = "or run the task on EC2 (`requiresCompatibilities: [EC2]`)"
# The one Linux capability Fargate lets a container add (platform version 1.4.0 and later).
_FARGATE_CAPABILITIES = frozenset({"SYS_PTRACE", "CAP_SYS_PTRACE"})
# Windows on Fargate: 1 vCPU at least, and none of the 8 and 16 vCPU sizes (those need Linux platform 1.4.0).
WINDOWS_FARGATE_SIZES = {cpu: FARGATE_SIZES[cpu] for cpu in (1024, 2048, 4096)}
# Container parameters the task definition reference marks "not supported for Windows containers"
# that the Fargate rule does not already report.
_WINDOWS_CONTAINER_FIELDS = ("linuxParameters", "user", "readonlyRootFilesystem", "ulimits", "systemControls")


def _set(value: Any) -> bool:
    """A value that asks for something; `null`, `false`, `[]` and `{}` ask for nothing."""
    return value is not None and value is not False and value != [] and value != {}


def _fargate_task_fields(ctx: RuleContext) -> Iterator[tuple[Path, str]]:
    task = ctx.taskdef
    if _set(task.get("ipcMode")):
        yield ("ipcMode",), "Fargate does not support ipcMode; remove it"
    pid_mode = task.get("pidMode")
    if _set(pid_mode) and pid_mode != "task" and not ctx.is_windows:
        yield ("pidMode",), f'Fargate supports only pidMode "task", not {json.dumps(pid_mode)}'
    if _set(task.get("placementConstraints")):
        yield ("placementConstraints",), "Fargate does not support placementConstraints; remove them"
    for volume in task.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        path: Path = ("volumes", Item(str(volume.get("name"))))
        host = volume.get("host")
        if isinstance(host, dict) and _set(host.get("sourcePath")):
            yield (
                (*path, "host", "sourcePath"),
                "Fargate has no host paths: a Fargate bind mount is task storage; remove sourcePath "
                "(keep `host: {}`), or use an EFS volume for shared data",
            )
        if _set(volume.get("fsxWindowsFileServerVolumeConfiguration")):
            yield (
                (*path, "fsxWindowsFileServerVolumeConfiguration"),
                "FSx for Windows File Server volumes do not work on Fargate; run the task on Windows EC2 "
                "instances (`requiresCompatibilities: [EC2]`)",
            )
        if _set(volume.get("dockerVolumeConfiguration")):
            yield (
                (*path, "dockerVolumeConfiguration"),
                "Fargate does not support Docker volumes; use a bind mount (`host: {}`) or an EFS volume "
                "(efsVolumeConfiguration)",
            )


_CONTAINER_FIELDS = ("dnsServers", "dnsSearchDomains", "dockerSecurityOptions", "extraHosts")
_LINUX_FIELDS = ("devices", "sharedMemorySize", "tmpfs", "maxSwap", "swappiness")


def _fargate_container_fields(ctx: RuleContext) -> Iterator[tuple[Path, str]]:
    for path, container in ctx.containers():
        if container.get("privileged") is True:
            yield (*path, "privileged"), f"Fargate does not run privileged containers; remove privileged {_ON_EC2}"
        if container.get("disableNetworking") is True:
            yield (*path, "disableNetworking"), "Fargate does not support disableNetworking; remove it"
        for name in _CONTAINER_FIELDS:
            if _set(container.get(name)):
                yield (*path, name), f"Fargate does not support {name}; remove it {_ON_EC2}"
        for requirement in container.get("resourceRequirements") or []:
            if isinstance(requirement, dict) and requirement.get("type") == "GPU":
                yield (
                    (*path, "resourceRequirements", Item("GPU")),
                    "Fargate has no GPUs; remove the GPU resourceRequirement, or run the task on EC2 GPU instances "
                    "(`requiresCompatibilities: [EC2]`)",
                )
        linux = container.get("linuxParameters")
        if not isinstance(linux, dict) or ctx.is_windows:
            continue  # Windows containers take no linuxParameters at all: see windows-fargate-unsupported
        for name in _LINUX_FIELDS:
            if _set(linux.get(name)):
                yield (*path, "linuxParameters", name), f"Fargate does not support linuxParameters.{name}; remove it"
        capabilities = linux.get("capabilities")
        added = capabilities.get("add") if isinstance(capabilities, dict) else None
        refused = [cap for cap in added or [] if str(cap).upper() not in _FARGATE_CAPABILITIES]
        if refused:
            yield (
                (*path, "linuxParameters", "capabilities", "add"),
                f"Fargate lets a container add only the SYS_PTRACE capability, not "
                f"{', '.join(json.dumps(cap) for cap in refused)}; remove {'them' if len(refused) > 1 else 'it'} "
                f"{_ON_EC2}",
            )


@rule(
    "fargate-unsupported-parameter",
    summary="no parameter Fargate refuses: `ipcMode`, a `pidMode` other than `task`, `placementConstraints`, "
    "`host.sourcePath`, `dockerVolumeConfiguration` and FSx for Windows File Server volumes, `privileged`, "
    "`disableNetworking`, `dnsServers`, `dnsSearchDomains`, `dockerSecurityOptions`, `extraHosts`, GPU "
    "`resourceRequirements`, and in "
    "`linuxParameters`: `devices`, `sharedMemorySize`, `tmpfs`, `maxSwap`, `swappiness` and added capabilities "
    "other than `SYS_PTRACE`",
    source=FARGATE_DOC,
    ecs_error="Tasks using the Fargate launch type do not support ipcMode. | Fargate compatible task definitions "
    "do not support sourcePath",
    note="ECS validates a task definition against its requiresCompatibilities and returns a ClientException when "
    "it does not validate (task definition parameters, 'requiresCompatibilities'); the texts above are quoted in "
    "cn-terraform/terraform-aws-ecs-fargate#2 and cloudposse/terraform-aws-ecs-alb-service-task#174. Older "
    "versions of the Fargate page also listed `pidMode` and `systemControls`; today Fargate (platform 1.4.0) "
    "accepts `pidMode: task` (aws-cdk#30020: only `task` is allowed) and namespaced systemControls, so neither is "
    "refused here. FSx for Windows File Server 'doesn't support AWS Fargate' (wfsx-volumes considerations; "
    "containers-roadmap#1654 is still open). `links` and `hostname` are refused by the awsvpc network mode that "
    "Fargate requires and are reported by the networking rules. Only values that ask for something are "
    "reported (`privileged: false`, `dnsServers: []` are left alone)",
    offline=True,
    examples=[
        bad("ipcMode: host\n", path="ipcMode"),
        bad("pidMode: host\n", path="pidMode"),
        bad("placementConstraints: [{type: memberOf, expression: 'attribute:ecs.os-type == linux'}]\n"),
        bad(
            "volumes: {logs: {host: {sourcePath: /var/log/shop}}}\n"
            "containerDefinitions: {web: {mountPoints: {/logs: {sourceVolume: logs}}}}\n",
            path="volumes[logs].host.sourcePath",
        ),
        bad(
            "volumes: {cache: {dockerVolumeConfiguration: {scope: task, driver: local}}}\n",
            path="volumes[cache].dockerVolumeConfiguration",
        ),
        bad(
            "volumes: {share: {fsxWindowsFileServerVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, "
            "rootDirectory: share, authorizationConfig: {credentialsParameter: "
            "'arn:aws:secretsmanager:eu-west-1:111111111111:secret:fsx-AbCdEf', domain: corp.example.com}}}}\n",
            base="windows",
            path="volumes[share].fsxWindowsFileServerVolumeConfiguration",
        ),
        bad("containerDefinitions: {web: {privileged: true}}\n", path="containerDefinitions[web].privileged"),
        bad("containerDefinitions: {web: {dnsServers: [10.0.0.2]}}\n", path="containerDefinitions[web].dnsServers"),
        bad(
            "containerDefinitions: {web: {extraHosts: {db.internal: 10.0.0.5}}}\n",
            path="containerDefinitions[web].extraHosts",
        ),
        bad(
            "containerDefinitions: {web: {resourceRequirements: {GPU: '1'}}}\n",
            path="containerDefinitions[web].resourceRequirements[GPU]",
        ),
        bad(
            "containerDefinitions: {web: {linuxParameters: {sharedMemorySize: 256}}}\n",
            path="containerDefinitions[web].linuxParameters.sharedMemorySize",
        ),
        bad(
            "containerDefinitions: {web: {linuxParameters: {capabilities: {add: [SYS_PTRACE, NET_ADMIN]}}}}\n",
            path="containerDefinitions[web].linuxParameters.capabilities.add",
        ),
        good("pidMode: task\n"),
        good("containerDefinitions: {web: {linuxParameters: {capabilities: {add: [SYS_PTRACE], drop: [ALL]}}}}\n"),
        good("containerDefinitions: {web: {linuxParameters: {initProcessEnabled: true}, privileged: false}}\n"),
        good(
            "volumes: {scratch: {host: {}}}\n"
            "containerDefinitions: {web: {mountPoints: {/scratch: {sourceVolume: scratch}}}}\n"
        ),
        good("containerDefinitions: {web: {privileged: true, linuxParameters: {sharedMemorySize: 256}}}\n", base="ec2"),
        good("ipcMode: host\npidMode: host\nvolumes: {logs: {host: {sourcePath: /var/log}}}\n", base="ec2"),
    ],
)
def fargate_unsupported_parameters(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.is_fargate:
        return
    for path, message in (*_fargate_task_fields(ctx), *_fargate_container_fields(ctx)):
        yield Problem(path, message)


def _windows_on_fargate(ctx: RuleContext) -> bool:
    return ctx.is_fargate and ctx.is_windows


@rule(
    "windows-fargate-size",
    summary="Windows on Fargate needs task-level cpu and memory as one of its pairs: 1024 → 2048–8192; "
    "2048 → 4096–16384; 4096 → 8192–30720 (MiB, 1 GiB steps); at least 1 vCPU, no 8 or 16 vCPU sizes",
    source=TASK_SIZE_DOC,
    ecs_error="No Fargate configuration exists for given values.",
    note="The API reference: 'The CPU units cannot be less than 1 vCPU when you use Windows containers on "
    "Fargate'; the 8 and 16 vCPU sizes 'require Linux platform 1.4.0 or later'. fargate-task-size checks Linux tasks",
    offline=True,
    examples=[
        bad("cpu: 512\nmemory: 1024\n", base="windows", path="cpu"),
        bad("cpu: 1024\nmemory: 1024\n", base="windows", path="memory"),
        bad("cpu: 8192\nmemory: 16384\n", base="windows", path="cpu"),
        bad("memory: null\n", base="windows", path="memory"),
        good("cpu: 2048\nmemory: 16 GB\n", base="windows"),
        good("cpu: 4 vCPU\nmemory: 30720\n", base="windows"),
        good("cpu: 512\nmemory: 1024\n"),
    ],
)
def windows_fargate_size(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.is_windows:
        yield from fargate_size_problems(ctx, WINDOWS_FARGATE_SIZES, "Windows on Fargate")


# Windows versions ECS runs on EC2 only (the task definition reference lists them for EC2, not for Fargate).
_EC2_ONLY_WINDOWS = ("WINDOWS_SERVER_2016_FULL", "WINDOWS_SERVER_2004_CORE", "WINDOWS_SERVER_20H2_CORE")


@rule(
    "fargate-operating-system",
    summary="Fargate runs Linux and Windows Server 2019 and 2022: not the EC2-only "
    "`WINDOWS_SERVER_2016_FULL`, `WINDOWS_SERVER_2004_CORE` or `WINDOWS_SERVER_20H2_CORE`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform",
    note="The task definition reference lists the operatingSystemFamily values for Fargate (LINUX, "
    "WINDOWS_SERVER_2019_FULL/CORE, WINDOWS_SERVER_2022_FULL/CORE) and, separately, the longer list for EC2. "
    "Values newer than that page (WINDOWS_SERVER_2025_*) are left alone",
    offline=True,
    examples=[
        bad(
            "runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2016_FULL}\n",
            base="windows",
            path="runtimePlatform.operatingSystemFamily",
        ),
        good("runtimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2019_FULL}\n", base="windows"),
        good(
            "requiresCompatibilities: [EC2]\nruntimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2016_FULL}\n",
            base="windows",
        ),
    ],
)
def fargate_operating_system(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.is_fargate and ctx.os_family in _EC2_ONLY_WINDOWS:
        yield Problem(
            ("runtimePlatform", "operatingSystemFamily"),
            f"Fargate does not run {ctx.os_family}; use WINDOWS_SERVER_2019_CORE/FULL or "
            "WINDOWS_SERVER_2022_CORE/FULL, or run the task on EC2",
        )


@rule(
    "windows-fargate-architecture",
    summary="Windows on Fargate runs on X86_64 only: `runtimePlatform.cpuArchitecture` is `X86_64` or left out",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-task-os",
    note="The Fargate page: 'When you run Windows containers on AWS Fargate, you must have the X86_64 CPU "
    "architecture'",
    offline=True,
    examples=[
        bad("runtimePlatform: {cpuArchitecture: ARM64}\n", base="windows", path="runtimePlatform.cpuArchitecture"),
        good("runtimePlatform: {cpuArchitecture: null}\n", base="windows"),
        good("runtimePlatform: {cpuArchitecture: ARM64}\n"),
    ],
)
def windows_fargate_architecture(ctx: RuleContext) -> Iterator[Problem]:
    architecture = (ctx.taskdef.get("runtimePlatform") or {}).get("cpuArchitecture")
    if _windows_on_fargate(ctx) and architecture not in (None, "X86_64"):
        yield Problem(
            ("runtimePlatform", "cpuArchitecture"),
            f"Windows containers on Fargate run on X86_64 only, not {json.dumps(architecture)}; "
            "set `runtimePlatform: {cpuArchitecture: X86_64}`",
        )


def _windows_unsupported(ctx: RuleContext) -> Iterator[tuple[Path, str]]:
    task = ctx.taskdef
    if _set(task.get("pidMode")):
        yield ("pidMode",), "Windows containers do not support pidMode; remove it"
    if _set(task.get("ephemeralStorage")):
        yield ("ephemeralStorage",), "Windows on Fargate has no configurable ephemeral storage; remove ephemeralStorage"
    if _set(task.get("proxyConfiguration")):
        yield ("proxyConfiguration",), "Windows on Fargate has no App Mesh proxy integration; remove proxyConfiguration"
    for volume in task.get("volumes") or []:
        if isinstance(volume, dict) and _set(volume.get("efsVolumeConfiguration")):
            yield (
                ("volumes", Item(str(volume.get("name"))), "efsVolumeConfiguration"),
                "Windows on Fargate cannot mount EFS volumes; use a Linux task, or a bind mount",
            )
    for path, container in ctx.containers():
        for name in _WINDOWS_CONTAINER_FIELDS:
            if _set(container.get(name)):
                yield (*path, name), f"Windows containers do not support {name}; remove it"
        if _set(container.get("firelensConfiguration")):
            yield (
                (*path, "firelensConfiguration"),
                "Windows on Fargate has no FireLens log routing; use the awslogs log driver",
            )


@rule(
    "windows-fargate-unsupported",
    summary="no feature Windows on Fargate lacks: `pidMode`, `ephemeralStorage`, `proxyConfiguration` (App Mesh), "
    "EFS volumes, FireLens, and the container parameters Windows containers do not take (`linuxParameters`, "
    "`user`, `readonlyRootFilesystem`, `ulimits`, `systemControls`)",
    source=WINDOWS_DOC,
    severity=WARNING,
    note="The Fargate page lists the features Windows containers on Fargate do not support, and the task "
    "definition reference marks these container parameters 'not supported for Windows containers'; no ECS "
    "error text was found for them, so they are warnings: they cannot take effect on a Windows task. "
    "Parameters Fargate refuses for every OS (`privileged`, `ipcMode`, …) are reported by "
    "fargate-unsupported-parameter",
    offline=True,
    examples=[
        bad("ephemeralStorage: {sizeInGiB: 30}\n", base="windows", path="ephemeralStorage"),
        bad(
            "containerDefinitions: {web: {readonlyRootFilesystem: true}}\n",
            base="windows",
            path="containerDefinitions[web].readonlyRootFilesystem",
        ),
        bad(
            "containerDefinitions: {web: {ulimits: {nofile: {softLimit: 2048, hardLimit: 8192}}}}\n",
            base="windows",
            path="containerDefinitions[web].ulimits",
        ),
        bad(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0}}}\n",
            base="windows",
            path="volumes[shared].efsVolumeConfiguration",
        ),
        good("containerDefinitions: {web: {readonlyRootFilesystem: false}}\n", base="windows"),
        good("containerDefinitions: {web: {ulimits: {nofile: {softLimit: 2048, hardLimit: 8192}}}}\n"),
        good("ephemeralStorage: {sizeInGiB: 30}\n"),
    ],
)
def windows_fargate_unsupported(ctx: RuleContext) -> Iterator[Problem]:
    if _windows_on_fargate(ctx):
        for path, message in _windows_unsupported(ctx):
            yield Problem(path, message)
