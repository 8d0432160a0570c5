"""verify: what a rendered task definition points at (roles, secrets, logs, images, volumes, targets), looked up.

Every question is read-only and asked through the run's one AWS connection (``aws.Ecs``); the
answers become findings: info when the thing is there as it should be, error when it is not (the
task would fail to start), warning when it could not be checked (a permission the caller lacks,
an operation the endpoint does not offer). Questions run concurrently, a few at a time.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from .architecture import normalise, task_architecture
from .findings import ERROR, INFO, WARNING, Finding
from .images import is_placeholder
from .keyed import Item, Path, format_path
from .provenance import Provenance
from .rules.verify import (
    EFS_MISSING,
    FIRELENS_CONFIG_MISSING,
    IMAGE_ARCHITECTURE,
    IMAGE_MISSING,
    LOAD_BALANCER_TARGET,
    LOG_GROUP_MISSING,
    PARAMETER_MISSING,
    ROLE_MISSING,
    ROLE_PERMISSION,
    ROLE_TRUST,
    SECRET_MISSING,
)

if TYPE_CHECKING:
    from .aws import Answer, Ecs
    from .base import AwsPlace

# Bounded: a few questions in flight at once, gentle on AWS's per-account request rates.
MAX_CONCURRENT = 6
ECS_TASKS = "ecs-tasks.amazonaws.com"
_ECR_IMAGE = re.compile(
    r"^(?P<registry>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)
_MANIFEST_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]


class Reference(NamedTuple):
    """A secret or parameter a task definition names, and where."""

    value_from: str
    path: Path


class Grant(NamedTuple):
    """What the execution role must be allowed, on what, for which part of the task definition."""

    actions: tuple[str, ...]
    resource: str
    path: Path
    what: str


def verify(
    aws: Ecs,
    place: AwsPlace,
    taskdef: Mapping[str, Any],
    provenance: Provenance,
    service: tuple[str, str] | None = None,
    appspec: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Every check's findings, in a stable order (the order the checks are listed, not finished)."""
    checks = Checks(aws, place, taskdef, provenance)
    jobs: list[Callable[[], list[Finding]]] = [
        checks.roles,
        *(checks.reference_job(reference) for reference in secret_references(taskdef)),
        *(checks.log_group_job(path, options) for path, options in awslogs_options(taskdef)),
        *(checks.image_job(path, image) for path, image in _images(taskdef)),
        *(checks.efs_job(path, volume) for path, volume in _efs_volumes(taskdef)),
        *(checks.firelens_job(path, location) for path, location in _firelens_files(taskdef)),
    ]
    if service is not None:
        jobs.append(lambda: checks.service_targets(*service))
    if appspec is not None:
        jobs.append(lambda: checks.appspec_target(appspec))
    with ThreadPoolExecutor(max_workers=MAX_CONCURRENT, thread_name_prefix="ecs-overlay-verify") as pool:
        results = list(pool.map(lambda job: job(), jobs))
    return [finding for findings in results for finding in findings]


