"""verify: what a rendered task definition points at (roles, secrets, logs, images, volumes, targets), looked up.

Every question is read-only and asked through the run's one AWS connection (``aws.Ecs``); the
answers become findings: info when the thing is there as it should be, error when it is not (the
task would fail to start), warning when it could not be checked (a permission the caller lacks,
an operation the endpoint does not offer). Questions run concurrently, a few at a time.

A thing is asked about where its ARN puts it: in its region, and in its account. Another account is
reached only through a role the environment names for it (``verify: roles: {ACCOUNT: ROLE_ARN}``);
without one the thing is "could not check", never looked up in this account under the same name.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from .cpu_architecture import normalise, task_architecture
from .errors import AwsError
from .findings import ERROR, INFO, WARNING, Finding, RuleId, Severity
from .images import is_placeholder
from .keyed import Item, Path, format_path
from .provenance import Origin, Provenance
from .rules.verify import (
    BLUE_GREEN_LISTENER_RULE,
    BLUE_GREEN_ROLE,
    BLUE_GREEN_TARGET_GROUP,
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
    SECRET_DELETED,
    SECRET_JSON_KEY,
    SECRET_MISSING,
)

if TYPE_CHECKING:
    from .aws import Answer, Ecs
    from .base import AwsPlace

# Bounded: a few questions in flight at once, gentle on AWS's per-account request rates.
MAX_CONCURRENT = 6
ECS_TASKS = "ecs-tasks.amazonaws.com"
ECS_INFRASTRUCTURE = "ecs.amazonaws.com"  # the principal of a blue/green load balancer's infrastructure role
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


class Unreached(NamedTuple):
    """Why a thing in another account cannot be asked about."""

    reason: str


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
    settings: Mapping[str, Any] | None = None,
    roles: Mapping[str, str] | None = None,
    written_at: Mapping[Path, Origin] | None = None,
) -> list[Finding]:
    """Every check's findings, in a stable order (the order the checks are listed, not finished).

    ``settings``: the environment's ``service:`` section (its load balancers' blue/green resources are
    checked); ``roles``: the role to assume in each other account (``verify: roles:``); ``written_at``: where
    each value of those sections is written.
    """
    checks = Checks(aws, place, taskdef, provenance, roles, written_at)
    written = (settings or {}).get("loadBalancers")
    jobs: list[Callable[[], list[Finding]]] = [
        checks.roles,
        *(checks.reference_job(reference) for reference in secret_references(taskdef)),
        *(checks.log_group_job(path, options) for path, options in awslogs_options(taskdef)),
        *(checks.image_job(path, image) for path, image in _images(taskdef)),
        *(checks.efs_job(path, volume) for path, volume in _efs_volumes(taskdef)),
        *(checks.firelens_job(path, location) for path, location in _firelens_files(taskdef)),
    ]
    if isinstance(written, list):
        jobs.append(lambda: checks.blue_green(written, "the service: section's"))
    if service is not None:
        jobs.append(lambda: checks.service_targets(*service, blue_green=not isinstance(written, list)))
    if appspec is not None:
        jobs.append(lambda: checks.appspec_target(appspec))
    with ThreadPoolExecutor(max_workers=MAX_CONCURRENT, thread_name_prefix="ecs-overlay-verify") as pool:
        results = list(pool.map(lambda job: job(), jobs))
    return [finding for findings in results for finding in findings]


class Checks:
    """The checks of one task definition, each a list of findings."""

    def __init__(
        self,
        aws: Ecs,
        place: AwsPlace,
        taskdef: Mapping[str, Any],
        provenance: Provenance,
        roles: Mapping[str, str] | None = None,
        written_at: Mapping[Path, Origin] | None = None,
    ) -> None:
        self.aws = aws
        self.written_at = dict(written_at or {})
        self.place = place
        self.taskdef = taskdef
        self.provenance = provenance
        self.account_roles = dict(roles or {})
        self._home: tuple[str | None, str] | None = None
        self._home_lock = threading.Lock()
        self._reached: dict[str, str | Unreached] = {}  # other accounts: the role assumed there, or why none
        self._reaching = threading.Lock()

    def ask(
        self, service: str, operation: str, permission: str, *, account: str | None = None, **params: Any
    ) -> Answer:
        """A question asked in the environment's region and account (its ``base:`` region and role), or, for
        a thing in another ``account``, there as the role ``verify: roles:`` names for it (no answer without)."""
        from .aws import Answer  # botocore loads with the run's AWS connection, never before

        role = self.role_for(account)
        if isinstance(role, Unreached):
            return Answer("unanswered", reason=role.reason)
        return self.aws.ask(service, operation, permission, region=self.place.region, role_arn=role, **params)

    def role_for(self, account: str | None) -> str | None | Unreached:
        """The role to ask as about a thing in ``account`` (None: the standard credentials), or why none."""
        if not account:
            return self.place.role_arn
        home, why = self.home_account()
        if home is None:
            return Unreached(f"it is in account {account}, and {why}")
        if account == home:
            return self.place.role_arn
        role = self.account_roles.get(account)
        if role is None:
            return Unreached(
                f"it is in account {account}, not this environment's ({home}); to check it there, name a role "
                f"to assume in that account under `verify: roles:` ({account}: <role ARN>)"
            )
        named = f"the role `verify: roles:` names for account {account}"
        if arn_account(role) != account:
            return Unreached(f"{named}, {role}, is in another account")
        with self._reaching:  # assumed once, by one thread: a refusal is said for every thing there
            if account not in self._reached:
                try:
                    self.aws.client("sts", self.place.region, role)  # assumes the role
                    self._reached[account] = role
                except AwsError as error:
                    if not error.message.startswith(f"cannot assume role {role} "):
                        raise
                    why = error.message.partition("): ")[2] or error.message
                    self._reached[account] = Unreached(f"cannot assume {role}, {named}: {why}")
            return self._reached[account]

    def home_account(self) -> tuple[str | None, str]:
        """The environment's account (its ``base.roleArn``'s, else the caller's), asked once; or why it is unknown."""
        with self._home_lock:
            if self._home is None:
                if self.place.role_arn:
                    self._home = (
                        arn_account(self.place.role_arn),
                        "this environment's account is unknown (its base.roleArn names none)",
                    )
                else:
                    answer = self.aws.ask(
                        "sts", "get_caller_identity", "sts:GetCallerIdentity", region=self.place.region
                    )
                    account = answer.body.get("Account") if answer.status == "ok" else None
                    self._home = (
                        (str(account), "")
                        if isinstance(account, str)
                        else (None, f"this environment's account is unknown (sts:GetCallerIdentity: {answer.reason})")
                    )
            return self._home

    def finding(self, rule: RuleId, severity: Severity, message: str, path: Path) -> Finding:
        origin = self.written_at.get(path) or self.provenance.locate(path)
        return Finding.at(origin, rule, message, format_path(path), severity)

    def answered(self, answer: Answer, rule: RuleId, path: Path, what: str) -> Finding | None:
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
            name = value.rsplit("/", 1)[-1]
            role_findings, role = self.role(
                value, f"the {label} '{name}'", (field,), ECS_TASKS, ROLE_MISSING, ROLE_TRUST
            )
            findings.extend(role_findings)
            if field == "executionRoleArn" and role is not None and isinstance(role.get("Arn"), str):
                findings.extend(self.permissions(role["Arn"], name))
        return findings

    def role(
        self, arn: str, what: str, path: Path, principal: str, missing_rule: RuleId, trust_rule: RuleId
    ) -> tuple[list[Finding], dict[str, Any] | None]:
        """Whether the role ``arn`` exists (in its own account) and trusts ``principal``; the role when found."""
        account = arn_account(arn)
        answer = self.ask("iam", "get_role", "iam:GetRole", account=account, RoleName=arn.rsplit("/", 1)[-1])
        unanswered = self.answered(answer, missing_rule, path, what)
        if unanswered:
            return [unanswered], None
        if answer.status == "missing":
            where = f"account {account}" if account and account != self.home_account()[0] else "this account"
            message = (
                f"{what} does not exist in {where}; "
                + ("tasks would not start" if principal == ECS_TASKS else "ECS cannot shift traffic")
                + f". Create it (trusting {principal}) or fix {format_path(path)}"
            )
            return [self.finding(missing_rule, ERROR, message, path)], None
        role: dict[str, Any] = answer.body.get("Role", {}) if isinstance(answer.body, dict) else {}
        if not trusts(role.get("AssumeRolePolicyDocument"), principal):
            message = (
                f"{what} exists but does not trust {principal} (its trust policy has no Allow of "
                f"sts:AssumeRole for that service); ECS cannot assume it. Add {principal} to its trust policy"
            )
            return [self.finding(trust_rule, ERROR, message, path)], role
        return [self.finding(trust_rule, INFO, f"{what} exists and trusts {principal}", path)], role

    def permissions(self, role_arn: str, name: str) -> list[Finding]:
        """What IAM's policy simulator says of the execution role's grants; one warning when it cannot say."""
        findings: list[Finding] = []
        for grant in self.grants(role_arn.split(":")[4]):
            answer = self.ask(
                "iam",
                "simulate_principal_policy",
                "iam:SimulatePrincipalPolicy",
                account=arn_account(role_arn),
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
        return lambda: self.reference(reference)

    def reference(self, reference: Reference) -> list[Finding]:
        region = self.aws.region(self.place.region) or ""
        kind, _, parts = _parse_reference(reference.value_from, region, "")
        if kind == "secret":
            return self.secret(reference, parts)
        name, parameter_region = parts
        return [self.parameter(reference, name, parameter_region, region)]

    def parameter(self, reference: Reference, name: str, parameter_region: str, region: str) -> Finding:
        what = f"the SSM parameter '{name}'"
        answer = self.ask(
            "ssm",
            "describe_parameters",
            "ssm:DescribeParameters",
            account=arn_account(reference.value_from),
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

    def secret(self, reference: Reference, parts: tuple[str, ...]) -> list[Finding]:
        secret_id, secret_region, stage, version, key = parts
        what = f"the secret {secret_id}"
        where = {"account": arn_account(secret_id), "resource_region": secret_region or None}
        answer = self.ask(
            "secretsmanager", "describe_secret", "secretsmanager:DescribeSecret", **where, SecretId=secret_id
        )
        unanswered = self.answered(answer, SECRET_MISSING, reference.path, what)
        if unanswered:
            return [unanswered]
        if answer.status == "missing":
            message = (
                f"{what} does not exist; tasks would stop with ResourceInitializationError (unable to pull "
                "secrets). Create it or fix the reference"
            )
            return [self.finding(SECRET_MISSING, ERROR, message, reference.path)]
        if answer.body.get("DeletedDate"):
            message = (
                f"{what} is scheduled for deletion; Secrets Manager refuses to hand out its value, so tasks would "
                "stop with ResourceInitializationError. Restore it (aws secretsmanager restore-secret) or fix the "
                "reference"
            )
            return [self.finding(SECRET_DELETED, ERROR, message, reference.path)]
        versions: dict[str, list[str]] = answer.body.get("VersionIdsToStages") or {}
        if version and version not in versions:
            message = f"{what} has no version {version}; fix the reference"
            return [self.finding(SECRET_MISSING, ERROR, message, reference.path)]
        if stage and not any(stage in stages for stages in versions.values()):
            message = f"{what} has no version labelled {stage}; fix the reference"
            return [self.finding(SECRET_MISSING, ERROR, message, reference.path)]
        found = [self.finding(SECRET_MISSING, INFO, f"{what} exists", reference.path)]
        if key:
            version_ids = {"VersionStage": stage} if stage else {}
            version_ids |= {"VersionId": version} if version else {}
            found.append(self.json_key(reference.path, what, key, where, SecretId=secret_id, **version_ids))
        return found

    def json_key(self, path: Path, what: str, key: str, where: Mapping[str, Any], **params: Any) -> Finding:
        """Whether the secret's value is a JSON object with ``key``: read, never shown (nor kept)."""
        permission = "secretsmanager:GetSecretValue (and kms:Decrypt on the secret's key)"
        answer = self.ask("secretsmanager", "get_secret_value", permission, **where, **params)
        what = f"the JSON key '{key}' of {what}"
        unanswered = self.answered(answer, SECRET_JSON_KEY, path, what)
        if unanswered:
            return unanswered
        text = answer.body.get("SecretString") if answer.status == "ok" else None
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            message = (
                f"{what}: the value is not a JSON object, so ECS cannot take a key from it (tasks would stop with "
                "ResourceInitializationError); store a JSON object, or drop the key from the reference"
            )
        elif key not in value:
            message = (
                f"{what} is absent from its value; tasks would stop with ResourceInitializationError unless "
                "the key is added before they start. Add it, or fix the reference"
            )
        else:
            return self.finding(SECRET_JSON_KEY, INFO, f"{what} is present", path)
        return self.finding(SECRET_JSON_KEY, WARNING, message, path)

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
            account=match["registry"],
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
            account=str(found.get("registryId") or "") or None,
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

    def service_targets(self, cluster: str, service: str, blue_green: bool = True) -> list[Finding]:
        """The live service's load balancers (and, unless the ``service:`` section writes its own, their
        blue/green resources)."""
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
        if blue_green and services:
            findings.extend(self.blue_green(services[0].get("loadBalancers") or [], f"service {cluster}/{service}'s"))
        return findings

    def target_group(self, arn: str, path: Path) -> Finding:
        what = f"the target group {arn}"
        answer = self.describe_target_group(arn)
        unanswered = self.answered(answer, LOAD_BALANCER_TARGET, path, what)
        if unanswered:
            return unanswered
        if answer.status == "missing" or not answer.body.get("TargetGroups"):
            return self.finding(LOAD_BALANCER_TARGET, ERROR, f"{what} does not exist; fix the service", path)
        return self.finding(LOAD_BALANCER_TARGET, INFO, f"{what} exists", path)

    def describe_target_group(self, arn: str) -> Answer:
        """DescribeTargetGroups where the ARN puts the group (its region and account)."""
        return self.ask(
            "elbv2",
            "describe_target_groups",
            "elasticloadbalancing:DescribeTargetGroups",
            account=arn_account(arn),
            resource_region=arn_region(arn),
            TargetGroupArns=[arn],
        )

    # Blue/green ----------------------------------------------------------------------------------

    def blue_green(self, balancers: Sequence[Any], whose: str) -> list[Finding]:
        """The resources ECS's own blue/green deployments use (each load balancer's advancedConfiguration)."""
        findings: list[Finding] = []
        for index, balancer in enumerate(balancers):
            advanced = balancer.get("advancedConfiguration") if isinstance(balancer, dict) else None
            if not isinstance(advanced, dict):
                continue
            where: Path = ("service", "loadBalancers", index, "advancedConfiguration")
            primary, alternate = balancer.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")
            groups = {arn for arn in (primary, alternate) if isinstance(arn, str)}  # what the rules should forward to
            if isinstance(alternate, str):
                findings.append(
                    self.alternate_target_group(alternate, primary if isinstance(primary, str) else None, whose, where)
                )
            production, test = advanced.get("productionListenerRule"), advanced.get("testListenerRule")
            if isinstance(production, str) and production == test:
                message = (
                    f"{whose} load balancer names {production} as both its production and its test listener rule; "
                    'ECS refuses that ("The following rules cannot be used as both production and test listener '
                    'rules"). Give the test traffic a rule of its own'
                )
                findings.append(self.finding(BLUE_GREEN_LISTENER_RULE, ERROR, message, (*where, "testListenerRule")))
            for field, label in (("productionListenerRule", "production"), ("testListenerRule", "test")):
                arn = advanced.get(field)
                if isinstance(arn, str) and not (field == "testListenerRule" and arn == production):
                    findings.append(self.listener_rule(arn, field, f"the {label} listener rule {arn}", groups, where))
            role = advanced.get("roleArn")
            if isinstance(role, str):
                what = f"the infrastructure role '{role.rsplit('/', 1)[-1]}' of {whose} blue/green load balancer"
                findings.extend(
                    self.role(role, what, (*where, "roleArn"), ECS_INFRASTRUCTURE, BLUE_GREEN_ROLE, BLUE_GREEN_ROLE)[0]
                )
        return findings

    def alternate_target_group(self, arn: str, primary: str | None, whose: str, where: Path) -> Finding:
        path: Path = (*where, "alternateTargetGroupArn")
        what = f"the alternate target group {arn}"
        answer = self.describe_target_group(arn)
        unanswered = self.answered(answer, BLUE_GREEN_TARGET_GROUP, path, what)
        if unanswered:
            return unanswered
        found = answer.body.get("TargetGroups") if answer.status == "ok" else None
        if not found:
            message = (
                f"{what} of {whose} load balancer does not exist; ECS cannot start a blue/green deployment. "
                "Create it (in the tasks' VPC) or fix alternateTargetGroupArn"
            )
            return self.finding(BLUE_GREEN_TARGET_GROUP, ERROR, message, path)
        vpc = found[0].get("VpcId")
        primary_answer = self.describe_target_group(primary) if primary else None
        primary_found = (
            primary_answer.body.get("TargetGroups") if primary_answer and primary_answer.status == "ok" else None
        )
        primary_vpc = primary_found[0].get("VpcId") if primary_found else None
        if isinstance(vpc, str) and isinstance(primary_vpc, str) and vpc != primary_vpc:
            message = (
                f"{what} is in {vpc} but the primary target group {primary} is in {primary_vpc}; both must be in the "
                f"tasks' VPC. Use an alternate target group in {primary_vpc}"
            )
            return self.finding(BLUE_GREEN_TARGET_GROUP, ERROR, message, path)
        same = f", in the primary target group's VPC {vpc}" if primary_vpc and vpc == primary_vpc else ""
        return self.finding(BLUE_GREEN_TARGET_GROUP, INFO, f"{what} exists{same}", path)

    def listener_rule(self, arn: str, field: str, what: str, groups: set[str], where: Path) -> Finding:
        """An ALB listener rule (or an NLB listener): it exists, and forwards to the service's target groups."""
        path: Path = (*where, field)
        if ":listener/app/" in arn:
            message = (
                f"{what} is an Application Load Balancer's listener, not a rule; ECS refuses it (\"{field} has an "
                "invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB\"). Give the listener rule's ARN"
            )
            return self.finding(BLUE_GREEN_LISTENER_RULE, ERROR, message, path)
        rule = ":listener-rule/" in arn
        operation, parameter, key, actions_key = (
            ("describe_rules", "RuleArns", "Rules", "Actions")
            if rule
            else ("describe_listeners", "ListenerArns", "Listeners", "DefaultActions")
        )
        permission = "elasticloadbalancing:" + ("DescribeRules" if rule else "DescribeListeners")
        answer = self.ask(
            "elbv2",
            operation,
            permission,
            account=arn_account(arn),
            resource_region=arn_region(arn),
            **{parameter: [arn]},
        )
        unanswered = self.answered(answer, BLUE_GREEN_LISTENER_RULE, path, what)
        if unanswered:
            return unanswered
        found = answer.body.get(key) if answer.status == "ok" else None
        if not found:
            message = f"{what} does not exist; ECS cannot shift traffic. Fix {field}"
            return self.finding(BLUE_GREEN_LISTENER_RULE, ERROR, message, path)
        forwarded = forwarded_target_groups(found[0].get(actions_key))
        if groups and not forwarded & groups:
            named = ", ".join(sorted(forwarded)) or "no target group"
            message = (
                f"{what} forwards to {named}, none of the service's target groups; ECS shifts traffic by changing "
                "their weights in this rule. Make its forward action name them"
            )
            return self.finding(BLUE_GREEN_LISTENER_RULE, WARNING, message, path)
        message = f"{what} exists and forwards to the service's target groups"
        return self.finding(BLUE_GREEN_LISTENER_RULE, INFO, message, path)

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
    """Whether a trust policy lets ECS tasks assume the role."""
    return trusts(document, ECS_TASKS)


def trusts(document: Any, principal: str) -> bool:
    """Whether a trust policy lets the service ``principal`` assume the role (IAM sends URL-encoded JSON;
    botocore decodes it)."""
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
        if principal in services and any(action in ("sts:AssumeRole", "sts:*", "*") for action in actions):
            return True
    return False


def forwarded_target_groups(actions: Any) -> set[str]:
    """The target groups a listener rule's (or listener's) forward actions name."""
    found: set[str] = set()
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict) or action.get("Type") != "forward":
            continue
        if isinstance(action.get("TargetGroupArn"), str):
            found.add(action["TargetGroupArn"])
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            if isinstance(group, dict) and isinstance(group.get("TargetGroupArn"), str):
                found.add(group["TargetGroupArn"])
    return found


def arn_account(arn: str) -> str | None:
    """The account an ARN names (None for ARNs without one, such as S3's)."""
    parts = arn.split(":")
    return parts[4] if arn.startswith("arn:") and len(parts) > 5 and parts[4] else None


def arn_region(arn: str) -> str | None:
    """The region an ARN names (None for global services' ARNs, such as IAM's)."""
    parts = arn.split(":")
    return parts[3] if arn.startswith("arn:") and len(parts) > 5 and parts[3] else None


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

    Secrets Manager: ``arn:…:secret:name-AbCdEf[:json-key[:version-stage[:version-id]]]``, its parts
    (id, region, stage, version, json key);
    SSM: an ARN, or a name (the task's region and account). A hierarchical parameter's ARN drops the
    name's leading slash (``parameter/app/db`` is ``/app/db``).
    """
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        key, stage, version = ((parts[index : index + 1] or [""])[0] for index in (7, 8, 9))
        secret_id = ":".join(parts[:7])
        return "secret", secret_id, (secret_id, parts[3], stage, version, key)
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
