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
from ecs_overlay.rules.registry import REGISTRY

from .conftest import FaultProxy, moto_client
from .test_reporters import valid_junit, valid_sarif

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

    def __init__(self, endpoint: str, region: str = "eu-west-1", **credentials: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials

    def elsewhere(self, account: str = "", region: str = "eu-west-1") -> Account:
        """The same moto in another region, or (as moto does it: credentials of a role assumed there) another
        account."""
        if not account:
            return Account(self.endpoint, region)
        role = f"arn:aws:iam::{account}:role/arrange"
        found = self.sts.assume_role(RoleArn=role, RoleSessionName="arrange")["Credentials"]
        return Account(
            self.endpoint,
            region,
            aws_access_key_id=found["AccessKeyId"],
            aws_secret_access_key=found["SecretAccessKey"],
            aws_session_token=found["SessionToken"],
        )

    def __getattr__(self, service: str) -> Any:
        if service not in ("iam", "ssm", "secretsmanager", "logs", "ecr", "efs", "s3", "ecs", "elbv2", "ec2", "sts"):
            raise AttributeError(service)
        return moto_client(service, self.endpoint, self.region, **self.credentials)

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
        assert parts[4] == value_from.split(":")[7]  # the JSON key, "" when none is named
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


OTHER = "111111111111"  # another account, as moto keeps one per assumed role's account
NOT_HERE = (
    f"it is in account {OTHER}, not this environment's ({ACCOUNT}); to check it there, name a role to assume in "
    f"that account under `verify: roles:` ({OTHER}: <role ARN>)"
)


def test_a_role_in_another_account_is_never_looked_up_here_by_its_name(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    # This account has a role of the same name: asking here would answer "exists".
    overlay = f"executionRoleArn: arn:aws:iam::{OTHER}:role/checkout-api-execution\n"
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    assert by_rule(found, "verify-role-missing", "warning") == [
        f"could not check the execution role 'checkout-api-execution': {NOT_HERE}"
    ]
    assert by_rule(found, "verify-role-trust", "info") == [
        "the task role 'checkout-api-task' exists and trusts ecs-tasks.amazonaws.com"
    ]


def test_another_accounts_resources_are_looked_up_there_as_the_role_named_for_it(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    other = account.elsewhere(OTHER)
    other.role("checkout-api-execution")
    shared = other.secret("shared/db")
    other.ssm.put_parameter(Name="/shared/key", Value="v", Type="SecureString")
    other.ecr.create_repository(repositoryName="fluent-bit")
    other.ecr.put_image(
        repositoryName="fluent-bit", imageManifest=image_index("arm64"), imageTag="3", imageManifestMediaType=INDEX
    )
    image = f"{OTHER}.dkr.ecr.eu-west-1.amazonaws.com/fluent-bit:3"
    account.ecr.create_repository(repositoryName="fluent-bit")  # the same name here: asking here would be wrong
    overlay = (
        f"executionRoleArn: arn:aws:iam::{OTHER}:role/checkout-api-execution\n"
        f"taskRoleArn: arn:aws:iam::{OTHER}:role/checkout-api-task\n"
        "containerDefinitions:\n  web:\n    secrets:\n"
        f'      SHARED: "{shared}:password::"\n'
        f"      PARAMETER: arn:aws:ssm:eu-west-1:{OTHER}:parameter/shared/key\n"
        f"  log-router:\n    image: {image}\n"
    )
    project = write_project(tmp_path, account, overlay)
    unreached = findings(verify(invoke, project, aws_env, "--format", "json"))
    assert by_rule(unreached, "verify-image-missing", "warning") == [f"could not check {image}: {NOT_HERE}"]
    assert by_rule(unreached, "verify-secret-missing", "warning") == [
        f"could not check the secret {shared}: {NOT_HERE}"
    ]
    assert by_rule(unreached, "verify-parameter-missing", "warning") == [
        f"could not check the SSM parameter '/shared/key': {NOT_HERE}"
    ]
    assert not [f for f in unreached if f["severity"] == "error"]  # nothing called missing for being elsewhere

    reader = f"arn:aws:iam::{OTHER}:role/ecs-overlay-verify"
    with (project / "environments" / "test.yaml").open("a") as layer:
        layer.write(f"verify:\n  roles:\n    {OTHER}: {reader}\n")
    result = verify(invoke, project, fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    found = findings(result)
    assert by_rule(found, "verify-role-trust", "info") == [
        "the execution role 'checkout-api-execution' exists and trusts ecs-tasks.amazonaws.com"
    ]
    assert by_rule(found, "verify-role-missing", "error") == [
        f"the task role 'checkout-api-task' does not exist in account {OTHER}; tasks would not start. Create it "
        "(trusting ecs-tasks.amazonaws.com) or fix taskRoleArn"
    ]
    assert f"the secret {shared} exists" in by_rule(found, "verify-secret-missing", "info")
    assert f"the JSON key 'password' of the secret {shared} is present" in by_rule(
        found, "verify-secret-json-key", "info"
    )
    assert "the SSM parameter '/shared/key' exists" in by_rule(found, "verify-parameter-missing", "info")
    assert f"{image} exists" in by_rule(found, "verify-image-missing", "info")
    assert f"{image} offers ARM64" in by_rule(found, "verify-image-architecture", "info")
    assumed = [body for operation, body in fault_proxy.requests if operation == "AssumeRole"]
    assert len(assumed) == 1 and "ecs-overlay-verify" in assumed[0].decode()  # once, for every service's client


def test_a_target_group_in_another_region_is_looked_up_in_its_region(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    east = account.elsewhere(region="us-east-1")
    vpc = east.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = east.elbv2.create_target_group(Name="east", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    assert ":us-east-1:" in group_arn
    secret = east.secret("checkout/replica")  # Secrets Manager and SSM were asked in the ARN's region already
    overlay = f'containerDefinitions:\n  web:\n    secrets:\n      REPLICA: "{secret}:password::"\n'
    project = write_project(tmp_path, account, overlay)
    create_service(account, project, [{"targetGroupArn": group_arn, "containerName": "web", "containerPort": 8080}])
    result = verify_service(invoke, project, aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    assert f"the target group {group_arn} exists" in by_rule(found, "verify-load-balancer-target", "info")
    assert f"the secret {secret} exists" in by_rule(found, "verify-secret-missing", "info")


def create_service(account: Account, project: Path, balancers: list[dict[str, Any]], name: str = "web") -> None:
    taskdef = registerable(json.loads((project / "base.json").read_text()), schemas.describe_only_fields())
    arn = account.ecs.register_task_definition(**taskdef)["taskDefinition"]["taskDefinitionArn"]
    account.ecs.create_cluster(clusterName="shop")
    account.ecs.create_service(
        cluster="shop", serviceName=name, taskDefinition=arn, desiredCount=1, loadBalancers=balancers
    )


def verify_service(invoke: Any, project: Path, env: dict[str, str], name: str = "web") -> Any:
    return invoke(
        "verify", "--env", "test", "--cluster", "shop", "--service", name, "--image", f"{REPO}:v1", "--format",
        "json", cwd=project, env=env,
    )  # fmt: skip


def test_a_secret_scheduled_for_deletion_fails(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    project = write_project(tmp_path, account)
    account.secretsmanager.delete_secret(SecretId="checkout/db", RecoveryWindowInDays=7)
    result = verify(invoke, project, aws_env, "--format", "json")
    assert result.returncode == 1
    found = findings(result)
    [message] = by_rule(found, "verify-secret-deleted", "error")
    assert message.startswith(f"the secret arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:checkout/db-")
    assert " is scheduled for deletion; " in message and "aws secretsmanager restore-secret" in message
    assert not by_rule(found, "verify-secret-missing", "info") and not by_rule(found, "verify-secret-json-key", "info")


def test_a_json_key_absent_from_the_secret_is_a_warning_and_no_value_is_shown(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    database = account.secret("checkout/database")  # {"password": "hunter2"}
    token = account.secretsmanager.create_secret(Name="checkout/token", SecretString="hunter2-token")["ARN"]
    overlay = (
        "containerDefinitions:\n  web:\n    secrets:\n"
        f'      USER: "{database}:username::"\n'
        f'      PASSWORD: "{database}:password:AWSCURRENT:"\n'
        f'      TOKEN: "{token}:value::"\n'
        f"      WHOLE: {token}\n"
    )
    result = verify(invoke, write_project(tmp_path, account, overlay), aws_env, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    assert sorted(by_rule(found, "verify-secret-json-key", "warning")) == [
        f"the JSON key 'username' of the secret {database} is absent from its value; tasks would stop with "
        "ResourceInitializationError unless the key is added before they start. Add it, or fix the reference",
        f"the JSON key 'value' of the secret {token}: the value is not a JSON object, so ECS cannot take a key "
        "from it (tasks would stop with ResourceInitializationError); store a JSON object, or drop the key from "
        "the reference",
    ]
    present = by_rule(found, "verify-secret-json-key", "info")
    assert f"the JSON key 'password' of the secret {database} is present" in present and len(present) == 2
    assert len(by_rule(found, "verify-secret-missing", "info")) == 5  # WHOLE names no key: nothing read for it
    text = verify(invoke, tmp_path, aws_env)
    assert "hunter2" not in result.stdout + result.stderr + text.stdout + text.stderr


def test_a_json_key_the_caller_may_not_read_could_not_be_checked(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    denied = {"__type": "AccessDeniedException", "message": "User is not authorized to perform GetSecretValue"}
    fault_proxy.answer("GetSecretValue", 400, denied)
    result = verify(invoke, write_project(tmp_path, account), fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    [warning] = by_rule(found, "verify-secret-json-key", "warning")
    assert warning.startswith("could not check the JSON key 'password' of the secret arn:aws:secretsmanager:")
    assert warning.endswith("the caller needs secretsmanager:GetSecretValue (and kms:Decrypt on the secret's key)")
    assert not by_rule(found, "verify-secret-json-key", "info")
    assert by_rule(found, "verify-secret-missing", "info")  # the secret itself was found


TRUST_ECS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class BlueGreen:
    """An Application Load Balancer arranged for ECS's own blue/green deployments, as the ECS guide sets one
    up: two target groups, a production listener rule (forwarding to both, weighted) and a test listener
    rule, an infrastructure role that trusts ecs.amazonaws.com; and some wrong neighbours."""

    def __init__(self, account: Account) -> None:
        ec2, elbv2 = account.ec2, account.elbv2
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.vpc = vpc
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"eu-west-1{zone}")["Subnet"][
                "SubnetId"
            ]
            for n, zone in ((1, "a"), (2, "b"))
        ]
        balancer = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]

        def group(name: str, in_vpc: str = vpc) -> str:
            created = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=in_vpc, TargetType="ip")
            arn: str = created["TargetGroups"][0]["TargetGroupArn"]
            return arn

        self.blue, self.green, self.unrelated = group("blue"), group("green"), group("unrelated")
        self.other_vpc = group("other-vpc", ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"])

        def listener(port: int) -> str:
            action = [{"Type": "forward", "TargetGroupArn": self.blue}]
            created = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=port, DefaultActions=action)
            arn: str = created["Listeners"][0]["ListenerArn"]
            return arn

        def rule(on: str, priority: int, *groups: tuple[str, int]) -> str:
            forward = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in groups]}
            created = elbv2.create_rule(
                ListenerArn=on,
                Priority=priority,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=[{"Type": "forward", "ForwardConfig": forward}],
            )
            arn: str = created["Rules"][0]["RuleArn"]
            return arn

        self.listener = listener(80)
        self.production = rule(self.listener, 1, (self.blue, 100), (self.green, 0))
        self.test = rule(listener(8080), 1, (self.green, 100), (self.blue, 0))
        self.elsewhere = rule(self.listener, 2, (self.unrelated, 100))
        self.role = account.role("ecs-infrastructure", TRUST_ECS)
        self.tasks_role = account.role("ecs-tasks-only")  # trusts ecs-tasks.amazonaws.com, not ecs.amazonaws.com

    def settings(self, **changes: str) -> dict[str, Any]:
        advanced = {
            "alternateTargetGroupArn": self.green,
            "productionListenerRule": self.production,
            "testListenerRule": self.test,
            "roleArn": self.role,
            **changes,
        }
        return {
            "targetGroupArn": self.blue,
            "containerName": "web",
            "containerPort": 8080,
            "advancedConfiguration": advanced,
        }

    def section(self, **changes: str) -> str:
        """The environment's `service:` section with one load balancer."""
        return "service:\n  loadBalancers:\n    - " + json.dumps(self.settings(**changes)) + "\n"


def blue_green_findings(found: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    rules = ("verify-blue-green-target-group", "verify-blue-green-listener-rule", "verify-blue-green-role")
    return {rule: [(f["severity"], f["message"]) for f in found if f["rule"] == rule] for rule in rules}


def test_the_blue_green_resources_of_the_service_section_are_checked(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    setup = BlueGreen(account)
    project = write_project(tmp_path, account, setup.section())
    result = verify(invoke, project, aws_env, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    [role] = [f for f in findings(result) if f["rule"] == "verify-blue-green-role"]
    assert (role["file"], role["line"]) == ("environments/test.yaml", 4)  # the service: section's line
    assert blue_green_findings(findings(result)) == {
        "verify-blue-green-target-group": [
            ("info", f"the alternate target group {setup.green} exists, in the primary target group's VPC {setup.vpc}")
        ],
        "verify-blue-green-listener-rule": [
            (
                "info",
                f"the production listener rule {setup.production} exists and forwards to the service's target groups",
            ),
            ("info", f"the test listener rule {setup.test} exists and forwards to the service's target groups"),
        ],
        "verify-blue-green-role": [
            (
                "info",
                "the infrastructure role 'ecs-infrastructure' of the service: section's blue/green load balancer "
                "exists and trusts ecs.amazonaws.com",
            )
        ],
    }


BROKEN = [
    ("alternate in another VPC", {"alternateTargetGroupArn": "other_vpc"}, "verify-blue-green-target-group", "error",
     "the alternate target group {other_vpc} is in vpc-"),
    ("alternate missing", {"alternateTargetGroupArn": "blue:gone"}, "verify-blue-green-target-group", "error",
     "the alternate target group {blue}gone of the service: section's load balancer does not exist"),
    ("a listener for a rule", {"productionListenerRule": "listener"}, "verify-blue-green-listener-rule", "error",
     "the production listener rule {listener} is an Application Load Balancer's listener, not a rule"),
    ("rule missing", {"testListenerRule": "production:gone"}, "verify-blue-green-listener-rule", "error",
     "the test listener rule {production}gone does not exist; ECS cannot shift traffic"),
    ("one rule for both", {"testListenerRule": "production"}, "verify-blue-green-listener-rule", "error",
     "the service: section's load balancer names {production} as both its production and its test listener rule"),
    ("rule forwarding elsewhere", {"productionListenerRule": "elsewhere"}, "verify-blue-green-listener-rule",
     "warning", "the production listener rule {elsewhere} forwards to {unrelated}, none of the service's"),
    ("role missing", {"roleArn": "role:gone"}, "verify-blue-green-role", "error",
     "the infrastructure role 'ecs-infrastructuregone' of the service: section's blue/green load balancer does not "
     "exist in this account; ECS cannot shift traffic"),
    ("role for tasks", {"roleArn": "tasks_role"}, "verify-blue-green-role", "error",
     "the infrastructure role 'ecs-tasks-only' of the service: section's blue/green load balancer exists but does "
     "not trust ecs.amazonaws.com"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "rule", "severity", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_a_broken_blue_green_resource_is_found(
    invoke: Any,
    tmp_path: Path,
    account: Account,
    aws_env: dict[str, str],
    change: dict[str, str],
    rule: str,
    severity: str,
    expected: str,
) -> None:
    setup = BlueGreen(account)

    def resolved(name: str) -> str:  # "blue:gone": the blue group's ARN with "gone" appended
        attribute, _, suffix = name.partition(":")
        return str(getattr(setup, attribute)) + suffix

    changes = {field: resolved(name) for field, name in change.items()}
    project = write_project(tmp_path, account, setup.section(**changes))
    result = verify(invoke, project, aws_env, "--format", "json")
    assert result.returncode == (1 if severity == "error" else 0), result.stdout + result.stderr
    found = [message for kind, message in blue_green_findings(findings(result))[rule] if kind == severity]
    message = expected.format(
        **{name: getattr(setup, name) for name in vars(setup) if isinstance(getattr(setup, name), str)}
    )
    assert len(found) == 1 and found[0].startswith(message), found
    others = [f for f in findings(result) if f["severity"] != "info" and f["rule"].startswith("verify-blue-green")]
    assert len(others) == 1, others  # only the broken resource


def test_the_live_services_blue_green_resources_are_checked_when_the_section_has_none(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    setup = BlueGreen(account)
    project = write_project(tmp_path, account)
    create_service(account, project, [setup.settings(roleArn=setup.tasks_role)])
    result = verify_service(invoke, project, aws_env)
    assert result.returncode == 1
    found = blue_green_findings(findings(result))
    assert found["verify-blue-green-role"] == [
        (
            "error",
            "the infrastructure role 'ecs-tasks-only' of service shop/web's blue/green load balancer exists but does "
            "not trust ecs.amazonaws.com (its trust policy has no Allow of sts:AssumeRole for that service); ECS "
            "cannot assume it. Add ecs.amazonaws.com to its trust policy",
        )
    ]
    assert [kind for kind, _ in found["verify-blue-green-listener-rule"]] == ["info", "info"]
    # The section, when it names load balancers, is what deploy sends: it is checked instead of the live ones.
    (project / "environments" / "test.yaml").write_text("family: checkout-api\n" + setup.section())
    fixed = verify_service(invoke, project, aws_env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert [kind for kind, _ in blue_green_findings(findings(fixed))["verify-blue-green-role"]] == ["info"]


def test_a_role_named_for_another_account_that_cannot_be_assumed_leaves_its_things_unchecked(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    shared = account.elsewhere(OTHER).secret("shared/db")
    reader = f"arn:aws:iam::{OTHER}:role/ecs-overlay-verify"
    overlay = (
        f"executionRoleArn: arn:aws:iam::{OTHER}:role/checkout-api-execution\n"
        f'containerDefinitions:\n  web:\n    secrets:\n      SHARED: "{shared}:password::"\n'
        f"verify:\n  roles:\n    '{OTHER}': {reader}\n    '222222222222': arn:aws:iam::{OTHER}:role/mislabelled\n"
        "    '333333333333': null\n"
    )
    refused = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        "<Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error>"
        "<RequestId>1</RequestId></ErrorResponse>"
    )
    fault_proxy.answer("AssumeRole", 403, refused, "text/xml")
    result = verify(invoke, write_project(tmp_path, account, overlay), fault_proxy.env(aws_env), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr  # not checked is not failed, nor exit 3
    found = findings(result)
    why = f"cannot assume {reader}, the role `verify: roles:` names for account {OTHER}: access denied: the caller"
    [role] = by_rule(found, "verify-role-missing", "warning")
    [secret] = by_rule(found, "verify-secret-missing", "warning")
    assert role.startswith(f"could not check the execution role 'checkout-api-execution': {why}")
    assert secret.startswith(f"could not check the secret {shared}: {why}")
    assert fault_proxy.operations.count("AssumeRole") == 1  # tried once for the account, said for each thing


def test_a_role_named_for_an_account_must_be_in_it() -> None:
    from ecs_overlay.base import AwsPlace
    from ecs_overlay.provenance import Provenance
    from ecs_overlay.verify import Checks, Unreached

    checks = Checks(None, AwsPlace(role_arn=f"arn:aws:iam::{ACCOUNT}:role/deploy"), {}, Provenance(),  # type: ignore[arg-type]
                    {"222222222222": f"arn:aws:iam::{OTHER}:role/mislabelled"})  # fmt: skip
    assert checks.role_for("222222222222") == Unreached(
        f"the role `verify: roles:` names for account 222222222222, arn:aws:iam::{OTHER}:role/mislabelled, is in "
        "another account"
    )
    assert checks.role_for(ACCOUNT) == f"arn:aws:iam::{ACCOUNT}:role/deploy" and checks.role_for(None) is not None


LISTENERS = """<DescribeListenersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
<DescribeListenersResult><Listeners><member><ListenerArn>{listener}</ListenerArn><Port>443</Port><Protocol>TCP</Protocol>
<DefaultActions><member><Type>forward</Type><TargetGroupArn>{group}</TargetGroupArn></member></DefaultActions>
</member></Listeners></DescribeListenersResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</DescribeListenersResponse>"""
NO_LISTENER = (
    '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type>'
    "<Code>ListenerNotFound</Code><Message>One or more listeners not found</Message></Error>"
    "<RequestId>1</RequestId></ErrorResponse>"
)


def test_a_network_load_balancers_listener_stands_for_the_listener_rule(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    # moto names a Network Load Balancer's listeners listener/app/…, as an ALB's: the proxy answers as ELB does.
    setup = BlueGreen(account)
    listener = (
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:listener/net/shop-tcp/0123456789abcdef/0f1e2d3c4b5a6978"
    )
    gone = listener[:-4] + "0000"
    fault_proxy.answer("DescribeListeners", 200, LISTENERS.format(listener=listener, group=setup.blue), "text/xml")
    fault_proxy.answer("DescribeListeners", 400, NO_LISTENER, "text/xml")
    section = setup.section(productionListenerRule=listener, testListenerRule=gone)
    result = verify(invoke, write_project(tmp_path, account, section), fault_proxy.env(aws_env), "--format", "json")
    assert blue_green_findings(findings(result))["verify-blue-green-listener-rule"] == [
        ("info", f"the production listener rule {listener} exists and forwards to the service's target groups"),
        ("error", f"the test listener rule {gone} does not exist; ECS cannot shift traffic. Fix testListenerRule"),
    ]
    assert fault_proxy.operations.count("DescribeListeners") == 2 and "DescribeRules" not in fault_proxy.operations


def test_verify_roles_are_keyed_by_account_id_and_name_iam_roles(invoke: Any, tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "base.json").write_text(
        (Path(__file__).parent.parent / "examples/sample-app/describe-task-definition.json").read_text()
    )
    roles = f"    '12345': arn:aws:iam::{OTHER}:role/x\n    '{OTHER}': not-a-role\n"
    layer = "family: checkout-api\nverify:\n  roles:\n" + roles
    (tmp_path / "environments" / "test.yaml").write_text(layer)
    result = invoke("validate", "--env", "test", "--base", "base.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "environments/test.yaml:3:3 verify.roles: error: " in result.stdout
    assert f"environments/test.yaml:5:5 verify.roles.{OTHER}: error: " in result.stdout
    (tmp_path / "environments" / "test.yaml").write_text(
        layer.replace("'12345'", "'222222222222'").replace("not-a-role", f"arn:aws:iam::{OTHER}:role/y")
    )
    valid = invoke("validate", "--env", "test", "--base", "base.json", cwd=tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_verify_reports_in_the_ci_formats_at_the_overlay_line(
    invoke: Any, tmp_path: Path, account: Account, aws_env: dict[str, str]
) -> None:
    """SARIF, JUnit and GitHub annotations place verify's findings as validate's: at the overlay line that
    sets the value, else (a value of the base) on the environment's overlay file; a file name that is
    syntax in a URI or a workflow command's property arrives escaped."""
    project = write_project(tmp_path, account, "containerDefinitions:\n  web:\n    secrets:\n      EXTRA: /nowhere\n")
    (project / "environments").rename(project / "over,lays:100%")
    args = ("--environments-dir", "over,lays:100%", "--format")

    result = verify(invoke, project, aws_env, *args, "sarif")
    assert result.returncode == 1, result.stderr
    [run] = valid_sarif(result.stdout)["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["verify-parameter-missing"]["helpUri"] == REGISTRY["verify-parameter-missing"].source
    [error] = [r for r in run["results"] if r["level"] == "error"]
    assert error["ruleId"] == "verify-parameter-missing"
    assert error["message"]["text"].startswith("containerDefinitions[web].secrets[EXTRA].valueFrom: the SSM parameter")
    assert error["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "over%2Clays%3A100%25/test.yaml"},
                "region": {"startLine": 5, "startColumn": 14},
            }
        }
    ]
    [warning] = [r for r in run["results"] if r["level"] == "warning"]  # the simulator moto lacks
    assert warning["ruleId"] == "verify-role-permission"
    assert warning["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "over%2Clays%3A100%25/test.yaml"}}}  # the base's role
    ]
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}

    report = valid_junit(verify(invoke, project, aws_env, *args, "junit").stdout)
    assert report["@name"] == "ecs-overlay verify" and report["@failures"] == "1"
    [suite] = report["testsuite"]
    cases = {case["@name"]: case for case in suite["testcase"]}
    assert list(cases) == ["verify-role-permission", "verify-parameter-missing"]  # no "no errors": one failed
    assert "over,lays:100%/test.yaml:5:14" in cases["verify-parameter-missing"]["failure"][0]["@message"]
    assert "could not check the permissions" in cases["verify-role-permission"]["skipped"][0]["@message"]
    assert "the log group /ecs/checkout-api/firelens exists" in suite["system-out"][0]

    annotations = verify(invoke, project, aws_env, *args, "github").stdout.splitlines()
    assert (
        "::error file=over%2Clays%3A100%25/test.yaml,line=5,col=14,title=verify-parameter-missing::"
        "containerDefinitions[web].secrets[EXTRA].valueFrom: the SSM parameter '/nowhere' does not exist in "
        "eu-west-1; tasks would stop with ResourceInitializationError. Create it (aws ssm put-parameter) or fix the "
        "reference (environment test)"
    ) in annotations
    assert (
        "::warning title=verify-role-permission::executionRoleArn: could not check the permissions of "
        "'checkout-api-execution': SimulatePrincipalPolicy is not offered by this endpoint (environment test)"
    ) in annotations
    assert len(annotations) == 12 and all(
        line.startswith(("::error ", "::warning ", "::notice ")) for line in annotations
    )

    markdown = verify(invoke, project, aws_env, *args, "markdown").stdout
    assert markdown.startswith("1 error, 1 warning in 1 environment.\n\n| environment | errors | warnings | info |")
    assert "| `test` | 1 | 1 | 10 |" in markdown
    assert "| error | `verify-parameter-missing` | `over,lays:100%/test.yaml:5:14` |" in markdown
