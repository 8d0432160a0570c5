"""The overlay forms peers' users rely on, through the command (in-process): `$replace`, `$append`, `envFile`,
`${VAR}` in numeric fields, on examples/overlay-forms and the sample app's live task definition."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EXAMPLE_BASE, REPO, clean_environ
from .test_review import GIT_ENV


@pytest.fixture
def forms(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples" / "overlay-forms" / "environments", tmp_path / "environments")
    shutil.copy(EXAMPLE_BASE, tmp_path / "base.json")
    return tmp_path


def _web(document: dict[str, object]) -> dict[str, object]:
    containers = document["containerDefinitions"]
    assert isinstance(containers, list)
    return next(c for c in containers if c["name"] == "web")


def test_render_applies_replace_append_env_file_and_numeric_variables(invoke, forms: Path) -> None:
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=forms, env={"WEB_MEMORY": "640"})
    assert result.returncode == 0, result.stderr
    web = _web(result.json())
    assert web["memory"] == 640
    assert [s["name"] for s in web["secrets"]] == ["DB_PASSWORD"]  # exactly these secrets
    assert web["environmentFiles"] == [{"value": "arn:aws:s3:::checkout-config/prod.env", "type": "s3"}]
    environment = {e["name"]: e["value"] for e in web["environment"]}
    assert environment["LOG_LEVEL"] == "warn"  # the overlay wins over web.env
    assert environment["GREETING"] == "Welcome back # not a comment"
    agent = next(c for c in result.json()["containerDefinitions"] if c["name"] == "datadog-agent")
    assert agent["portMappings"] == []


def test_append_adds_nothing_twice_when_the_base_is_the_previous_render(invoke, forms: Path) -> None:
    first = invoke("render", "--env", "prod", "--base", "base.json", "-o", "previous.json", cwd=forms)
    assert first.returncode == 0, first.stderr
    again = invoke("diff", "--env", "prod", "--base", "previous.json", "--exit-code", cwd=forms)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout == "== prod: previous.json -> rendered: no changes\n"


def test_diff_points_dropped_items_at_replace_and_variables_at_their_dotenv_line(invoke, forms: Path) -> None:
    result = invoke("diff", "--env", "prod", "--base", "base.json", "--exit-code", cwd=forms)
    assert result.returncode == 4
    assert "- containerDefinitions[web].secrets[STRIPE_API_KEY]: " in result.stdout
    assert '/checkout/stripe-api-key"  (environments/prod.yaml:10:7)\n' in result.stdout
    assert '+ containerDefinitions[web].environment[CACHE_TTL_SECONDS]: "300"  (environments/web.env:3:19)' in (
        result.stdout
    )
    assert "+ containerDefinitions[web].memory: 512  (environments/prod.yaml:7:13 via ${WEB_MEMORY})" in result.stdout


def test_explain_names_the_dotenv_file_line(invoke, forms: Path) -> None:
    result = invoke(
        "explain", "--env", "prod", "--base", "base.json", "--path", "containerDefinitions[web].environment", cwd=forms
    )
    assert result.returncode == 0, result.stderr
    assert 'containerDefinitions[web].environment[CACHE_TTL_SECONDS] = "300"  <- environments/web.env:3:19' in (
        result.stdout
    )


def test_a_numeric_variable_that_is_no_number_is_an_error_at_its_column(invoke, forms: Path) -> None:
    result = invoke("validate", "--base", "base.json", cwd=forms, env={"WEB_MEMORY": "2GB"})
    assert result.returncode == 1
    assert (
        "environments/prod.yaml:7:13 containerDefinitions[web].memory: error: '${WEB_MEMORY:-512}' does not give "
        "a whole number, which ECS needs here" in result.stdout
    )
    assert "2GB" not in result.stdout + result.stderr


def test_a_broken_env_file_is_an_error_at_its_line_and_nothing_is_written(invoke, forms: Path) -> None:
    (forms / "environments" / "web.env").write_text('LOG_LEVEL=debug\nGREETING="never closed\n', encoding="utf-8")
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=forms)
    assert result.returncode == 1
    assert "environments/web.env:2:10 containerDefinitions[web].environment: error: GREETING: the double quote" in (
        result.stderr
    )
    assert not (forms / "taskdef.json").exists()


def test_validate_checks_the_overlay_schema_forms(invoke, forms: Path) -> None:
    prod = forms / "environments" / "prod.yaml"
    prod.write_text("containerDefinitions:\n  web:\n    environment:\n      $append: {A: x}\n", encoding="utf-8")
    result = invoke("validate", cwd=forms)
    assert result.returncode == 1
    assert "environments/prod.yaml:4:7 containerDefinitions[web].environment: error: $append adds to plain lists" in (
        result.stdout
    )
    assert json.loads((REPO / "schema" / "overlay.schema.json").read_text())["$defs"]["ContainerDefinition"][
        "properties"
    ]["envFile"]


def test_diff_against_a_revision_reads_the_dotenv_file_as_it_was_there(invoke, forms: Path) -> None:
    git_env = clean_environ(GIT_ENV)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "overlays"]):
        subprocess.run(["git", *args], cwd=forms, env=git_env, check=True, capture_output=True)
    web_env = forms / "environments" / "web.env"
    web_env.write_text(web_env.read_text(encoding="utf-8").replace("=300", "=600"), encoding="utf-8")
    result = invoke("diff", "--env", "prod", "--base", "base.json", "--against", "HEAD", "--exit-code", cwd=forms)
    assert result.returncode == 4, result.stderr
    assert result.stdout == (
        "== prod: HEAD -> working tree: 1 change\n"
        '~ containerDefinitions[web].environment[CACHE_TTL_SECONDS]: "300" -> "600"  (environments/web.env:3:19)\n'
    )
