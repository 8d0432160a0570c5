"""Limits rules: names, the containers' cpu against the task's, and the numeric ranges ECS documents."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..findings import WARNING
from ..keyed import Item, Path
from .context import RuleContext, is_int, out_of_range
from .examples import example_base
from .registry import Problem, bad, good, rule

CONTAINER_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
HEALTH_CHECK_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html"

# Family, container and volume names: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens".
NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
NAME_RULE = "up to 255 letters, digits, hyphens (-) and underscores (_)"


@rule(
    "family-name",
    summary=f"`family` is {NAME_RULE}",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ecs_error="Family contains invalid characters.",
    offline=True,
    examples=[
        bad("family: shop.web\n", path="family"),
        bad("family: shop web\n", path="family"),
        good("family: shop_web-2\n"),
    ],
)
def family_name(ctx: RuleContext) -> Iterator[Problem]:
    family = ctx.taskdef.get("family")
    if isinstance(family, str) and not NAME.match(family):
        yield Problem(("family",), f"family {json.dumps(family)} must be {NAME_RULE}")


@rule(
    "container-name",
    summary=f"every container has a `name` of {NAME_RULE}",
    source=CONTAINER_DOC,
    ecs_error="Container.name contains invalid characters.",
    offline=True,
    examples=[
        bad(taskdef={"family": "x", "containerDefinitions": [{"name": "my app", "image": "i", "memory": 64}]}),
        bad(
            taskdef={"family": "x", "containerDefinitions": [{"image": "i", "memory": 64}]},
            path="containerDefinitions[0]",
        ),
        good(taskdef={"family": "x", "containerDefinitions": [{"name": "my_app-1", "image": "i", "memory": 64}]}),
    ],
)
def container_name(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        name = container.get("name")
        if name is None or name == "":
            if not ctx.partial:  # the base may name it
                yield Problem(path, "the container has no name; give it one (" + NAME_RULE + ")")
        elif not NAME.match(str(name)):
            yield Problem((*path, "name"), f"container name {json.dumps(name)} must be {NAME_RULE}")


@rule(
    "no-containers",
    summary="a task definition has at least one container",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ecs_error="Container list cannot be empty.",
    examples=[
        bad(taskdef={"family": "x", "containerDefinitions": []}, path="containerDefinitions"),
        good(taskdef={"family": "x", "containerDefinitions": [{"name": "a", "image": "i", "memory": 64}]}),
    ],
)
def no_containers(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.taskdef.get("containerDefinitions"):
        yield Problem(("containerDefinitions",), "the task definition has no containers; add at least one")


@rule(
    "volume-name",
    summary=f"every volume `name` is {NAME_RULE}",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Volume.html",
    offline=True,
    examples=[
        bad("volumes: {cache.data: {}}\n", path="volumes[cache.data].name"),
        good("volumes: {cache_data-1: {}}\n"),
    ],
)
def volume_name(ctx: RuleContext) -> Iterator[Problem]:
    for volume in ctx.taskdef.get("volumes") or []:
        name = volume.get("name") if isinstance(volume, dict) else None
        if isinstance(name, str) and not NAME.match(name):
            yield Problem(("volumes", Item(name), "name"), f"volume name {json.dumps(name)} must be {NAME_RULE}")


@rule(
    "container-cpu",
    summary="the containers' `cpu` together within the task's `cpu`",
    source=CONTAINER_DOC,
    ecs_error="The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    note="The developer guide says the containers' total must be 'lower than' the task cpu; ECS's own error "
    "('cannot be greater than') and common practice (one container with the task's whole cpu) allow equal, "
    "which we follow.",
    examples=[
        bad("containerDefinitions: {web: {cpu: 256}, envoy: {cpu: 128}}\n", path="containerDefinitions"),
        bad("containerDefinitions: {web: {cpu: 512}}\n", path="containerDefinitions[web].cpu"),
        good("containerDefinitions: {web: {cpu: 128}, envoy: {cpu: 128}}\n"),
        good("containerDefinitions: {web: {cpu: 256}}\n"),
    ],
)
def container_cpu(ctx: RuleContext) -> Iterator[Problem]:
    task_cpu = ctx.task_units("cpu")
    if task_cpu is None or ctx.is_windows and not ctx.is_fargate:
        return  # Windows on EC2 ignores the task-level cpu
    shares = [(path, container["cpu"]) for path, container in ctx.containers() if is_int(container.get("cpu"))]
    for path, cpu in shares:
        if cpu > task_cpu:
            yield Problem(
                (*path, "cpu"), f"container cpu {cpu} is more than the task's cpu {task_cpu}; lower it or raise `cpu`"
            )
    total = sum(cpu for _, cpu in shares)
    if len(shares) > 1 and total > task_cpu:
        yield Problem(
            ("containerDefinitions",),
            f"the containers' cpu add up to {total}, more than the task's cpu {task_cpu}; lower them or raise `cpu`",
        )


@rule(
    "health-check-range",
    summary="`healthCheck` `interval` 5–300 s, `timeout` 2–120 s, `retries` 1–10, `startPeriod` 0–300 s",
    source=HEALTH_CHECK_DOC,
    note="The archived developer guide gives timeout 2–60 s; the current API reference 2–120 s. We refuse only "
    "what both refuse (below 2 or above 120).",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {healthCheck: {command: [CMD, /health], interval: 3}}}\n",
            path="containerDefinitions[web].healthCheck.interval",
        ),
        bad(
            "containerDefinitions: {web: {healthCheck: {command: [CMD, /health], retries: 0}}}\n",
            path="containerDefinitions[web].healthCheck.retries",
        ),
        bad(
            "containerDefinitions: {web: {healthCheck: {command: [CMD, /health], startPeriod: 600}}}\n",
            path="containerDefinitions[web].healthCheck.startPeriod",
        ),
        good(
            "containerDefinitions: {web: {healthCheck: {command: [CMD, /health], interval: 5, timeout: 2, "
            "retries: 10, startPeriod: 0}}}\n"
        ),
        good("containerDefinitions: {web: {healthCheck: {command: [CMD, /health], interval: 300, timeout: 90}}}\n"),
    ],
)
def health_check_range(ctx: RuleContext) -> Iterator[Problem]:
    limits = {
        "interval": (5, 300, " s"),
        "timeout": (2, 120, " s"),
        "retries": (1, 10, ""),
        "startPeriod": (0, 300, " s"),
    }
    for path, container in ctx.containers():
        check = container.get("healthCheck")
        if not isinstance(check, dict):
            continue
        for key, (low, high, unit) in limits.items():
            yield from out_of_range((*path, "healthCheck", key), f"healthCheck.{key}", check.get(key), low, high, unit)


@rule(
    "restart-policy-range",
    summary="`restartPolicy.restartAttemptPeriod` 60–1800 s and at most 50 `ignoredExitCodes`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerRestartPolicy.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {restartPolicy: {enabled: true, restartAttemptPeriod: 30}}}\n",
            path="containerDefinitions[web].restartPolicy.restartAttemptPeriod",
        ),
        bad(
            "containerDefinitions: {web: {restartPolicy: {enabled: true, ignoredExitCodes: ["
            + ", ".join(map(str, range(51)))
            + "]}}}\n",
            path="containerDefinitions[web].restartPolicy.ignoredExitCodes",
        ),
        good("containerDefinitions: {web: {restartPolicy: {enabled: true, restartAttemptPeriod: 60}}}\n"),
        good("containerDefinitions: {web: {restartPolicy: {enabled: true, restartAttemptPeriod: 1800}}}\n"),
    ],
)
def restart_policy_range(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        policy = container.get("restartPolicy")
        if not isinstance(policy, dict):
            continue
        period = (*path, "restartPolicy", "restartAttemptPeriod")
        yield from out_of_range(period, "restartAttemptPeriod", policy.get("restartAttemptPeriod"), 60, 1800, " s")
        codes = policy.get("ignoredExitCodes")
        if isinstance(codes, list) and len(codes) > 50:
            yield Problem(
                (*path, "restartPolicy", "ignoredExitCodes"), f"{len(codes)} ignoredExitCodes; ECS allows at most 50"
            )


@rule(
    "container-timeouts",
    summary="on Fargate, `startTimeout` 2–120 s and `stopTimeout` at most 120 s",
    source=CONTAINER_DOC,
    examples=[
        bad("containerDefinitions: {web: {stopTimeout: 300}}\n", path="containerDefinitions[web].stopTimeout"),
        bad("containerDefinitions: {envoy: {startTimeout: 1}}\n", path="containerDefinitions[envoy].startTimeout"),
        good("containerDefinitions: {web: {stopTimeout: 120, startTimeout: 120}}\n"),
        good("containerDefinitions: {web: {stopTimeout: 300}}\n", base="ec2"),
    ],
)
def container_timeouts(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.is_fargate:
        return  # on EC2 the agent's own settings bound them
    for path, container in ctx.containers():
        start, stop = container.get("startTimeout"), container.get("stopTimeout")
        yield from out_of_range((*path, "startTimeout"), "on Fargate startTimeout", start, 2, 120, " s")
        yield from out_of_range((*path, "stopTimeout"), "on Fargate stopTimeout", stop, 0, 120, " s")


@rule(
    "ulimit-range",
    summary="each `ulimits` entry has `softLimit` ≤ `hardLimit`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Ulimit.html",
    severity=WARNING,
    note="ECS does not document refusing it; Linux refuses a soft limit above the hard one (setrlimit: EINVAL), "
    "so the container fails to start: a warning.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {ulimits: {nofile: {softLimit: 65536, hardLimit: 4096}}}}\n",
            path="containerDefinitions[web].ulimits[nofile].softLimit",
        ),
        good("containerDefinitions: {web: {ulimits: {nofile: {softLimit: 65536, hardLimit: 65536}}}}\n"),
    ],
)
def ulimit_range(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        for limit in container.get("ulimits") or []:
            soft, hard = limit.get("softLimit"), limit.get("hardLimit")
            if is_int(soft) and is_int(hard) and soft > hard:
                yield Problem(
                    (*path, "ulimits", Item(str(limit.get("name"))), "softLimit"),
                    f"softLimit {soft} is above hardLimit {hard}; the soft limit must not exceed the hard one",
                )


@rule(
    "container-memory-minimum",
    summary="a container's `memory`/`memoryReservation` at least 6 MiB (Docker 20.10+; 4 MiB on older Docker)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
    "#container_definition_memory",
    ecs_error="Minimum memory limit allowed is 6MB | Minimum memory reservation allowed is 6MB (Docker, at container "
    "create: moby daemon/daemon_unix.go)",
    note="The guide says not to go below Docker's minimum; Docker then refuses to create the container, so every "
    "task fails to start: an error, though ECS may register it. Docker before 20.10 (not on any current ECS AMI) "
    "took 4 MiB.",
    offline=True,
    examples=[
        bad("containerDefinitions: {web: {memory: 2}}\n", path="containerDefinitions[web].memory"),
        bad("containerDefinitions: {worker: {memoryReservation: 5}}\n", base="ec2"),
        good("containerDefinitions: {worker: {memoryReservation: 6}}\n", base="ec2"),
    ],
)
def container_memory_minimum(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        for key in ("memory", "memoryReservation"):
            value = container.get(key)
            if is_int(value) and value < 6:
                yield Problem(
                    (*path, key),
                    f"{key} {value} MiB is below Docker's minimum of 6 MiB (4 MiB before Docker 20.10); "
                    "the container cannot start; set at least 6",
                )


@rule(
    "swappiness-range",
    summary="`linuxParameters.swappiness` is a whole number from 0 to 100",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinuxParameters.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {linuxParameters: {maxSwap: 512, swappiness: 101}}}\n",
            base="ec2",
            path="containerDefinitions[web].linuxParameters.swappiness",
        ),
        good("containerDefinitions: {web: {linuxParameters: {maxSwap: 512, swappiness: 100}}}\n", base="ec2"),
        good("containerDefinitions: {web: {linuxParameters: {maxSwap: 512, swappiness: 0}}}\n", base="ec2"),
    ],
)
def swappiness_range(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        linux = container.get("linuxParameters")
        if isinstance(linux, dict):
            where = (*path, "linuxParameters", "swappiness")
            yield from out_of_range(where, "linuxParameters.swappiness", linux.get("swappiness"), 0, 100)


def _too_many(path: Path, items: Any, what: str, limit: int) -> Iterator[Problem]:
    if isinstance(items, list) and len(items) > limit:
        yield Problem(path, f"{len(items)} {what}; ECS allows at most {limit}")


def _placement_constraints(count: int) -> str:
    items = (f"{{type: memberOf, expression: 'attribute:rack == r{i}'}}" for i in range(count))
    return f"placementConstraints: [{', '.join(items)}]\n"


def _container_list(field: str, items: Iterable[str]) -> str:
    return f"containerDefinitions: {{web: {{{field}: [{', '.join(items)}]}}}}\n"


def _environment_files(count: int) -> str:
    return _container_list(
        "environmentFiles", (f"{{value: 'arn:aws:s3:::shop/{i}.env', type: s3}}" for i in range(count))
    )


def _credential_specs(count: int) -> str:
    return _container_list("credentialSpecs", (f"'credentialspec:arn:aws:s3:::gmsa/{i}.json'" for i in range(count)))


def _port_ranges(count: int) -> str:
    return _container_list(
        "portMappings", (f"{{containerPortRange: '{20000 + 10 * i}-{20005 + 10 * i}'}}" for i in range(count))
    )


@rule(
    "list-limits",
    summary="at most 10 `placementConstraints`, 10 `environmentFiles` and 1 `credentialSpecs` ARN per container, "
    "100 `containerPortRange` port mappings per container",
    source=CONTAINER_DOC,
    note="Sources: RegisterTaskDefinition (placementConstraints: 'a maximum of 10 constraints for each task', which "
    "also counts those given at run time), ContainerDefinition (environmentFiles: 'up to ten'; credentialSpecs: "
    "'The maximum number of ARNs is 1') and PortMapping (containerPortRange: 'a maximum of 100 port ranges per "
    "container').",
    offline=True,
    examples=[
        bad(_placement_constraints(11), base="ec2", path="placementConstraints"),
        bad(_environment_files(11), path="containerDefinitions[web].environmentFiles"),
        bad(_credential_specs(2), base="ec2", path="containerDefinitions[web].credentialSpecs"),
        bad(_port_ranges(101), path="containerDefinitions[web].portMappings"),
        good(_placement_constraints(10), base="ec2"),
        good(_environment_files(10)),
        good(_credential_specs(1), base="ec2"),
        good(_port_ranges(100)),
    ],
)
def list_limits(ctx: RuleContext) -> Iterator[Problem]:
    yield from _too_many(("placementConstraints",), ctx.taskdef.get("placementConstraints"), "placementConstraints", 10)
    for path, container in ctx.containers():
        files = container.get("environmentFiles")
        yield from _too_many((*path, "environmentFiles"), files, "environmentFiles", 10)
        specs = container.get("credentialSpecs")
        yield from _too_many((*path, "credentialSpecs"), specs, "credentialSpecs ARNs", 1)
        mappings = container.get("portMappings")
        ranges = (
            [m for m in mappings if isinstance(m, dict) and m.get("containerPortRange")]
            if isinstance(mappings, list)
            else []
        )
        yield from _too_many((*path, "portMappings"), ranges, "containerPortRange port mappings", 100)


@rule(
    "health-check-command",
    summary="a `healthCheck.command` starts with `CMD` or `CMD-SHELL` (or Docker's `NONE`)",
    source=HEALTH_CHECK_DOC,
    severity=WARNING,
    note="The API reference says the command must start with CMD or CMD-SHELL, and Docker (EC2) ignores a health "
    "check whose first word is anything else, so its status stays UNKNOWN. But ECS registers such a command, and a "
    "Fargate user reports `[/healthcheck]` running (aws/aws-cdk#34389): a warning, not an error. Docker's NONE (no "
    "health check) is accepted.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {healthCheck: {command: ['curl -f http://localhost/ || exit 1']}}}\n",
            path="containerDefinitions[web].healthCheck.command",
        ),
        bad(
            "containerDefinitions: {web: {healthCheck: {command: [cmd-shell, 'curl -f http://localhost/']}}}\n",
            path="containerDefinitions[web].healthCheck.command",
        ),
        good("containerDefinitions: {web: {healthCheck: {command: [CMD-SHELL, 'curl -f localhost/ || exit 1']}}}\n"),
        good("containerDefinitions: {web: {healthCheck: {command: [CMD, /bin/health]}}}\n"),
        good("containerDefinitions: {web: {healthCheck: {command: [NONE]}}}\n"),
    ],
)
def health_check_command(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        check = container.get("healthCheck")
        command = check.get("command") if isinstance(check, dict) else None
        if isinstance(command, list) and command and command[0] not in ("CMD", "CMD-SHELL", "NONE"):
            yield Problem(
                (*path, "healthCheck", "command"),
                f"healthCheck.command starts with {json.dumps(command[0])}; start it with CMD (run the arguments) "
                "or CMD-SHELL (run one string with the container's shell), such as [CMD-SHELL, 'curl -f "
                "http://localhost/ || exit 1']",
            )


@rule(
    "tag-keys",
    summary="each tag `key` is written once (ECS keeps one value per key)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    offline=True,
    examples=[
        bad(taskdef={**example_base("fargate"), "tags": [{"key": "team", "value": "a"}, {"key": "team"}]}),
        good(taskdef={**example_base("fargate"), "tags": [{"key": "team", "value": "a"}, {"key": "Team"}]}),
    ],
)
def tag_keys(ctx: RuleContext) -> Iterator[Problem]:
    seen: set[str] = set()
    for tag in ctx.taskdef.get("tags") or []:
        key = tag.get("key") if isinstance(tag, dict) else None
        if isinstance(key, str):
            if key in seen:
                yield Problem(("tags", Item(key)), f"the tag key {json.dumps(key)} is written twice; keep one value")
            seen.add(key)
