"""Properties of the pure core, over generated task definitions and overlays (hypothesis)."""

from __future__ import annotations

import copy
import string
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_overlay import parse_overlay, render
from ecs_overlay.aws import Ecs
from ecs_overlay.keyed import KeyedList
from ecs_overlay.merge import MERGER
from ecs_overlay.overlay import Overlay

# One Ecs for every example: it loads botocore's ECS model once, as one run of the command does.
ECS = Ecs()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6)
# [A-Z][A-Z0-9_]{0,6}, built directly (from_regex draws the same names at several times the cost)
variable_names = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_uppercase),
    st.text(alphabet=string.ascii_uppercase + string.digits + "_", max_size=6),
).filter(lambda name: not any(word in name for word in ("KEY", "TOKEN", "SECRET", "PASS", "CRED", "AUTH")))
values = st.text(alphabet=string.ascii_letters + string.digits + " .:/-_", max_size=12)
images = st.sampled_from(["registry.example.com/app:1", "public.ecr.aws/nginx/nginx:1.27", "busybox"])


@st.composite
def containers(draw: Any, name: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": draw(images),
        "essential": True,
        "memoryReservation": draw(st.integers(16, 96)),
    }
    environment = draw(st.dictionaries(variable_names, values, max_size=4))
    container["environment"] = [{"name": key, "value": value} for key, value in environment.items()]
    if draw(st.booleans()):
        container["command"] = draw(st.lists(values, max_size=3))
    return container


@st.composite
def bases(draw: Any) -> dict[str, Any]:
    container_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    tags = draw(st.dictionaries(names, values, max_size=3))
    base: dict[str, Any] = {
        "family": draw(names),
        "containerDefinitions": [draw(containers(name)) for name in container_names],
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
    }
    if tags:
        base["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    return base


@st.composite
def overlay_documents(draw: Any, base: dict[str, Any], deletes: bool = True) -> dict[str, Any]:
    """An overlay in the mapping form people write: touches existing containers, may add one."""
    document: dict[str, Any] = {}
    existing = [c["name"] for c in base["containerDefinitions"]]
    changes: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(existing), max_size=len(existing), unique=True)):
        change: dict[str, Any] = {}
        environment = draw(st.dictionaries(variable_names, values if not deletes else st.none() | values, max_size=3))
        if environment:
            change["environment"] = environment
        if draw(st.booleans()):
            change["command"] = draw(st.lists(values, max_size=2))
        changes[name] = change
    if draw(st.booleans()):
        new_name = draw(names.filter(lambda n: n not in existing))
        changes[new_name] = {"image": draw(images), "essential": False, "memoryReservation": 32}
    if changes:
        document["containerDefinitions"] = changes
    if draw(st.booleans()):
        document["cpu"], document["memory"] = draw(st.sampled_from([(256, 1024), (512, 2048), (1024, 3072)]))
    tags = draw(st.dictionaries(names, values, max_size=2))
    if tags:
        document["tags"] = tags
    return document


def as_overlay(document: dict[str, Any], name: str = "env.yaml") -> Overlay:
    overlay = parse_overlay(yaml.safe_dump(document, sort_keys=False), name, {})
    assert overlay.findings == [], overlay.findings
    return overlay


@SETTINGS
@given(bases())
def test_an_empty_overlay_returns_the_base_unchanged(base: dict[str, Any]) -> None:
    result = render(base, [as_overlay({})])
    assert result.taskdef == base


@SETTINGS
@given(st.data())
def test_render_never_mutates_its_inputs(data: Any) -> None:
    base = data.draw(bases())
    overlay = as_overlay(data.draw(overlay_documents(base)))
    base_before, overlay_before = copy.deepcopy(base), copy.deepcopy(overlay.data)
    result = render(base, [overlay])
    result.taskdef["containerDefinitions"].clear()
    assert base == base_before and overlay.data == overlay_before


@SETTINGS
@given(st.data())
def test_applying_a_then_b_equals_applying_their_merge(data: Any) -> None:
    base = data.draw(bases())
    first = as_overlay(data.draw(overlay_documents(base, deletes=False)), "a.yaml")
    second = as_overlay(data.draw(overlay_documents(base, deletes=False)), "b.yaml")
    combined = Overlay("ab.yaml", data=MERGER.merge(first.data, second.data))
    assert render(base, [first, second]).taskdef == render(base, [combined]).taskdef


@SETTINGS
@given(st.data())
def test_keyed_lists_have_no_duplicates_and_keep_the_base_order(data: Any) -> None:
    base = data.draw(bases())
    result = render(base, [as_overlay(data.draw(overlay_documents(base)))])
    rendered_names = [c["name"] for c in result.taskdef["containerDefinitions"]]
    assert len(rendered_names) == len(set(rendered_names))
    surviving = [c["name"] for c in base["containerDefinitions"] if c["name"] in rendered_names]
    assert rendered_names[: len(surviving)] == surviving
    for container in result.taskdef["containerDefinitions"]:
        variables = [item["name"] for item in container.get("environment", [])]
        assert len(variables) == len(set(variables))
        original = next((c for c in base["containerDefinitions"] if c["name"] == container["name"]), None)
        if original is not None:
            kept = [item["name"] for item in original["environment"] if item["name"] in variables]
            assert variables[: len(kept)] == kept


@SETTINGS
@given(st.data())
def test_valid_overlays_on_valid_bases_make_requests_botocore_accepts(data: Any) -> None:
    base = data.draw(bases())
    result = render(base, [as_overlay(data.draw(overlay_documents(base)))])
    assert result.ok, result.findings
    assert ECS.request_problems(result.taskdef) == []
    assert not any(isinstance(value, KeyedList) for value in result.taskdef.values())
