"""`proxyConfiguration.properties` is keyed by name: one property merges, reordering is no change."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_overlay.diff import compare
from ecs_overlay.keyed import Item, spec_for

from .helpers import base_task, rendered

PROPERTIES = [
    {"name": "IgnoredUID", "value": "1337"},
    {"name": "ProxyIngressPort", "value": "15000"},
    {"name": "ProxyEgressPort", "value": "15001"},
    {"name": "AppPorts", "value": "8080"},
    {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"},
]


def _mesh_task() -> dict[str, Any]:
    return base_task(
        proxyConfiguration={"type": "APPMESH", "containerName": "envoy", "properties": [dict(p) for p in PROPERTIES]}
    )


@pytest.mark.parametrize(
    "text",
    [
        "proxyConfiguration: {properties: {AppPorts: '8080,9090'}}",
        "proxyConfiguration: {properties: [{name: AppPorts, value: '8080,9090'}]}",
    ],
)
def test_one_property_merges_and_the_others_stay(text: str) -> None:
    result = rendered(_mesh_task(), text)
    assert result.ok, result.findings
    properties = result.taskdef["proxyConfiguration"]["properties"]
    assert [p["name"] for p in properties] == [p["name"] for p in PROPERTIES]
    assert {p["name"]: p["value"] for p in properties}["AppPorts"] == "8080,9090"
    origin = result.provenance.origin(("proxyConfiguration", "properties", Item("AppPorts"), "value"))
    assert origin.file == "layer0.yaml" and origin.line == 1


def test_a_property_is_removed_with_null_and_added_by_name() -> None:
    result = rendered(
        _mesh_task(), "proxyConfiguration: {properties: {EgressIgnoredIPs: null, EgressIgnoredPorts: '22'}}"
    )
    names = [p["name"] for p in result.taskdef["proxyConfiguration"]["properties"]]
    assert names == ["IgnoredUID", "ProxyIngressPort", "ProxyEgressPort", "AppPorts", "EgressIgnoredPorts"]


def test_numbers_are_kept_as_the_text_ecs_expects() -> None:
    result = rendered(_mesh_task(), "proxyConfiguration: {properties: {ProxyIngressPort: 15010}}")
    assert {"name": "ProxyIngressPort", "value": "15010"} in result.taskdef["proxyConfiguration"]["properties"]


def test_reordered_properties_are_no_change_and_a_changed_one_reads_by_name() -> None:
    old = _mesh_task()
    new = _mesh_task()
    new["proxyConfiguration"]["properties"].reverse()
    assert compare(old, new) == []
    new["proxyConfiguration"]["properties"][0]["value"] = "10.0.0.1"
    [change] = compare(old, new)
    assert change.readable_path == "proxyConfiguration.properties[EgressIgnoredIPs]"
    assert (change.old, change.new) == ("169.254.170.2,169.254.169.254", "10.0.0.1")


def test_the_keyed_list_is_found_only_where_ecs_has_it() -> None:
    assert spec_for(("proxyConfiguration", "properties")) is not None
    assert spec_for(("containerDefinitions", Item("web"), "proxyConfiguration", "properties")) is None
    assert spec_for(("proxyConfiguration",)) is None
