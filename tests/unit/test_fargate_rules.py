"""Execution-role, Fargate, Windows-on-Fargate and volume rules: with a base, and on layers alone."""

from __future__ import annotations

import pytest

from ecs_overlay.render import check_layers
from ecs_overlay.rules.roles import is_private_ecr

from .helpers import base_task, overlay, rendered


def _layers_alone(*texts: str) -> set[tuple[str, str, str]]:
    layers = [overlay(text, f"layer{index}.yaml") for index, text in enumerate(texts)]
    return {(f.rule, f.path, f.severity) for f in check_layers(layers)}


def test_an_overlay_removing_the_execution_role_is_pointed_at_each_need() -> None:
    result = rendered(base_task(), "executionRoleArn: null\n")
    found = {(f.rule, f.path) for f in result.findings if f.is_error}
    assert found == {
        ("execution-role-required", "containerDefinitions[web].secrets"),
        ("execution-role-required", "containerDefinitions[web].logConfiguration.logDriver"),
        ("execution-role-required", "containerDefinitions[web].image"),
    }


def test_the_same_task_on_ec2_needs_the_role_only_for_its_secrets() -> None:
    result = rendered(base_task(requiresCompatibilities=["EC2"], networkMode="bridge"), "executionRoleArn: null\n")
    assert [(f.rule, f.path) for f in result.findings if f.is_error] == [
        ("execution-role-required", "containerDefinitions[web].secrets")
    ]


def test_a_secret_added_by_an_overlay_is_located_at_its_line() -> None:
    base = base_task()
    del base["executionRoleArn"], base["containerDefinitions"][0]["secrets"]
    base["containerDefinitions"][0]["image"] = "public.ecr.aws/nginx/nginx:1.27"
    del base["containerDefinitions"][0]["logConfiguration"]
    result = rendered(base, "containerDefinitions:\n  web:\n    secrets:\n      API_KEY: /shop/api-key\n")
    (finding,) = [f for f in result.findings if f.rule == "execution-role-required"]
    assert (finding.file, finding.line, finding.path) == ("layer0.yaml", 4, "containerDefinitions[web].secrets")
    assert "/shop/api-key" not in finding.message


def test_fargate_parameters_on_layers_alone_need_the_layers_to_say_fargate() -> None:
    privileged = "containerDefinitions:\n  web:\n    privileged: true\n"
    assert _layers_alone(privileged) == set()
    assert _layers_alone("requiresCompatibilities: [FARGATE]\n", privileged) == {
        ("fargate-unsupported-parameter", "containerDefinitions[web].privileged", "error")
    }


def test_efs_encryption_on_layers_alone_judges_only_what_the_layers_set() -> None:
    access_point = (
        "volumes:\n  data:\n    efsVolumeConfiguration:\n      fileSystemId: fs-0123456789abcdef0\n"
        "      authorizationConfig: {accessPointId: fsap-0123456789abcdef0}\n"
    )
    assert _layers_alone(access_point) == set()  # the base may enable transit encryption
    assert _layers_alone(access_point + "      transitEncryption: DISABLED\n") == {
        ("efs-transit-encryption", "volumes[data].efsVolumeConfiguration.transitEncryption", "error")
    }
    assert _layers_alone(access_point + "      rootDirectory: /data\n") == {
        ("efs-access-point-root", "volumes[data].efsVolumeConfiguration.rootDirectory", "error")
    }


def test_windows_sizes_on_layers_alone_need_both_halves() -> None:
    windows = "requiresCompatibilities: [FARGATE]\nruntimePlatform: {operatingSystemFamily: WINDOWS_SERVER_2022_CORE}\n"
    assert _layers_alone(windows + "cpu: 512\n") == set()
    assert ("windows-fargate-size", "cpu", "error") in _layers_alone(windows + "cpu: 512\nmemory: 1024\n")
    assert _layers_alone(windows + "cpu: 1 vCPU\nmemory: 2 GB\n") == set()


@pytest.mark.parametrize(
    ("image", "private"),
    [
        ("111111111111.dkr.ecr.eu-west-1.amazonaws.com/shop:1", True),
        ("111111111111.dkr.ecr-fips.us-east-1.amazonaws.com/shop@sha256:" + "a" * 64, True),
        ("111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/shop:1", True),
        ("111111111111.dkr-ecr.eu-west-1.on.aws/shop:1", True),
        ("public.ecr.aws/nginx/nginx:1.27", False),
        ("nginx:1.27", False),
        ("ghcr.io/acme/shop:1", False),
    ],
)
def test_private_ecr_images_are_told_from_others(image: str, private: bool) -> None:
    assert is_private_ecr(image) is private