class Checks:
    """The checks of one task definition, each a list of findings."""

    def __init__(self, aws: Ecs, place: AwsPlace, taskdef: Mapping[str, Any], provenance: Provenance) -> None:
        self.aws = aws
        self.place = place
        self.taskdef = taskdef
        self.provenance = provenance

    def ask(self, service: str, operation: str, permission: str, **params: Any) -> Answer:
        """A question asked in the environment's region and account (its ``base:`` region and role)."""
        return self.aws.ask(
            service, operation, permission, region=self.place.region, role_arn=self.place.role_arn, **params
        )

    def finding(self, rule: str, severity: str, message: str, path: Path) -> Finding:
        return Finding.at(self.provenance.locate(path), rule, message, format_path(path), severity)

    def answered(self, answer: Answer, rule: str, path: Path, what: str) -> Finding | None:
        """The warning for a question AWS did not answer, or None when it did (found or not)."""
        if answer.status == "denied":
            return self.finding(rule, WARNING, f"could not check {what}: the caller needs {answer.reason}", path)
        if answer.status == "unanswered":
            return self.finding(rule, WARNING, f"could not check {what}: {answer.reason}", path)
        return None

    # Roles -------------------------------------------------------------------------------------

    def roles(self) -> list[Finding]:
        findings: list[Finding] = []
        for field, label in (("executionRoleArn", "execution role"), ("taskRoleArn", "task role")):
            value = self.taskdef.get(field)
            if not isinstance(value, str) or not value:
                continue
            path: Path = (field,)
            name = value.rsplit("/", 1)[-1]
            what = f"the {label} '{name}'"
            answer = self.ask("iam", "get_role", "iam:GetRole", RoleName=name)
            unanswered = self.answered(answer, ROLE_MISSING, path, what)
            if unanswered or answer.status == "missing":
                findings.append(
                    unanswered
                    or self.finding(
                        ROLE_MISSING,
                        ERROR,
                        f"{what} does not exist in this account; tasks would not start. Create it "
                        f"(trusting {ECS_TASKS}) or fix {field}",
                        path,
                    )
                )
                continue
            role = answer.body.get("Role", {}) if isinstance(answer.body, dict) else {}
            if not trusts_ecs_tasks(role.get("AssumeRolePolicyDocument")):
                findings.append(
                    self.finding(
                        ROLE_TRUST,
                        ERROR,
                        f"{what} exists but does not trust {ECS_TASKS} (its trust policy has no Allow of "
                        f"sts:AssumeRole for that service); ECS cannot assume it. Add {ECS_TASKS} to its trust policy",
                        path,
                    )
                )
            else:
                findings.append(self.finding(ROLE_TRUST, INFO, f"{what} exists and trusts {ECS_TASKS}", path))
            if field == "executionRoleArn" and isinstance(role.get("Arn"), str):
                findings.extend(self.permissions(role["Arn"], name))  # the role's account is the task's
        return findings

    def permissions(self, role_arn: str, name: str) -> list[Finding]:
        """What IAM's policy simulator says of the execution role's grants; one warning when it cannot say."""
        findings: list[Finding] = []
        for grant in self.grants(role_arn.split(":")[4]):
            answer = self.ask(
                "iam",
                "simulate_principal_policy",
                "iam:SimulatePrincipalPolicy",
                PolicySourceArn=role_arn,
                ActionNames=list(grant.actions),
                ResourceArns=[grant.resource],
            )
            unanswered = self.answered(answer, ROLE_PERMISSION, ("executionRoleArn",), f"the permissions of '{name}'")
            if unanswered is not None:
                return [*findings, unanswered]  # the same answer for every other grant: said once
            results = answer.body.get("EvaluationResults", []) if isinstance(answer.body, dict) else []
            refused = sorted({str(r.get("EvalActionName")) for r in results if r.get("EvalDecision") != "allowed"}) or (
                [] if results else list(grant.actions)
            )
            if refused:
                findings.append(
                    self.finding(
                        ROLE_PERMISSION,
                        ERROR,
                        f"the execution role '{name}' may not {', '.join(refused)} on {grant.resource} "
                        f"({grant.what}); grant it in the role's policy",
                        grant.path,
                    )
                )
            else:
                findings.append(
                    self.finding(
                        ROLE_PERMISSION,
                        INFO,
                        f"the execution role '{name}' may {', '.join(grant.actions)} on {grant.resource}",
                        grant.path,
                    )
                )
        return findings

    def grants(self, account: str) -> list[Grant]:
        region = self.aws.region(self.place.region) or ""
        grants: list[Grant] = []
        for reference in secret_references(self.taskdef):
            kind, arn, _ = _parse_reference(reference.value_from, region, account)
            action = "secretsmanager:GetSecretValue" if kind == "secret" else "ssm:GetParameters"
            grants.append(Grant((action,), arn, reference.path, "a secret the task reads"))
        for path, image in _images(self.taskdef):
            match = _ECR_IMAGE.match(image)
            if match:
                repository = f"arn:aws:ecr:{match['region']}:{match['registry']}:repository/{match['repository']}"
                grants.append(
                    Grant(("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), repository, path, f"pulling {image}")
                )
        for path, options in awslogs_options(self.taskdef):
            group = options.get("awslogs-group")
            if isinstance(group, str):
                arn = f"arn:aws:logs:{options.get('awslogs-region') or region}:{account}:log-group:{group}:*"
                actions: tuple[str, ...] = ("logs:CreateLogStream", "logs:PutLogEvents")
                if str(options.get("awslogs-create-group", "")).lower() == "true":
                    actions = ("logs:CreateLogGroup", *actions)
                grants.append(Grant(actions, arn, path, "the container's logs"))
        return grants

    # Secrets and parameters ----------------------------------------------------------------------

    def reference_job(self, reference: Reference) -> Callable[[], list[Finding]]:
        return lambda: [self.reference(reference)]

    def reference(self, reference: Reference) -> Finding:
        region = self.aws.region(self.place.region) or ""
        kind, _, parts = _parse_reference(reference.value_from, region, "")
        if kind == "secret":
            return self.secret(reference, parts)
        name, parameter_region = parts
        what = f"the SSM parameter '{name}'"
        answer = self.ask(
            "ssm",
            "describe_parameters",
            "ssm:DescribeParameters",
            resource_region=parameter_region if parameter_region != region else None,
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}],
        )
        unanswered = self.answered(answer, PARAMETER_MISSING, reference.path, what)
        if unanswered:
            return unanswered
        found = answer.status == "ok" and bool(answer.body.get("Parameters"))
        if not found:
            return self.finding(
                PARAMETER_MISSING,
                ERROR,
                f"{what} does not exist in {parameter_region}; tasks would stop with ResourceInitializationError. "
                "Create it (aws ssm put-parameter) or fix the reference",
                reference.path,
            )
        return self.finding(PARAMETER_MISSING, INFO, f"{what} exists", reference.path)

    def secret(self, reference: Reference, parts: tuple[str, ...]) -> Finding:
        secret_id, secret_region, stage, version = parts
        what = f"the secret {secret_id}"
        answer = self.ask(
            "secretsmanager",
            "describe_secret",
            "secretsmanager:DescribeSecret",
            resource_region=secret_region or None,
            SecretId=secret_id,
        )
        unanswered = self.answered(answer, SECRET_MISSING, reference.path, what)
        if unanswered:
            return unanswered
        if answer.status == "missing":
            return self.finding(
                SECRET_MISSING,
                ERROR,
                f"{what} does not exist; tasks would stop with ResourceInitializationError (unable to pull "
                "secrets). Create it or fix the reference",
                reference.path,
            )
        versions: dict[str, list[str]] = answer.body.get("VersionIdsToStages") or {}
        if version and version not in versions:
            return self.finding(
                SECRET_MISSING, ERROR, f"{what} has no version {version}; fix the reference", reference.path
            )
        if stage and not any(stage in stages for stages in versions.values()):
            return self.finding(
                SECRET_MISSING, ERROR, f"{what} has no version labelled {stage}; fix the reference", reference.path
            )
        return self.finding(SECRET_MISSING, INFO, f"{what} exists", reference.path)

    # Log groups ----------------------------------------------------------------------------------

    def log_group_job(self, path: Path, options: Mapping[str, Any]) -> Callable[[], list[Finding]]:
        return lambda: self.log_group(path, options)

    def log_group(self, path: Path, options: Mapping[str, Any]) -> list[Finding]:
        group = options.get("awslogs-group")
        if not isinstance(group, str):
            return []
        what = f"the log group {group}"
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            return [
                self.finding(LOG_GROUP_MISSING, INFO, f"{what} is created on first start (awslogs-create-group)", path)
            ]
        region = options.get("awslogs-region")
        answer = self.ask(
            "logs",
            "describe_log_groups",
            "logs:DescribeLogGroups",
            resource_region=region if isinstance(region, str) else None,
            logGroupNamePrefix=group,
        )
        unanswered = self.answered(answer, LOG_GROUP_MISSING, path, what)
        if unanswered:
            return [unanswered]
        names = {g.get("logGroupName") for g in answer.body.get("logGroups", [])} if answer.status == "ok" else set()
        if group not in names:
            return [
                self.finding(
                    LOG_GROUP_MISSING,
                    ERROR,
                    f"{what} does not exist; tasks would stop with ResourceInitializationError. Create it "
                    '(aws logs create-log-group) or set awslogs-create-group: "true"',
                    path,
                )
            ]
        return [self.finding(LOG_GROUP_MISSING, INFO, f"{what} exists", path)]

    # Images --------------------------------------------------------------------------------------

    def image_job(self, path: Path, image: str) -> Callable[[], list[Finding]]:
        return lambda: self.image(path, image)

    def image(self, path: Path, image: str) -> list[Finding]:
        match = _ECR_IMAGE.match(image)
        if match is None:
            return []  # a public registry's image: ECR cannot be asked about it
        image_id = {"imageDigest": match["digest"]} if match["digest"] else {"imageTag": match["tag"] or "latest"}
        answer = self.ask(
            "ecr",
            "batch_get_image",
            "ecr:BatchGetImage",
            resource_region=match["region"],
            registryId=match["registry"],
            repositoryName=match["repository"],
            imageIds=[image_id],
            acceptedMediaTypes=_MANIFEST_TYPES,
        )
        unanswered = self.answered(answer, IMAGE_MISSING, path, image)
        if unanswered:
            return [unanswered]
        images = answer.body.get("images", []) if answer.status == "ok" else []
        if not images:
            return [
                self.finding(
                    IMAGE_MISSING,
                    ERROR,
                    f"{image} is not in the registry (tag or digest never pushed, or no such repository); tasks "
                    "would stop with CannotPullContainerError. Push it, or fix --image",
                    path,
                )
            ]
        return [
            self.finding(IMAGE_MISSING, INFO, f"{image} exists", path),
            self.architecture(path, image, images[0], match["region"]),
        ]

    def architecture(self, path: Path, image: str, found: Mapping[str, Any], region: str) -> Finding:
        task = task_architecture(self.taskdef)
        offered = index_architectures(found.get("imageManifest"))
        if offered is None:
            offered = self.configured_architecture(found, region)
        if offered is None:
            return self.finding(
                IMAGE_ARCHITECTURE,
                WARNING,
                f"could not check the architecture of {image}: the registry holds a single-platform manifest, whose "
                "architecture is in the image's configuration, which could not be downloaded "
                "(ecr:GetDownloadUrlForLayer); check it with --image-arch or `docker image inspect`",
                path,
            )
        if task not in offered:
            listed = ", ".join(sorted(offered)) or "none"
            return self.finding(
                IMAGE_ARCHITECTURE,
                ERROR,
                f"{image} is built for {listed} but the task runs on {task} (runtimePlatform.cpuArchitecture); its "
                "tasks would fail with `exec format error`. Build the image for that platform, or change "
                "runtimePlatform",
                path,
            )
        return self.finding(IMAGE_ARCHITECTURE, INFO, f"{image} offers {task}", path)

    def configured_architecture(self, found: Mapping[str, Any], region: str) -> set[str] | None:
        """A single-platform image's architecture, from its configuration blob (ECR hands out a URL for it)."""
        try:
            config = json.loads(str(found.get("imageManifest")))["config"]["digest"]
        except (ValueError, KeyError, TypeError):
            return None
        answer = self.ask(
            "ecr",
            "get_download_url_for_layer",
            "ecr:GetDownloadUrlForLayer",
            resource_region=region,
            registryId=found.get("registryId"),
            repositoryName=found.get("repositoryName"),
            layerDigest=config,
        )
        url = answer.body.get("downloadUrl") if answer.status == "ok" and isinstance(answer.body, dict) else None
        body = self.aws.download(url) if isinstance(url, str) else None
        try:
            architecture = normalise(str(json.loads(body or b"")["architecture"]))
        except (ValueError, KeyError, TypeError):
            return None
        return {architecture} if architecture else None

    # Volumes and FireLens ------------------------------------------------------------------------

    def efs_job(self, path: Path, volume: Mapping[str, Any]) -> Callable[[], list[Finding]]:
        return lambda: self.efs(path, volume)

    def efs(self, path: Path, volume: Mapping[str, Any]) -> list[Finding]:
        findings: list[Finding] = []
        questions = [("describe_file_systems", "FileSystemId", volume.get("fileSystemId"), "the EFS file system")]
        access_point = (volume.get("authorizationConfig") or {}).get("accessPointId")
        if access_point:
            questions.append(("describe_access_points", "AccessPointId", access_point, "the EFS access point"))
        for operation, parameter, identifier, label in questions:
            if not isinstance(identifier, str):
                continue
            what = f"{label} {identifier}"
            permission = "elasticfilesystem:" + "".join(part.capitalize() for part in operation.split("_"))
            answer = self.ask("efs", operation, permission, **{parameter: identifier})
            findings.append(
                self.answered(answer, EFS_MISSING, path, what)
                or (
                    self.finding(EFS_MISSING, ERROR, f"{what} does not exist; create it or fix the volume", path)
                    if answer.status == "missing"
                    else self.finding(EFS_MISSING, INFO, f"{what} exists", path)
                )
            )
        return findings

    def firelens_job(self, path: Path, location: str) -> Callable[[], list[Finding]]:
        return lambda: [self.firelens(path, location)]

    def firelens(self, path: Path, location: str) -> Finding:
        bucket, _, key = location.removeprefix("arn:aws:s3:::").partition("/")
        what = f"the FireLens configuration file {location}"
        answer = self.ask("s3", "head_object", "s3:GetObject", Bucket=bucket, Key=key)
        unanswered = self.answered(answer, FIRELENS_CONFIG_MISSING, path, what)
        if unanswered:
            return unanswered
        if answer.status == "missing":
            return self.finding(
                FIRELENS_CONFIG_MISSING, ERROR, f"{what} does not exist; upload it or fix config-file-value", path
            )
        return self.finding(FIRELENS_CONFIG_MISSING, INFO, f"{what} exists", path)

    # Load balancer targets -----------------------------------------------------------------------

    def service_targets(self, cluster: str, service: str) -> list[Finding]:
        from .appspec import missing_target

        what = f"the load balancers of service {cluster}/{service}"
        answer = self.ask("ecs", "describe_services", "ecs:DescribeServices", cluster=cluster, services=[service])
        unanswered = self.answered(answer, LOAD_BALANCER_TARGET, (), what)
        if unanswered:
            return [unanswered]
        findings: list[Finding] = []
        services = answer.body.get("services", []) if answer.status == "ok" else []
        for balancer in (services[0].get("loadBalancers") or []) if services else []:
            name, port = balancer.get("containerName"), balancer.get("containerPort")
            path: Path = ("containerDefinitions", Item(str(name)), "portMappings")
            problem = missing_target(self.containers(), str(name), port, f"service {cluster}/{service}'s load balancer")
            if problem:
                message = f"{problem}; the deployment would fail. Add the port mapping, or change the service"
                findings.append(self.finding(LOAD_BALANCER_TARGET, ERROR, message, path))
            else:
                message = f"service {cluster}/{service}'s load balancer targets {name}:{port}, which the task maps"
                findings.append(self.finding(LOAD_BALANCER_TARGET, INFO, message, path))
            if isinstance(balancer.get("targetGroupArn"), str):
                findings.append(self.target_group(balancer["targetGroupArn"], path))
        return findings

    def target_group(self, arn: str, path: Path) -> Finding:
        what = f"the target group {arn}"
        answer = self.ask(
            "elbv2", "describe_target_groups", "elasticloadbalancing:DescribeTargetGroups", TargetGroupArns=[arn]
        )
        unanswered = self.answered(answer, LOAD_BALANCER_TARGET, path, what)
        if unanswered:
            return unanswered
        if answer.status == "missing" or not answer.body.get("TargetGroups"):
            return self.finding(LOAD_BALANCER_TARGET, ERROR, f"{what} does not exist; fix the service", path)
        return self.finding(LOAD_BALANCER_TARGET, INFO, f"{what} exists", path)

    def appspec_target(self, settings: Mapping[str, Any]) -> list[Finding]:
        from .appspec import target_container

        target = target_container(self.taskdef, settings)
        if isinstance(target, Finding):
            return [target._replace(rule=LOAD_BALANCER_TARGET)]
        name, port = target
        return [
            self.finding(LOAD_BALANCER_TARGET, INFO, f"the appspec's load balancer targets {name}:{port}", ("appspec",))
        ]

    def containers(self) -> list[dict[str, Any]]:
        return [c for c in self.taskdef.get("containerDefinitions") or [] if isinstance(c, dict)]


