"""What every rule reads: the rendered task definition, its origins, the run's settings, and
small readers for the facts many rules need (launch type, containers, task size) and the range
check several rules share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..keyed import Item, Path
from ..provenance import Origin, Provenance
from .registry import Problem

DEFAULT_MAX_SIZE = 64 * 1024

# ECS reads task sizes as CPU units / MiB, or with a unit: "1 vCPU", ".25 vcpu", "2 GB", "512 MiB".
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(vcpu|cpu|gb|gib|mb|mib)?\s*$", re.IGNORECASE)


def task_size_units(value: Any, kind: str) -> int | None:
    """Task ``cpu``/``memory`` in ECS units: ``"1 vCPU"`` → 1024, ``".5 gb"`` → 512, ``"512"`` → 512."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if kind == "cpu" and unit in ("vcpu", "cpu") or kind == "memory" and unit in ("gb", "gib"):
        number *= 1024
    elif unit and not (kind == "memory" and unit in ("mb", "mib")):
        return None
    return int(number) if number == int(number) else None


@dataclass
class RuleContext:
    """The rendered task definition (or, with ``partial``, an environment's layers merged on nothing)."""

    taskdef: dict[str, Any]
    provenance: Provenance = field(default_factory=Provenance)
    max_size: int = DEFAULT_MAX_SIZE
    plaintext_allowed: frozenset[str] = frozenset()
    partial: bool = False
    # The layers' merged `service:` section (what deploy sends with UpdateService) and where each value was
    # written: paths that start with "service" are located here, not in the task definition's provenance.
    service: dict[str, Any] | None = None
    service_provenance: Provenance = field(default_factory=Provenance)

    def locate(self, path: Path) -> Origin:
        """Where a finding about ``path`` points (see Provenance.locate)."""
        if path[:1] == ("service",):
            return self.service_provenance.locate(path)
        return self.provenance.locate(path)

    def containers(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """(path, container) for each container, the path keyed by name where it has one."""
        for index, container in enumerate(self.taskdef.get("containerDefinitions") or []):
            if isinstance(container, dict):
                name = container.get("name")
                yield ("containerDefinitions", Item(str(name)) if name else index), container

    def dependencies(self) -> Iterator[tuple[Path, Path, str, Any]]:
        """(container path, dependency path, target container, condition) for every ``dependsOn`` entry."""
        for path, container in self.containers():
            for dependency in container.get("dependsOn") or []:
                target = str(dependency.get("containerName"))
                yield path, (*path, "dependsOn", Item(target)), target, dependency.get("condition")

    def container_names(self) -> set[str]:
        return {str(c.get("name")) for _, c in self.containers() if c.get("name")}

    @property
    def compatibilities(self) -> list[str]:
        return [str(item) for item in self.taskdef.get("requiresCompatibilities") or []]

    @property
    def is_fargate(self) -> bool:
        return "FARGATE" in self.compatibilities

    @property
    def network_mode(self) -> str | None:
        """The network mode; absent means ``bridge`` on Linux EC2 (ECS's default), unknown when partial."""
        mode = self.taskdef.get("networkMode")
        return str(mode) if mode is not None else None

    @property
    def os_family(self) -> str:
        """``runtimePlatform.operatingSystemFamily``; absent means Linux."""
        platform = self.taskdef.get("runtimePlatform") or {}
        return str(platform.get("operatingSystemFamily") or "LINUX")

    @property
    def is_windows(self) -> bool:
        return self.os_family.startswith("WINDOWS")

    def task_units(self, kind: str) -> int | None:
        value = self.taskdef.get(kind)
        return None if value is None else task_size_units(value, kind)


def is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (``true`` is not one, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def out_of_range(path: Path, label: str, value: Any, low: int, high: int, unit: str = "") -> Iterator[Problem]:
    """A problem at ``path`` when ``value`` is an integer outside ``low``–``high``."""
    if is_int(value) and not low <= value <= high:
        yield Problem(path, f"{label} is {value}{unit}; ECS allows {low} to {high}{unit}")
