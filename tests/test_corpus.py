"""Real task definitions written by others (tests/corpus/, sources in MANIFEST.json): nothing is lost, nothing
ECS accepts is refused, and what ECS refuses is refused for the reason the manifest gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ecs_overlay import render, schemas
from ecs_overlay.base import parse_base, read_base
from ecs_overlay.cli import cli
from ecs_overlay.rules import task_size_units

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
FILES = sorted(path.name for path in CORPUS.glob("*.json") if path.name != "MANIFEST.json")
Leaf = tuple[tuple[str | int, ...], Any]


def test_the_manifest_describes_every_file_with_its_source() -> None:
    assert len(FILES) >= 45
    assert sorted(MANIFEST) == FILES
    for name, entry in MANIFEST.items():
        source = entry["source"]
        assert source["repository"] and source["path"] and len(source["commit"]) == 40, name
        assert entry["description"], name
        for expected in entry["expected"]:
            assert expected["justification"] and expected["source"].startswith("https://"), (name, expected)


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Leaf]:
    """Every scalar (and empty list or mapping) with its path; a null is absent, as ECS reads it."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            if item is not None:
                yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(item for item in value if item is not None):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _as_written(document: dict[str, Any]) -> set[Leaf]:
    """What the file says the task definition is, computed here without the tool's reader."""
    taskdef = document.get("taskDefinition", document)
    if "taskDefinition" in document and document.get("tags") and "tags" not in taskdef:
        taskdef = {**taskdef, "tags": document["tags"]}
    wanted = {key: value for key, value in taskdef.items() if key not in schemas.describe_only_fields()}
    if wanted.get("tags") == []:  # an empty tag list means no tags
        del wanted["tags"]
    return {_normalised(path, value) for path, value in _leaves(wanted)}


def _normalised(path: tuple[str | int, ...], value: Any) -> Leaf:
    """Task cpu and memory are written as ECS's unit strings (".25 vcpu" → "256"): render's one normalisation."""
    if path in (("cpu",), ("memory",)):
        units = task_size_units(value, str(path[0]))
        if units is not None:
            return path, str(units)
    return path, json.dumps(value) if isinstance(value, (dict, list)) else value


@pytest.mark.parametrize("name", FILES)
def test_renders_with_an_empty_overlay_losing_nothing(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    base = read_base(parse_base(text, name), schemas.describe_only_fields())
    result = render(base.taskdef, [])
    rendered = {_normalised(path, value) for path, value in _leaves(result.taskdef)}
    written = _as_written(json.loads(text))
    assert written - rendered == set(), "lost or changed"
    assert rendered - written == set(), "added"


@pytest.mark.parametrize("name", FILES)
def test_validates_with_exactly_the_findings_the_manifest_justifies(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command, as a pipeline runs it: `validate --base FILE` on an empty overlay."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "ci.yaml").write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--base", str(CORPUS / name), "--format", "json"])
    entry = MANIFEST[name]
    findings = json.loads(result.stdout)
    found = sorted((f["rule"], f["path"], f["severity"]) for f in findings if f["severity"] != "info")
    expected = sorted((e["rule"], e["path"], e["severity"]) for e in entry["expected"])
    assert found == expected, "\n".join(f["message"] for f in findings)
    assert result.exit_code == (1 if any(severity == "error" for *_, severity in expected) else 0), result.output
    notes = [f["message"] for f in findings if f["severity"] == "info"]
    nulls = entry.get("nulls_dropped", 0)
    assert notes == (
        [f"dropped {nulls} null value{'' if nulls == 1 else 's'} from the base (null means absent in ECS)"]
        if nulls
        else []
    )
    assert not any(word in result.stdout for word in ("None", "True", "False")), "messages speak JSON"


def test_a_template_without_an_image_renders_clean_with_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the manifest says of github-actions-template-no-image.json: --image supplies what the action would."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "ci.yaml").write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    base = str(CORPUS / "github-actions-template-no-image.json")
    result = CliRunner().invoke(cli, ["render", "--env", "ci", "--base", base, "--image", "tourease-app=nginx:1.27"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "taskdef.json").read_text(encoding="utf-8"))
    assert written["containerDefinitions"][0]["image"] == "nginx:1.27"
