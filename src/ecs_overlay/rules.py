"""ECS's own rules, checked after the JSON Schema.

A task definition can match the API's shape and still be refused by ECS, or be accepted and fail
at deploy time. Each rule is one small function that yields findings with a readable message;
``RULES`` lists them in the order they are reported.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .findings import ERROR, WARNING, Finding
from .keyed import Item, Path, format_path
from .provenance import BASE, Provenance
from .secrets import CREDENTIAL_WORDS as CREDENTIAL_WORDS  # re-exported: the names live in secrets.py
from .secrets import looks_like_credential as looks_like_credential
from .secrets import mask_text, secret_variables, shapes_in

DEFAULT_MAX_SIZE = 64 * 1024
MAX_CONTAINERS = 10

# Fargate task sizes: cpu units → allowed memory (MiB).
FARGATE_SIZES: dict[int, range | tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}

_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$")
_SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+"
    r"(:[^:]*(:[^:]*(:[^:]*)?)?)?$"
)
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]+$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb|gib|mb|mib)?\s*$", re.IGNORECASE)


def task_size_units(value: Any, kind: str) -> int | None:
    """Task ``cpu``/``memory`` in ECS units: ``"1 vCPU"`` → 1024, ``"2 GB"`` → 2048, ``"512"`` → 512."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if kind == "cpu" and unit == "vcpu" or kind == "memory" and unit in ("gb", "gib"):
        number *= 1024
    elif unit and not (kind == "memory" and unit in ("mb", "mib")):
        return None
    return int(number) if number == int(number) else None


