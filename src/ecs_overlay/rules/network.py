"""Networking rules: port mappings, links and hostnames under each network mode, and the App Mesh proxy."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from typing import Any

from ..findings import WARNING
from ..keyed import CONTAINER_KEYED_LISTS, Item, Path
from .context import RuleContext, is_int, out_of_range
from .examples import example_base
from .registry import ExampleBase, Problem, bad, good, rule

PORT_MAPPING_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html"
CONTAINER_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
REGISTER_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"
# Host ports the ECS agent reserves unless told otherwise: SSH, Docker, and the agent's own.
RESERVED_HOST_PORTS = (22, 2375, 2376, 51678, 51679, 51680)
# Container fields ECS refuses with awsvpc: the task's network interface owns the host name and DNS.
# hostname first: on Fargate the others are reported by fargate-unsupported-parameter.
AWSVPC_UNSUPPORTED = ("hostname", "dnsServers", "dnsSearchDomains", "extraHosts")


def _mapping_path(path: Path, mapping: dict[str, Any], index: int) -> Path:
    """The port mapping's path, keyed ``8080/tcp`` or ``9000-9100/udp`` as overlays write it (else by position)."""
    key = CONTAINER_KEYED_LISTS["portMappings"].item_key(mapping)
    return (*path, "portMappings", Item(key) if key is not None else index)


def port_mappings(ctx: RuleContext) -> Iterator[tuple[Path, dict[str, Any], Path]]:
    """(container path, mapping, mapping path) for every port mapping of the task."""
    for path, container in ctx.containers():
        for index, mapping in enumerate(container.get("portMappings") or []):
            if isinstance(mapping, dict):
                yield path, mapping, _mapping_path(path, mapping, index)


def _web_ports(*mappings: dict[str, Any], base: ExampleBase = "fargate", **task: Any) -> dict[str, Any]:
    """An example base whose first container gets more port mappings (a duplicate, which overlays cannot write)."""
    taskdef = {**example_base(base), **task}
    taskdef["containerDefinitions"][0]["portMappings"] += list(mappings)
    return taskdef


# The App Mesh properties ECS documents as required (IgnoredUID may be replaced by IgnoredGID).
APP_MESH_PROPERTIES = ("IgnoredUID", "AppPorts", "ProxyIngressPort", "ProxyEgressPort")
_EXAMPLE_VALUES = {
    "IgnoredUID": "1337",
    "IgnoredGID": "1338",
    "AppPorts": "8080",
    "ProxyIngressPort": "15000",
    "ProxyEgressPort": "15001",
    "EgressIgnoredIPs": "169.254.170.2,169.254.169.254",
}


def _properties(*names: str) -> str:
    """The YAML of an App Mesh proxy's properties list, for the examples."""
    return "[" + ", ".join(f"{{name: {name}, value: '{_EXAMPLE_VALUES[name]}'}}" for name in names) + "]"


