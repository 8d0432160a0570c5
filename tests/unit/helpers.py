"""Small builders for unit tests of the pure core."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Mapping
from typing import Any

from ecs_overlay import ImageRequest, RenderResult, parse_overlay, render
from ecs_overlay.overlay import Overlay


def overlay(text: str, file: str = "env.yaml", environ: Mapping[str, str] | None = None) -> Overlay:
    return parse_overlay(textwrap.dedent(text), file, environ or {})


def base_task(**fields: Any) -> dict[str, Any]:
    """A small valid Fargate task definition with an app and a sidecar."""
    task: dict[str, Any] = {
        "family": "shop",
        "executionRoleArn": "arn:aws:iam::111111111111:role/shop-execution",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/shop:1",
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:111111111111:parameter/db"}],
                "dependsOn": [{"containerName": "envoy", "condition": "START"}],
                "command": ["serve", "--port", "8080"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/shop",
                        "awslogs-region": "eu-west-1",
                        "awslogs-stream-prefix": "web",
                    },
                },
            },
            {
                "name": "envoy",
                "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29",
                "essential": True,
            },
        ],
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
    }
    task.update(fields)
    return task


def rendered(
    base: dict[str, Any], *texts: str, images: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> RenderResult:
    before = copy.deepcopy(base)
    layers = [overlay(text, f"layer{index}.yaml", environ) for index, text in enumerate(texts)]
    result = render(base, layers, [ImageRequest.parse(image) for image in images])
    assert base == before, "render mutated its base"
    return result


def container(result: RenderResult, name: str) -> dict[str, Any]:
    return next(c for c in result.taskdef["containerDefinitions"] if c["name"] == name)


def env_of(result: RenderResult, name: str = "web") -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(result, name).get("environment", [])}
