"""A file base with `"appProtocol": ""` (an SDK would leave the field out) validates and renders, saying so once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .conftest import Run


def test_an_empty_enum_in_a_file_base_is_dropped_with_one_info_line(invoke: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "ci.yaml").write_text("{}\n", encoding="utf-8")
    web = {
        "name": "web",
        "image": "nginx:1.27",
        "memory": 256,
        "portMappings": [{"containerPort": 80, "appProtocol": ""}],
    }
    (tmp_path / "base.json").write_text(json.dumps({"family": "shop", "containerDefinitions": [web]}))
    validated = invoke("validate", "--base", "base.json", "--format", "json", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    (note,) = json.loads(validated.stdout)
    assert note["rule"] == "base-empty-enum" and note["severity"] == "info"
    assert "containerDefinitions[0].portMappings[0].appProtocol" in note["message"]
    rendered = invoke("render", "--env", "ci", "--base", "base.json", "-o", "-", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert json.loads(rendered.stdout)["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80}]
