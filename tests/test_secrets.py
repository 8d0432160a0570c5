"""Canary secrets: planted in a base and in overlays, they must not appear in any output of any
command in any format, except the rendered artifact itself and ``--show-values``.

Every command runs in-process with click's CliRunner; drift reads a live base from moto's server.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_overlay.cli import cli
from ecs_overlay.keyed import Item
from ecs_overlay.overlay import parse_overlay
from ecs_overlay.render import render
from ecs_overlay.secrets import MASK, looks_like_credential, mask, mask_text, shapes_in

from .conftest import clean_environ
from .test_review import GIT_ENV

AWS_KEY = "AKIA" + "CANARY0000000001"
CANARIES = {
    "base credential-named": "canary-legacy-token-7f3a",
    "base URL password": "canary-url-pw-91b2",
    "base AWS key": AWS_KEY,
    "allowPlaintext literal": "canary-allowed-5c1d",
    "${DB_PASSWORD}": "canary-db-password-e8f0",
    "${REDIS_PASSWORD}": "canary-redis-pw-33aa",
    "added container token": "canary-worker-token-0b9e",
    "added container key": "CANARYPEMBODY0123456789",
    "added environment list": "canary-sidecar-token-4d4d",
    "old URL password": "canary-old-url-pw-6e6e",
    "schema error value": "canary-schema-pw-2a2a",
}
VARIABLES = {"DB_PASSWORD": CANARIES["${DB_PASSWORD}"], "REDIS_PASSWORD": CANARIES["${REDIS_PASSWORD}"]}

BASE = {
    "family": "canary-app",
    "executionRoleArn": "arn:aws:iam::123456789012:role/canary-execution",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "512",
    "memory": "1024",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "public.ecr.aws/nginx/nginx:1.25",
            "essential": True,
            "environment": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "LEGACY_API_TOKEN", "value": CANARIES["base credential-named"]},
                {"name": "DATABASE_URL", "value": f"postgres://app:{CANARIES['base URL password']}@db/app"},
                {"name": "S3_UPLOADER_ID", "value": AWS_KEY},
                {"name": "CACHE_CONFIG", "value": "host=cache"},
            ],
            "secrets": [{"name": "STRIPE_API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/stripe"}],
        },
        {"name": "sidecar", "image": "public.ecr.aws/docker/library/busybox:1.36", "essential": False},
    ],
}

PROD = f"""\
allowPlaintext: [SESSION_SECRET, WORKER_API_TOKEN, SIDECAR_TOKEN]
containerDefinitions:
  web:
    environment:
      LOG_LEVEL: warn
      SESSION_SECRET: {CANARIES["allowPlaintext literal"]}
      DATABASE_URL: "postgres://app:${{DB_PASSWORD}}@db/app"
      CACHE_CONFIG: "host=cache;auth=${{REDIS_PASSWORD}}"
  worker:
    image: public.ecr.aws/docker/library/python:3.12
    essential: false
    environment:
      WORKER_API_TOKEN: {CANARIES["added container token"]}
      SIGNING_KEY_PEM: "-----BEGIN PRIVATE KEY-----\\n{CANARIES["added container key"]}\\n-----END PRIVATE KEY-----"
  sidecar:
    environment:
      SIDECAR_TOKEN: {CANARIES["added environment list"]}
