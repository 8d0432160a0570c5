"""Bounded cost for hostile input: a 1000-deep `extends` chain, 24k port mappings, YAML alias amplification.
Each is refused (or checked) with the README's exit code and no traceback; costs are counted, never timed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import EXAMPLE_BASE


def test_a_1000_deep_extends_chain_is_a_clear_error_naming_the_chain(invoke: Any, tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "deep.yaml").write_text("extends: _l1.yaml\n")
    for depth in range(1, 1000):
        (environments / f"_l{depth}.yaml").write_text(f"extends: _l{depth + 1}.yaml\n")
    (environments / "_l1000.yaml").write_text("cpu: '1024'\n")
    (tmp_path / "taskdef.json").write_bytes(b"previous\n")
    result = invoke("render", "--env", "deep", "--base", str(EXAMPLE_BASE), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert (
        "extends chain deeper than 32 files: environments/deep.yaml -> environments/_l1.yaml -> "
        "environments/_l2.yaml -> … (27 more) … -> environments/_l30.yaml -> environments/_l31.yaml -> "
        "environments/_l32.yaml; merge some of these layers"
    ) in result.stderr
    assert (tmp_path / "taskdef.json").read_bytes() == b"previous\n"


# -- duplicate ports: linear in the number of mappings, counted in executed lines ------------------


def _port_check_lines(mappings: list[dict[str, Any]]) -> int:
    from ecs_overlay.rules import RuleContext
    from ecs_overlay.rules.network import duplicate_port_mapping

    ctx = RuleContext({"containerDefinitions": [{"name": "web", "portMappings": mappings}]})
    count = 0

    def trace(frame: Any, event: str, _arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        problems = list(duplicate_port_mapping(ctx))
    finally:
        sys.settrace(None)
    assert len(problems) == (len(mappings) - 1) // 10  # every tenth mapping repeats the one before it
    return count


@pytest.mark.parametrize("kind", ["ports", "ranges"])
def test_the_duplicate_port_check_costs_grow_linearly_with_mappings(kind: str) -> None:
    def mappings(n: int) -> list[dict[str, Any]]:
        def one(i: int) -> dict[str, Any]:
            first = 1 + 2 * (i - 1 if i and i % 10 == 0 else i)  # every tenth one repeats the one before it
            if kind == "ports":
                return {"containerPort": first, "protocol": "tcp"}
            return {"containerPortRange": f"{first}-{first + 1}", "protocol": "tcp"}

        return [one(i) for i in range(n)]

    small, medium, large = (_port_check_lines(mappings(n)) for n in (1000, 2000, 4000))
    # Linear: the second 2000 mappings cost what the 1000 before them cost twice over (2.0 give or take the
    # bisection's log n); comparing each mapping with every earlier one made it about 4.
    assert large - medium < 2.4 * (medium - small), (small, medium, large)


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5), st.sampled_from(["tcp", "udp"])), max_size=40))
def test_the_duplicate_port_check_flags_exactly_the_mappings_that_overlap_an_earlier_one(
    spans: list[tuple[int, int, str]],
) -> None:
    from ecs_overlay.rules import RuleContext
    from ecs_overlay.rules.network import duplicate_port_mapping

    mappings: list[dict[str, Any]] = [
        {"containerPort": first, "protocol": protocol}
        if width == 0
        else {"containerPortRange": f"{first}-{first + width}", "protocol": protocol}
        for first, width, protocol in spans
    ]
    ctx = RuleContext({"containerDefinitions": [{"name": "web", "portMappings": mappings}]})
    flagged = [str(problem.path[-1]) for problem in duplicate_port_mapping(ctx)]
    expected = [
        f"{first}/{protocol}" if width == 0 else f"{first}-{first + width}/{protocol}"
        for index, (first, width, protocol) in enumerate(spans)
        if any(
            other == protocol and first <= start + span and start <= first + width
            for start, span, other in spans[:index]
        )
    ]
    assert flagged == expected


# -- YAML aliases: the budget counts what the aliases expand to, not the nodes written ---------------


def scalar_alias_bomb(size: int = 100 * 1024) -> str:
    """A file of ``size`` bytes that names one 83 KiB value a thousand times: 85 MB once expanded, in few
    nodes (the node budget alone let it through, and validate took 24 s and 290 MB)."""
    value = "A" * (size - 17_000)
    keys = "".join(f"      V{index:03d}: *x\n" for index in range(1000))
    text = f"family: &x {value}\ncontainerDefinitions:\n  web:\n    environment:\n{keys}"
    return text + "#" * (size - len(text) - 1) + "\n"


def test_alias_amplification_of_a_100_kib_file_is_refused(invoke: Any, tmp_path: Path) -> None:
    text = scalar_alias_bomb()
    assert len(text.encode()) == 100 * 1024
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "bomb.yaml").write_text(text)
    (tmp_path / "taskdef.json").write_bytes(b"previous\n")
    result = invoke("render", "--env", "bomb", "--base", str(EXAMPLE_BASE), cwd=tmp_path)
    assert result.returncode == 1, result.stderr[:500]
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        "Error: environments/bomb.yaml: more than 4 MiB of YAML after expanding aliases; refusing to load it "
        "(an alias bomb?). Write the overlay without nested aliases.\n"
    )
    assert (tmp_path / "taskdef.json").read_bytes() == b"previous\n"


def test_aliases_within_the_budget_still_load() -> None:
    from ecs_overlay.overlay import parse_overlay

    value = "A" * 1000
    keys = "".join(f"      V{index:03d}: *x\n" for index in range(1000))  # 1 MB expanded: far below the budget
    layer = parse_overlay(f"family: &x {value}\ncontainerDefinitions:\n  web:\n    environment:\n{keys}", "e", {})
    assert layer.findings == [] and len(layer.data["containerDefinitions"]["web"]["environment"]) == 1000


def test_a_node_that_holds_an_alias_to_itself_is_refused_at_once() -> None:
    from ecs_overlay.errors import InvalidInputError
    from ecs_overlay.overlay import parse_overlay

    with pytest.raises(InvalidInputError, match=r"^e.yaml:2:15: this node holds an alias to itself"):
        parse_overlay("family: x\ndockerLabels: &a {b: *a, c: *a}\n", "e.yaml", {})
