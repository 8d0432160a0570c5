"""Canary secrets: planted in a base and in overlays, they must not appear in any output of any
command in any format, except the rendered artifact itself and ``--show-values``.

Every command runs in-process with click's CliRunner; drift reads a live base from moto's server.
"""

from __future__ import annotations

import html
import json
import shutil
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
from ecs_overlay.secrets import MASK, KnownSecrets, current_run, looks_like_credential, mask, mask_text, shapes_in

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


# ---------------------------------------------------------------------------------------------
# Values the run knows are secret: masked in every stream of every command, whatever field they land in

KNOWN = {
    "credential-named ${VAR}": "hunter2-xyz-k1",  # DB_PASSWORD
    "secrets[] name": "dsnvalue-0f9e-k2",  # DSN: the container takes it from `secrets`
    "secretNames": 's4lt&<pw>|"%-k3',  # SESSION_SALT: marked secret by the overlay
}
KNOWN_ENV = {
    "DB_PASSWORD": KNOWN["credential-named ${VAR}"],
    "DSN": KNOWN["secrets[] name"],
    "SESSION_SALT": KNOWN["secretNames"],
}
# What gives each value away, however a format escapes the rest of it; a cut-off prefix counts too.
TELLTALES = {"credential-named ${VAR}": "hunter2", "secrets[] name": "dsnvalue", "secretNames": "s4lt"}
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
COMMON = """\
secretNames: [SESSION_SALT]
containerDefinitions:
  web:
    secrets:
      DSN: arn:aws:ssm:eu-west-1:123456789012:parameter/dsn
"""
# Each field a rule message echoes, fed by one route's variable: every field's finding quotes it.
BROKEN = """\
extends: _common.yaml
family: "app ${{{var}}}"
cpu: "${{{var}}}"
proxyConfiguration: {{type: APPMESH, containerName: "${{{var}}}"}}
containerDefinitions:
  web:
    image: "registry.example.com/app:${{{var}}} latest"
    links: ["${{{var}}}"]
    mountPoints: {{"/data": {{sourceVolume: "${{{var}}}"}}}}
    linuxParameters: {{capabilities: {{add: ["${{{var}}}"]}}}}
"""
# A valid environment carrying every route's value into a field: the family, the image, a label.
VALID = """\
extends: _common.yaml
family: "app-${DB_PASSWORD}"
containerDefinitions:
  web:
    image: "%s:${DSN}"
    dockerLabels: {salt: "x${SESSION_SALT}", SESSION_SALT: '%s'}
""" % (ECR, KNOWN["secretNames"])  # noqa: UP031 - the YAML's braces


def known_leaks(*texts: str) -> list[str]:
    joined = "".join(texts)
    return [label for label, telltale in TELLTALES.items() if telltale in joined]


