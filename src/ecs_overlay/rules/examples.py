"""The task definitions the rules' examples start from: small, valid, and close to real ones.

Each rule's examples are overlays applied to one of these (see registry.Example), so that a
flagged example differs from a valid task definition in exactly the way the rule is about.
"""

from __future__ import annotations

import copy
from typing import Any

_ACCOUNT = "111111111111"

FARGATE: dict[str, Any] = {
    "family": "shop",
    "taskRoleArn": f"arn:aws:iam::{_ACCOUNT}:role/shop-task",
    "executionRoleArn": f"arn:aws:iam::{_ACCOUNT}:role/shop-execution",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {
            "name": "web",
            "image": f"{_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shop:1",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:ssm:eu-west-1:{_ACCOUNT}:parameter/shop/db"}],
            "dependsOn": [{"containerName": "envoy", "condition": "START"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/shop",
                    "awslogs-region": "eu-west-1",
                    "awslogs-stream-prefix": "web",
                },
            },
        },
        {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod", "essential": True},
    ],
}

EC2: dict[str, Any] = {
    "family": "shop-ec2",
    "networkMode": "bridge",
    "requiresCompatibilities": ["EC2"],
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "essential": True,
            "memory": 256,
            "portMappings": [{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}],
        },
        {"name": "worker", "image": "busybox:1.36", "essential": False, "memoryReservation": 64},
    ],
}

WINDOWS: dict[str, Any] = {
    "family": "shop-windows",
    "executionRoleArn": f"arn:aws:iam::{_ACCOUNT}:role/shop-execution",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"},
    "cpu": "1024",
    "memory": "2048",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        }
    ],
}

BASES = {"fargate": FARGATE, "ec2": EC2, "windows": WINDOWS}


def example_base(name: str) -> dict[str, Any]:
    """A fresh copy of the named example base."""
    return copy.deepcopy(BASES[name])
