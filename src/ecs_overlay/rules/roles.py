"""Execution-role rules: what makes a task need `executionRoleArn`, the role ECS's agent acts with."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import WARNING
from ..keyed import Path
from .context import RuleContext
from .registry import Problem, bad, good, rule

EXECUTION_ROLE_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"
_SET_ROLE = (
    "set `executionRoleArn:` to a task execution role (e.g. the role name `ecsTaskExecutionRole`, with the "
    "managed policy AmazonECSTaskExecutionRolePolicy)"
)
# Private ECR (not public.ecr.aws): <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>,
# or the dual-stack <account>.dkr-ecr.<region>.on.aws/<repository>
_PRIVATE_ECR = re.compile(
    r"^\d{12}\.(dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|dkr-ecr\.[a-z0-9-]+\.on\.aws)/"
)


def is_private_ecr(image: object) -> bool:
    return bool(_PRIVATE_ECR.match(str(image or "")))


def _lacks_execution_role(ctx: RuleContext) -> bool:
    return not ctx.taskdef.get("executionRoleArn")


@rule(
    "execution-role-required",
    summary="`executionRoleArn` is set when a container has `secrets` or `repositoryCredentials` (any launch "
    "type), and on Fargate when a container logs with `awslogs` or runs an image from a private ECR repository",
    source=EXECUTION_ROLE_DOC,
    ecs_error="When you are specifying container secrets, you must also specify a value for 'executionRoleArn'. | "
    "Private repository authentication requires that the task definition specify a value for executionRoleArn. | "
    "Fargate requires task definition to have execution role ARN to support log driver awslogs. | "
    "Fargate requires task definition to have execution role ARN to support ECR images.",
    note="ECS refuses these at RegisterTaskDefinition with the texts above (quoted in terraform-provider-aws#3051, "
    "virtual-kubelet#193, fabfuel/ecs-deploy#87, sil-org/ecs-deploy#188). On EC2 the container agent pulls ECR "
    "images and writes awslogs with the instance role, so those two need no execution role there. "
    "`logConfiguration.secretOptions` is fetched with the execution role too (developer guide, secrets-logconfig); "
    "no registration error text for it was found, so without a role it is reported as a warning (the agent has "
    "no other credentials to fetch it with)",
    examples=[
        bad("executionRoleArn: null\n", path="containerDefinitions[web].secrets"),
        bad(
            "executionRoleArn: null\ncontainerDefinitions: {web: {secrets: null}}\n",
            path="containerDefinitions[web].logConfiguration.logDriver",
        ),
        bad(
            "executionRoleArn: null\ncontainerDefinitions: {web: {secrets: null, logConfiguration: null}}\n",
            path="containerDefinitions[web].image",
        ),
        bad(
            "containerDefinitions: {web: {repositoryCredentials: "
            "{credentialsParameter: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:dockerhub-AbCdEf'}}}\n",
            base="ec2",
            path="containerDefinitions[web].repositoryCredentials",
        ),
        bad(
            "containerDefinitions: {web: {secrets: {DB_PASSWORD: /shop/db}}}\n",
            base="ec2",
            path="containerDefinitions[web].secrets",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: splunk, options: "
            "{splunk-url: 'https://splunk.example.com:8088'}, secretOptions: "
            "[{name: splunk-token, valueFrom: /shop/splunk-token}]}}}\n",
            base="ec2",
            path="containerDefinitions[web].logConfiguration.secretOptions",
        ),
        good(
            "containerDefinitions: {web: {image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/shop:2', "
            "logConfiguration: {logDriver: awslogs, options: "
            "{awslogs-group: /ecs/shop, awslogs-region: eu-west-1}}}}\n",
            base="ec2",
        ),
        good(
            "executionRoleArn: null\ncontainerDefinitions: {web: {image: 'public.ecr.aws/nginx/nginx:1.27', "
            "secrets: null, logConfiguration: null}}\n"
        ),
        good("executionRoleArn: ecsTaskExecutionRole\n"),
    ],
)
def execution_role_required(ctx: RuleContext) -> Iterator[Problem]:
    if not _lacks_execution_role(ctx):
        return
    for path, container in ctx.containers():
        logging = container.get("logConfiguration") or {}
        if container.get("secrets"):
            yield Problem((*path, "secrets"), f"container secrets need the task execution role; {_SET_ROLE}")
        if logging.get("secretOptions"):
            yield Problem(
                (*path, "logConfiguration", "secretOptions"),
                f"log driver secrets (secretOptions) are fetched with the task execution role; {_SET_ROLE}",
                WARNING,
            )
        if container.get("repositoryCredentials"):
            yield Problem(
                (*path, "repositoryCredentials"),
                f"private registry authentication (repositoryCredentials) needs the task execution role; {_SET_ROLE}",
            )
        if not ctx.is_fargate:
            continue
        if logging.get("logDriver") == "awslogs":
            yield Problem(
                (*path, "logConfiguration", "logDriver"),
                f"on Fargate the awslogs log driver needs the task execution role; {_SET_ROLE}",
            )
        if is_private_ecr(container.get("image")):
            yield Problem(
                (*path, "image"),
                f"on Fargate an image from a private ECR repository needs the task execution role; {_SET_ROLE}",
            )


def _s3_files(path: Path, container: dict[str, object]) -> Iterator[tuple[Path, str]]:
    files = container.get("environmentFiles")
    if isinstance(files, list) and any(isinstance(f, dict) and f.get("type") == "s3" for f in files):
        yield (*path, "environmentFiles"), "environment files in S3"
    firelens = container.get("firelensConfiguration")
    options = firelens.get("options") if isinstance(firelens, dict) else None
    if isinstance(options, dict) and options.get("config-file-type") == "s3":
        yield (*path, "firelensConfiguration", "options", "config-file-type"), "a FireLens configuration file in S3"


@rule(
    "execution-role-for-s3-files",
    summary="`executionRoleArn` is set when a container reads `environmentFiles` or a FireLens configuration file "
    "from S3: the agent downloads them with the execution role, and the task fails to start without one",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/taskdef-envfiles.html",
    severity=WARNING,
    note="The developer guide says the execution role is required for both (taskdef-envfiles, using_firelens "
    "'Required IAM permissions'); no registration error text was found, so this is a warning: the task fails "
    "when it starts",
    examples=[
        bad(
            "containerDefinitions: {web: {environmentFiles: "
            "[{type: s3, value: 'arn:aws:s3:::shop-config/web.env'}]}}\n",
            base="ec2",
            path="containerDefinitions[web].environmentFiles",
        ),
        bad(
            "containerDefinitions: {log-router: {image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4', "
            "essential: false, memory: 64, firelensConfiguration: {type: fluentbit, options: "
            "{config-file-type: s3, config-file-value: 'arn:aws:s3:::shop-config/fluent-bit.conf'}}}}\n",
            base="ec2",
            path="containerDefinitions[log-router].firelensConfiguration.options.config-file-type",
        ),
        good(
            "executionRoleArn: ecsTaskExecutionRole\ncontainerDefinitions: {web: {environmentFiles: "
            "[{type: s3, value: 'arn:aws:s3:::shop-config/web.env'}]}}\n",
            base="ec2",
        ),
        good(
            "containerDefinitions: {log-router: {image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4', "
            "essential: false, memory: 64, firelensConfiguration: {type: fluentbit, options: "
            "{config-file-type: file, config-file-value: /fluent-bit/etc/extra.conf}}}, "
            "web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}}\n",
            base="ec2",
        ),
    ],
)
def execution_role_for_s3_files(ctx: RuleContext) -> Iterator[Problem]:
    if not _lacks_execution_role(ctx):
        return
    for container_path, container in ctx.containers():
        for path, what in _s3_files(container_path, container):
            yield Problem(path, f"the agent reads {what} with the task execution role; {_SET_ROLE}")


# An IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<optional path/>name (IAM's name characters).
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]+$", re.ASCII)


@rule(
    "role-arn",
    summary="a `taskRoleArn`/`executionRoleArn` written as an ARN is an IAM role ARN "
    "(`arn:aws:iam::<12-digit account>:role/<name>`); a bare role name is left alone",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ecs_error="ClientException: Role is not valid (given an ECS cluster ARN and a CloudFormation stack ARN: "
    "aws-samples/aws-modern-application-workshop#9)",
    note="taskRoleArn takes 'the short name or full ARN' of an IAM role, and role names in executionRoleArn are "
    "common (ecsTaskExecutionRole), so only values that start with `arn:` are checked, against IAM's ARN format "
    "(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).",
    offline=True,
    examples=[
        bad("taskRoleArn: 'arn:aws:iam::11111111111:role/shop-task'\n", path="taskRoleArn"),
        bad("taskRoleArn: 'arn:aws:sts::111111111111:assumed-role/shop-task/session'\n", path="taskRoleArn"),
        bad("executionRoleArn: 'arn:aws:iam::111111111111:policy/shop-execution'\n", path="executionRoleArn"),
        good("taskRoleArn: 'arn:aws:iam::111111111111:role/service-roles/shop-task'\n"),
        good("executionRoleArn: 'arn:aws-cn:iam::111111111111:role/shop-execution'\n"),
        good("taskRoleArn: shop-task\nexecutionRoleArn: ecsTaskExecutionRole\n"),
    ],
)
def role_arn(ctx: RuleContext) -> Iterator[Problem]:
    for field in ("taskRoleArn", "executionRoleArn"):
        value = ctx.taskdef.get(field)
        if isinstance(value, str) and value.startswith("arn:") and not _ROLE_ARN.match(value):
            yield Problem(
                (field,),
                f"{field} {value} is not an IAM role ARN; write arn:aws:iam::<12-digit account id>:role/<role name> "
                "(or just the role name)",
            )
