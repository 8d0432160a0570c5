"""Finding ids of `verify`: what a rendered task definition points at, looked up in the account.

Each id is reported three ways: info when the thing was found as it should be, error when it was
not (the task would fail to start), warning when it could not be checked (a permission the caller
lacks, an operation the endpoint does not offer).
"""

from __future__ import annotations

from .registry import declare

_ECS_GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide"

ROLE_MISSING = declare(
    "verify-role-missing",
    summary="the task and execution roles exist (iam:GetRole)",
    source=f"{_ECS_GUIDE}/task_execution_IAM_role.html",
    category="verify",
)
ROLE_TRUST = declare(
    "verify-role-trust",
    summary="the task and execution roles trust `ecs-tasks.amazonaws.com` to assume them (sts:AssumeRole)",
    source=f"{_ECS_GUIDE}/task_execution_IAM_role.html",
    category="verify",
)
ROLE_PERMISSION = declare(
    "verify-role-permission",
    summary="the execution role may read each secret, pull each private ECR image and write each log group "
    "(iam:SimulatePrincipalPolicy)",
    source="https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html",
    category="verify",
)
SECRET_MISSING = declare(
    "verify-secret-missing",
    summary="every Secrets Manager secret a container references exists (with the version stage or id named)",
    source=f"{_ECS_GUIDE}/secrets-envvar-secrets-manager.html",
    category="verify",
)
PARAMETER_MISSING = declare(
    "verify-parameter-missing",
    summary="every SSM parameter a container references exists (by name in the task's region, or by ARN)",
    source=f"{_ECS_GUIDE}/secrets-envvar-ssm-paramstore.html",
    category="verify",
)
LOG_GROUP_MISSING = declare(
    "verify-log-group-missing",
    summary="every awslogs log group exists, unless `awslogs-create-group` is `true`",
    source=f"{_ECS_GUIDE}/using_awslogs.html",
    category="verify",
)
IMAGE_MISSING = declare(
    "verify-image-missing",
    summary="every private ECR image tag or digest exists in its repository",
    source="https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html",
    category="verify",
)
IMAGE_ARCHITECTURE = declare(
    "verify-image-architecture",
    summary="the registry's image index (or a single image's configuration) offers "
    "`runtimePlatform.cpuArchitecture` (`exec format error` otherwise)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html",
    category="verify",
)
EFS_MISSING = declare(
    "verify-efs-missing",
    summary="every EFS file system and access point a volume names exists",
    source=f"{_ECS_GUIDE}/efs-volumes.html",
    category="verify",
)
FIRELENS_CONFIG_MISSING = declare(
    "verify-firelens-config-missing",
    summary="a FireLens configuration file in S3 (`config-file-type: s3`) exists",
    source=f"{_ECS_GUIDE}/firelens-taskdef.html",
    category="verify",
)
LOAD_BALANCER_TARGET = declare(
    "verify-load-balancer-target",
    summary="the service's (or the appspec's) load-balanced container and port exist in the task definition, "
    "and its target group exists",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html",
    category="verify",
)
SECRET_DELETED = declare(
    "verify-secret-deleted",
    summary="no referenced Secrets Manager secret is scheduled for deletion (DescribeSecret's `DeletedDate`): "
    "Secrets Manager refuses to hand out its value",
    source="https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html",
    category="verify",
)
SECRET_JSON_KEY = declare(
    "verify-secret-json-key",
    summary="a secret referenced with a JSON key (`…:secret:name-AbCdEf:key::`) holds a JSON object with that key; "
    "a warning at most (the value may change before tasks start), and only when the caller may read the value",
    source=f"{_ECS_GUIDE}/secrets-envvar-secrets-manager.html",
    category="verify",
)
_BLUE_GREEN = f"{_ECS_GUIDE}/alb-resources-for-blue-green.html"
BLUE_GREEN_TARGET_GROUP = declare(
    "verify-blue-green-target-group",
    summary="the alternate target group of a blue/green load balancer (`advancedConfiguration`) exists, in the "
    "primary target group's VPC (both must be in the tasks' VPC)",
    source=_BLUE_GREEN,
    category="verify",
)
BLUE_GREEN_LISTENER_RULE = declare(
    "verify-blue-green-listener-rule",
    summary="the production and test listener rules (an ALB rule, or an NLB listener) exist, are two, and forward "
    "to the service's target groups",
    source=f"{_ECS_GUIDE}/troubleshooting-blue-green.html",
    category="verify",
)
BLUE_GREEN_ROLE = declare(
    "verify-blue-green-role",
    summary="the infrastructure role of a blue/green load balancer exists and trusts `ecs.amazonaws.com`",
    source=f"{_ECS_GUIDE}/AmazonECSInfrastructureRolePolicyForLoadBalancers.html",
    category="verify",
)