@rule(
    "awsvpc-host-port",
    summary="with `awsvpc`, `hostPort`, when set, equals `containerPort`",
    source=PORT_MAPPING_DOC,
    ecs_error="When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
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
    yield from _host_ports_differing(ctx, "awsvpc")


def _host_ports_differing(ctx: RuleContext, mode: str) -> Iterator[Problem]:
    """In a mode without port translation (awsvpc, host), a hostPort other than the containerPort."""
    if ctx.network_mode != mode:
        return
    for _, mapping, where in port_mappings(ctx):
        host, port = mapping.get("hostPort"), mapping.get("containerPort")
        if host is not None and port is not None and host != port:
            yield Problem(
                (*where, "hostPort"), f"with {mode}, hostPort must equal containerPort ({port}) or be left out"
            )


@rule(
    "host-network-host-port",
    summary="with `host`, `hostPort`, when set, equals `containerPort`",
    source=PORT_MAPPING_DOC,
    offline=True,
    examples=[
        bad(
            "networkMode: host\ncontainerDefinitions: {web: {portMappings: {80: {hostPort: 8080}}}}\n",
            base="ec2",
            path="containerDefinitions[web].portMappings[80/tcp].hostPort",
        ),
        good("networkMode: host\ncontainerDefinitions: {web: {portMappings: {80: {hostPort: null}}}}\n", base="ec2"),
        good("networkMode: host\ncontainerDefinitions: {web: {portMappings: {80: {hostPort: 80}}}}\n", base="ec2"),
    ],
)
def host_network_host_ports(ctx: RuleContext) -> Iterator[Problem]:
    yield from _host_ports_differing(ctx, "host")


@rule(
    "network-none-ports",
    summary="with `networkMode: none`, no container has `portMappings`",
    source=REGISTER_DOC,
    offline=True,
    examples=[
        bad("networkMode: none\n", base="ec2", path="containerDefinitions[web].portMappings"),
        good("networkMode: none\ncontainerDefinitions: {web: {portMappings: null}}\n", base="ec2"),
    ],
)
def network_none_ports(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.network_mode != "none":
        return
    for path, container in ctx.containers():
        if container.get("portMappings"):
            yield Problem(
                (*path, "portMappings"), "with networkMode none containers have no network; remove portMappings"
            )


@rule(
    "links-network-mode",
    summary="`links` only with the `bridge` network mode (the default on Linux EC2)",
    source=CONTAINER_DOC,
    ecs_error="Links are not supported when networkMode=awsvpc.",
    offline=True,
    examples=[
        bad("containerDefinitions: {web: {links: [envoy]}}\n", path="containerDefinitions[web].links"),
        bad("networkMode: host\ncontainerDefinitions: {web: {links: [worker]}}\n", base="ec2"),
        good("containerDefinitions: {web: {links: [worker]}}\n", base="ec2"),
        good("networkMode: null\ncontainerDefinitions: {web: {links: ['worker:jobs']}}\n", base="ec2"),
    ],
)
def links_network_mode(ctx: RuleContext) -> Iterator[Problem]:
    mode = ctx.network_mode
    if mode in (None, "bridge"):
        return
    for path, container in ctx.containers():
        if container.get("links"):
            yield Problem(
                (*path, "links"),
                f"links work only with networkMode bridge, not {json.dumps(mode)}; with awsvpc containers reach "
                "each other on localhost",
            )


@rule(
    "awsvpc-unsupported-parameter",
    summary="no container `hostname` with `awsvpc`, nor (on EC2; fargate-unsupported-parameter reports them on "
    "Fargate) `dnsServers`, `dnsSearchDomains` or `extraHosts`",
    source=CONTAINER_DOC,
    ecs_error="hostname is not supported on container when networkMode=awsvpc.",
    note="ECS's words for the others: 'DNS servers are not supported on container when networkMode=awsvpc', "
    "'Extra hosts are not supported on container when networkMode=awsvpc' (marqo-ai/marqo#230).",
    offline=True,
    examples=[
        bad("containerDefinitions: {web: {hostname: web.local}}\n", path="containerDefinitions[web].hostname"),
        bad(
            "networkMode: awsvpc\ncontainerDefinitions: {web: {dnsServers: [10.0.0.2]}}\n",
            base="ec2",
            path="containerDefinitions[web].dnsServers",
        ),
        bad(
            "networkMode: awsvpc\ncontainerDefinitions: {worker: {extraHosts: {db.internal: 10.0.0.5}}}\n",
            base="ec2",
            path="containerDefinitions[worker].extraHosts",
        ),
        good("containerDefinitions: {web: {hostname: web.local, extraHosts: {db.internal: 10.0.0.5}}}\n", base="ec2"),
    ],
)
def awsvpc_unsupported_parameter(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.network_mode != "awsvpc":
        return
    fields = AWSVPC_UNSUPPORTED[:1] if ctx.is_fargate else AWSVPC_UNSUPPORTED
    for path, container in ctx.containers():
        for field_name in fields:
            if container.get(field_name):
                yield Problem(
                    (*path, field_name),
                    f"{field_name} is not supported with awsvpc (the task's network interface provides DNS); "
                    "remove it, or use the bridge network mode",
                )


@rule(
    "host-port-conflict",
    summary="no host port (per protocol) mapped twice in a task; with `awsvpc` and `host` the host port is the "
    "container port",
    source=PORT_MAPPING_DOC,
    ecs_error="TCP host port '3000' is mapped multiple times in task.",
    note="The same port on tcp and on udp is accepted: the API reference's note saying otherwise was removed from "
    "the developer guide (awsdocs/amazon-ecs-developer-guide#128) and users register such definitions.",
    examples=[
        bad(
            "containerDefinitions: {envoy: {portMappings: {8080: {}}}}\n",
            path="containerDefinitions[envoy].portMappings[8080/tcp]",
        ),
        bad(
            "containerDefinitions: {worker: {portMappings: {81: {hostPort: 8080}}}}\n",
            base="ec2",
            path="containerDefinitions[worker].portMappings[81/tcp]",
        ),
        good("containerDefinitions: {envoy: {portMappings: {8080/udp: {}}}}\n"),
        good("containerDefinitions: {worker: {portMappings: {80: {}}}}\n", base="ec2"),
    ],
)
def host_port_conflict(ctx: RuleContext) -> Iterator[Problem]:
    fixed = ctx.network_mode in ("awsvpc", "host")
    seen: dict[tuple[int, str], str] = {}
    for path, mapping, where in port_mappings(ctx):
        host = mapping.get("containerPort") if fixed else mapping.get("hostPort")
        if not isinstance(host, int) or isinstance(host, bool) or host == 0:
            continue  # 0 or omitted in bridge mode: a dynamic port
        protocol = str(mapping.get("protocol") or "tcp")
        owner = str(path[-1])
        if (host, protocol) in seen:
            yield Problem(
                where,
                f"{protocol.upper()} host port {host} is already mapped by {json.dumps(seen[host, protocol])}; "
                "a task can map each host port once",
            )
        else:
            seen[host, protocol] = owner


@rule(
    "reserved-host-port",
    summary="on EC2, no static host port that ECS reserves by default (22, 2375, 2376, 51678–51680): the task "
    "could not be placed",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
    "#container_definition_portmappings",
    severity=WARNING,
    note="Instances can change their reserved ports (ECS_RESERVED_PORTS), so this is a warning.",
    examples=[
        bad(
            "containerDefinitions: {worker: {portMappings: {22: {hostPort: 22}}}}\n",
            base="ec2",
            path="containerDefinitions[worker].portMappings[22/tcp].hostPort",
        ),
        bad("networkMode: host\ncontainerDefinitions: {worker: {portMappings: {2375: {}}}}\n", base="ec2"),
        good("containerDefinitions: {worker: {portMappings: {22: {hostPort: 2222}}}}\n", base="ec2"),
        good("containerDefinitions: {web: {portMappings: {22: {}}}}\n"),
    ],
)
def reserved_host_port(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.is_fargate or ctx.network_mode == "awsvpc":
        return
    for _, mapping, where in port_mappings(ctx):
        host = mapping.get("containerPort") if ctx.network_mode == "host" else mapping.get("hostPort")
        if host in RESERVED_HOST_PORTS:
            yield Problem(
                (*where, "hostPort") if mapping.get("hostPort") is not None else where,
                f"host port {host} is reserved on ECS container instances by default, so the task cannot be "
                "placed; choose another host port (or leave hostPort out for a dynamic one)",
            )


@rule(
    "container-port-range",
    summary="`containerPortRange` is `first-last` within 1–65535, first below last, with `bridge` or `awsvpc`, "
    "without `hostPort`",
    source=CONTAINER_DOC,
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {portMappings: {9100-9000: {}}}}\n",
            path="containerDefinitions[web].portMappings[9100-9000/tcp].containerPortRange",
        ),
        bad(
            "containerDefinitions: {web: {portMappings: {9000-9100: {hostPort: 9000}}}}\n",
            path="containerDefinitions[web].portMappings[9000-9100/tcp].hostPort",
        ),
        bad("networkMode: host\ncontainerDefinitions: {web: {portMappings: {9000-9100: {}}}}\n", base="ec2"),
        good("containerDefinitions: {web: {portMappings: {9000-9100: {}, 9000-9100/udp: {}}}}\n"),
        good("containerDefinitions: {web: {portMappings: {9000-9100: {}}}}\n", base="ec2"),
    ],
)
def container_port_range(ctx: RuleContext) -> Iterator[Problem]:
    mode = ctx.network_mode
    for _, mapping, where in port_mappings(ctx):
        text = mapping.get("containerPortRange")
        if text is None:
            continue
        field = (*where, "containerPortRange")
        span = port_span(mapping)
        if span is None:
            yield Problem(field, f'containerPortRange {json.dumps(text)} must be written first-last, e.g. "8000-8100"')
            continue
        if not 1 <= span[0] < span[1] <= 65535:
            yield Problem(
                field, f"containerPortRange {json.dumps(text)} must rise from a lower port to a higher one, in 1–65535"
            )
        if mode is not None and mode not in ("bridge", "awsvpc"):
            yield Problem(field, f"containerPortRange needs networkMode bridge or awsvpc, not {json.dumps(mode)}")
        if mapping.get("hostPort") is not None:
            yield Problem(
                (*where, "hostPort"), "with containerPortRange leave hostPort out; ECS assigns the host ports"
            )


def port_span(mapping: dict[str, Any]) -> tuple[int, int] | None:
    """The container ports a mapping takes, first and last: its containerPort, or its containerPortRange."""
    port = mapping.get("containerPort")
    if is_int(port):
        return port, port
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(mapping.get("containerPortRange")))
    return (int(match.group(1)), int(match.group(2))) if match else None


