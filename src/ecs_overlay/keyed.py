"""Which ECS lists are merged item by item, and by what key.

ECS models environment variables, ports, containers … as lists, but people think of them as
sets keyed by a name. Every stage that compares or merges lists (merge, diff, findings paths)
reads the rules from here, so a new keyed list is added in exactly one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple


class KeyedListSpec(NamedTuple):
    """How the items of one list are identified.

    ``key`` names the identifying field; ``value`` names the field that the short mapping form
    (``environment: {LOG_LEVEL: warn}``) sets, for pair-like lists. ``children`` holds the
    keyed lists nested inside each item (the container-level lists of ``containerDefinitions``).
    """

    key: str
    value: str | None = None
    children: Mapping[str, KeyedListSpec] = MappingProxyType({})

    def item_key(self, item: Mapping[str, Any]) -> str | None:
        """The item's identity as text, or None when the item lacks its key field."""
        if self.key == "containerPort":
            port = item.get("containerPort")
            if port is None:
                port = item.get("containerPortRange")  # a range is keyed like a port: 10000-10010/udp
            if port is None:
                return None
            return f"{port}/{item.get('protocol') or 'tcp'}"
        key = item.get(self.key)
        return None if key is None else str(key)

    def new_item(self, key: str) -> dict[str, Any]:
        """The fields that a mapping-form key stands for, for an item the base lacks."""
        if self.key == "containerPort":
            port, _, protocol = key.partition("/")
            item: dict[str, Any] = {"containerPort": int(port)} if port.isdigit() else {"containerPortRange": port}
            if protocol:
                item["protocol"] = protocol
            return item
        return {self.key: key}

    def normalise_key(self, key: str) -> str:
        """Mapping-form port keys in one spelling: ``8080`` and ``08080/tcp`` both mean ``8080/tcp``."""
        if self.key != "containerPort":
            return key
        port, _, protocol = key.partition("/")
        match = _PORT.fullmatch(port)
        if match is not None:
            port = "-".join(str(int(number)) for number in match.groups() if number is not None)
        return f"{port}/{protocol or 'tcp'}"

    def key_problem(self, key: str) -> str | None:
        """Why a mapping-form key cannot name an item, or None when it can."""
        if self.key != "containerPort":
            return None
        port, slash, protocol = key.partition("/")
        if _PORT.fullmatch(port) is None:
            return (
                f"'{key}' is not a port: write a port number, optionally with its protocol, "
                "or a range (8080, 8125/udp, 10000-10010/udp)"
            )
        if slash and protocol not in PORT_PROTOCOLS:
            # ECS's TransportProtocol is the enum tcp | udp, in lowercase:
            # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
            hint = f"; write {port}/{protocol.lower()}" if protocol.lower() in PORT_PROTOCOLS else ""
            return f"'{key}': the protocol is tcp or udp, in lowercase as ECS accepts it{hint}"
        return None


PORT_PROTOCOLS = ("tcp", "udp")
_PORT = re.compile(r"([0-9]+)(?:-([0-9]+))?")


CONTAINER_KEYED_LISTS: Mapping[str, KeyedListSpec] = {
    "portMappings": KeyedListSpec("containerPort"),
    "environment": KeyedListSpec("name", value="value"),
    "secrets": KeyedListSpec("name", value="valueFrom"),
    "mountPoints": KeyedListSpec("containerPath"),
    "dependsOn": KeyedListSpec("containerName", value="condition"),
    "extraHosts": KeyedListSpec("hostname", value="ipAddress"),
    "systemControls": KeyedListSpec("namespace", value="value"),
    "resourceRequirements": KeyedListSpec("type", value="value"),
    "ulimits": KeyedListSpec("name"),
}

TASK_KEYED_LISTS: Mapping[str, KeyedListSpec] = {
    "containerDefinitions": KeyedListSpec("name", children=CONTAINER_KEYED_LISTS),
    "volumes": KeyedListSpec("name"),
    "tags": KeyedListSpec("key", value="value"),
}

# Task-level mappings that hold keyed lists: App Mesh's proxy settings are name/value pairs
# (`proxyConfiguration: {properties: {ProxyIngressPort: 15000}}` sets one, reordering them is no change).
TASK_KEYED_MAPPINGS: Mapping[str, Mapping[str, KeyedListSpec]] = {
    "proxyConfiguration": {"properties": KeyedListSpec("name", value="value")},
}


class KeyedList(dict[str, Any]):
    """A keyed ECS list held as an ordered mapping from item key to item (None deletes)."""


