"""init's pure parts: what a live task definition gives an overlay, and factoring what layers share."""

from __future__ import annotations

from ecs_overlay.app.init import beyond, managed_values, shared


def test_credentials_stay_in_the_base_and_live_text_is_not_a_variable() -> None:
    taskdef = {
        "cpu": "1024",
        "memory": "2 GB",
        "containerDefinitions": [
            {
                "name": "web",
                "environment": [
                    {"name": "DB_PASSWORD", "value": "hunter2"},
                    {"name": "CACHE_URL", "value": "redis://:s3cr3tpass@cache:6379/0"},
                    {"name": "HOME_DIR", "value": "${HOME}/app"},
                ],
                "secrets": [{"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/api"}],
                "logConfiguration": {"logDriver": "splunk", "options": {"awslogs-group": "not-awslogs"}},
            },
            {"name": "sidecar", "image": "busybox"},
        ],
    }
    values, left = managed_values(taskdef)
    assert values == {
        "cpu": 1024,
        "memory": "2 GB",
        "containerDefinitions": {
            "web": {
                "environment": {"HOME_DIR": "$${HOME}/app"},
                "secrets": {"API_KEY": "arn:aws:ssm:eu-west-1:123456789012:parameter/api"},
            }
        },
    }
    assert left == ["web: DB_PASSWORD", "web: CACHE_URL"]


def test_shared_values_factor_out_and_back_to_the_same_layers() -> None:
    stage = {"base": {"cluster": "c", "service": "s1"}, "cpu": 512, "env": {"A": "1", "B": "x"}, "only": {"k": 1}}
    prod = {"base": {"cluster": "c", "service": "s2"}, "cpu": 1024, "env": {"A": "1", "B": "y"}}
    common = shared(stage, prod)
    assert common == {"base": {"cluster": "c"}, "env": {"A": "1"}}
    assert beyond(stage, common) == {"base": {"service": "s1"}, "cpu": 512, "env": {"B": "x"}, "only": {"k": 1}}
    # A layer without something the shared layer sets deletes each such value, not what holds it.
    assert beyond({"cpu": 256}, common) == {"cpu": 256, "base": {"cluster": None}, "env": {"A": None}}
    shared_web = {"containerDefinitions": {"web": {"environment": {"PORT": "8080"}}}}
    assert beyond({}, shared_web, containers=["web"]) == {
        "containerDefinitions": {"web": {"environment": {"PORT": None}}}
    }
    assert beyond({}, shared_web, containers=["worker"]) == {"containerDefinitions": {"web": None}}


def test_a_hand_written_common_layer_is_read_as_plain_data() -> None:
    import json
    from pathlib import Path

    import yaml

    from ecs_overlay import schemas
    from ecs_overlay.app.init import Layer, adopt
    from ecs_overlay.base import registerable

    from ..conftest import EXAMPLE_BASE

    base = registerable(json.loads(EXAMPLE_BASE.read_text()), schemas.describe_only_fields())
    common = '# shared\n"cpu": 512\ntags:\n  "team": payments  # quoted key\n  created: 2024-01-01\n'
    layer = Layer(
        {"base": {"service": "s"}, "cpu": 512, "tags": {"team": "payments", "created": "2024-01-01", "env": "qa"}},
        ["# new"],
    )
    adopted = adopt("qa", layer, base, Path("environments"), {}, common)
    [(path, text)] = adopted.files.items()
    assert path == Path("environments/qa.yaml") and adopted.extending == ["qa"]
    # what _common.yaml sets alike (quoted keys, a date) is left out; only the rest is written
    assert yaml.safe_load(text) == {"extends": "_common.yaml", "base": {"service": "s"}, "tags": {"env": "qa"}}
