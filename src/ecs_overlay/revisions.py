"""Revision hygiene: a family's revisions, which of them to deregister (`deregister --keep N`), and the
revision a service goes back to (`rollback`).

ECS keeps every revision ACTIVE until it is deregistered; a family deployed from CI grows by one per
build. Deregistering is safe only for revisions nothing runs, so the revisions the environment's
services run are never among those chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import AwsError, UsageError

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace

_LIST_PERMISSION = "ecs:ListTaskDefinitions"


def family_and_revision(arn: str) -> tuple[str, int]:
    """``arn:…:task-definition/checkout-api-prod:7`` (or ``checkout-api-prod:7``) → ("checkout-api-prod", 7)."""
    name = arn.rsplit("/", 1)[-1]
    family, _, revision = name.rpartition(":")
    if not family or not revision.isdigit():
        raise AwsError(f"'{arn}' is not a task definition revision (family:revision); check AWS_ENDPOINT_URL")
    return family, int(revision)


def family_revisions(aws: Ecs, family: str, place: AwsPlace, status: str = "ACTIVE") -> list[str]:
    """The ARNs of ``family``'s revisions in ``status``, newest first (exactly this family: ECS matches a prefix)."""
    found: list[str] = []
    token: str | None = None
    while True:
        page = aws.call(
            "ecs",
            "list_task_definitions",
            _LIST_PERMISSION,
            f"family '{family}'",
            region=place.region,
            role_arn=place.role_arn,
            familyPrefix=family,
            status=status,
            sort="DESC",
            **({"nextToken": token} if token else {}),
        )
        arns = page.get("taskDefinitionArns") or []
        found += [arn for arn in arns if isinstance(arn, str) and family_and_revision(arn)[0] == family]
        token = page.get("nextToken")
        if not token:
            break
    return sorted(found, key=lambda arn: family_and_revision(arn)[1], reverse=True)


@dataclass
class Pruning:
    """What `deregister --keep N` does to one family: the revisions kept, those in use, those deregistered."""

    family: str
    kept: list[str]
    in_use: list[str]
    deregistered: list[str]


def prune_plan(family: str, active: list[str], keep: int, running: Iterable[str]) -> Pruning:
    """Keep the newest ``keep`` revisions and every revision a service runs; deregister the rest."""
    used = set(running)
    kept = active[:keep]
    older = active[keep:]
    return Pruning(
        family,
        kept,
        [arn for arn in older if arn in used],
        [arn for arn in older if arn not in used],
    )


def deregister(aws: Ecs, arn: str, place: AwsPlace) -> None:
    aws.call(
        "ecs",
        "deregister_task_definition",
        "ecs:DeregisterTaskDefinition",
        f"task definition '{arn}'",
        region=place.region,
        role_arn=place.role_arn,
        taskDefinition=arn,
    )


def previous_revision(aws: Ecs, described: Mapping[str, Any], place: AwsPlace) -> str:
    """The revision a service goes back to: while a rollout runs, the one the older deployment still runs;
    else the newest ACTIVE revision of the running family older than the running one."""
    current = str(described.get("taskDefinition"))
    deployments = [d for d in described.get("deployments") or [] if isinstance(d, dict)]
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    current = str(primary.get("taskDefinition")) if primary else current
    older = [d.get("taskDefinition") for d in deployments if d is not primary and d.get("taskDefinition") != current]
    if older and isinstance(older[0], str):
        return older[0]
    family, revision = family_and_revision(current)
    for arn in family_revisions(aws, family, place):
        if family_and_revision(arn)[1] < revision:
            return arn
    raise UsageError(
        f"family {family} has no ACTIVE revision older than {family}:{revision} to go back to; name one with "
        "--to-revision N"
    )


def running_in_clusters(aws: Ecs, clusters: Iterable[str], place: AwsPlace) -> set[str]:
    """Every revision any deployment of any service in ``clusters`` runs (a rollout's old and new alike)."""
    running: set[str] = set()
    for cluster in sorted(set(clusters)):
        services: list[str] = []
        token: str | None = None
        while True:
            page = aws.call(
                "ecs", "list_services", "ecs:ListServices", f"cluster '{cluster}'", region=place.region,
                role_arn=place.role_arn, cluster=cluster, **({"nextToken": token} if token else {}),
            )  # fmt: skip
            services += [arn for arn in page.get("serviceArns") or [] if isinstance(arn, str)]
            token = page.get("nextToken")
            if not token:
                break
        for start in range(0, len(services), 10):  # DescribeServices takes at most 10
            described = aws.call(
                "ecs", "describe_services", "ecs:DescribeServices", f"cluster '{cluster}'", region=place.region,
                role_arn=place.role_arn, cluster=cluster, services=services[start : start + 10],
            )  # fmt: skip
            for found in described.get("services") or []:
                if not isinstance(found, dict):
                    continue
                running.add(str(found.get("taskDefinition")))
                running.update(
                    str(d.get("taskDefinition")) for d in found.get("deployments") or [] if isinstance(d, dict)
                )
    return running