def trusts_ecs_tasks(document: Any) -> bool:
    """Whether a trust policy lets ECS tasks assume the role (IAM sends URL-encoded JSON; botocore decodes it)."""
    if isinstance(document, str):
        try:
            document = json.loads(urllib.parse.unquote(document))
        except ValueError:
            return False
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        services = _as_list(
            (statement.get("Principal") or {}).get("Service") if isinstance(statement.get("Principal"), dict) else None
        )
        if ECS_TASKS in services and any(action in ("sts:AssumeRole", "sts:*", "*") for action in actions):
            return True
    return False


def index_architectures(manifest: Any) -> set[str] | None:
    """The architectures an image index offers (attestations, platform unknown, left out); None for one manifest."""
    try:
        document = json.loads(manifest) if isinstance(manifest, str) else None
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("manifests"), list):
        return None
    offered: set[str] = set()
    for entry in document["manifests"]:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if isinstance(platform, dict) and platform.get("os") != "unknown":
            architecture = normalise(str(platform.get("architecture", "")))
            if architecture:
                offered.add(architecture)
    return offered


def secret_references(taskdef: Mapping[str, Any]) -> list[Reference]:
    """Every secret and parameter the task reads: container secrets, log secretOptions, registry credentials."""
    found: list[Reference] = []
    for container in taskdef.get("containerDefinitions") or []:
        name = Item(str(container.get("name")))
        for secret in container.get("secrets") or []:
            found.append(
                Reference(
                    str(secret.get("valueFrom")),
                    ("containerDefinitions", name, "secrets", Item(str(secret.get("name"))), "valueFrom"),
                )
            )
        for secret in (container.get("logConfiguration") or {}).get("secretOptions") or []:
            path: Path = (
                "containerDefinitions",
                name,
                "logConfiguration",
                "secretOptions",
                Item(str(secret.get("name"))),
            )
            found.append(Reference(str(secret.get("valueFrom")), path))
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if isinstance(credentials, str):
            found.append(Reference(credentials, ("containerDefinitions", name, "repositoryCredentials")))
    return found


