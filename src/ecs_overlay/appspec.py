"""CodeDeploy's ECS AppSpec: built from an environment's ``appspec:`` section, or a hand-written one checked.

The classic deploy-time failure is an appspec naming a container or port the task definition does
not have; here it is caught in the build, next to the change that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from .findings import Finding, RuleId
from .rules.inputs import APPSPEC_PLACEHOLDER, APPSPEC_STRUCTURE, APPSPEC_TARGET

PLACEHOLDER = "<TASK_DEFINITION>"
HOOK_EVENTS = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")


def target_container(taskdef: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[str, int] | Finding:
    """The load-balanced container and port: as configured, or the only essential container with
    exactly one port mapping."""
    containers = [c for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    name, port = settings.get("containerName"), settings.get("containerPort")
    if name is None or port is None:
        candidates = [
            (str(c.get("name")), int(mapping["containerPort"]))
            for c in containers
            if c.get("essential", True) is not False
            for mapping in c.get("portMappings") or []
            if name in (None, c.get("name")) and port in (None, mapping.get("containerPort"))
        ]
        if len(candidates) != 1:
            listed = ", ".join(f"{n}:{p}" for n, p in candidates) or "none (no essential container maps a port)"
            return Finding(
                APPSPEC_TARGET,
                "cannot tell which container and port the load balancer targets; set "
                f"appspec.containerName and appspec.containerPort. Candidates: {listed}",
                "appspec",
            )
        return candidates[0]
    problem = missing_target(containers, str(name), port)
    if problem:
        return Finding(APPSPEC_TARGET, problem, "appspec")
    return str(name), int(port)


def missing_target(containers: list[dict[str, Any]], name: str, port: Any, source: str = "the appspec") -> str | None:
    container = next((c for c in containers if c.get("name") == name), None)
    if container is None:
        names = ", ".join(str(c.get("name")) for c in containers)
        return f"{source} names container {name!r}, which the task definition does not have ({names})"
    ports = [mapping.get("containerPort") for mapping in container.get("portMappings") or []]
    if port not in ports:
        listed = ", ".join(map(str, ports)) or "none"
        return f"{source} names port {port} of {name!r}, which maps only: {listed}"
    return None


def build(taskdef: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any] | Finding:
    """The AppSpec document for CodeDeploy's ECS blue/green deployment."""
    target = target_container(taskdef, settings)
    if isinstance(target, Finding):
        return target
    name, port = target
    properties: dict[str, Any] = {
        "TaskDefinition": PLACEHOLDER,
        "LoadBalancerInfo": {"ContainerName": name, "ContainerPort": port},
    }
    if settings.get("platformVersion") is not None:
        properties["PlatformVersion"] = str(settings["platformVersion"])
    network = settings.get("networkConfiguration")
    if network:
        awsvpc: dict[str, Any] = {}
        for source, target_key in (
            ("subnets", "Subnets"),
            ("securityGroups", "SecurityGroups"),
            ("assignPublicIp", "AssignPublicIp"),
        ):
            if network.get(source) is not None:
                awsvpc[target_key] = network[source]
        properties["NetworkConfiguration"] = {"AwsvpcConfiguration": awsvpc}
    strategy = settings.get("capacityProviderStrategy")
    if strategy:
        properties["CapacityProviderStrategy"] = [
            {key[0].upper() + key[1:]: value for key, value in item.items()} for item in strategy
        ]
    document: dict[str, Any] = {
        "version": 0.0,
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}],
    }
    hooks = settings.get("hooks") or {}
    if hooks:
        document["Hooks"] = [{event: hooks[event]} for event in HOOK_EVENTS if hooks.get(event)]
    return document


def to_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False)