@rule(
    "duplicate-port-mapping",
    summary="a container port (or range) appears in one port mapping per protocol",
    source=CONTAINER_DOC,
    ecs_error="Container port 8080 is used in more than one port mapping for container web",
    note="ECS's guide: 'A port can only be included in one port mapping per container' and 'You cannot specify "
    "overlapping port ranges'. The same port on tcp and on udp is two mappings ECS accepts (see host-port-conflict).",
    offline=True,
    examples=[
        bad(
            taskdef=_web_ports({"containerPort": 8080, "protocol": "tcp"}),
            path="containerDefinitions[web].portMappings[8080/tcp]",
        ),
        bad(
            "containerDefinitions: {web: {portMappings: {9000-9100: {}, 9050-9200: {}}}}\n",
            path="containerDefinitions[web].portMappings[9050-9200/tcp]",
        ),
        bad(
            "containerDefinitions: {web: {portMappings: {8000-8100: {}}}}\n",
            path="containerDefinitions[web].portMappings[8000-8100/tcp]",
        ),
        good("containerDefinitions: {web: {portMappings: {8080/udp: {}, 8000-8079: {}, 8081-8100: {}}}}\n"),
    ],
)
def duplicate_port_mapping(ctx: RuleContext) -> Iterator[Problem]:
    taken: dict[tuple[Path, str], _Ports] = {}  # (container, protocol) → the ports its mappings took
    for path, mapping, where in port_mappings(ctx):
        span = port_span(mapping)
        if span is None:
            continue
        protocol = str(mapping.get("protocol") or "tcp")
        ports = taken.setdefault((path, protocol), _Ports())
        if ports.overlaps(*span):
            shown = str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
            yield Problem(
                where,
                f"container port {shown}/{protocol} is already in another port mapping of this container; "
                "merge the two mappings",
            )
        ports.add(*span)


