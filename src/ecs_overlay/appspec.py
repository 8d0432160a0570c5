"""CodeDeploy's ECS AppSpec: built from an environment's ``appspec:`` section, or a hand-written one checked.

The classic deploy-time failure is an appspec naming a container or port the task definition does
not have; here it is caught in the build, next to the change that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from .findings import Finding

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
                "appspec-target",
                "cannot tell which container and port the load balancer targets; set "
                f"appspec.containerName and appspec.containerPort. Candidates: {listed}",
                "appspec",
            )
        return candidates[0]
    problem = _missing_target(containers, str(name), port)
    if problem:
        return Finding("appspec-target", problem, "appspec")
    return str(name), int(port)


def _missing_target(containers: list[dict[str, Any]], name: str, port: Any) -> str | None:
    container = next((c for c in containers if c.get("name") == name), None)
    if container is None:
        names = ", ".join(str(c.get("name")) for c in containers)
        return f"the appspec names container {name!r}, which the task definition does not have ({names})"
    ports = [mapping.get("containerPort") for mapping in container.get("portMappings") or []]
    if port not in ports:
        listed = ", ".join(map(str, ports)) or "none"
        return f"the appspec names port {port} of {name!r}, which maps only: {listed}"
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
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return [
            Finding(
                "appspec-structure",
                f"not valid YAML: {getattr(error, 'problem', error)}",
                file=label,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    return [Finding(rule, message, path, file=label) for rule, path, message in _check(document, taskdef)]


def _check(document: Any, taskdef: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    if not isinstance(document, dict):
        yield "appspec-structure", "", "an appspec is a mapping with version and Resources"
        return
    if str(document.get("version")) not in ("0.0", "0"):
        yield "appspec-structure", "version", "version must be 0.0"
    resources = document.get("Resources")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        yield "appspec-structure", "Resources", "Resources must list exactly one TargetService"
        return
    service = resources[0].get("TargetService") or {}
    if service.get("Type") != "AWS::ECS::Service":
        yield "appspec-structure", "Resources[0].TargetService.Type", "Type must be AWS::ECS::Service"
    properties = service.get("Properties") or {}
    if properties.get("TaskDefinition") != PLACEHOLDER:
        yield (
            "appspec-placeholder",
            "Resources[0].TargetService.Properties.TaskDefinition",
            f"TaskDefinition must be the placeholder {PLACEHOLDER} (CodeDeploy fills in the new revision)",
        )
    info = properties.get("LoadBalancerInfo") or {}
    name, port = info.get("ContainerName"), info.get("ContainerPort")
    if name is None or port is None:
        yield (
            "appspec-structure",
            "Resources[0].TargetService.Properties.LoadBalancerInfo",
            "LoadBalancerInfo needs ContainerName and ContainerPort",
        )
        return
    containers = [c for c in taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]
    problem = _missing_target(containers, str(name), port)
    if problem:
        yield "appspec-target", "Resources[0].TargetService.Properties.LoadBalancerInfo", problem
    for hook in document.get("Hooks") or []:
        for event in hook if isinstance(hook, dict) else []:
            if event not in HOOK_EVENTS:
                yield "appspec-structure", f"Hooks.{event}", f"unknown hook {event!r}; known: {', '.join(HOOK_EVENTS)}"
