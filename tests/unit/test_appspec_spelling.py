"""A hand-written appspec's `resources` section in the spellings CodeDeploy's reference uses."""

from __future__ import annotations

from ecs_overlay import appspec

TASKDEF = {"containerDefinitions": [{"name": "web", "portMappings": [{"containerPort": 8080}]}]}
TARGET = """  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: {name}
          ContainerPort: 8080
"""


def _appspec(key: str, name: str = "web") -> str:
    return f"version: 0.0\n{key}:\n" + TARGET.format(name=name)


def test_the_documented_lowercase_resources_is_read_like_resources() -> None:
    assert appspec.check(_appspec("resources"), "appspec.yaml", TASKDEF) == []
    assert appspec.check(_appspec("Resources"), "appspec.yaml", TASKDEF) == []


def test_lowercase_resources_is_checked_and_named_as_written() -> None:
    (finding,) = appspec.check(_appspec("resources", name="api"), "appspec.yaml", TASKDEF)
    assert finding.rule == "appspec-target"
    assert finding.path == "resources[0].TargetService.Properties.LoadBalancerInfo"


def test_both_spellings_at_once_are_refused() -> None:
    text = _appspec("Resources") + "resources:\n" + TARGET.format(name="web")
    assert [(f.rule, f.path) for f in appspec.check(text, "appspec.yaml", TASKDEF)] == [
        ("appspec-structure", "resources")
    ]


def test_neither_spelling_names_the_section_missing() -> None:
    (finding,) = appspec.check("version: 0.0\n", "appspec.yaml", TASKDEF)
    assert finding.path == "Resources" and "exactly one" in finding.message
