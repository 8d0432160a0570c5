"""Cross-environment writes: which environment a family or a service belongs to, read from the
``ecs-overlay:environment`` tag its revisions carry, checked before register or deploy writes anything.

A stage build that registers into prod's family, or updates a service running prod's revision, is the
mistake that cannot be taken back by the next build: it is refused unless the run says, with
--allow-environment-change, that moving the family or service to another environment is the point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InvalidInputError

if TYPE_CHECKING:
    from .aws import Ecs
    from .base import AwsPlace

ALLOW_FLAG = "--allow-environment-change"

# The tag every rendered task definition carries, naming its environment. It is registered with the
# task definition (RegisterTaskDefinition's `tags`) and read back by describe's `include: TAGS`, so the
# next render knows which environment a base belongs to. Keys starting with `aws:` are reserved to AWS.
ENVIRONMENT_TAG = "ecs-overlay:environment"


def environment_tag(taskdef: dict[str, Any]) -> str | None:
    """The environment a task definition was rendered for (its ENVIRONMENT_TAG), if any."""
    for tag in taskdef.get("tags") or []:
        if isinstance(tag, dict) and tag.get("key") == ENVIRONMENT_TAG and isinstance(tag.get("value"), str):
            return str(tag["value"])
    return None


def check_family(
    aws: Ecs, family: str, environment: str, place: AwsPlace, allowed: bool, warn: Callable[[str], None]
) -> None:
    """Refuse registering ``environment``'s revision into a family whose latest revision is another's.

    Asked with DescribeTaskDefinition (which register's render needs anyway), not ListTaskDefinitions: a
    build role that may register and describe needs no new permission for the check.
    """
    described = aws.described_already(family, *place)  # the render's base: the family's latest revision
    if described is None:
        answer = aws.ask(
            "ecs", "describe_task_definition", "ecs:DescribeTaskDefinition", region=place.region,
            role_arn=place.role_arn, taskDefinition=family, include=["TAGS"],
        )  # fmt: skip
        if answer.status == "missing":
            return  # a new family: nobody's yet
        if answer.status != "ok" or not isinstance(answer.body, dict):
            warn(
                f"WARNING: could not check which environment family {family} belongs to ({answer.reason}); "
                "registering without that check"
            )
            return
        described = answer.body
    latest = (described.get("taskDefinition") or {}).get("taskDefinitionArn") or family
    owner = environment_tag({"tags": described.get("tags")})
    if owner is None or owner == environment:
        return
    what = f"registering environment '{environment}' into family {family}"
    fix = (
        f"Set {environment}'s `family:` to a family of its own (e.g. {family.removesuffix('-' + owner)}-{environment})"
    )
    _refuse_or_warn(what, f"its latest revision {latest}", owner, fix, allowed, warn)


def check_service(
    aws: Ecs,
    cluster: str,
    service: str,
    running: str,
    environment: str,
    place: AwsPlace,
    allowed: bool,
    warn: Callable[[str], None],
) -> None:
    """Refuse deploying ``environment`` onto a service whose running revision another environment rendered."""
    owner = _owner(aws, running, place)
    if owner is None or owner == environment:
        return
    what = f"deploying environment '{environment}' to service {cluster}/{service}"
    fix = f"Check --cluster/--service (and --env): {cluster}/{service} is {owner}'s service"
    _refuse_or_warn(what, f"the revision it runs, {running},", owner, fix, allowed, warn)


def check_revision(arn: str, tags: list[Any], environment: str, allowed: bool, warn: Callable[[str], None]) -> None:
    """Refuse deploying, as ``environment``'s, a registered revision another environment rendered (--revision)."""
    owner = environment_tag({"tags": tags})
    if owner is None or owner == environment:
        return
    what = f"deploying revision {arn} as environment '{environment}'"
    fix = f"Pass a revision rendered for {environment}"
    _refuse_or_warn(what, "it", owner, fix, allowed, warn)


def _owner(aws: Ecs, revision: str, place: AwsPlace) -> str | None:
    described = aws.describe_task_definition(revision, *place)
    return environment_tag({"tags": described.get("tags")})


def _refuse_or_warn(what: str, carrier: str, owner: str, fix: str, allowed: bool, warn: Callable[[str], None]) -> None:
    found = f"{what}, but {carrier} is tagged {ENVIRONMENT_TAG}={owner}"
    if allowed:
        warn(f"WARNING: {ALLOW_FLAG}: {found}; going ahead as asked, {owner}'s ownership ends here")
        return
    raise InvalidInputError(
        f"{found}: refusing a cross-environment write. {fix}; or, if moving it from {owner} is intended, "
        f"run again with {ALLOW_FLAG}. Nothing was registered or changed"
    )