class _Ports:
    """Ports taken so far, as sorted disjoint runs: each mapping is checked and added by bisection, so a
    container of n mappings costs n log n, not n² (24k mappings cost what 24k variables cost)."""

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []

    def overlaps(self, first: int, last: int) -> bool:
        run = bisect.bisect_right(self.firsts, last) - 1  # the last run starting at or before ``last``
        return run >= 0 and self.lasts[run] >= first

    def add(self, first: int, last: int) -> None:
        low = bisect.bisect_left(self.lasts, first)  # runs from ``low`` to ``high`` overlap the span: merged
        high = bisect.bisect_right(self.firsts, last)
        if low < high:
            first, last = min(first, self.firsts[low]), max(last, self.lasts[high - 1])
        self.firsts[low:high] = [first]
        self.lasts[low:high] = [last]


@rule(
    "port-number",
    summary="`containerPort` 1–65535 and `hostPort` 0–65535 (0 or omitted: a dynamic port)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html",
    ecs_error="Invalid 'containerPort' setting for container 'web'.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {portMappings: {70000: {}}}}\n",
            path="containerDefinitions[web].portMappings[70000/tcp].containerPort",
        ),
        bad(
            "containerDefinitions: {web: {portMappings: {80: {hostPort: 70000}}}}\n",
            base="ec2",
            path="containerDefinitions[web].portMappings[80/tcp].hostPort",
        ),
        good("containerDefinitions: {web: {portMappings: {80: {hostPort: 0}}}}\n", base="ec2"),
        good("containerDefinitions: {web: {portMappings: {65535: {}}}}\n"),
    ],
)
def port_number(ctx: RuleContext) -> Iterator[Problem]:
    for _, mapping, where in port_mappings(ctx):
        yield from out_of_range((*where, "containerPort"), "containerPort", mapping.get("containerPort"), 1, 65535)
        yield from out_of_range((*where, "hostPort"), "hostPort", mapping.get("hostPort"), 0, 65535)


