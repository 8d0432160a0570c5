"""verify: every check against moto's server on 127.0.0.1 (IAM, STS, SSM, Secrets Manager, Logs, ECR, EFS,
S3, ELBv2, ECS), and a proxy in front of it for what moto cannot answer (iam:SimulatePrincipalPolicy,
AccessDenied)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_overlay import schemas
from ecs_overlay.base import registerable

from .conftest import FaultProxy

ACCOUNT = "123456789012"
REPO = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/checkout-api"
TRUST_ECS_TASKS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
INDEX = "application/vnd.oci.image.index.v1+json"


def image_index(*architectures: str) -> str:
    """An OCI image index as buildx pushes it: one manifest per platform, plus an attestation."""
    manifests = [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + f"{index}" * 64,
            "size": 500,
            "platform": {"architecture": architecture, "os": "linux"},
        }
        for index, architecture in enumerate(architectures, start=1)
    ]
    manifests.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "9" * 64,
            "size": 500,
            "platform": {"architecture": "unknown", "os": "unknown"},
        }
    )
    return json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests})


class Account:
    """moto's account, arranged with boto3: everything the example task definition points at."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.clients: dict[str, Any] = {}
        for service in ("iam", "ssm", "secretsmanager", "logs", "ecr", "efs", "s3", "ecs", "elbv2", "ec2"):
            self.clients[service] = boto3.client(
                service,
                endpoint_url=endpoint,
                region_name="eu-west-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

    def __getattr__(self, service: str) -> Any:
        return self.clients[service]

    def role(self, name: str, trust: dict[str, Any] = TRUST_ECS_TASKS) -> str:
        arn: str = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        return arn

    def secret(self, name: str) -> str:
        arn: str = self.secretsmanager.create_secret(Name=name, SecretString='{"password": "hunter2"}')["ARN"]
        return arn

    def push(self, tag: str, manifest: str, media_type: str = INDEX) -> None:
        self.ecr.put_image(
            repositoryName="checkout-api", imageManifest=manifest, imageTag=tag, imageManifestMediaType=media_type
        )


@pytest.fixture
def account(moto_endpoint: str, ecs: Any) -> Account:
    """A reset moto (the ecs fixture resets it) with the example's roles, secret, parameters, log groups, image."""
    aws = Account(moto_endpoint)
    aws.role("checkout-api-execution")
    aws.role("checkout-api-task")
    aws.ssm.put_parameter(Name="/checkout/stripe-api-key", Value="sk_test", Type="SecureString")
    aws.ssm.put_parameter(Name="/datadog/api-key", Value="dd", Type="SecureString")
    for group in ("/ecs/checkout-api/firelens", "/ecs/checkout-api/datadog"):
        aws.logs.create_log_group(logGroupName=group)
    aws.ecr.create_repository(repositoryName="checkout-api")
    aws.push("v1", image_index("arm64", "amd64"))
    return aws


def write_project(tmp_path: Path, account: Account, overlay: str = "", secret_name: str = "checkout/db") -> Path:
    """An environment `test` on the example base, its secret pointing at a secret moto created."""
    secret_arn = account.secret(secret_name)
    base = json.loads((Path(__file__).parent.parent / "examples/sample-app/describe-task-definition.json").read_text())
    base["taskDefinition"]["containerDefinitions"][0]["secrets"][0]["valueFrom"] = f"{secret_arn}:password::"
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "test.yaml").write_text("family: checkout-api\n" + overlay)
    return tmp_path


def verify(invoke: Any, project: Path, env: dict[str, str], *args: str, tag: str = "v1") -> Any:
    return invoke(
        "verify", "--env", "test", "--base", "base.json", "--image", f"{REPO}:{tag}", *args, cwd=project, env=env
    )


