"""Networking rules: port mappings under each network mode."""

from __future__ import annotations

from collections.abc import Iterator

from ..keyed import Item
from .context import RuleContext
from .registry import Problem, bad, good, rule


@rule(
    "awsvpc-host-port",
    summary="with `awsvpc`, `hostPort`, when set, equals `containerPort`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {portMappings: {8080: {hostPort: 80}}}}\n",
            path="containerDefinitions[web].portMappings[8080/tcp].hostPort",
        ),
        good("containerDefinitions: {web: {portMappings: {8080: {hostPort: 8080}}}}\n"),
    ],
)
def awsvpc_host_ports(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.network_mode != "awsvpc":
        return
    for path, container in ctx.containers():
        for mapping in container.get("portMappings") or []:
            host, port = mapping.get("hostPort"), mapping.get("containerPort")
            if host is not None and port is not None and host != port:
                key = f"{port}/{mapping.get('protocol') or 'tcp'}"
                yield Problem(
                    (*path, "portMappings", Item(key), "hostPort"),
                    f"with awsvpc, hostPort must equal containerPort ({port}) or be left out",
                )
