"""--ignore rules: the paths' own notation, * within one step, a rule covers what is below it."""

from __future__ import annotations

import pytest

from ecs_overlay.diff import IgnoreRule
from ecs_overlay.errors import UsageError
from ecs_overlay.keyed import Item

WEB_GIT_COMMIT = ("containerDefinitions", Item("web"), "environment", Item("GIT_COMMIT"))


@pytest.mark.parametrize(
    ("pattern", "path", "covered"),
    [
        ("containerDefinitions[*].environment[GIT_COMMIT]", WEB_GIT_COMMIT, True),
        ("containerDefinitions[*].environment[GIT]", WEB_GIT_COMMIT, False),
        ("containerDefinitions[*].environment[GIT_*]", WEB_GIT_COMMIT, True),
        ("containerDefinitions.web", WEB_GIT_COMMIT, True),  # everything below
        ("containerDefinitions[sidecar]", WEB_GIT_COMMIT, False),
        ("tags.*", ("tags", Item("team")), True),
        ("tags[*]", ("tags", Item("team")), True),
        ("tags[*]", ("tags",), False),  # the rule names something inside tags, not tags itself
        ("dockerLabels[com.example.*]", ("dockerLabels", "com.example.build"), True),
        ("dockerLabels.com.example.build", ("dockerLabels", "com.example.build"), False),  # dots split steps
        ("volumes[0]", ("volumes", 0), True),
    ],
)
def test_a_rule_covers_the_paths_it_names(pattern: str, path: tuple[object, ...], covered: bool) -> None:
    assert IgnoreRule(pattern).covers(path) is covered  # type: ignore[arg-type]


@pytest.mark.parametrize("pattern", ["", "tags[]", "a..b", "a.", "[", "tags]"])
def test_a_pattern_that_is_not_a_path_is_refused_with_an_example(pattern: str) -> None:
    with pytest.raises(UsageError, match=r"is not a path; write"):
        IgnoreRule(pattern)
