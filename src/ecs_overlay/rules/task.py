"""Task-level rules: Fargate sizes and network mode, ephemeral storage, the definition's size."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ..findings import WARNING, Severity
from .context import DEFAULT_MAX_SIZE, RuleContext, out_of_range
from .registry import Problem, bad, good, rule

# Fargate task sizes (Linux): cpu units → allowed memory (MiB).
FARGATE_SIZES: dict[int, range | tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}

TASK_SIZE_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size"


def describe_sizes(allowed: range | tuple[int, ...]) -> str:
    if isinstance(allowed, tuple):
        return ", ".join(map(str, allowed))
    return f"{allowed.start}–{allowed[-1]} in steps of {allowed.step}"


@rule(
    "fargate-task-size",
    summary="Fargate needs task-level cpu and memory, as one of the supported pairs (256 → 512/1024/2048; "
    "512 → 1024–4096; 1024 → 2048–8192; 2048 → 4096–16384; 4096 → 8192–30720 in 1 GiB steps; "
    "8192 → 16384–61440 in 4 GiB steps; 16384 → 32768–122880 in 8 GiB steps). `1 vCPU`, `.25 vcpu`, `2 GB` "
    "are read as ECS reads them and written as units",
    source=TASK_SIZE_DOC,
    ecs_error="No Fargate configuration exists for given values: 1024 CPU, 1024 memory. See the Amazon ECS "
    "documentation for the valid values.",
    offline=True,
    examples=[
        bad("cpu: 1024\nmemory: 1024\n", path="memory"),
        bad("cpu: 300\nmemory: 1024\n", path="cpu"),
        bad("cpu: null\n", path="cpu"),
        good("cpu: 1024\nmemory: 2048\n"),
        good("cpu: .25 vcpu\nmemory: .5 gb\n"),
        good("cpu: 1 vCPU\nmemory: 3 GB\n"),
    ],
)
def fargate_task_size(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.is_windows:  # Windows on Fargate has its own sizes: see windows-fargate-size
        yield from fargate_size_problems(ctx, FARGATE_SIZES, "Fargate")


def fargate_size_problems(
    ctx: RuleContext, sizes: Mapping[int, range | tuple[int, ...]], who: str
) -> Iterator[Problem]:
    """Task cpu and memory against one of Fargate's size tables (``who`` names the platform in messages)."""
    if ctx.partial and not _both_set_by_layers(ctx):
        return
    cpu, memory = ctx.task_units("cpu"), ctx.task_units("memory")
    if not ctx.is_fargate and not ctx.partial:
        return
    # On layers alone the launch type may come from the base: a wrong pair is then a warning.
    severity: Severity | None = None if ctx.is_fargate else WARNING
    condition = "" if ctx.is_fargate else " (if this task runs on Fargate)"
    for kind, units in (("cpu", cpu), ("memory", memory)):
        if ctx.taskdef.get(kind) is None:
            yield Problem((kind,), f"{who} tasks need a task-level {kind}; set `{kind}:`")
        elif units is None:
            example = "1024 or 1 vCPU" if kind == "cpu" else "2048 or 2 GB"
            shown = json.dumps(ctx.taskdef[kind])
            yield Problem((kind,), f"{shown} is not a {kind} size ECS understands (e.g. {example})")
    if cpu is None or memory is None:
        return
    if cpu not in sizes:
        yield Problem(("cpu",), f"{who} cpu {cpu} is not one of {', '.join(map(str, sizes))}{condition}", severity)
    elif memory not in sizes[cpu]:
        yield Problem(
            ("memory",),
            f"{who} cpu {cpu} is not compatible with memory {memory}; with cpu {cpu} memory must be "
            f"{describe_sizes(sizes[cpu])} (MiB){condition}",
            severity,
        )


def _both_set_by_layers(ctx: RuleContext) -> bool:
    return ctx.taskdef.get("cpu") is not None and ctx.taskdef.get("memory") is not None


