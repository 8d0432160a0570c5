"""Volume rules: EFS access points and encryption in transit, Docker volume scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..keyed import Item, Path
from .context import RuleContext
from .examples import example_base
from .registry import Problem, bad, good, rule

EFS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSVolumeConfiguration.html"


def _volumes(ctx: RuleContext, kind: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(path to the configuration, configuration) for each volume with a ``kind`` configuration."""
    for volume in ctx.taskdef.get("volumes") or []:
        config = volume.get(kind) if isinstance(volume, dict) else None
        if isinstance(config, dict):
            yield ("volumes", Item(str(volume.get("name"))), kind), config


def _authorization(config: dict[str, Any]) -> dict[str, Any]:
    authorization = config.get("authorizationConfig")
    return authorization if isinstance(authorization, dict) else {}


@rule(
    "efs-access-point-root",
    summary="an EFS volume with an access point leaves `rootDirectory` out or sets it to `/` (the access point "
    "sets the path)",
    source=EFS_DOC,
    ecs_error='When using an EFS access point, the root directory must either be set to "/" or be omitted',
    note="ECS's text as quoted in aws/aws-cdk#10683 (Create TaskDefinition)",
    offline=True,
    examples=[
        bad(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, rootDirectory: /data, "
            "transitEncryption: ENABLED, authorizationConfig: {accessPointId: fsap-0123456789abcdef0}}}}\n",
            path="volumes[shared].efsVolumeConfiguration.rootDirectory",
        ),
        good(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, rootDirectory: /, "
            "transitEncryption: ENABLED, authorizationConfig: {accessPointId: fsap-0123456789abcdef0}}}}\n"
        ),
        good(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, rootDirectory: /data}}}\n"
        ),
    ],
)
def efs_access_point_root(ctx: RuleContext) -> Iterator[Problem]:
    for path, config in _volumes(ctx, "efsVolumeConfiguration"):
        root = config.get("rootDirectory")
        if _authorization(config).get("accessPointId") and root not in (None, "/"):
            yield Problem(
                (*path, "rootDirectory"),
                f'with an access point, rootDirectory must be left out or "/", not {json.dumps(root)}; '
                "set the directory on the access point instead",
            )


@rule(
    "efs-transit-encryption",
    summary="an EFS volume with an access point or IAM authorization (`authorizationConfig.iam: ENABLED`) has "
    "`transitEncryption: ENABLED`",
    source=EFS_DOC,
    note="The task definition reference: 'If an access point is used, transit encryption must be enabled in the "
    "EFSVolumeConfiguration' and 'Transit encryption must be enabled if Amazon EFS IAM authorization is used'; "
    "transitEncryption defaults to DISABLED",
    offline=True,
    examples=[
        bad(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, "
            "authorizationConfig: {accessPointId: fsap-0123456789abcdef0}}}}\n",
            path="volumes[shared].efsVolumeConfiguration.transitEncryption",
        ),
        bad(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, transitEncryption: "
            "DISABLED, authorizationConfig: {iam: ENABLED}}}}\n",
            path="volumes[shared].efsVolumeConfiguration.transitEncryption",
        ),
        good(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, transitEncryption: "
            "ENABLED, authorizationConfig: {accessPointId: fsap-0123456789abcdef0, iam: ENABLED}}}}\n"
        ),
        good(
            "volumes: {shared: {efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0, "
            "authorizationConfig: {iam: DISABLED}}}}\n"
        ),
    ],
)
def efs_transit_encryption(ctx: RuleContext) -> Iterator[Problem]:
    for path, config in _volumes(ctx, "efsVolumeConfiguration"):
        if config.get("transitEncryption") == "ENABLED" or ctx.partial and "transitEncryption" not in config:
            continue  # on layers alone an unset transitEncryption may come from the base
        authorization = _authorization(config)
        needs = [
            reason
            for reason, used in (
                ("an access point", bool(authorization.get("accessPointId"))),
                ("IAM authorization", authorization.get("iam") == "ENABLED"),
            )
            if used
        ]
        if needs:
            yield Problem(
                (*path, "transitEncryption"),
                f"an EFS volume with {' and '.join(needs)} needs encryption in transit; set "
                "`transitEncryption: ENABLED`",
            )


@rule(
    "docker-volume-autoprovision",
    summary="a Docker volume with `scope: task` leaves `autoprovision` out or `false` (it only applies to "
    "`shared` volumes)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DockerVolumeConfiguration.html",
    note="The API reference: 'If the scope is task then this parameter must either be omitted or set to false'",
    offline=True,
    examples=[
        bad(
            "volumes: {cache: {dockerVolumeConfiguration: {scope: task, autoprovision: true, driver: local}}}\n",
            base="ec2",
            path="volumes[cache].dockerVolumeConfiguration.autoprovision",
        ),
        good(
            "volumes: {cache: {dockerVolumeConfiguration: {scope: shared, autoprovision: true, driver: local}}}\n",
            base="ec2",
        ),
    ],
)
def docker_volume_autoprovision(ctx: RuleContext) -> Iterator[Problem]:
    for path, config in _volumes(ctx, "dockerVolumeConfiguration"):
        if config.get("scope") == "task" and config.get("autoprovision") is True:
            yield Problem(
                (*path, "autoprovision"),
                "autoprovision applies only to `scope: shared` volumes; remove it, or set `scope: shared`",
            )


