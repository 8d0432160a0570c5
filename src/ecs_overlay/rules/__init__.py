"""ECS's own rules, checked after the JSON Schema, and the registry of every finding id.

A task definition can match the API's shape and still be refused by ECS, or be accepted and fail
at deploy time. Each rule is one small function registered with its id, severity, summary, source
and examples (registry.py); ``RULE_MODULES`` states the order they run and report in.
"""

from __future__ import annotations

from ..findings import Finding
from . import (
    containers,
    credentials,
    dependencies,
    fargate,
    inputs,  # noqa: F401  (declares the ids raised while reading overlays and building)
    limits,
    logging,
    network,
    roles,
    service,
    task,
    verify,  # noqa: F401  (declares verify's ids)
    volumes,
)
from .containers import MAX_CONTAINERS
from .context import DEFAULT_MAX_SIZE, RuleContext, task_size_units
from .credentials import looks_like_credential
from .registry import REGISTRY, Rule, in_order, run_checks
from .task import FARGATE_SIZES

# The order the rules run in, so the order their findings are reported in (docs/rules.md lists them so):
# module by module, and within a module in the order its rules are defined. The task's own sizes first, then
# each container, the limits, the network, logging, dependencies between containers, credentials, roles,
# Fargate's own rules, volumes, and the service: section last.
RULE_MODULES = (task, containers, limits, network, logging, dependencies, credentials, roles, fargate, volumes, service)
RULES = in_order(RULE_MODULES)


def check(ctx: RuleContext) -> list[Finding]:
    """Every rule's findings, in the order of ``RULES``."""
    return run_checks(ctx, RULES)


__all__ = [
    "DEFAULT_MAX_SIZE",
    "FARGATE_SIZES",
    "MAX_CONTAINERS",
    "REGISTRY",
    "RULES",
    "RULE_MODULES",
    "Rule",
    "RuleContext",
    "check",
    "looks_like_credential",
    "task_size_units",
]