@rule(
    "fargate-network-mode",
    summary="Fargate needs `networkMode: awsvpc`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-networkmode",
    ecs_error="Fargate only supports network mode 'awsvpc'.",
    examples=[bad("networkMode: bridge\n", path="networkMode"), good("networkMode: awsvpc\n")],
)
def fargate_network_mode(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.is_fargate and ctx.network_mode != "awsvpc":
        yield Problem(("networkMode",), f"Fargate tasks need networkMode awsvpc, not {json.dumps(ctx.network_mode)}")


@rule(
    "ephemeral-storage",
    summary="`ephemeralStorage.sizeInGiB` within 21–200",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EphemeralStorage.html",
    offline=True,
    examples=[
        bad("ephemeralStorage: {sizeInGiB: 20}\n", path="ephemeralStorage.sizeInGiB"),
        bad("ephemeralStorage: {sizeInGiB: 201}\n", path="ephemeralStorage.sizeInGiB"),
        good("ephemeralStorage: {sizeInGiB: 21}\n"),
        good("ephemeralStorage: {sizeInGiB: 200}\n"),
    ],
)
def ephemeral_storage(ctx: RuleContext) -> Iterator[Problem]:
    storage = (ctx.taskdef.get("ephemeralStorage") or {}).get("sizeInGiB")
    yield from out_of_range(("ephemeralStorage", "sizeInGiB"), "ephemeralStorage.sizeInGiB", storage, 21, 200)


@rule(
    "definition-size",
    summary="the task definition as compact JSON within ECS's 64 KiB (`--max-size` changes the limit)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html",
    examples=[
        bad("containerDefinitions: {web: {environment: {BLOB: " + "x" * 66_000 + "}}}\n", path=""),
        good("containerDefinitions: {web: {environment: {BLOB: " + "x" * 60_000 + "}}}\n"),
    ],
)
def definition_size(ctx: RuleContext) -> Iterator[Problem]:
    size = len(json.dumps(ctx.taskdef, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > ctx.max_size:
        yield Problem(
            (),
            f"the task definition is {size} bytes as compact JSON, over the limit of {ctx.max_size} "
            f"(ECS refuses more than {DEFAULT_MAX_SIZE}); move large values to secrets, SSM parameters "
            "or environmentFiles",
        )


@rule(
    "external-network-mode",
    summary="EXTERNAL (ECS Anywhere) task definitions do not use `networkMode: awsvpc`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere.html",
    note="The ECS Anywhere considerations list the awsvpc network mode as not supported on external instances; "
    "the AWS CDK refuses it for external task definitions ('External tasks can only have Bridge, Host or None "
    "network mode').",
    offline=True,
    examples=[
        bad("requiresCompatibilities: [EXTERNAL]\nnetworkMode: awsvpc\n", base="ec2", path="networkMode"),
        good("requiresCompatibilities: [EXTERNAL]\nnetworkMode: bridge\n", base="ec2"),
        good("networkMode: awsvpc\n"),
    ],
)
def external_network_mode(ctx: RuleContext) -> Iterator[Problem]:
    if "EXTERNAL" in ctx.compatibilities and ctx.network_mode == "awsvpc":
        yield Problem(
            ("networkMode",), "EXTERNAL (ECS Anywhere) tasks cannot use networkMode awsvpc; use bridge, host or none"
        )


TRUSTED_EXECUTION_DOC = (
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TrustedExecutionConfiguration.html"
)


@rule(
    "trusted-execution",
    summary="`trustedExecutionConfiguration` with a sandbox isolation mode runs on Managed Instances only, and "
    "`CONFIDENTIAL_SANDBOX` needs an `attestationPolicy`",
    source=TRUSTED_EXECUTION_DOC,
    note="'Trusted execution is supported only for Amazon ECS Managed Instances'; the default mode SHARED changes "
    "nothing, so it is not flagged on other launch types.",
    examples=[
        bad(
            "requiresCompatibilities: [MANAGED_INSTANCES]\n"
            "trustedExecutionConfiguration: {isolationMode: CONFIDENTIAL_SANDBOX}\n",
            base="ec2",
            path="trustedExecutionConfiguration.attestationPolicy",
        ),
        bad(
            "trustedExecutionConfiguration: {isolationMode: ISOLATED_SANDBOX}\n",
            base="ec2",
            path="trustedExecutionConfiguration.isolationMode",
        ),
        good(
            "requiresCompatibilities: [MANAGED_INSTANCES]\n"
            "trustedExecutionConfiguration: {isolationMode: CONFIDENTIAL_SANDBOX, attestationPolicy: ZXhhbXBsZQ==}\n",
            base="ec2",
        ),
        good("trustedExecutionConfiguration: {isolationMode: SHARED}\n", base="ec2"),
        good(
            "requiresCompatibilities: null\ntrustedExecutionConfiguration: {isolationMode: ISOLATED_SANDBOX}\n",
            base="ec2",
        ),
    ],
)
def trusted_execution(ctx: RuleContext) -> Iterator[Problem]:
    config = ctx.taskdef.get("trustedExecutionConfiguration")
    if not isinstance(config, dict):
        return
    mode = config.get("isolationMode")
    compatibilities = ctx.compatibilities  # none stated: whether it is meant for Managed Instances is unknown
    if (
        mode in ("ISOLATED_SANDBOX", "CONFIDENTIAL_SANDBOX")
        and compatibilities
        and "MANAGED_INSTANCES" not in compatibilities
    ):
        yield Problem(
            ("trustedExecutionConfiguration", "isolationMode"),
            f"isolationMode {mode} runs only on ECS Managed Instances; add MANAGED_INSTANCES to "
            "requiresCompatibilities",
        )
    if mode == "CONFIDENTIAL_SANDBOX" and not config.get("attestationPolicy"):
        yield Problem(
            ("trustedExecutionConfiguration", "attestationPolicy"),
            "isolationMode CONFIDENTIAL_SANDBOX needs an attestationPolicy (the base64-encoded policy envelope)",
        )
