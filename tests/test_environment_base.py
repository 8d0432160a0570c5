"""Where each environment's base lives (`base:`), the environment tag that stops one environment's values
bleeding into another's, and `init`, which adopts a running service. In-process (CliRunner), AWS through
moto's server (STS included) or the fault server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_overlay import schemas

from .test_e2e_aws import APP_REPO, example_taskdef, register

TAG = "ecs-overlay:environment"
PREVIOUS = b'{"family": "previous-artifact"}\n'


def environment_of(taskdef: dict[str, Any]) -> list[str]:
    return [tag["value"] for tag in taskdef.get("tags", []) if tag["key"] == TAG]


def web_environment(taskdef: dict[str, Any]) -> dict[str, str]:
    [web] = [c for c in taskdef["containerDefinitions"] if c["name"] == "web"]
    return {item["name"]: item["value"] for item in web.get("environment", [])}


def test_stage_registered_then_prod_renders_from_its_own_base(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    for environment in ("stage", "prod"):
        register(ecs, example_taskdef(environment))
    stage = invoke("register", "--env", "stage", "--image", f"{APP_REPO}:9d8e7f6", cwd=project, env=aws_env)
    assert stage.returncode == 0, stage.stderr
    assert stage.stdout == "arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-api-stage:2\n"
    assert "base not tagged ecs-overlay:environment yet (first adoption); the result is tagged stage" in stage.stderr

    prod = invoke("render", "--env", "prod", "-o", "-", cwd=project, env=aws_env)
    assert prod.returncode == 0, prod.stderr
    taskdef = prod.json()
    assert taskdef["family"] == "checkout-api-prod" and environment_of(taskdef) == ["prod"]
    assert web_environment(taskdef)["FEATURE_NEW_CHECKOUT"] == "false"  # prod's base, not stage's "yes"
    assert "datadog-agent" in {c["name"] for c in taskdef["containerDefinitions"]}

    again = invoke("render", "--env", "stage", "-o", "-", cwd=project, env=aws_env)
    assert again.returncode == 0, again.stderr
    assert "first adoption" not in again.stderr  # stage's base is now tagged stage: its own
    assert "base checkout-api-stage" in again.stderr


def test_prod_pointed_at_stage_family_stops_with_the_bleed_error(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    register(ecs, example_taskdef("stage"))
    assert invoke("register", "--env", "stage", cwd=project, env=aws_env).returncode == 0
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("  family: checkout-api-prod\n", "  family: checkout-api-stage\n", 1))
    (project / "taskdef.json").write_bytes(PREVIOUS)

    result = invoke("render", "--env", "prod", cwd=project, env=aws_env)
    assert result.returncode == 1
    assert (
        "environment 'prod' would start from a base rendered for environment 'stage' "
        "(arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-api-stage:2 carries the tag "
        "ecs-overlay:environment=stage)"
    ) in result.stderr
    assert "Point prod's `base:` at its own family or service" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    drift = invoke("drift", "--env", "prod", cwd=project, env=aws_env)
    assert drift.returncode == 1 and "base rendered for environment 'stage'" in drift.stderr

    # The command line still wins over `base:`.
    register(ecs, example_taskdef("prod"))
    chosen = invoke("render", "--env", "prod", "--family", "checkout-api-prod", "-o", "-", cwd=project, env=aws_env)
    assert chosen.returncode == 0, chosen.stderr
    assert environment_of(chosen.json()) == ["prod"]


def test_a_base_file_tagged_for_another_environment_is_refused_naming_the_file(invoke, project: Path) -> None:
    assert invoke("render", "--env", "stage", "--base", "base.json", "-o", "stage.json", cwd=project).returncode == 0
    result = invoke("render", "--env", "prod", "--base", "stage.json", "-o", "-", cwd=project)
    assert result.returncode == 1
    assert "environment 'prod' would start from a base rendered for environment 'stage' (stage.json" in result.stderr
    assert result.stdout == ""


def test_the_environment_tag_is_no_drift_and_no_diff_on_its_own_base(invoke, project: Path) -> None:
    rendered = invoke("render", "--env", "prod", "--base", "base.json", "-o", "deployed.json", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    assert environment_of(json.loads((project / "deployed.json").read_text())) == ["prod"]
    drift = invoke("drift", "--env", "prod", "--base", "deployed.json", cwd=project)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    diff = invoke("diff", "--env", "prod", "--base", "deployed.json", "--exit-code", "--format", "json", cwd=project)
    assert diff.returncode == 0 and diff.json()["environments"]["prod"]["changes"] == []
    first = invoke("diff", "--env", "prod", "--base", "base.json", cwd=project)
    assert "info: environment prod: base not tagged ecs-overlay:environment yet (first adoption)" in first.stderr
    assert "tags[ecs-overlay:environment]" not in first.stdout  # a note on stderr, not a change
    explained = invoke("explain", "--env", "prod", "--base", "base.json", "--path", "tags", cwd=project)
    assert 'tags[ecs-overlay:environment] = "prod"  <- set by ecs-overlay' in explained.stdout


@pytest.mark.parametrize("base_tags", [[{"key": "team", "value": "payments"}], None])
def test_an_unchanged_environment_on_an_untagged_base_is_no_difference(
    invoke, project: Path, base_tags: list[dict[str, str]] | None
) -> None:
    # Issue 18: the tag render adds made `diff --exit-code` exit 4 for an environment that changes nothing,
    # and on a base without any tags the change read `+ tags: [...]  (base)`, which no --ignore could match.
    document = json.loads((project / "base.json").read_text())
    document.pop("tags", None)
    if base_tags is not None:
        document["tags"] = base_tags
    (project / "base.json").write_text(json.dumps(document))
    (project / "environments" / "qa.yaml").write_text("family: checkout-api\n")
    diff = invoke("diff", "--env", "qa", "--base", "base.json", "--exit-code", cwd=project)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout == "== qa: base.json -> rendered: no changes\n"
    assert diff.stderr == (
        "info: environment qa: base not tagged ecs-overlay:environment yet (first adoption); "
        "the next revision is tagged qa\n"
    )
    (project / "environments" / "qa.yaml").write_text("family: checkout-api\ntags:\n  env: qa\n")
    changed = invoke("diff", "--env", "qa", "--base", "base.json", "--exit-code", cwd=project)
    assert changed.returncode == 4
    assert '+ tags[env]: "qa"  (environments/qa.yaml:3:3)' in changed.stdout


def test_ignore_matches_the_environment_tag_as_the_readme_writes_it(invoke, project: Path) -> None:
    rendered = invoke("render", "--env", "stage", "--base", "base.json", "-o", "stage.json", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    # --to-env compares two tagged renders: the tag differs there, and --ignore takes it out.
    both = ("diff", "--env", "stage", "--to-env", "prod", "--base", "base.json", "--exit-code")
    assert '~ tags[ecs-overlay:environment]: "stage" -> "prod"' in invoke(*both, cwd=project).stdout
    ignored = invoke(*both, "--ignore", "tags[ecs-overlay:environment]", "--format", "json", cwd=project)
    paths = [change["path"] for change in ignored.json()["environments"]["prod"]["changes"]]
    assert paths and "tags[ecs-overlay:environment]" not in paths


def test_the_environment_tag_counts_towards_fifty_tags(invoke, project: Path) -> None:
    tags = "".join(f"  t{i}: v\n" for i in range(50))
    (project / "environments" / "prod.yaml").write_text(f"extends: _common.yaml\ntags:\n{tags}")
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=project)
    assert result.returncode == 1
    assert "(counting the ecs-overlay:environment tag ecs-overlay adds); ECS allows at most 50" in result.stderr


def test_base_section_mistakes_are_named(invoke, project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    prod.write_text("base:\n  famly: checkout-api-prod\n")
    typo = invoke("validate", "--env", "prod", cwd=project)
    assert typo.returncode == 1
    assert "environments/prod.yaml:2:3 base.famly: error: unknown field 'famly'" in typo.stdout
    prod.write_text("base:\n  cluster: payments-prod\n")
    half = invoke("render", "--env", "prod", "-o", "-", cwd=project)
    assert half.returncode == 1
    message = "environment 'prod' (environments/prod.yaml): `base:` needs cluster and service together; give both"
    assert message in half.stderr


ROLE = "arn:aws:iam::210987654321:role/ecs-overlay-deploy"


def test_the_environment_role_is_assumed_and_its_region_used(
    invoke, project: Path, ecs: Any, aws_env: dict[str, str], moto_endpoint: str
) -> None:
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=moto_endpoint,
        region_name="us-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    credentials = sts.assume_role(RoleArn=ROLE, RoleSessionName="arrange")["Credentials"]
    other_account = boto3.client(
        "ecs",
        endpoint_url=moto_endpoint,
        region_name="us-west-2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    other_account.register_task_definition(**example_taskdef("prod"))
    prod = project / "environments" / "prod.yaml"
    text = prod.read_text()
    prod.write_text(
        text.replace("  family: checkout-api-prod\n", "  family: checkout-api-prod\n  region: us-west-2\n", 1)
    )
    without_role = invoke("render", "--env", "prod", "-o", "-", cwd=project, env=aws_env)
    assert without_role.returncode == 3  # the caller's own account has no such family in us-west-2
    assert "task definition 'checkout-api-prod' not found" in without_role.stderr

    prod.write_text(prod.read_text().replace("  region: us-west-2\n", f"  region: us-west-2\n  roleArn: {ROLE}\n", 1))
    result = invoke("register", "--env", "prod", cwd=project, env=aws_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "arn:aws:ecs:us-west-2:210987654321:task-definition/checkout-api-prod:2\n"
    assert len(other_account.list_task_definitions(familyPrefix="checkout-api-prod")["taskDefinitionArns"]) == 2
    assert ecs.list_task_definitions(familyPrefix="checkout-api-prod")["taskDefinitionArns"] == []  # eu-west-1


def test_a_role_that_cannot_be_assumed_stops_the_run_naming_it(invoke, project: Path, fake_ecs: Any) -> None:
    denied = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        b"<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        b"sts:AssumeRole on resource: " + ROLE.encode() + b"</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
    fake_ecs.respond(403, denied)
    (project / "environments" / "prod.yaml").write_text(f"base:\n  family: checkout-api-prod\n  roleArn: {ROLE}\n")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", cwd=project, env=fake_ecs.env())
    assert result.returncode == 3, result.stderr
    denial = "access denied: the caller needs sts:AssumeRole on"
    assert f"cannot assume role {ROLE} (the environment's base.roleArn): {denial}" in result.stderr
    assert fake_ecs.operations() == [""]  # one STS call (no X-Amz-Target), no ECS call
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def _running_service(ecs: Any, environment: str, cpu: str, log_level: str) -> None:
    taskdef = example_taskdef(environment)
    taskdef["cpu"], taskdef["memory"] = cpu, str(int(cpu) * 2)
    [web] = [c for c in taskdef["containerDefinitions"] if c["name"] == "web"]
    web["environment"] = [
        {"name": "LOG_LEVEL", "value": log_level},
        {"name": "PORT", "value": "8080"},
        {"name": "FLAG", "value": "yes"},
        {"name": "TEMPLATE", "value": "${HOME}/cache"},
        {"name": "LEGACY_API_TOKEN", "value": "tok-8c1f2a"},
    ]
    arn = register(ecs, taskdef)
    ecs.create_service(
        cluster="payments", serviceName=f"checkout-api-{environment}", taskDefinition=arn, desiredCount=1
    )


def _render_on_snapshot(invoke: Any, root: Path, environment: str) -> dict[str, Any]:
    result = invoke("render", "--env", environment, "--base", f"snapshots/{environment}.json", "-o", "-", cwd=root)
    assert result.returncode == 0, result.stderr
    rendered: dict[str, Any] = result.json()
    return rendered


def test_init_adopts_two_running_services_and_factors_what_they_share(
    invoke, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    ecs.create_cluster(clusterName="payments")
    _running_service(ecs, "stage", "512", "debug")
    _running_service(ecs, "prod", "1024", "warn")

    stage = invoke(
        "init", "--cluster", "payments", "--service", "checkout-api-stage", "--env", "stage", cwd=tmp_path, env=aws_env
    )
    assert stage.returncode == 0, stage.stderr
    text = (tmp_path / "environments" / "stage.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema/overlay.schema.json\n")
    layer = yaml.safe_load(text)
    assert layer["base"] == {"cluster": "payments", "service": "checkout-api-stage", "region": "eu-west-1"}
    assert (layer["cpu"], layer["memory"]) == (512, 1024)
    web = layer["containerDefinitions"]["web"]
    assert web["environment"] == {"LOG_LEVEL": "debug", "PORT": "8080", "FLAG": "yes", "TEMPLATE": "$${HOME}/cache"}
    assert "tok-8c1f2a" not in text and "LEGACY_API_TOKEN" in text  # named in the comment, left in the base
    assert "web: LEGACY_API_TOKEN looks like a credential: left in the base" in stage.stderr
    assert web["logConfiguration"] == {"options": {"log_group_name": "/ecs/checkout-api"}}  # FireLens
    router = layer["containerDefinitions"]["log-router"]
    assert router == {"logConfiguration": {"options": {"awslogs-group": "/ecs/checkout-api/firelens"}}}
    schema = json.loads((tmp_path / "schema" / "overlay.schema.json").read_text())
    assert schema == schemas.load("overlay")
    snapshot = json.loads((tmp_path / "snapshots" / "stage.json").read_text())
    assert snapshot["family"] == "checkout-api-stage" and "revision" not in snapshot

    # Drift tracking starts at once: the live service is what the new layer says.
    drift = invoke("drift", "--env", "stage", cwd=tmp_path, env=aws_env)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    live = invoke("render", "--env", "stage", "-o", "-", cwd=tmp_path, env=aws_env)
    assert live.returncode == 0, live.stderr
    assert web_environment(live.json())["TEMPLATE"] == "${HOME}/cache"
    assert web_environment(live.json())["LEGACY_API_TOKEN"] == "tok-8c1f2a"  # kept from the base
    stage_before = _render_on_snapshot(invoke, tmp_path, "stage")

    written = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    refused = invoke(
        "init", "--cluster", "payments", "--service", "checkout-api-stage", "--env", "stage", cwd=tmp_path, env=aws_env
    )
    assert refused.returncode == 2
    assert "environments/stage.yaml exists; pass --force to overwrite it" in refused.stderr
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == written

    prod = invoke(
        "init",
        "--cluster",
        "payments",
        "--service",
        "checkout-api-prod",
        "--env",
        "prod",
        "--factor",  # without it, stage.yaml is left as it is (tests/test_init_safety.py)
        cwd=tmp_path,
        env=aws_env,
    )
    assert prod.returncode == 0, prod.stderr
    assert "prod and stage extend _common.yaml" in prod.stderr
    common = yaml.safe_load((tmp_path / "environments" / "_common.yaml").read_text())
    assert common["base"] == {"cluster": "payments", "region": "eu-west-1"}
    assert common["containerDefinitions"]["web"]["environment"]["PORT"] == "8080"
    assert "cpu" not in common  # 512 and 1024: not shared
    for environment, service in (("stage", "checkout-api-stage"), ("prod", "checkout-api-prod")):
        layer = yaml.safe_load((tmp_path / "environments" / f"{environment}.yaml").read_text())
        assert layer["extends"] == "_common.yaml" and layer["base"] == {"service": service}
        assert "PORT" not in layer["containerDefinitions"]["web"]["environment"]

    # Factoring changes nothing that renders: stage as before, prod exactly its live base (tagged).
    assert _render_on_snapshot(invoke, tmp_path, "stage") == stage_before
    prod_snapshot = json.loads((tmp_path / "snapshots" / "prod.json").read_text())
    expected = {**prod_snapshot, "tags": [*prod_snapshot.get("tags", []), {"key": TAG, "value": "prod"}]}
    assert _render_on_snapshot(invoke, tmp_path, "prod") == expected
    assert invoke("drift", "--all", cwd=tmp_path, env=aws_env).returncode == 0

    # A third environment extends _common.yaml and says only how it differs; `null` where it lacks a shared value.
    taskdef = example_taskdef("qa")
    [web] = [c for c in taskdef["containerDefinitions"] if c["name"] == "web"]
    web["environment"] = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}]
    arn = register(ecs, taskdef)
    ecs.create_service(cluster="payments", serviceName="checkout-api-qa", taskDefinition=arn, desiredCount=1)
    common_before = (tmp_path / "environments" / "_common.yaml").read_bytes()
    qa = invoke(
        "init", "--cluster", "payments", "--service", "checkout-api-qa", "--env", "qa", cwd=tmp_path, env=aws_env
    )
    assert qa.returncode == 0, qa.stderr
    assert (tmp_path / "environments" / "_common.yaml").read_bytes() == common_before
    layer = yaml.safe_load((tmp_path / "environments" / "qa.yaml").read_text())
    assert layer["extends"] == "_common.yaml" and layer["base"] == {"service": "checkout-api-qa"}
    assert layer["containerDefinitions"]["web"]["environment"] == {
        "LOG_LEVEL": "info",
        "FLAG": None,
        "TEMPLATE": None,
    }
    qa_snapshot = json.loads((tmp_path / "snapshots" / "qa.json").read_text())
    expected = {**qa_snapshot, "tags": [*qa_snapshot.get("tags", []), {"key": TAG, "value": "qa"}]}
    assert _render_on_snapshot(invoke, tmp_path, "qa") == expected


ASSUMED = (
    b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
    b"<AccessKeyId>ASIAEXAMPLEASSUMED01</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>"
    b"<SessionToken>assumed-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
    b"<AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/ecs-overlay-deploy/ecs-overlay</Arn>"
    b"<AssumedRoleId>AROAEXAMPLE:ecs-overlay</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
    b"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
)


def test_a_role_is_assumed_once_per_run_however_many_environments_use_it(invoke, project: Path, fake_ecs: Any) -> None:
    fake_ecs.respond(200, ASSUMED)  # STS calls carry no X-Amz-Target: the default answer
    fake_ecs.respond(200, json.loads((project / "base.json").read_text()), target="DescribeTaskDefinition")
    common = project / "environments" / "_common.yaml"
    common.write_text(common.read_text() + f"base:\n  roleArn: {ROLE}\n")
    result = invoke("diff", "--all", cwd=project, env=fake_ecs.env())
    assert result.returncode == 0, result.stderr
    # One AssumeRole for both environments, then each environment's own family described with its credentials.
    assert fake_ecs.operations() == ["", "DescribeTaskDefinition", "DescribeTaskDefinition"]