def check(text: str, label: str, taskdef: Mapping[str, Any]) -> list[Finding]:
    """Problems of a hand-written appspec (YAML or JSON) against the rendered task definition."""
    try:
        document = yaml.safe_load(text)
    except RecursionError:
        return [Finding(APPSPEC_STRUCTURE, "nested too deeply to be an appspec", file=label)]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return [
            Finding(
                APPSPEC_STRUCTURE,
                f"not valid YAML: {getattr(error, 'problem', error)}",
                file=label,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    return [Finding(rule, message, path, file=label) for rule, path, message in _check(document, taskdef)]


# CodeDeploy's reference calls the section 'resources' and writes it `resources:` (Lambda) and `Resources:` (ECS);
# both spellings are read.
_RESOURCES_KEYS = ("Resources", "resources")


def _check(document: Any, taskdef: Mapping[str, Any]) -> Iterator[tuple[RuleId, str, str]]:
    """Each problem as (rule, path, message); a value of the wrong shape is a finding, never a crash."""
    if not isinstance(document, dict):
        yield APPSPEC_STRUCTURE, "", "an appspec is a mapping with version and Resources"
        return
    if str(document.get("version")) not in ("0.0", "0"):
        yield APPSPEC_STRUCTURE, "version", "version must be 0.0"
    spelled = [key for key in _RESOURCES_KEYS if key in document]
    if len(spelled) > 1:
        yield APPSPEC_STRUCTURE, "resources", "the appspec has both Resources and resources; keep one"
        return
    key = spelled[0] if spelled else "Resources"
    yield from _check_target(document.get(key), taskdef, key)
    yield from _check_hooks(document.get("Hooks"))


def _check_target(resources: Any, taskdef: Mapping[str, Any], key: str) -> Iterator[tuple[RuleId, str, str]]:
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        yield APPSPEC_STRUCTURE, key, f"{key} must be a list of exactly one `- TargetService:` mapping"
        return
    target = f"{key}[0].TargetService"
    service = resources[0].get("TargetService")
    if not isinstance(service, dict):
        yield APPSPEC_STRUCTURE, target, "TargetService must be a mapping with Type and Properties"
        return
    if service.get("Type") != "AWS::ECS::Service":
        yield APPSPEC_STRUCTURE, f"{target}.Type", "Type must be AWS::ECS::Service"
    properties = service.get("Properties")
    if not isinstance(properties, dict):
        yield (
            APPSPEC_STRUCTURE,
            f"{target}.Properties",
            "Properties must be a mapping with TaskDefinition and LoadBalancerInfo",
        )
        return
    if properties.get("TaskDefinition") != PLACEHOLDER:
        yield (
            APPSPEC_PLACEHOLDER,
            f"{target}.Properties.TaskDefinition",
            f"TaskDefinition must be the placeholder {PLACEHOLDER} (CodeDeploy fills in the new revision)",
        )
    info = properties.get("LoadBalancerInfo")
    where = f"{target}.Properties.LoadBalancerInfo"
    if not isinstance(info, dict) or info.get("ContainerName") is None or info.get("ContainerPort") is None:
        yield APPSPEC_STRUCTURE, where, "LoadBalancerInfo must be a mapping with ContainerName and ContainerPort"
        return
    name, port = info["ContainerName"], _port_number(info["ContainerPort"])
    if not isinstance(name, str):
        yield (
            APPSPEC_STRUCTURE,
            f"{where}.ContainerName",
            "ContainerName must be the name of a container, such as web",
        )
        return
    if port is None:
        yield APPSPEC_STRUCTURE, f"{where}.ContainerPort", "ContainerPort must be a port number, such as 8080"
        return
    containers = [c for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    problem = missing_target(containers, name, port)
    if problem:
        yield APPSPEC_TARGET, where, problem


def _port_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _check_hooks(hooks: Any) -> Iterator[tuple[RuleId, str, str]]:
    if hooks is None:
        return
    shape = "Hooks must be a list of `- EventName: LambdaFunctionName` items"
    if not isinstance(hooks, list):
        yield APPSPEC_STRUCTURE, "Hooks", shape
        return
    for index, hook in enumerate(hooks):
        if not isinstance(hook, dict):
            yield APPSPEC_STRUCTURE, f"Hooks[{index}]", shape
            continue
        for event in hook:
            if event not in HOOK_EVENTS:
                yield APPSPEC_STRUCTURE, f"Hooks.{event}", f"unknown hook '{event}'; known: {', '.join(HOOK_EVENTS)}"