@pytest.fixture(scope="session")
def planted_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted project, built (git revision and all) once per worker; each test gets its own copy."""
    tmp_path = tmp_path_factory.mktemp("planted")
    for root in (tmp_path, tmp_path / "services" / "shop"):
        environments = root / "environments"
        environments.mkdir(parents=True)
        (environments / "_common.yaml").write_text(COMMON)
        (environments / "valid.yaml").write_text(VALID.replace("x${SESSION_SALT}", "old"))
        for variable in KNOWN_ENV:
            (environments / f"broken-{variable.lower()}.yaml").write_text(BROKEN.format(var=variable))
    (tmp_path / "base.json").write_text(json.dumps({"taskDefinition": BASE}))
    for bases in (tmp_path / "bases", tmp_path / "bases" / "shop"):
        bases.mkdir(parents=True)
        for name in ("valid", *(f"broken-{variable.lower()}" for variable in KNOWN_ENV)):
            (bases / f"{name}.json").write_text(json.dumps({"taskDefinition": BASE}))
    git_env = clean_environ(GIT_ENV)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "overlays"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=git_env, check=True, capture_output=True)
    for root in (tmp_path, tmp_path / "services" / "shop"):
        (root / "environments" / "valid.yaml").write_text(VALID)
    return tmp_path


@pytest.fixture
def planted(planted_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose environments carry each known secret into many fields, one service of a
    --services tree too, and a git revision of it for diff --against."""
    shutil.copytree(planted_template, tmp_path, symlinks=True, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    for name, value in KNOWN_ENV.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture(params=["masked", "unmasked"])
def masking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each canary run twice: masked, nothing leaks; with the mask switched off, the same run prints the
    value, which proves the run carries it to the output (the check could not pass by accident)."""
    if request.param == "unmasked":
        monkeypatch.setattr(KnownSecrets, "mask", lambda self, text: text)
    return bool(request.param == "masked")


def check_canary(masked: bool, result: Result, *files: Path) -> None:
    written = [path.read_text() for path in files if path.exists()]
    leaks = known_leaks(result.stdout, result.stderr, *written)
    if masked:
        assert leaks == [], result.stdout + result.stderr
    else:
        assert leaks, f"the run never printed a known value: {result.stdout + result.stderr}"


BROKEN_ENVS = [f"broken-{variable.lower()}" for variable in KNOWN_ENV]
OFFLINE_CANARY_RUNS = [
    *(
        ("validate", "--base", "base.json", "--format", f)
        for f in ("text", "json", "markdown", "sarif", "junit", "github")
    ),
    *(
        ("validate", "--services", "services", "--base", "bases", "--format", f)
        for f in ("text", "json", "markdown", "sarif", "junit", "github")
    ),
    *(("render", "--env", env, "--base", "base.json", "-o", "out.json") for env in BROKEN_ENVS),
    ("render", "--env", "valid", "--base", "base.json", "-o", "/dev/null"),  # the "kept images" line
    ("register", "--env", "valid", "--base", "base.json", "--dry-run"),
    *(("register", "--env", env, "--base", "base.json", "--dry-run") for env in BROKEN_ENVS),
    *(
        (*command, "--format", f)
        for f in ("text", "json", "markdown", "pr-comment", "github")
        for command in (
            ("diff", "--all", "--base", "bases"),
            ("diff", "--env", "valid", "--base", "base.json"),
            ("diff", "--all", "--against", "HEAD", "--base", "bases"),
            ("diff", "--services", "services", "--against", "HEAD", "--base", "bases"),
            ("diff", "--services", "services", "--base", "bases"),
        )
    ),
    *(
        ("explain", "--env", env, "--base", "base.json", "--format", f)
        for env in ("valid", *BROKEN_ENVS)
        for f in ("text", "json")
    ),
]


@pytest.mark.parametrize("args", OFFLINE_CANARY_RUNS, ids=" ".join)
def test_a_known_secret_reaches_no_stream(planted: Path, masking: bool, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code in (0, 1, 4), result.output
    check_canary(masking, result, planted / "out.json")


@pytest.mark.parametrize("variable", list(KNOWN_ENV))
def test_each_field_a_rule_message_echoes_shows_the_mask(planted: Path, variable: str) -> None:
    """The same findings, whichever route made the value secret: each quotes ``****`` where the value stood."""
    result = run("validate", "--env", f"broken-{variable.lower()}", "--base", "base.json", "--format", "json")
    findings = json.loads(result.stdout)
    quoting = {finding["path"].split(".")[-1].split("[")[0] for finding in findings if "****" in finding["message"]}
    assert quoting >= {"family", "cpu", "containerName", "links", "mountPoints", "add"}, findings
    assert known_leaks(result.stdout, result.stderr) == []


@pytest.fixture
def planted_live(planted: Path, ecs: Any, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The planted project against moto's server: the base as family canary-app, run by service shop/checkout."""
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    arn = ecs.register_task_definition(**BASE)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(cluster="shop", serviceName="checkout", taskDefinition=arn, desiredCount=1)
    return planted


AWS_CANARY_RUNS = [
    *(
        ("drift", "--env", "valid", "--family", "canary-app", "--format", f)
        for f in ("text", "json", "markdown", "sarif", "junit", "github")
    ),
    ("drift", "--services", "services", "--family", "canary-app", "--format", "markdown"),
    ("render", "--env", "valid", "--family", "canary-app", "-o", "/dev/null", "--verify"),
    ("verify", "--env", "valid", "--family", "canary-app"),
    ("verify", "--env", "valid", "--family", "canary-app", "--format", "json"),
    ("deploy", "--env", "valid", "--cluster", "shop", "--service", "checkout", "--dry-run"),
    ("diff", "--env", "valid", "--family", "canary-app", "--format", "pr-comment"),
]


@pytest.mark.parametrize("args", AWS_CANARY_RUNS, ids=" ".join)
def test_a_known_secret_reaches_no_stream_of_an_aws_command(
    planted_live: Path, masking: bool, args: tuple[str, ...]
) -> None:
    result = run(*args)
    assert result.exit_code in (0, 1, 4), result.output
    check_canary(masking, result)


@pytest.mark.parametrize(
    "args",
    [
        ("register", "--env", "valid", "--family", "canary-app"),
        ("deploy", "--env", "valid", "--cluster", "shop", "--service", "checkout", "--poll-interval", "0"),
    ],
    ids=" ".join,
)
def test_ecs_refusal_echoing_a_known_secret_is_masked(
    planted_live: Path,
    masking: bool,
    fault_proxy: Any,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    """ECS's ClientException quotes the request; each route's value is in it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    quoted = ", ".join(KNOWN.values())
    refusal = f"Invalid request: family app-{KNOWN['credential-named ${VAR}']} with values {quoted} is not allowed"
    fault_proxy.answer("RegisterTaskDefinition", 400, {"__type": "ClientException", "message": refusal})
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "ECS refused the task definition: Invalid request" in result.stderr
    check_canary(masking, result)


def test_init_prints_no_known_secret_of_the_live_task_definition(
    planted: Path, ecs: Any, aws_env: dict[str, str], masking: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential-named value of the live task definition, also found in its family, is masked in init's messages."""
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    secret = KNOWN["credential-named ${VAR}"]
    live = json.loads(json.dumps(BASE))
    live["family"] = f"legacy-{secret}"
    live["containerDefinitions"][0]["environment"].append({"name": "OLD_DB_PASSWORD", "value": secret})
    arn = ecs.register_task_definition(**live)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_cluster(clusterName="old")
    ecs.create_service(cluster="old", serviceName="legacy", taskDefinition=arn, desiredCount=1)
    for name in KNOWN_ENV:  # nothing known from the environment: the live task definition says it
        monkeypatch.delenv(name)
    result = run("init", "--cluster", "old", "--service", "legacy", "--env", "adopted", "--environments-dir", "adopt")
    assert result.exit_code == 0, result.output
    check_canary(masking, result)
    result = run("snapshot", "--cluster", "old", "--service", "legacy", "-o", "snapshot-out.json")
    assert result.exit_code == 0, result.output
    check_canary(masking, result)
    assert secret in (planted / "snapshot-out.json").read_text()  # the artifact holds it, as render's does


def test_render_writes_a_known_secret_into_the_artifact_only(planted: Path) -> None:
    result = run("render", "--env", "valid", "--base", "base.json", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert known_leaks(result.stderr) == []
    assert "kept images (no --image given): web " + ECR + ":****" in result.stderr
    taskdef = json.loads(result.stdout)  # the artifact, as ECS will get it
    assert taskdef["family"] == "app-" + KNOWN["credential-named ${VAR}"]
    assert taskdef["containerDefinitions"][0]["image"] == f"{ECR}:{KNOWN['secrets[] name']}"


def test_show_values_shows_known_secrets_too(planted: Path) -> None:
    shown = run("diff", "--env", "valid", "--base", "base.json", "--format", "json", "--show-values")
    assert set(known_leaks(shown.stdout)) == set(KNOWN)
    masked = run("diff", "--env", "valid", "--base", "base.json", "--format", "json")
    changes = {change["path"]: change for change in json.loads(masked.stdout)["environments"]["valid"]["changes"]}
    assert changes["family"]["new"] == "app-****"  # the rest of the value is kept
    assert changes["containerDefinitions[web].image"]["new"] == f"{ECR}:****"


def known(*values: str, names: tuple[str, ...] = ("DB_PASSWORD",)) -> KnownSecrets:
    secrets = KnownSecrets()
    secrets.learn_variables(names, dict(zip(names, values, strict=True)))
    return secrets


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("family app-hunter2-xyz is invalid", "family app-**** is invalid"),
        ('"cpu": "hunter2-xyz"', '"cpu": "****"'),
        ("hunter2-xyzhunter2-xyz", "********"),
        ("cut at hunter2-x...", "cut at ****..."),  # the reporters' cut: a prefix of 4+ characters is masked
        ("cut at hunter2-x…", "cut at ****…"),
        ("hunt... and hun...", "****... and hun..."),
        ("hunter2 alone, not the value", "hunter2 alone, not the value"),
    ],
)
def test_a_known_value_is_masked_inside_any_text(text: str, masked: str) -> None:
    assert known("hunter2-xyz").mask(text) == masked


@pytest.mark.parametrize(
    "spelled",
    [
        'p&<w>|"%x',  # as it is
        'p&<w>|\\"%x',  # in a JSON string
        "p&amp;&lt;w&gt;|&quot;%x",  # HTML or XML
        'p\\&\\<w\\>\\|\\"\\%x',  # backslash-escaped (Markdown)
        "p&amp;&lt;w&gt;|\\&quot;%x",  # a JSON string inside XML
        "p%26%3Cw%3E%7C%22%25x",  # percent-encoded (GitHub workflow commands, URIs)
        "p&#38;&#60;w&#62;&#124;&#34;&#37;x",  # numeric character references
        'p&<w>\\|"...',  # cut by the Markdown reporter after its escaping
    ],
)
def test_a_known_value_is_masked_in_every_spelling_a_format_gives_it(spelled: str) -> None:
    assert known('p&<w>|"%x').mask(f"[{spelled}]") in ("[****]", "[****...]")


@pytest.mark.parametrize("value", ["k&y!", "a&b!" * 40])  # no longer than its first characters; longer than a cut
def test_a_value_of_any_length_is_masked_whole_or_cut_and_its_bare_prefix_is_not(value: str) -> None:
    secrets = known(value)
    assert secrets.mask(f"[{value}] [{html.escape(value)}]") == "[****] [****]"
    assert secrets.mask(f"[{value[:30]}...]") == "[****...]"
    assert secrets.mask(f"[{value[:-1]}]") == f"[{value[:-1]}]"  # no cut mark: not the value


def test_short_values_and_flags_are_not_masked_inside_text() -> None:
    secrets = known("abc", "true", "1234", names=("A_TOKEN", "B_TOKEN", "C_TOKEN"))
    assert secrets.values() == {"1234"}  # 4 characters and more; a flag is no secret
    assert secrets.mask('{"essential": true, "name": "abc", "port": 1234}') == (
        '{"essential": true, "name": "abc", "port": ****}'
    )


def test_what_the_run_learns_is_secret() -> None:
    environ = {"DSN": "dsn-from-env", "PLAIN": "plain-value"}
    secrets = KnownSecrets(environ)
    secrets.learn_document(
        {
            "family": "not-secret-family",
            "containerDefinitions": [
                {
                    "name": "web",
                    "environment": [
                        {"name": "DB_PASSWORD", "value": "literal-password"},
                        {"name": "SALT", "value": "marked-salt"},
                        {"name": "MODE", "value": "plain-mode"},
                        {"name": "URL", "value": "postgres://app:url-password@db/app"},
                    ],
                    "secrets": [{"name": "DSN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/dsn"}],
                    "dockerLabels": {"API_KEY": "label-key"},
                }
            ],
        }
    )
    secrets.learn_names(["SALT"])
    secrets.learn_variables(["PLAIN"], environ)  # a ${VAR} whose name says nothing
    assert secrets.values() == {"literal-password", "marked-salt", "url-password", "dsn-from-env", "label-key"}


def test_an_overlay_marks_names_secret_and_a_valuefrom_variable_stays_shown() -> None:
    environ = {
        "SESSION_SALT": "salt-value",
        "DB_SECRET_ARN": "arn:aws:ssm:eu-west-1:1:parameter/db",
        "DB_TOKEN": "tok-1",
    }
    overlay = parse_overlay(
        "secretNames: [SESSION_SALT]\n"
        "family: 'f-${SESSION_SALT}'\n"
        "containerDefinitions: {web: {secrets: {DB: '${DB_SECRET_ARN}'}, command: ['${DB_TOKEN}']}}\n",
        "prod.yaml",
        environ,
    )
    assert overlay.secret_names == ["SESSION_SALT"] and not overlay.findings
    secrets = KnownSecrets(environ)
    secrets.learn_overlay(overlay, environ)
    assert secrets.values() == {"salt-value", "tok-1"}  # a reference is shown, as diff and explain show it


def test_the_output_boundary_masks_what_it_is_given_and_lets_nothing_around_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from ecs_overlay.output import MaskedStream, masked_output, write_stdout

    with masked_output({}):
        run_secrets = current_run()
        assert run_secrets is not None
        run_secrets.learn_variables(["DB_PASSWORD"], {"DB_PASSWORD": "hunter2-xyz"})
        assert isinstance(sys.stdout, MaskedStream) and not hasattr(sys.stdout, "buffer")
        print("a message with hunter2-xyz")
        print("an error with hunter2-xyz", file=sys.stderr)
        write_stdout("a report with hunter2-xyz\n")
        write_stdout("an artifact with hunter2-xyz\n", artifact=True)
    assert current_run() is None
    captured = capsys.readouterr()
    assert captured.out == "a message with ****\na report with ****\nan artifact with hunter2-xyz\n"
    assert captured.err == "an error with ****\n"


@pytest.mark.e2e
@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_the_installed_command_masks_its_real_streams(planted: Path, run_cli: Any, encoding: str) -> None:
    """The process's own standard output and error (click picks a writer for them by their encoding)."""
    env = {**KNOWN_ENV, "PYTHONIOENCODING": encoding}
    for args in (
        ("validate", "--base", "base.json", "--format", "github"),
        ("render", "--env", "broken-db_password", "--base", "base.json", "-o", "out.json"),
        ("diff", "--all", "--base", "bases", "--format", "pr-comment"),
    ):
        result = run_cli(*args, cwd=planted, env=env)
        assert result.returncode in (0, 1), result.stderr
        assert "****" in result.stdout + result.stderr
        assert known_leaks(result.stdout, result.stderr) == [], result.stdout + result.stderr


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(alphabet=st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")), min_size=4, max_size=24),
    spelling=st.sampled_from(
        [
            lambda text: text,
            lambda text: json.dumps(text)[1:-1],
            lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
            lambda text: json.dumps(json.dumps(text))[1:-1],
            lambda text: __import__("html").escape(text),
            lambda text: __import__("urllib.parse").parse.quote(text, safe=""),
        ]
    ),
    before=st.text(max_size=8),
    after=st.text(max_size=8),
)
def test_a_known_value_never_survives_in_any_spelling(value: str, spelling: Any, before: str, after: str) -> None:
    secrets = known(value)
    if value.strip() not in secrets.values():
        return  # a flag, or the mask itself: never a known value
    spelled = spelling(value)
    masked = secrets.mask(before + spelled + after)
    assert spelled not in masked
    assert secrets.mask(masked) == masked


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    containers=JSON_VALUES
    | st.lists(st.dictionaries(st.sampled_from(["name", "environment", "secrets"]), JSON_VALUES)),
    volumes=JSON_VALUES,
)
def test_learning_a_document_of_any_shape_never_fails(containers: Any, volumes: Any) -> None:
    """A base is learned as soon as it is read, before anything checks its shape."""
    KnownSecrets({"web": "x"}).learn_document({"containerDefinitions": containers, "volumes": volumes})