def findings(result: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def by_rule(found: list[dict[str, Any]], rule: str, severity: str) -> list[str]:
    return [f["message"] for f in found if f["rule"] == rule and f["severity"] == severity]


def test_everything_in_place_is_ok_and_the_simulator_moto_lacks_is_a_warning(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    project = write_project(tmp_path, account)
    result = verify(invoke, project, aws_env, "--format", "json")
    assert result.returncode == 0, result.stderr
    found = findings(result)
    assert not [f for f in found if f["severity"] == "error"]
    assert len(by_rule(found, "verify-role-trust", "info")) == 2
    assert (
        by_rule(found, "verify-secret-missing", "info") and len(by_rule(found, "verify-parameter-missing", "info")) == 2
    )
    assert len(by_rule(found, "verify-log-group-missing", "info")) == 2
    assert by_rule(found, "verify-image-missing", "info") == [f"{REPO}:v1 exists"]
    assert by_rule(found, "verify-image-architecture", "info") == [f"{REPO}:v1 offers ARM64"]
    # moto 5 does not implement SimulatePrincipalPolicy: one warning, not a crash, not an error.
    [warning] = by_rule(found, "verify-role-permission", "warning")
    assert "could not check the permissions of 'checkout-api-execution'" in warning
    assert "verified environment test:" in result.stderr and "0 failed" in result.stderr


def test_text_output_names_the_overlay_line(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    project = write_project(tmp_path, account, "containerDefinitions:\n  web:\n    secrets:\n      EXTRA: /nowhere\n")
    result = verify(invoke, project, aws_env)
    assert result.returncode == 1
    assert (
        "environments/test.yaml:5:14 containerDefinitions[web].secrets[EXTRA].valueFrom: error: the SSM parameter "
        "'/nowhere' does not exist in eu-west-1" in result.stdout
    )
    assert "[verify-parameter-missing]" in result.stdout


def test_a_missing_role_and_a_role_ecs_cannot_assume_fail(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    account.role(
        "not-for-ecs",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
    )
    overlay = (
        f"executionRoleArn: arn:aws:iam::{ACCOUNT}:role/does-not-exist\n"
        f"taskRoleArn: arn:aws:iam::{ACCOUNT}:role/service/not-for-ecs\n"
    )
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    assert result.returncode == 1
    found = findings(result)
    [missing] = by_rule(found, "verify-role-missing", "error")
    assert "the execution role 'does-not-exist' does not exist" in missing
    [untrusted] = by_rule(found, "verify-role-trust", "error")
    assert "the task role 'not-for-ecs' exists but does not trust ecs-tasks.amazonaws.com" in untrusted


def test_missing_secrets_parameters_and_versions_fail(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    other = account.secret("checkout/other")
    gone = other[:-6] + "ZzZzZz"  # the same name with another suffix: another secret
    overlay = (
        "containerDefinitions:\n  web:\n    secrets:\n"
        f"      GONE: {gone}\n"
        f'      STAGED: "{other}:password:AWSPREVIOUS:"\n'
        f'      CURRENT: "{other}:password:AWSCURRENT:"\n'
        f"      NO_PARAM: arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/checkout/missing\n"
        "      SHORT: /checkout/stripe-api-key\n"
    )
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    assert result.returncode == 1 and result.stdout, result.stderr
    found = findings(result)
    failed = by_rule(found, "verify-secret-missing", "error")
    assert any(f"the secret {gone} does not exist" in m for m in failed)
    assert any("has no version labelled AWSPREVIOUS" in m for m in failed)
    assert len(failed) == 2  # AWSCURRENT exists
    assert by_rule(found, "verify-parameter-missing", "error") == [
        "the SSM parameter '/checkout/missing' does not exist in eu-west-1; tasks would stop with "
        "ResourceInitializationError. Create it (aws ssm put-parameter) or fix the reference"
    ]
    assert "hunter2" not in result.stdout + result.stderr


def test_log_groups_missing_unless_created_on_first_start(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    overlay = (
        "containerDefinitions:\n"
        "  log-router:\n    logConfiguration:\n      options:\n        awslogs-group: /ecs/none\n"
        "  datadog-agent:\n    logConfiguration:\n      options:\n        awslogs-group: /ecs/new\n"
        '        awslogs-create-group: "true"\n'
    )
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    assert result.returncode == 1
    found = findings(result)
    [missing] = by_rule(found, "verify-log-group-missing", "error")
    assert missing.startswith("the log group /ecs/none does not exist")
    assert by_rule(found, "verify-log-group-missing", "info") == [
        "the log group /ecs/new is created on first start (awslogs-create-group)"
    ]


def test_an_image_never_pushed_and_an_image_of_the_wrong_architecture_fail(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    account.push("amd64-only", image_index("amd64"))
    project = write_project(tmp_path, account)
    wrong = verify(invoke, project, aws_env, "--format", "json", tag="amd64-only")
    assert wrong.returncode == 1
    [message] = by_rule(findings(wrong), "verify-image-architecture", "error")
    assert f"{REPO}:amd64-only is built for X86_64 but the task runs on ARM64" in message
    absent = verify(invoke, project, aws_env, "--format", "json", tag="never")
    assert absent.returncode == 1
    [message] = by_rule(findings(absent), "verify-image-missing", "error")
    assert f"{REPO}:never is not in the registry" in message


SINGLE_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 1,
        "digest": "sha256:" + "b" * 64,
    },
    "layers": [],
}


def test_a_single_platform_manifest_without_its_configuration_cannot_be_checked_for_architecture(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    # moto does not implement GetDownloadUrlForLayer: the configuration blob cannot be had.
    account.push("single", json.dumps(SINGLE_MANIFEST), "application/vnd.docker.distribution.manifest.v2+json")
    project = write_project(tmp_path, account)
    result = verify(invoke, project, aws_env, "--format", "json", tag="single")
    assert result.returncode == 0, result.stdout + result.stderr
    [warning] = by_rule(findings(result), "verify-image-architecture", "warning")
    assert "single-platform manifest" in warning and "(ecr:GetDownloadUrlForLayer)" in warning


@pytest.mark.parametrize(("architecture", "verdict"), [("arm64", "info"), ("amd64", "error")])
def test_a_single_platform_image_is_checked_from_its_configuration(
    invoke: Any,
    tmp_path: Path,
    account: Account,
    aws_env: dict[str, str],
    fault_proxy: FaultProxy,
    architecture: str,
    verdict: str,
) -> None:
    # The proxy stands in for ECR's GetDownloadUrlForLayer and for the presigned URL it hands out.
    account.push("single", json.dumps(SINGLE_MANIFEST), "application/vnd.docker.distribution.manifest.v2+json")
    fault_proxy.answer(
        "GetDownloadUrlForLayer", 200, {"downloadUrl": f"{fault_proxy.url}/config", "layerDigest": "sha256:" + "b" * 64}
    )
    fault_proxy.answer("", 200, {"architecture": architecture, "os": "linux", "config": {}}, "application/json")
    project = write_project(tmp_path, account)
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json", tag="single")
    [message] = by_rule(findings(result), "verify-image-architecture", verdict)
    if verdict == "info":
        assert result.returncode == 0 and message == f"{REPO}:single offers ARM64"
    else:
        assert result.returncode == 1 and message.startswith(
            f"{REPO}:single is built for X86_64 but the task runs on ARM64"
        )


def test_efs_volumes_and_firelens_files_in_s3(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    file_system = account.efs.create_file_system(CreationToken="checkout")["FileSystemId"]
    account.s3.create_bucket(Bucket="checkout-config", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    account.s3.put_object(Bucket="checkout-config", Key="fluent-bit.conf", Body=b"[OUTPUT]\n")
    overlay = (
        "volumes:\n"
        f"  data:\n    efsVolumeConfiguration:\n      fileSystemId: {file_system}\n"
        "      transitEncryption: ENABLED\n      authorizationConfig:\n        accessPointId: fsap-0123456789abcdef0\n"
        "  gone:\n    efsVolumeConfiguration:\n      fileSystemId: fs-00000000\n"
        "containerDefinitions:\n  log-router:\n    firelensConfiguration:\n      options:\n"
        "        config-file-type: s3\n        config-file-value: arn:aws:s3:::checkout-config/missing.conf\n"
        "  datadog-agent:\n    firelensConfiguration:\n      type: fluentbit\n      options:\n"
        "        config-file-type: s3\n        config-file-value: arn:aws:s3:::checkout-config/fluent-bit.conf\n"
    )
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    found = findings(result)
    assert sorted(by_rule(found, "verify-efs-missing", "error")) == [
        "the EFS access point fsap-0123456789abcdef0 does not exist; create it or fix the volume",
        "the EFS file system fs-00000000 does not exist; create it or fix the volume",
    ]
    assert by_rule(found, "verify-efs-missing", "info") == [f"the EFS file system {file_system} exists"]
    assert by_rule(found, "verify-firelens-config-missing", "error") == [
        "the FireLens configuration file arn:aws:s3:::checkout-config/missing.conf does not exist; upload it or "
        "fix config-file-value"
    ]
    assert by_rule(found, "verify-firelens-config-missing", "info") == [
        "the FireLens configuration file arn:aws:s3:::checkout-config/fluent-bit.conf exists"
    ]


def test_the_service_load_balancer_target_must_exist_in_the_task_definition(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    vpc = account.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = account.elbv2.create_target_group(Name="checkout", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    project = write_project(tmp_path, account)
    taskdef = registerable(json.loads((project / "base.json").read_text()), schemas.describe_only_fields())
    arn = account.ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    account.ecs.create_cluster(clusterName="shop")
    for name, port in (("good", 8080), ("bad", 9090)):
        account.ecs.create_service(
            cluster="shop",
            serviceName=name,
            taskDefinition=arn,
            desiredCount=1,
            loadBalancers=[{"targetGroupArn": group_arn, "containerName": "web", "containerPort": port}],
        )
    good = invoke(
        "verify",
        "--env",
        "test",
        "--cluster",
        "shop",
        "--service",
        "good",
        "--image",
        f"{REPO}:v1",
        "--format",
        "json",
        cwd=project,
        env=aws_env,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert by_rule(findings(good), "verify-load-balancer-target", "info") == [
        "service shop/good's load balancer targets web:8080, which the task maps",
        f"the target group {group_arn} exists",
    ]
    bad = invoke(
        "verify",
        "--env",
        "test",
        "--cluster",
        "shop",
        "--service",
        "bad",
        "--image",
        f"{REPO}:v1",
        "--format",
        "json",
        cwd=project,
        env=aws_env,
    )
    assert bad.returncode == 1
    [message] = by_rule(findings(bad), "verify-load-balancer-target", "error")
    assert message.startswith("service shop/bad's load balancer names port 9090 of 'web', which maps only: 8080;")


SIMULATED = """<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{results}</EvaluationResults>
</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</SimulatePrincipalPolicyResponse>"""
RESULT = (
    "<member><EvalActionName>{action}</EvalActionName><EvalResourceName>*</EvalResourceName>"
    "<EvalDecision>{decision}</EvalDecision></member>"
)


def test_the_policy_simulator_answers_when_aws_has_it(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    # moto lacks SimulatePrincipalPolicy: the proxy answers it, as IAM does, allowed then denied.
    project = write_project(tmp_path, account)
    allowed = SIMULATED.format(results=RESULT.format(action="secretsmanager:GetSecretValue", decision="allowed"))
    denied = SIMULATED.format(results=RESULT.format(action="ssm:GetParameters", decision="implicitDeny"))
    fault_proxy.answer("SimulatePrincipalPolicy", 200, allowed, "text/xml")
    fault_proxy.answer("SimulatePrincipalPolicy", 200, denied, "text/xml")
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 1
    found = findings(result)
    assert by_rule(found, "verify-role-permission", "info")[0].startswith(
        "the execution role 'checkout-api-execution' may secretsmanager:GetSecretValue on arn:aws:secretsmanager:"
    )
    refused = by_rule(found, "verify-role-permission", "error")
    assert refused[0].startswith(
        "the execution role 'checkout-api-execution' may not ssm:GetParameters on "
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/checkout/stripe-api-key"
    )


def test_a_missing_permission_is_a_warning_naming_it(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    project = write_project(tmp_path, account)
    denied = {"__type": "AccessDeniedException", "message": "User is not authorized to perform DescribeSecret"}
    fault_proxy.answer("DescribeSecret", 400, denied)
    refused_role = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        "<Code>AccessDenied</Code><Message>not authorized</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
    fault_proxy.answer("GetRole", 403, refused_role, "text/xml")
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    [secret] = by_rule(found, "verify-secret-missing", "warning")
    assert secret.startswith("could not check the secret arn:aws:secretsmanager:") and secret.endswith(
        "the caller needs secretsmanager:DescribeSecret"
    )
    assert len(by_rule(found, "verify-role-missing", "warning")) == 2
    assert "1 failed" not in result.stderr


def test_render_verify_writes_nothing_when_a_check_fails(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    project = write_project(tmp_path, account, "executionRoleArn: arn:aws:iam::123456789012:role/nope\n")
    result = invoke(
        "render", "--env", "test", "--base", "base.json", "--image", f"{REPO}:v1", "--verify", cwd=project, env=aws_env
    )
    assert result.returncode == 1
    assert "the execution role 'nope' does not exist" in result.stderr
    assert not (project / "taskdef.json").exists()
    (project / "environments" / "test.yaml").write_text("family: checkout-api\n")
    written = invoke(
        "render", "--env", "test", "--base", "base.json", "--image", f"{REPO}:v1", "--verify", cwd=project, env=aws_env
    )
    assert written.returncode == 0, written.stderr
    assert json.loads((project / "taskdef.json").read_text())["family"] == "checkout-api"


@pytest.mark.e2e
def test_the_installed_command_verifies(
    run_cli: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    project = write_project(tmp_path, account, f"taskRoleArn: arn:aws:iam::{ACCOUNT}:role/missing-task-role\n")
    result = run_cli(
        "verify", "--env", "test", "--base", "base.json", "--image", f"{REPO}:v1", cwd=project, env=aws_env
    )
    assert result.returncode == 1, result.stderr
    assert "taskRoleArn: error: the task role 'missing-task-role' does not exist" in result.stdout
    assert "verified environment test:" in result.stderr and "1 failed" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value_from", "expected"),
    [
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password:AWSPREVIOUS:",
            ("secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", "AWSPREVIOUS", ""),
        ),
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf::v-1:",
            ("secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", "v-1", ""),
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:::0a1b",
            ("secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "", "0a1b"),
        ),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/db", ("parameter", "/app/db", "us-east-1")),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/plain", ("parameter", "plain", "eu-west-1")),
        ("/app/db", ("parameter", "/app/db", "eu-west-1")),
        ("plain", ("parameter", "plain", "eu-west-1")),
    ],
)
def test_secret_and_parameter_references_are_read_as_ecs_reads_them(value_from: str, expected: tuple[str, ...]) -> None:
    from ecs_overlay.verify import _parse_reference

    kind, arn, parts = _parse_reference(value_from, "eu-west-1", ACCOUNT)
    if kind == "secret":
        assert (kind, parts[0], parts[2], parts[3]) == expected and parts[1] == value_from.split(":")[3]
    else:
        assert (kind, *parts) == expected
        assert arn.startswith("arn:aws:ssm:") and arn.endswith(expected[1].lstrip("/"))


@pytest.mark.parametrize(
    ("policy", "trusted"),
    [
        (TRUST_ECS_TASKS, True),
        ('%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22'
         'ecs-tasks.amazonaws.com%22%5D%7D%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%7D%5D%7D', True),
        ({"Statement": [{**TRUST_ECS_TASKS["Statement"][0], "Effect": "Deny"}]}, False),
        ({"Statement": [{**TRUST_ECS_TASKS["Statement"][0], "Principal": {"AWS": "arn:aws:iam::1:root"}}]}, False),
        ({"Statement": {**TRUST_ECS_TASKS["Statement"][0], "Action": "sts:TagSession"}}, False),
        ({"Statement": {**TRUST_ECS_TASKS["Statement"][0], "Action": ["sts:TagSession", "sts:*"]}}, True),
    ],
)  # fmt: skip
def test_trust_policies_are_read_as_iam_sends_them(policy: Any, trusted: bool) -> None:
    from ecs_overlay.verify import trusts_ecs_tasks

    assert trusts_ecs_tasks(policy) is trusted


def test_a_question_aws_refuses_as_malformed_is_a_warning(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    overlay = "volumes:\n  data:\n    efsVolumeConfiguration:\n      fileSystemId: not-an-id\n"
    project = write_project(tmp_path, account, overlay)
    fault_proxy.answer(
        "", 400, {"__type": "BadRequest", "message": "invalid file system id"}, "application/json"
    )  # EFS is a REST API: no X-Amz-Target, no Action
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json")
    assert result.stdout, result.stderr
    [warning] = by_rule(findings(result), "verify-efs-missing", "warning")
    assert warning.startswith("could not check the EFS file system not-an-id: AWS refused the question (BadRequest")


def test_verify_asks_in_the_environments_account_as_its_base_role(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    role = account.role("ecs-overlay-deploy", {"Version": "2012-10-17", "Statement": []})
    project = write_project(tmp_path, account, f"base:\n  roleArn: {role}\n  region: eu-west-1\n")
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert fault_proxy.operations.count("AssumeRole") == 1  # once for every service's client
    assert {"GetRole", "DescribeSecret", "DescribeParameters", "DescribeLogGroups", "BatchGetImage"} <= set(
        fault_proxy.operations
    )
