"""The `service:` section: what deploy sends with UpdateService, checked before anything is registered.

Types, enums and unknown keys are the overlay schema's (generated from UpdateService's input shape,
schema/service.schema.json); what one layer cannot show — a member UpdateService requires, a range or a
pairing the API reference states in words — is checked here on the layers merged, at the line that set it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .. import schemas
from ..findings import WARNING
from .context import RuleContext, is_int
from .registry import Problem, bad, good, rule

UPDATE_SERVICE = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html"
LINEAR = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html"
CANARY = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html"
HOOK = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html"
_MAX_BAKE_MINUTES = 1440  # 24 hours
_HOOK = "arn:aws:lambda:eu-west-1:111111111111:function:smoke"
_ROLE = "arn:aws:iam::111111111111:role/ecs-hooks"
_CANARY = "service:\n  deploymentConfiguration:\n    strategy: CANARY\n    canaryConfiguration: "


def _written(value: Any) -> Any:
    """The section as sent: a null (remove the setting) is always allowed, so it is left out of the checks."""
    if isinstance(value, dict):
        return {key: _written(child) for key, child in value.items() if child is not None}
    if isinstance(value, list):
        return [_written(item) for item in value]
    return value


def _configuration(ctx: RuleContext) -> dict[str, Any]:
    found = _written(ctx.service or {}).get("deploymentConfiguration")
    return found if isinstance(found, dict) else {}


@rule(
    "service-incomplete",
    summary="what the `service:` section sends has every member UpdateService requires (both `enable` and "
    "`rollback` of a circuit breaker, `alarmNames` with them for alarms)",
    source=UPDATE_SERVICE,
    offline=True,
    examples=[
        bad(
            "service:\n  deploymentConfiguration:\n    deploymentCircuitBreaker: {enable: true}\n",
            path="service.deploymentConfiguration.deploymentCircuitBreaker",
        ),
        good("service:\n  deploymentConfiguration:\n    deploymentCircuitBreaker: {enable: true, rollback: true}\n"),
    ],
)
def service_incomplete(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.service is None:
        return
    for error in schemas.validator("service").iter_errors(_written(ctx.service)):
        if error.validator == "required":  # types, enums and unknown keys: the overlay schema, per layer
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            listed = " and ".join(f"'{name}'" for name in missing)
            yield Problem(
                ("service", *error.absolute_path),
                f"UpdateService needs {listed} here as well; a layer replaces this mapping as a whole, so write "
                "every required member in it",
            )


def _bake_times(configuration: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield ("bakeTimeInMinutes",), configuration.get("bakeTimeInMinutes")
    for section, name in (
        ("linearConfiguration", "stepBakeTimeInMinutes"),
        ("canaryConfiguration", "canaryBakeTimeInMinutes"),
    ):
        inner = configuration.get(section)
        if isinstance(inner, dict):
            yield (section, name), inner.get(name)


@rule(
    "service-bake-time",
    summary="bake times (`bakeTimeInMinutes`, a linear step's, a canary's) are 0 to 1440 minutes",
    source=LINEAR,
    offline=True,
    note="The API reference states 0–1440 for the linear and canary bake times; it gives no range for the "
    "deployment's own bakeTimeInMinutes, which CloudFormation's and Terraform's references bound the same way.",
    examples=[
        bad("service:\n  deploymentConfiguration:\n    bakeTimeInMinutes: 1441\n"),
        bad(
            "service:\n  deploymentConfiguration:\n    strategy: LINEAR\n"
            "    linearConfiguration: {stepPercent: 10, stepBakeTimeInMinutes: -1}\n",
            path="service.deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes",
        ),
        good("service:\n  deploymentConfiguration:\n    strategy: BLUE_GREEN\n    bakeTimeInMinutes: 1440\n"),
    ],
)
def service_bake_time(ctx: RuleContext) -> Iterator[Problem]:
    for path, minutes in _bake_times(_configuration(ctx)):
        if is_int(minutes) and not 0 <= minutes <= _MAX_BAKE_MINUTES:
            yield Problem(
                ("service", "deploymentConfiguration", *path),
                f"{minutes} minutes is out of range; ECS allows 0 to {_MAX_BAKE_MINUTES} (24 hours)",
            )


@rule(
    "service-traffic-percent",
    summary="a linear step shifts 3.0–100.0 % and a canary 0.1–100.0 % of traffic, in multiples of 0.1",
    source=LINEAR,
    offline=True,
    note=f"The canary range is in {CANARY}.",
    examples=[
        bad(
            "service:\n  deploymentConfiguration:\n    strategy: LINEAR\n    linearConfiguration: {stepPercent: 2.5}\n",
            path="service.deploymentConfiguration.linearConfiguration.stepPercent",
        ),
        bad(f"{_CANARY}{{canaryPercent: 5.05}}\n"),
        good(f"{_CANARY}{{canaryPercent: 0.1}}\n"),
    ],
)
def service_traffic_percent(ctx: RuleContext) -> Iterator[Problem]:
    configuration = _configuration(ctx)
    for section, name, low in (
        ("linearConfiguration", "stepPercent", 3.0),
        ("canaryConfiguration", "canaryPercent", 0.1),
    ):
        inner = configuration.get(section)
        percent = inner.get(name) if isinstance(inner, dict) else None
        if not isinstance(percent, (int, float)) or isinstance(percent, bool):
            continue
        tenths = percent * 10
        if not low <= percent <= 100.0 or abs(tenths - round(tenths)) > 1e-9:
            yield Problem(
                ("service", "deploymentConfiguration", section, name),
                f"{json.dumps(percent)} is not a valid percentage here; ECS allows multiples of 0.1 "
                f"from {low} to 100.0",
            )


@rule(
    "service-strategy-configuration",
    summary="`linearConfiguration` goes with strategy LINEAR and `canaryConfiguration` with CANARY",
    source=LINEAR,
    severity=WARNING,
    offline=True,
    note="The API reference says each is only valid with its strategy, not whether ECS refuses or ignores it: "
    "a warning. Checked only where the section writes the strategy (the service's own may be LINEAR).",
    examples=[
        bad(
            "service:\n  deploymentConfiguration:\n    strategy: ROLLING\n    linearConfiguration: {stepPercent: 10}\n",
            path="service.deploymentConfiguration.linearConfiguration",
        ),
        good("service:\n  deploymentConfiguration:\n    linearConfiguration: {stepPercent: 10}\n"),
    ],
)
def service_strategy_configuration(ctx: RuleContext) -> Iterator[Problem]:
    configuration = _configuration(ctx)
    strategy = configuration.get("strategy")
    if strategy is None:
        return
    for section, wanted in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        if section in configuration and strategy != wanted:
            yield Problem(
                ("service", "deploymentConfiguration", section),
                f"{section} applies only to strategy {wanted}, and this section sets strategy {strategy}; "
                f"remove it or set strategy: {wanted}",
            )


@rule(
    "service-lambda-hook",
    summary="a lifecycle hook that invokes Lambda (`targetType` AWS_LAMBDA, the default) names its `hookTargetArn`",
    source=HOOK,
    offline=True,
    examples=[
        bad(
            "service:\n  deploymentConfiguration:\n    lifecycleHooks:\n"
            f"      - roleArn: {_ROLE}\n        lifecycleStages: [POST_SCALE_UP]\n",
            path="service.deploymentConfiguration.lifecycleHooks[0]",
        ),
        good(
            "service:\n  deploymentConfiguration:\n    lifecycleHooks:\n"
            f"      - hookTargetArn: {_HOOK}\n        roleArn: {_ROLE}\n        lifecycleStages: [POST_SCALE_UP]\n"
            "      - targetType: PAUSE\n        lifecycleStages: [PRE_PRODUCTION_TRAFFIC_SHIFT]\n"
        ),
    ],
)
def service_lambda_hook(ctx: RuleContext) -> Iterator[Problem]:
    hooks = _configuration(ctx).get("lifecycleHooks")
    for index, hook in enumerate(hooks if isinstance(hooks, list) else []):
        if (
            isinstance(hook, dict)
            and hook.get("targetType", "AWS_LAMBDA") == "AWS_LAMBDA"
            and not hook.get("hookTargetArn")
        ):
            yield Problem(
                ("service", "deploymentConfiguration", "lifecycleHooks", index),
                "this hook invokes a Lambda function (targetType AWS_LAMBDA, the default) but names none; "
                "add its hookTargetArn, or set targetType: PAUSE",
            )