"""
# Stage removes web's whole environment list, so each of the base's values is in the diff, item by item.
STAGE = "containerDefinitions: {web: {environment: null}}\n"
# At the git revision diff --against compares with: other values from the same kinds of source.
PROD_BEFORE = PROD.replace("@db/app", "@old-db/app").replace("host=cache;", "host=old-cache;")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "prod.yaml").write_text(PROD_BEFORE)
    (environments / "stage.yaml").write_text(STAGE)
    (tmp_path / "base.json").write_text(json.dumps({"taskDefinition": BASE}))
    git_env = clean_environ(GIT_ENV)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "overlays"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=git_env, check=True, capture_output=True)
    (environments / "prod.yaml").write_text(PROD)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "prod.yaml").write_text(
        f"containerDefinitions: {{web: {{workingDirectory: ['postgres://app:{CANARIES['schema error value']}@db']}}}}\n"
    )
    (broken / "stage.yaml").write_text(
        f"containerDefinitions: {{web: {{user: {{login: app, password: {CANARIES['schema error value']}}}}}}}\n"
    )
    snapshot = json.loads(json.dumps(BASE))
    snapshot["containerDefinitions"][0]["environment"][2]["value"] = f"postgres://app:{CANARIES['old URL password']}@x"
    del snapshot["containerDefinitions"][1]
    (tmp_path / "snapshot.json").write_text(json.dumps(snapshot))
    monkeypatch.chdir(tmp_path)
    for name in [name for name in __import__("os").environ if name not in clean_environ()]:
        monkeypatch.delenv(name)
    for name, value in clean_environ(VARIABLES).items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture
def live(project: Path, ecs: Any, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The base registered on moto's server as the family's latest revision."""
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    ecs.register_task_definition(**BASE)
    yield BASE["family"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def leaked(result: Result, *, stdout: bool = True) -> list[str]:
    streams = (result.stdout if stdout else "") + result.stderr
    return [label for label, canary in CANARIES.items() if canary in streams]


OFFLINE_RUNS = [
    ("validate",),
    ("validate", "--format", "json"),
    ("validate", "--base", "base.json"),
    ("validate", "--base", "base.json", "--format", "json"),
    ("validate", "--environments-dir", "broken", "--base", "base.json"),
    ("validate", "--environments-dir", "broken", "--base", "base.json", "--format", "json"),
    ("render", "--env", "prod", "--environments-dir", "broken", "--base", "base.json"),
    ("render", "--env", "stage", "--environments-dir", "broken", "--base", "base.json"),
    *(
        (*command, "--format", output_format)
        for output_format in ("text", "markdown", "json")
        for command in (
            ("diff", "--env", "prod", "--base", "base.json"),
            ("diff", "--all", "--base", "base.json"),
            ("diff", "--all", "--against", "HEAD", "--base", "base.json"),
            ("diff", "--env", "stage", "--to-env", "prod", "--base", "base.json"),
            ("diff", "--env", "prod", "--to-env", "stage", "--base", "base.json"),
        )
    ),
    *(
        ("explain", "--env", env, "--base", "base.json", "--format", output_format, *path)
        for env in ("prod", "stage")
        for output_format in ("text", "json")
        for path in (
            (),
            ("--path", "containerDefinitions[web].environment"),
            ("--path", "containerDefinitions[worker]"),
        )
        if not (env == "stage" and path)
    ),
]


@pytest.mark.parametrize("args", OFFLINE_RUNS, ids=" ".join)
def test_no_command_prints_a_secret(project: Path, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code in (0, 1, 4), result.output
    assert result.stdout or result.stderr
    assert leaked(result) == []


def test_render_writes_the_secrets_into_the_artifact_only(project: Path) -> None:
    result = run("render", "--env", "prod", "--base", "base.json", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert leaked(result, stdout=False) == []
    assert "warning" in result.stderr  # the findings are there, without their values
    artifact = result.stdout
    assert [label for label, canary in CANARIES.items() if canary not in artifact] == [
        "base URL password",  # prod builds DATABASE_URL from ${DB_PASSWORD} instead
        "old URL password",
        "schema error value",
    ]


NOT_RENDERED = {"old URL password", "schema error value"}


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (("diff", "--all", "--base", "base.json", "--format", "json"), NOT_RENDERED),
        (("explain", "--env", "prod", "--base", "base.json"), {*NOT_RENDERED, "base URL password"}),
        (("explain", "--env", "prod", "--base", "base.json", "--format", "json"), {*NOT_RENDERED, "base URL password"}),
        # text and markdown cut long values (100 and 60 characters): whole lists lose their tails
        (
            ("diff", "--env", "prod", "--base", "base.json"),
            {*NOT_RENDERED, "base credential-named", "base AWS key", "added container token", "added container key"},
        ),
        (
            ("diff", "--env", "prod", "--base", "base.json", "--format", "markdown"),
            {*NOT_RENDERED, "base credential-named", "base AWS key", "added container token", "added container key"},
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_show_values_shows_them(project: Path, args: tuple[str, ...], missing: set[str]) -> None:
    result = run(*args, "--show-values")
    assert result.exit_code == 0, result.stderr
    assert set(leaked(result)) == set(CANARIES) - missing


def test_masked_output_keeps_what_is_not_secret(project: Path) -> None:
    result = run("explain", "--env", "prod", "--base", "base.json", "--path", "containerDefinitions[web]")
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    database_url = lines["containerDefinitions[web].environment[DATABASE_URL]"]
    assert database_url == '"postgres://app:****@db/app"  <- environments/prod.yaml:7:21 via ${DB_PASSWORD}'
    assert lines["containerDefinitions[web].environment[CACHE_CONFIG]"].startswith('"host=cache;auth=****"')
    assert lines["containerDefinitions[web].environment[S3_UPLOADER_ID]"] == '"****"  <- base'
    assert lines["containerDefinitions[web].environment[LOG_LEVEL]"].startswith('"warn"')
    stripe = lines["containerDefinitions[web].secrets[STRIPE_API_KEY]"]
    assert stripe.startswith('"arn:aws:ssm:eu-west-1:123456789012:parameter/stripe"')
    stage = run("diff", "--env", "stage", "--base", "base.json", "--format", "json").stdout
    changes = json.loads(stage)["environments"]["stage"]["changes"]
    assert {change["operation"] for change in changes} == {"removed"}
    assert {change["path"]: change["old"] for change in changes} == {
        "containerDefinitions[web].environment[LOG_LEVEL]": "info",
        "containerDefinitions[web].environment[LEGACY_API_TOKEN]": "****",
        "containerDefinitions[web].environment[DATABASE_URL]": "postgres://app:****@db/app",
        "containerDefinitions[web].environment[S3_UPLOADER_ID]": "****",
        "containerDefinitions[web].environment[CACHE_CONFIG]": "host=cache",
    }


def test_drift_and_snapshot_print_no_secret(live: str) -> None:
    runs = [
        run("drift", "--env", "prod", "--family", live),
        run("drift", "--env", "prod", "--family", live, "--format", "json"),
        run("drift", "--env", "prod", "--family", live, "--snapshot", "snapshot.json"),
        run("drift", "--env", "prod", "--family", live, "--snapshot", "snapshot.json", "--format", "json"),
        run("snapshot", "--family", live, "-o", "saved.json"),
        run("diff", "--env", "prod", "--family", live, "--format", "markdown"),
    ]
    for result in runs:
        assert result.exit_code in (0, 4), result.output
        assert leaked(result) == [], result.output
    drifted = runs[2].stdout
    assert "DATABASE_URL" in drifted and "since the snapshot" in drifted
    assert CANARIES["base URL password"] in Path("saved.json").read_text()  # the file, like render's, is the artifact
    shown = run("drift", "--env", "prod", "--family", live, "--snapshot", "snapshot.json", "--show-values")
    assert CANARIES["base URL password"] in shown.stdout and CANARIES["old URL password"] in shown.stdout
    assert CANARIES["${DB_PASSWORD}"] in shown.stdout


def test_validate_warns_about_interpolated_and_embedded_credentials(project: Path) -> None:
    result = run("validate", "--env", "prod", "--base", "base.json", "--format", "json")
    findings = {(f["rule"], f["path"]): f for f in json.loads(result.stdout)}
    interpolated = findings["interpolated-secret", "containerDefinitions[web].environment[DATABASE_URL]"]
    assert interpolated["severity"] == "warning"
    assert (interpolated["file"], interpolated["line"]) == ("environments/prod.yaml", 7)
    assert "${DB_PASSWORD}" in interpolated["message"] and "`secrets`" in interpolated["message"]
    assert ("interpolated-secret", "containerDefinitions[web].environment[CACHE_CONFIG]") in findings
    embedded = findings["embedded-secret", "containerDefinitions[web].environment[S3_UPLOADER_ID]"]
    assert "an AWS access key ID" in embedded["message"] and "(already so in the base)" in embedded["message"]
    assert ("embedded-secret", "containerDefinitions[worker].environment[SIGNING_KEY_PEM]") in findings
    # Names allowed as plain text, and the credential-named ones plaintext-secret reports, are not repeated.
    assert not any(rule in ("interpolated-secret", "embedded-secret") and "TOKEN" in path for rule, path in findings)
    stage = run("validate", "--env", "stage", "--base", "base.json", "--format", "json")
    assert not [f for f in json.loads(stage.stdout) if f["rule"] in ("interpolated-secret", "embedded-secret")]


# ---------------------------------------------------------------------------------------------
# What counts as secret, value by value


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://app:hunter2@db/app", "postgres://app:****@db/app"),
        ("redis://:hunter2@cache:6379/0", "redis://:****@cache:6379/0"),
        ("jdbc:mysql://db/app?user=app&password=hunter2", "jdbc:mysql://db/app?user=app&password=****"),
        (f"key {AWS_KEY} here", "key **** here"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=****"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "****"),
        ("ghp_" + "a1B2" * 9, "****"),
        ("xoxb-123456789012-abcdefABCDEF", "****"),
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/****"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "****"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "****"),
        ("sh -c 'app --db-password=hunter2 --port 80'", "sh -c 'app --db-password=**** --port 80'"),
    ],
)
def test_secret_shapes_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert shapes_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/db-AbCdEf:password::",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/checkout/prod/db-password",
        "/checkout/prod/DatabasePassword1/AbcdefghIJKLMNOP12345",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:" + "0123456789abcdef" * 4,
        "9d8e7f6a1b2c3d4e5f60718293a4b5c6d7e8f901",  # a git commit: 40 characters, lower-case hex
        "http://localhost:8080/healthz",
        "https://user@example.com/path",
        "curl -fsS http://localhost:8080/healthz || exit 1",
        "TOKEN_HEADER_NAME",
        "AIDAEXAMPLEUSERID0001",
    ],
)
def test_ordinary_values_are_not_masked(text: str) -> None:
    assert mask_text(text) == text
    assert shapes_in(text) == []


def test_mask_reaches_into_whole_containers_and_lists() -> None:
    container = {
        "name": "web",
        "environment": [{"name": "DB_PASSWORD", "value": "x1"}, {"name": "MODE", "value": "fast"}],
        "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/t"}],
        "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "x2", "splunk-url": "https://s"}},
        "dockerLabels": {"API_KEY": "x3"},
        "command": ["--url", "amqp://guest:x4@mq"],
    }
    masked = mask(("containerDefinitions", Item("web")), container)
    assert masked == {
        "name": "web",
        "environment": [{"name": "DB_PASSWORD", "value": MASK}, {"name": "MODE", "value": "fast"}],
        "secrets": container["secrets"],
        "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": MASK, "splunk-url": "https://s"}},
        "dockerLabels": {"API_KEY": MASK},
        "command": ["--url", "amqp://guest:****@mq"],
    }
    whole = {"containerDefinitions": [container], "family": "f"}
    assert mask((), whole) == {"containerDefinitions": [masked], "family": "f"}
    assert mask(("containerDefinitions", Item("web"), "environment", Item("DB_PASSWORD")), "x1") == MASK
    assert container["environment"][0]["value"] == "x1"  # the input is not changed


def test_values_built_from_a_credential_variable_are_masked_by_their_origin() -> None:
    overlay = parse_overlay(
        "containerDefinitions: {web: {environment: {CONFIG: 'a=${SERVICE_PASSWORD};b=${REGION}'}}}",
        "prod.yaml",
        {"SERVICE_PASSWORD": "plain-looking", "REGION": "eu-west-1"},
    )
    result = render(BASE, [overlay])
    path = ("containerDefinitions", Item("web"), "environment", Item("CONFIG"))
    assert mask(path, "a=plain-looking;b=eu-west-1", (result.provenance,)) == MASK
    assert mask(path, "a=plain-looking;b=eu-west-1") == "a=plain-looking;b=eu-west-1"
    # One ${VAR} in the text as written: only its part is masked, here and in the other side's value.
    url = parse_overlay(
        "containerDefinitions: {web: {environment: {CONFIG: 'postgres://app:${DB_PASSWORD}@db/app'}}}",
        "prod.yaml",
        {"DB_PASSWORD": "p@ss/word"},
    )
    provenance = render(BASE, [url]).provenance
    assert mask(path, "postgres://app:p@ss/word@db/app", (provenance,)) == "postgres://app:****@db/app"
    assert mask(path, "postgres://app:older@db/app", (provenance,)) == "postgres://app:****@db/app"
    assert mask(path, "mysql://root:older@db/app", (provenance,)) == MASK
    nested = parse_overlay(
        "containerDefinitions: {web: {environment: {CONFIG: 'k=${A:-${DB_PASSWORD}}'}}}",
        "p.yaml",
        {"DB_PASSWORD": "x}"},
    )
    assert mask(path, "k=x}", (render(BASE, [nested]).provenance,)) == MASK
    region = parse_overlay(
        "containerDefinitions: {web: {environment: {CONFIG: '${REGION}'}}}", "p.yaml", {"REGION": "x"}
    )
    assert mask(path, "x", (render(BASE, [region]).provenance,)) == "x"


@pytest.mark.parametrize("name", ["db-password", "X_API_KEY", "splunk-token", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"])
def test_credential_names(name: str) -> None:
    assert looks_like_credential(name)


def test_botocore_request_problems_leave_the_value_out() -> None:
    from ecs_overlay.aws import Ecs

    taskdef = {"family": "f", "containerDefinitions": [{"name": "w", "image": "i", "environment": [{"value": 7357}]}]}
    [problem] = Ecs().request_problems(taskdef)
    assert "environment[0].value" in problem and "<class 'int'>" in problem and "7357" not in problem


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_masking_text_twice_changes_nothing_more(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@settings(max_examples=200, deadline=None)
@given(
    password=st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="!$%^*()-_+=[]~"), min_size=1
    ),
    scheme=st.sampled_from(["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqps", "https"]),
)
def test_a_url_password_never_survives(password: str, scheme: str) -> None:
    url = f"{scheme}://user:{password}@host.internal:5432/db"
    assert mask_text(url) == f"{scheme}://user:****@host.internal:5432/db"