def _parse_reference(value_from: str, region: str, account: str) -> tuple[str, str, tuple[str, ...]]:
    """("secret" | "parameter", the resource ARN, its parts) for a valueFrom.

    Secrets Manager: ``arn:…:secret:name-AbCdEf[:json-key[:version-stage[:version-id]]]``;
    SSM: an ARN, or a name (the task's region and account). A hierarchical parameter's ARN drops the
    name's leading slash (``parameter/app/db`` is ``/app/db``).
    """
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        stage, version = (parts[8:9] or [""])[0], (parts[9:10] or [""])[0]
        secret_id = ":".join(parts[:7])
        return "secret", secret_id, (secret_id, parts[3], stage, version)
    if value_from.startswith("arn:") and len(parts) >= 6 and parts[2] == "ssm":
        resource = ":".join(parts[5:]).removeprefix("parameter")
        name = resource if resource.count("/") > 1 else resource.lstrip("/")
        return "parameter", value_from, (name, parts[3])
    arn_name = value_from.lstrip("/")
    return "parameter", f"arn:aws:ssm:{region}:{account}:parameter/{arn_name}", (value_from, region)


def awslogs_options(taskdef: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for container in taskdef.get("containerDefinitions") or []:
        logging = container.get("logConfiguration") or {}
        if logging.get("logDriver") == "awslogs":
            path: Path = ("containerDefinitions", Item(str(container.get("name"))), "logConfiguration", "options")
            yield path, logging.get("options") or {}


def _images(taskdef: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """Each distinct image once (the first container that runs it), placeholders left out."""
    seen: dict[str, Path] = {}
    for container in taskdef.get("containerDefinitions") or []:
        image = container.get("image")
        if isinstance(image, str) and not is_placeholder(image) and image not in seen:
            seen[image] = ("containerDefinitions", Item(str(container.get("name"))), "image")
    return [(path, image) for image, path in seen.items()]


def _efs_volumes(taskdef: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for volume in taskdef.get("volumes") or []:
        efs = volume.get("efsVolumeConfiguration")
        if isinstance(efs, dict):
            yield ("volumes", Item(str(volume.get("name"))), "efsVolumeConfiguration"), efs


def _firelens_files(taskdef: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    for container in taskdef.get("containerDefinitions") or []:
        options = (container.get("firelensConfiguration") or {}).get("options") or {}
        value = options.get("config-file-value")
        if options.get("config-file-type") == "s3" and isinstance(value, str):
            yield ("containerDefinitions", Item(str(container.get("name"))), "firelensConfiguration", "options"), value


def _as_list(value: Any) -> Sequence[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