@rule(
    "port-mapping-name",
    summary="a port mapping `name` (Service Connect) is up to 64 lowercase letters, digits, `_` and `-`, not "
    "starting with `-`",
    source=PORT_MAPPING_DOC,
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {portMappings: {8080: {name: Web-HTTP}}}}\n",
            path="containerDefinitions[web].portMappings[8080/tcp].name",
        ),
        bad("containerDefinitions: {web: {portMappings: {8080: {name: -http}}}}\n"),
        good("containerDefinitions: {web: {portMappings: {8080: {name: web-8080-tcp, appProtocol: http}}}}\n"),
    ],
)
def port_mapping_name(ctx: RuleContext) -> Iterator[Problem]:
    for _, mapping, where in port_mappings(ctx):
        name = mapping.get("name")
        if isinstance(name, str) and not re.fullmatch(r"[a-z0-9_][a-z0-9_-]{0,63}", name):
            yield Problem(
                (*where, "name"),
                f"port mapping name {json.dumps(name)} must be up to 64 lowercase letters, digits, _ and -, "
                "not starting with -",
            )


@rule(
    "proxy-configuration",
    summary="`proxyConfiguration` names a container of the task and sets `IgnoredUID` or `IgnoredGID`, "
    "`AppPorts`, `ProxyIngressPort` and `ProxyEgressPort`",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ProxyConfiguration.html",
    examples=[
        bad(
            "proxyConfiguration: {containerName: proxy, properties: " + _properties(*APP_MESH_PROPERTIES) + "}\n",
            path="proxyConfiguration.containerName",
        ),
        bad(
            "proxyConfiguration: {containerName: envoy, properties: " + _properties("IgnoredUID", "AppPorts") + "}\n",
            path="proxyConfiguration.properties",
        ),
        good(
            "proxyConfiguration: {type: APPMESH, containerName: envoy, properties: "
            + _properties(*APP_MESH_PROPERTIES, "EgressIgnoredIPs")
            + "}\n"
        ),
        good(
            "proxyConfiguration: {containerName: envoy, properties: "
            + _properties("IgnoredGID", *APP_MESH_PROPERTIES[1:])
            + "}\n"
        ),
    ],
)
def proxy_configuration(ctx: RuleContext) -> Iterator[Problem]:
    proxy = ctx.taskdef.get("proxyConfiguration")
    if not isinstance(proxy, dict):
        return
    target = proxy.get("containerName")
    if target is not None and target not in ctx.container_names():
        yield Problem(
            ("proxyConfiguration", "containerName"),
            f"containerName {json.dumps(target)} is not a container of this task; name the Envoy container",
        )
    properties = {str(item.get("name")) for item in proxy.get("properties") or [] if isinstance(item, dict)}
    missing = [name for name in APP_MESH_PROPERTIES[1:] if name not in properties]
    if not properties & {"IgnoredUID", "IgnoredGID"}:
        missing.insert(0, "IgnoredUID or IgnoredGID")
    if missing:
        yield Problem(
            ("proxyConfiguration", "properties"), f"proxyConfiguration needs the properties {', '.join(missing)}"
        )
