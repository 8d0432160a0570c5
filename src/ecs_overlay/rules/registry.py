"""The rules registry: every check declared once, with its id, severity, summary, source and examples.

Documentation (the README's rule table, docs/rules.md) and report metadata are generated from
here, and the test suite runs every rule's examples both ways, so a rule cannot exist without a
source, a case it flags and a valid neighbour it leaves alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..findings import ERROR, WARNING, Finding, RuleId, Severity
from ..keyed import Path, format_path
from ..provenance import BASE
from ..secrets import mask_text

if TYPE_CHECKING:
    from .context import RuleContext

ExampleBase = Literal["fargate", "ec2", "windows"]


@dataclass(frozen=True)
class Example:
    """An overlay applied to one of the example bases (``rules/examples.py``), or a whole task
    definition (``taskdef``); ``flagged`` says whether the rule must report it, and ``path`` where."""

    overlay: str = ""
    flagged: bool = True
    base: ExampleBase = "fargate"
    path: str | None = None
    taskdef: Mapping[str, Any] | None = None


def bad(overlay: str = "", path: str | None = None, base: ExampleBase = "fargate", **kwargs: Any) -> Example:
    """A case the rule must flag (at ``path``, when given)."""
    return Example(overlay, True, base, path, **kwargs)


def good(overlay: str = "", base: ExampleBase = "fargate", **kwargs: Any) -> Example:
    """A valid neighbour of a flagged case: it renders without any error."""
    return Example(overlay, False, base, **kwargs)


class Problem(NamedTuple):
    """What a rule's check yields: where, what, and (rarely) a severity other than the rule's own."""

    path: Path
    message: str
    severity: Severity | None = None


Check = Callable[["RuleContext"], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    """One check. ``check`` is None for checks made outside the ECS rules (YAML, schema, appspec…):
    they are declared here so that every finding id has one description and one source."""

    id: RuleId
    summary: str
    source: str
    ecs_error: str | None = None  # ECS's own words for the rejection, when it has them
    severity: Severity = ERROR
    examples: tuple[Example, ...] = ()
    check: Check | None = None
    # Can run on an environment's layers alone (validate without a base): the check then reports
    # only what the layers themselves prove, never "missing" fields that a base may supply.
    offline: bool = False
    note: str | None = None  # where documentation and observed behaviour disagree, and which we follow
    category: str = "ecs"


REGISTRY: dict[str, Rule] = {}


def _add(entry: Rule) -> Rule:
    if entry.id in REGISTRY:
        raise ValueError(f"rule id {entry.id!r} is declared twice")
    REGISTRY[entry.id] = entry
    return entry


def rule(
    rule_id: str,
    *,
    summary: str,
    source: str,
    examples: Iterable[Example],
    ecs_error: str | None = None,
    severity: Severity = ERROR,
    offline: bool = False,
    note: str | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule ``rule_id``; rules run in the order
    ``rules/__init__.py`` lists their modules (``RULE_MODULES``) and, within a module, defined."""

    def register(check: Check) -> Check:
        _add(Rule(RuleId(rule_id), summary, source, ecs_error, severity, tuple(examples), check, offline, note))
        return check

    return register


def declare(
    rule_id: str, *, summary: str, source: str, category: str, severity: Severity = ERROR, ecs_error: str | None = None
) -> RuleId:
    """Declare a finding id raised outside the ECS rules; returns the id for the raising module, the only
    way to a ``RuleId`` (what a ``Finding`` takes) besides ``rule()``."""
    declared = RuleId(rule_id)
    _add(Rule(declared, summary, source, ecs_error, severity, category=category))
    return declared


def in_order(modules: Sequence[ModuleType]) -> tuple[Rule, ...]:
    """The ECS rules (those with a check), module by module in the order given and, within a module, in the
    order they are defined: the order they run, report and are documented in. A module that defines a rule
    and is not given is an error, so that no rule runs in an order nobody chose."""
    names = [module.__name__ for module in modules]
    checked = [entry for entry in REGISTRY.values() if entry.check is not None]
    unlisted = sorted({entry.check.__module__ for entry in checked if entry.check} - set(names))
    if unlisted:
        raise ValueError(f"rule modules missing from the order: {', '.join(unlisted)}")
    return tuple(entry for name in names for entry in checked if entry.check and entry.check.__module__ == name)


def run_checks(ctx: RuleContext, rules: Iterable[Rule]) -> list[Finding]:
    """Every given rule's findings, in that order; on layers alone (``ctx.partial``) only the offline ones."""
    findings: list[Finding] = []
    for entry in rules:
        if entry.check is None or (ctx.partial and not entry.offline):
            continue
        for problem in entry.check(ctx):
            origin = ctx.locate(problem.path)
            message = mask_text(problem.message)  # messages quote values (a cpu, a name); never a secret's shape
            if origin.kind == BASE and not ctx.partial:
                message += " (already so in the base)"
            findings.append(
                Finding.at(origin, entry.id, message, format_path(problem.path), problem.severity or entry.severity)
            )
    return findings


__all__ = ["ERROR", "WARNING", "Example", "Problem", "REGISTRY", "Rule", "bad", "declare", "good", "in_order", "rule"]
