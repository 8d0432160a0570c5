"""ECS's own rules, checked after the JSON Schema, and the registry of every finding id.

A task definition can match the API's shape and still be refused by ECS, or be accepted and fail
at deploy time. Each rule is one small function registered with its id, severity, summary, source
and examples (registry.py); the modules below are imported in the order their rules report.
"""

from __future__ import annotations

from ..findings import Finding

# The order of these imports is the order the rules report in.
# isort: off
from . import task  # noqa: F401
from . import containers  # noqa: F401
from . import limits  # noqa: F401
from . import network  # noqa: F401
from . import logging  # noqa: F401
from . import dependencies  # noqa: F401
from . import credentials  # noqa: F401
from . import roles  # noqa: F401
from . import fargate  # noqa: F401
from . import volumes  # noqa: F401
from . import inputs  # noqa: F401
from . import service  # noqa: F401
from . import verify  # noqa: F401

# isort: on
from .containers import MAX_CONTAINERS
from .context import DEFAULT_MAX_SIZE, RuleContext, task_size_units
from .credentials import looks_like_credential
from .registry import REGISTRY, Rule, run_checks
from .task import FARGATE_SIZES


def check(ctx: RuleContext) -> list[Finding]:
    """Every rule's findings, in registry order."""
    return run_checks(ctx)


__all__ = [
    "DEFAULT_MAX_SIZE",
    "FARGATE_SIZES",
    "MAX_CONTAINERS",
    "REGISTRY",
    "Rule",
    "RuleContext",
    "check",
    "looks_like_credential",
    "task_size_units",
]