VOLUME_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Volume.html"
_VOLUME_KINDS = ("dockerVolumeConfiguration", "efsVolumeConfiguration", "fsxWindowsFileServerVolumeConfiguration")


def _volume_kinds(volume: dict[str, Any]) -> list[str]:
    """The kinds of storage a volume asks for. An empty `host: {}` is not counted: it asks for nothing
    beyond ECS's default (task storage), and no ECS error text shows it refused beside another kind."""
    kinds = [kind for kind in _VOLUME_KINDS if volume.get(kind)]
    if volume.get("configuredAtLaunch") is True:
        kinds.append("configuredAtLaunch")
    host = volume.get("host")
    if isinstance(host, dict) and host.get("sourcePath"):
        kinds.append("host.sourcePath")
    return kinds


@rule(
    "volume-kind",
    summary="each volume is one kind of storage (a host path, a Docker volume, EFS, FSx for Windows File Server, "
    "or configured at launch), and at most one volume is `configuredAtLaunch`",
    source=VOLUME_DOC,
    note="The API reference: 'Each volume defined in the volume configuration may only specify a name and one of "
    "either configuredAtLaunch, dockerVolumeConfiguration, efsVolumeConfiguration, "
    "fsxWindowsFileServerVolumeConfiguration, or host' and 'Each task definition revision may only have one "
    "volume configured at launch'. Two kinds typically meet when an overlay adds one to a base volume of the "
    "same name, which the keyed merge combines",
    offline=True,
    examples=[
        bad(
            "volumes: {cache: {dockerVolumeConfiguration: {scope: task, driver: local}, "
            "efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0}}}\n",
            base="ec2",
            path="volumes[cache]",
        ),
        bad("volumes: {a: {configuredAtLaunch: true}, b: {configuredAtLaunch: true}}\n", path="volumes[b]"),
        good("volumes: {a: {configuredAtLaunch: true}, b: {host: {}}}\n"),
        good("volumes: {shared: {host: {}, efsVolumeConfiguration: {fileSystemId: fs-0123456789abcdef0}}}\n"),
    ],
)
def volume_kind(ctx: RuleContext) -> Iterator[Problem]:
    at_launch = 0
    for volume in ctx.taskdef.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        path: Path = ("volumes", Item(str(volume.get("name"))))
        kinds = _volume_kinds(volume)
        if len(kinds) > 1:
            yield Problem(
                path,
                f"a volume is one kind of storage, this one sets {' and '.join(kinds)}; keep one, or split it "
                "into two volumes",
            )
        if volume.get("configuredAtLaunch") is True:
            at_launch += 1
            if at_launch == 2:
                yield Problem(path, "only one volume per task definition can be configuredAtLaunch")


@rule(
    "volume-name-required",
    summary="an EFS (or S3 Files) volume, or one configured at launch, has a `name`",
    source=VOLUME_DOC,
    note="The API reference requires the name for efsVolumeConfiguration, s3filesVolumeConfiguration and "
    "configuredAtLaunch volumes; it says nothing of the kind for FSx for Windows File Server, so an unnamed FSx "
    "volume is not flagged.",
    examples=[
        bad(
            taskdef={
                **example_base("fargate"),
                "volumes": [{"efsVolumeConfiguration": {"fileSystemId": "fs-0123456789abcdef0"}}],
            },
            path="volumes[0]",
        ),
        good(
            taskdef={
                **example_base("fargate"),
                "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-0123456789abcdef0"}}],
            },
        ),
    ],
)
def volume_name_required(ctx: RuleContext) -> Iterator[Problem]:
    for index, volume in enumerate(ctx.taskdef.get("volumes") or []):
        if not isinstance(volume, dict) or volume.get("name"):
            continue
        kinds = [kind for kind in _NAMED_KINDS if volume.get(kind)]
        if kinds:
            yield Problem(("volumes", index), f"a volume with {kinds[0]} needs a name")


_NAMED_KINDS = ("efsVolumeConfiguration", "s3filesVolumeConfiguration", "configuredAtLaunch")


@rule(
    "windows-docker-volume-driver",
    summary="Windows containers use Docker volumes with the `local` driver only",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DockerVolumeConfiguration.html",
    examples=[
        bad(
            "requiresCompatibilities: [EC2]\nvolumes: {data: {dockerVolumeConfiguration: {scope: task, "
            "driver: rexray/ebs}}}\n",
            base="windows",
            path="volumes[data].dockerVolumeConfiguration.driver",
        ),
        good(
            "requiresCompatibilities: [EC2]\n"
            "volumes: {data: {dockerVolumeConfiguration: {scope: task, driver: local}}}\n",
            base="windows",
        ),
        good("volumes: {data: {dockerVolumeConfiguration: {scope: task, driver: rexray/ebs}}}\n", base="ec2"),
    ],
)
def windows_docker_volume_driver(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.is_windows:
        return
    for path, config in _volumes(ctx, "dockerVolumeConfiguration"):
        driver = config.get("driver")
        if driver is not None and driver != "local":
            yield Problem(
                (*path, "driver"), f"Windows containers support only the local Docker volume driver, not {driver}"
            )