@dataclass
class RuleContext:
    """What every rule reads: the rendered task definition, its origins and the run's settings."""

    taskdef: dict[str, Any]
    provenance: Provenance = field(default_factory=Provenance)
    max_size: int = DEFAULT_MAX_SIZE
    plaintext_allowed: frozenset[str] = frozenset()

    def finding(self, rule: str, path: Path, message: str, severity: str = ERROR) -> Finding:
        # Messages quote values (a cpu, a name); never one shaped like a secret.
        return Finding.at(self.provenance.locate(path), rule, mask_text(message), format_path(path), severity)

    def containers(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        for index, container in enumerate(self.taskdef.get("containerDefinitions") or []):
            if isinstance(container, dict):
                name = container.get("name")
                yield ("containerDefinitions", Item(str(name)) if name else index), container

    @property
    def is_fargate(self) -> bool:
        return "FARGATE" in (self.taskdef.get("requiresCompatibilities") or [])

    def task_units(self, kind: str) -> int | None:
        value = self.taskdef.get(kind)
        return None if value is None else task_size_units(value, kind)


Rule = Callable[[RuleContext], Iterator[Finding]]


def fargate_task_size(ctx: RuleContext) -> Iterator[Finding]:
    """Fargate needs task-level cpu and memory, as one of the supported pairs."""
    if not ctx.is_fargate:
        return
    cpu, memory = ctx.task_units("cpu"), ctx.task_units("memory")
    for kind, units in (("cpu", cpu), ("memory", memory)):
        if ctx.taskdef.get(kind) is None:
            yield ctx.finding("fargate-task-size", (kind,), f"Fargate tasks need a task-level {kind}; set `{kind}:`")
        elif units is None:
            yield ctx.finding(
                "fargate-task-size",
                (kind,),
                f"{ctx.taskdef[kind]!r} is not a {kind} size ECS understands (e.g. 1024 or "
                f"{'1 vCPU' if kind == 'cpu' else '2 GB'})",
            )
    if cpu is None or memory is None:
        return
    if cpu not in FARGATE_SIZES:
        yield ctx.finding(
            "fargate-task-size", ("cpu",), f"Fargate cpu {cpu} is not one of {', '.join(map(str, FARGATE_SIZES))}"
        )
    elif memory not in FARGATE_SIZES[cpu]:
        allowed = FARGATE_SIZES[cpu]
        described = (
            ", ".join(map(str, allowed))
            if isinstance(allowed, tuple)
            else f"{allowed.start}–{allowed[-1]} in steps of {allowed.step}"
        )
        yield ctx.finding(
            "fargate-task-size",
            ("memory",),
            f"Fargate cpu {cpu} is not compatible with memory {memory}; with cpu {cpu} "
            f"memory must be {described} (MiB)",
        )


def fargate_network_mode(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.is_fargate and ctx.taskdef.get("networkMode") != "awsvpc":
        yield ctx.finding(
            "fargate-network-mode",
            ("networkMode",),
            f"Fargate tasks need networkMode awsvpc, not {ctx.taskdef.get('networkMode')!r}",
        )


def container_memory(ctx: RuleContext) -> Iterator[Finding]:
    """Without task memory (EC2) each container needs memory or memoryReservation; a hard limit
    must exceed the reservation and fit in the task; the reservations must fit together."""
    task_memory = ctx.task_units("memory")
    reserved = 0
    for path, container in ctx.containers():
        memory, reservation = container.get("memory"), container.get("memoryReservation")
        if task_memory is None and not ctx.is_fargate and memory is None and reservation is None:
            yield ctx.finding(
                "container-memory",
                path,
                "without a task-level memory every container needs memory or memoryReservation",
            )
        if isinstance(memory, int) and isinstance(reservation, int) and memory <= reservation:
            yield ctx.finding(
                "container-memory",
                (*path, "memory"),
                f"memory ({memory}) must be greater than memoryReservation ({reservation})",
            )
        if task_memory is not None and isinstance(memory, int) and memory > task_memory:
            yield ctx.finding(
                "container-memory",
                (*path, "memory"),
                f"container memory {memory} MiB is more than the task's {task_memory} MiB",
            )
        share = reservation if isinstance(reservation, int) else memory
        reserved += share if isinstance(share, int) else 0
    if task_memory is not None and reserved > task_memory:
        yield ctx.finding(
            "container-memory",
            ("memory",),
            f"the containers reserve {reserved} MiB together, more than the task's {task_memory} MiB",
        )


def container_names(ctx: RuleContext) -> Iterator[Finding]:
    containers = list(ctx.containers())
    counts = Counter(container.get("name") for _, container in containers)
    for name, count in counts.items():
        if count > 1:
            yield ctx.finding(
                "container-names",
                ("containerDefinitions",),
                f"container name {name!r} is used {count} times; names must be unique",
            )
    if len(containers) > MAX_CONTAINERS:
        yield ctx.finding(
            "container-count",
            ("containerDefinitions",),
            f"{len(containers)} containers; ECS allows at most {MAX_CONTAINERS} per task definition",
        )
    if containers and not any(container.get("essential", True) is not False for _, container in containers):
        yield ctx.finding(
            "essential-container",
            ("containerDefinitions",),
            "no container is essential; mark at least one `essential: true`",
        )


def container_references(ctx: RuleContext) -> Iterator[Finding]:
    """dependsOn, volumesFrom and links name existing containers; mountPoints name declared volumes."""
    names = {container.get("name") for _, container in ctx.containers()}
    volumes = {volume.get("name") for volume in ctx.taskdef.get("volumes") or [] if isinstance(volume, dict)}
    for path, container in ctx.containers():
        for dependency in container.get("dependsOn") or []:
            target = dependency.get("containerName")
            if target not in names:
                yield ctx.finding(
                    "container-reference",
                    (*path, "dependsOn", Item(str(target))),
                    f"dependsOn names {target!r}, which is not a container of this task",
                )
        for source in container.get("volumesFrom") or []:
            target = source.get("sourceContainer")
            if target not in names:
                yield ctx.finding(
                    "container-reference",
                    (*path, "volumesFrom"),
                    f"volumesFrom names {target!r}, which is not a container of this task",
                )
        for link in container.get("links") or []:
            target = str(link).split(":", 1)[0]
            if target not in names:
                yield ctx.finding(
                    "container-reference",
                    (*path, "links"),
                    f"links names {target!r}, which is not a container of this task",
                )
        for mount in container.get("mountPoints") or []:
            volume = mount.get("sourceVolume")
            if volume is not None and volume not in volumes:
                yield ctx.finding(
                    "mount-volume",
                    (*path, "mountPoints", Item(str(mount.get("containerPath")))),
                    f"sourceVolume {volume!r} is not declared in the task's volumes",
                )


def environment_names(ctx: RuleContext) -> Iterator[Finding]:
    for path, container in ctx.containers():
        environment = Counter(item.get("name") for item in container.get("environment") or [])
        secrets = Counter(item.get("name") for item in container.get("secrets") or [])
        for field_name, counts in (("environment", environment), ("secrets", secrets)):
            for name, count in counts.items():
                if count > 1:
                    yield ctx.finding(
                        "environment-names",
                        (*path, field_name, Item(str(name))),
                        f"{name!r} appears {count} times in {field_name}",
                    )
        for name in sorted(set(environment) & set(secrets), key=str):
            yield ctx.finding(
                "environment-names",
                (*path, "environment", Item(str(name))),
                f"{name!r} is both an environment variable and a secret; keep one",
            )


def secret_sources(ctx: RuleContext) -> Iterator[Finding]:
    """valueFrom is an SSM parameter (ARN or name) or a Secrets Manager secret ARN."""
    for path, container in ctx.containers():
        for secret in container.get("secrets") or []:
            source = str(secret.get("valueFrom", ""))
            if source.startswith("arn:"):
                valid = bool(_SSM_ARN.match(source) or _SECRETS_MANAGER_ARN.match(source))
            else:
                valid = bool(_SSM_NAME.match(source))
            if not valid:
                yield ctx.finding(
                    "secret-source",
                    (*path, "secrets", Item(str(secret.get("name"))), "valueFrom"),
                    "valueFrom must be an SSM parameter (ARN or name) or a Secrets Manager secret ARN "
                    "(optionally :json-key:version-stage:version-id)",
                )


def awsvpc_host_ports(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.taskdef.get("networkMode") != "awsvpc":
        return
    for path, container in ctx.containers():
        for mapping in container.get("portMappings") or []:
            host, port = mapping.get("hostPort"), mapping.get("containerPort")
            if host is not None and port is not None and host != port:
                key = f"{port}/{mapping.get('protocol') or 'tcp'}"
                yield ctx.finding(
                    "awsvpc-host-port",
                    (*path, "portMappings", Item(key), "hostPort"),
                    f"with awsvpc, hostPort must equal containerPort ({port}) or be left out",
                )


def ephemeral_storage(ctx: RuleContext) -> Iterator[Finding]:
    """Ephemeral storage 21–200 GiB. (At most 50 tags is botocore's own limit, checked by the schema.)"""
    storage = (ctx.taskdef.get("ephemeralStorage") or {}).get("sizeInGiB")
    if isinstance(storage, int) and not 21 <= storage <= 200:
        yield ctx.finding(
            "ephemeral-storage",
            ("ephemeralStorage", "sizeInGiB"),
            f"ephemeralStorage.sizeInGiB is {storage}; ECS allows 21 to 200",
        )


def awslogs_options(ctx: RuleContext) -> Iterator[Finding]:
    for path, container in ctx.containers():
        logging = container.get("logConfiguration") or {}
        if logging.get("logDriver") != "awslogs":
            continue
        options = logging.get("options") or {}
        required = ["awslogs-group", "awslogs-region"] + (["awslogs-stream-prefix"] if ctx.is_fargate else [])
        for option in required:
            if option not in options:
                yield ctx.finding(
                    "awslogs-options",
                    (*path, "logConfiguration", "options"),
                    f"the awslogs driver needs the option {option!r}",
                )


def definition_size(ctx: RuleContext) -> Iterator[Finding]:
    size = len(json.dumps(ctx.taskdef, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > ctx.max_size:
        yield ctx.finding(
            "definition-size",
            (),
            f"the task definition is {size} bytes as compact JSON, over the limit of {ctx.max_size} "
            f"(ECS refuses more than {DEFAULT_MAX_SIZE}); move large values to secrets, SSM parameters "
            "or environmentFiles",
        )


def plaintext_secrets(ctx: RuleContext) -> Iterator[Finding]:
    """A credential-like environment variable with a literal value belongs in `secrets`."""
    for path, name, _ in _plaintext_environment(ctx):
        if not looks_like_credential(name):
            continue
        value_path = (*path, "environment", Item(name), "value")
        inherited = ctx.provenance.origin(value_path).kind == BASE
        yield ctx.finding(
            "plaintext-secret",
            (*path, "environment", Item(name)),
            f"{name} looks like a credential but is a plain environment variable"
            + (" (inherited from the live base)" if inherited else "")
            + "; move it to `secrets` (SSM or Secrets Manager), or list it under `allowPlaintext:` "
            "if it is not secret",
            WARNING if inherited else ERROR,
        )


def interpolated_secrets(ctx: RuleContext) -> Iterator[Finding]:
    """A credential-like ``${VAR}`` in a plain environment value puts the credential into the task
    definition, in plain text (plaintext-secret already covers credential-like names)."""
    for path, name, _ in _plaintext_environment(ctx):
        item_path = (*path, "environment", Item(name))
        variables = secret_variables((*item_path, "value"), (ctx.provenance,))
        if looks_like_credential(name) or not variables or set(variables) & ctx.plaintext_allowed:
            continue
        used = ", ".join(f"${{{variable}}}" for variable in variables)
        yield ctx.finding(
            "interpolated-secret",
            item_path,
            f"{name} is built from {used}, so the task definition would hold that credential in plain text, "
            f"readable by anyone who can describe it; pass it with `secrets` (SSM Parameter Store or Secrets "
            f"Manager) instead, or list {name} under `allowPlaintext:` if it is not secret",
            WARNING,
        )


def embedded_secrets(ctx: RuleContext) -> Iterator[Finding]:
    """A plain environment value that holds a secret by its shape (a URL with a password, an AWS key …)."""
    for path, name, value in _plaintext_environment(ctx):
        item_path = (*path, "environment", Item(name))
        if looks_like_credential(name) or secret_variables((*item_path, "value"), (ctx.provenance,)):
            continue  # plaintext-secret or interpolated-secret says it already
        kinds = shapes_in(value)
        if not kinds:
            continue
        inherited = ctx.provenance.origin((*item_path, "value")).kind == BASE
        yield ctx.finding(
            "embedded-secret",
            item_path,
            f"{name} holds {' and '.join(kinds)} in plain text"
            + (" (inherited from the live base)" if inherited else "")
            + "; move the credential to `secrets` (SSM Parameter Store or Secrets Manager), or list "
            f"{name} under `allowPlaintext:` if it is not secret",
            WARNING,
        )


def _plaintext_environment(ctx: RuleContext) -> Iterator[tuple[Path, str, str]]:
    """(container path, name, value) of each non-empty environment value not allowed as plain text."""
    for path, container in ctx.containers():
        for item in container.get("environment") or []:
            name, value = str(item.get("name")), item.get("value")
            if value and name not in ctx.plaintext_allowed:
                yield path, name, str(value)


RULES: tuple[Rule, ...] = (
    fargate_task_size,
    fargate_network_mode,
    container_memory,
    container_names,
    container_references,
    environment_names,
    secret_sources,
    awsvpc_host_ports,
    ephemeral_storage,
    awslogs_options,
    definition_size,
    plaintext_secrets,
    interpolated_secrets,
    embedded_secrets,
)


def check(ctx: RuleContext) -> list[Finding]:
    """Every rule's findings, in rule order."""
    return [finding for rule in RULES for finding in rule(ctx)]
