"""Log driver rules: the options each driver needs."""

from __future__ import annotations

from collections.abc import Iterator

from .context import RuleContext
from .registry import Problem, bad, good, rule


@rule(
    "awslogs-options",
    summary="the `awslogs` driver has `awslogs-group` and `awslogs-region` (and `awslogs-stream-prefix` on Fargate)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-region: null}}}}\n",
            path="containerDefinitions[web].logConfiguration.options",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-stream-prefix: null}}}}\n",
            path="containerDefinitions[web].logConfiguration.options",
        ),
        good("containerDefinitions: {web: {logConfiguration: {options: {awslogs-group: /ecs/other}}}}\n"),
    ],
)
def awslogs_options(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        logging = container.get("logConfiguration") or {}
        if logging.get("logDriver") != "awslogs":
            continue
        options = logging.get("options") or {}
        required = ["awslogs-group", "awslogs-region"] + (["awslogs-stream-prefix"] if ctx.is_fargate else [])
        for option in required:
            if option not in options:
                yield Problem((*path, "logConfiguration", "options"), f'the awslogs driver needs the option "{option}"')