# How an overlay says what to do with a list instead of the default (keyed lists merge item by item,
# plain lists are replaced): `environment: {$replace: {…}}` makes it exactly the items written,
# `environmentFiles: {$append: […]}` adds the items the base lacks after the base's own.
REPLACE = "$replace"
APPEND = "$append"
LIST_OPERATIONS = (REPLACE, APPEND)


class ReplacingList(KeyedList):
    """A keyed list written under ``$replace``: the merge takes its items and drops the base's."""


class AppendingList(list[Any]):
    """A plain list written under ``$append``: the merge keeps the base's items and adds these after them."""


class Item(NamedTuple):
    """A path step that picks a keyed-list item by its key: ``containerDefinitions[web]``."""

    key: str

    def __str__(self) -> str:
        return self.key


PathStep = str | int | Item
Path = tuple[PathStep, ...]


def format_path(path: Path) -> str:
    """``('containerDefinitions', Item('web'), 'environment', Item('X'))`` →
    ``containerDefinitions[web].environment[X]``."""
    text = ""
    for step in path:
        if isinstance(step, (Item, int)):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def spec_for(path: Path) -> KeyedListSpec | None:
    """The keyed-list rule of the list at ``path`` (``('containerDefinitions', Item('web'), 'environment')``)."""
    specs: Mapping[str, KeyedListSpec] = TASK_KEYED_LISTS
    spec: KeyedListSpec | None = None
    for depth, step in enumerate(path):
        if isinstance(step, Item) and spec is not None:
            specs, spec = spec.children, None
        elif isinstance(step, str) and spec is None:
            spec = specs.get(step)
            if spec is None:
                if depth == 0 and step in TASK_KEYED_MAPPINGS:
                    specs = TASK_KEYED_MAPPINGS[step]
                    continue
                return None
        else:
            return None
    return spec


def keyed_path(raw_path: Sequence[str | int], data: Any) -> Path:
    """A path through plain data (list indices, mapping keys) in keyed form: list indices and
    mapping-form keys inside keyed lists become ``Item``s named by the item's key."""
    steps: list[PathStep] = []
    specs: Mapping[str, KeyedListSpec] = TASK_KEYED_LISTS
    spec: KeyedListSpec | None = None
    node = data
    for step in raw_path:
        if spec is not None:
            key = None
            if isinstance(step, int) and isinstance(node, list) and isinstance(node[step], dict):
                key = spec.item_key(node[step])
            elif isinstance(step, str):
                key = spec.normalise_key(step)
            steps.append(Item(key) if key is not None else step)
            specs, spec = spec.children, None
        else:
            spec = specs.get(step) if isinstance(step, str) else None
            if spec is None:
                specs = TASK_KEYED_MAPPINGS.get(step, {}) if not steps and isinstance(step, str) else {}
            steps.append(step)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(steps)


def to_keyed(value: Any, specs: Mapping[str, KeyedListSpec] = TASK_KEYED_LISTS) -> Any:
    """A task definition with every keyed list turned into a KeyedList.

    The mappings on the way to keyed lists are new; other values are shared with ``value``, never
    changed (the merge builds new containers, and :func:`from_keyed` copies everything it returns).
    A list whose items repeat a key, or lack one, stays a plain list: it cannot be merged by key
    without losing an item, and render says so if an overlay tries.
    """
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for name, child in value.items():
        spec = specs.get(name)
        if spec is not None and isinstance(child, list):
            result[name] = _keyed_items(child, spec)
        elif specs is TASK_KEYED_LISTS and name in TASK_KEYED_MAPPINGS and isinstance(child, dict):
            result[name] = to_keyed(child, TASK_KEYED_MAPPINGS[name])
        else:
            result[name] = child
    return result


def _keyed_items(items: list[Any], spec: KeyedListSpec) -> Any:
    keyed = KeyedList()
    for item in items:
        key = spec.item_key(item) if isinstance(item, dict) else None
        if key is None or key in keyed:
            return items
        keyed[key] = to_keyed(item, spec.children) if spec.children else item
    return keyed


def from_keyed(value: Any) -> Any:
    """The inverse of :func:`to_keyed`, as a fresh copy: KeyedLists become lists, deleted items dropped."""
    kind = type(value)  # exact types: this runs for every value of every rendered task definition
    if kind is KeyedList or kind is ReplacingList:
        return [from_keyed(item) for item in value.values() if item is not None]
    if kind is dict or isinstance(value, dict):
        return {name: from_keyed(child) for name, child in value.items()}
    if kind is list or isinstance(value, list):
        return [from_keyed(item) for item in value]
    return value
