"""Every ``--format``: one reporter per name, each rendering the result objects of validate, diff, drift,
verify and explain.

A reporter offers only the commands it makes sense for; the CLI builds each command's ``--format``
choices from this registry (``formats``), so a format exists for a command exactly when it is here:

==============  ========  ====  =====  ======  =======
format          validate  diff  drift  verify  explain
==============  ========  ====  =====  ======  =======
text            yes       yes   yes    yes     yes
json            yes       yes   yes    yes     yes
markdown        yes       yes   yes    yes     yes
pr-comment                yes
sarif           yes             yes    yes
junit           yes             yes    yes
github          yes       yes   yes    yes
==============  ========  ====  =====  ======  =======

Reporters get results already as they may be printed: findings' messages are masked where they are
made, and changes and drift are masked here through ``shown_changes``/``shown_drifts`` unless
``--show-values``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..output import to_json
from .github import changes_commands, findings_commands
from .json import (
    changes_document,
    changes_json,
    drift_json,
    explain_json,
    findings_document,
    findings_json,
    services_json,
)
from .located import Located, Scope, by_service, drift_finding, qualified
from .markdown import changes_markdown, drift_markdown, explain_markdown, findings_markdown, services_markdown
from .pr_comment import Section, pr_comment
from .sarif import sarif
from .shown import shown_changes, shown_drifts
from .text import changes_text, drift_text, explain_text, findings_text, services_text

if TYPE_CHECKING:
    from ..app.diff import DiffRun
    from ..app.drift import DriftReport, DriftRun
    from ..app.explain import ExplainRun
    from ..app.validate import ValidateRun
    from ..app.verify import VerifyRun
    from ..diff import Change, Drift


@dataclass(frozen=True)
class View:
    """How the run was asked for: what a reporter needs besides the results."""

    many: bool = False  # --services: results grouped by service
    show_values: bool = False
    colour: bool = False
    snapshot: bool = False  # drift --snapshot: also the changes since the snapshot (text and json)
    root: Path = Path(".")  # files in SARIF and annotations are relative to it (the repository root)


ValidateReporter = Callable[["ValidateRun", View], str]
DiffReporter = Callable[["DiffRun", View], str]
DriftReporter = Callable[["DriftRun", View], str]
VerifyReporter = Callable[["VerifyRun", View], str]
ExplainReporter = Callable[["ExplainRun", View], str]


@dataclass(frozen=True)
class Reporter:
    name: str
    validate: ValidateReporter | None = None
    diff: DiffReporter | None = None
    drift: DriftReporter | None = None
    verify: VerifyReporter | None = None
    explain: ExplainReporter | None = None


def formats(command: str) -> list[str]:
    """The ``--format`` names offered by ``command`` (validate, diff, drift, verify or explain)."""
    return [name for name, reporter in REPORTER_BY_NAME.items() if getattr(reporter, command) is not None]


def _version() -> str:
    from importlib.metadata import version  # for SARIF alone: 9 ms of every other run's start-up spared

    return version("ecs-overlay")


# validate


def _validate_located(run: ValidateRun) -> list[Located]:
    return [Located(*entry) for entry in run.findings]


def _validate_scope(run: ValidateRun) -> Scope:
    return Scope(run.environments, run.files)


def _validate_text(run: ValidateRun, view: View) -> str:
    if not view.many:
        return findings_text([(name, finding) for _, name, finding in run.findings])
    grouped = by_service((service, (name, finding)) for service, name, finding in run.findings)
    return services_text([(service, findings_text(found)) for service, found in grouped])


def _validate_json(run: ValidateRun, view: View) -> str:
    if not view.many:
        return findings_json([(name, finding) for _, name, finding in run.findings])
    grouped = dict(by_service((service, (name, finding)) for service, name, finding in run.findings))
    environments = by_service(run.environments)
    return services_json([(s, findings_document(names, grouped.get(s, []))) for s, names in environments])


def _validate_markdown(run: ValidateRun, view: View) -> str:
    return findings_markdown(run.environments, _validate_located(run))


def _validate_sarif(run: ValidateRun, view: View) -> str:
    return to_json(sarif(_validate_located(run), _validate_scope(run), view.root, _version()))


def _junit(located: Sequence[Located], scope: Scope, suite: str) -> str:
    from .junit import junit  # XML for this format alone: 7 ms of every other run's start-up spared

    return junit(located, scope, suite)


def _validate_junit(run: ValidateRun, view: View) -> str:
    return _junit(_validate_located(run), _validate_scope(run), "ecs-overlay validate")


def _validate_github(run: ValidateRun, view: View) -> str:
    return findings_commands(_validate_located(run), view.root)


# diff


def _diff_sections(run: DiffRun, view: View) -> list[tuple[str, tuple[str, str, list[Change]]]]:
    return [
        (
            service,
            (
                result.environment,
                result.heading,
                shown_changes(result.changes, view.show_values),
            ),
        )
        for service, result in run.diffs
    ]


def _diff_text(run: DiffRun, view: View) -> str:
    sections = _diff_sections(run, view)
    if not view.many:
        return changes_text([section for _, section in sections], colour=view.colour)
    grouped = by_service(sections)
    return services_text([(service, changes_text(group, colour=view.colour)) for service, group in grouped])


def _diff_json(run: DiffRun, view: View) -> str:
    sections = _diff_sections(run, view)
    if not view.many:
        return changes_json([section for _, section in sections])
    return services_json([(service, changes_document(group)) for service, group in by_service(sections)])


def _diff_markdown(run: DiffRun, view: View) -> str:
    sections = _diff_sections(run, view)
    if not view.many:
        return changes_markdown([section for _, section in sections])
    return services_markdown([(service, changes_markdown(group)) for service, group in by_service(sections)])


def _diff_pr_comment(run: DiffRun, view: View) -> str:
    sections = [
        Section(service, environment, heading, changes)
        for service, (environment, heading, changes) in _diff_sections(run, view)
    ]
    sections.extend(
        Section(f.service, f.environment, "not compared", error=f.error.message, findings=f.error.findings)
        for f in run.failures
    )
    return pr_comment(sections)


def _diff_github(run: DiffRun, view: View) -> str:
    sections = [
        (qualified(service, environment), heading, changes)
        for service, (environment, heading, changes) in _diff_sections(run, view)
    ]
    failures = [Located(f.service, f.environment, finding) for f in run.failures for finding in f.error.findings]
    return changes_commands(sections, view.root) + findings_commands(failures, view.root)


# drift


# drift_text or drift_markdown: one environment's report; services_text or services_markdown: under --services
DriftSection = Callable[[str, str, Sequence["Drift"], Sequence["Change"] | None, bool, Sequence["Drift"]], str]


def _drift_joined(
    run: DriftRun, view: View, section: DriftSection, services: Callable[[list[tuple[str, str]]], str]
) -> str:
    """Each environment's section one after the other, under its service's heading with ``--services``."""

    def joined(reports: Sequence[DriftReport]) -> str:
        return "".join(
            section(r.environment, r.base_label, r.drifts, _since(r, view), view.show_values, r.build_time)
            for r in reports
        )

    if not view.many:
        return joined([report for _, report in run.reports])
    return services([(service, joined(reports)) for service, reports in by_service(run.reports)])


def _drift_text(run: DriftRun, view: View) -> str:
    return _drift_joined(run, view, drift_text, services_text)


def _drift_json(run: DriftRun, view: View) -> str:
    def document(reports: Sequence[DriftReport]) -> dict[str, Any]:
        return {
            "environments": {
                r.environment: drift_json(r.base_label, r.drifts, _since(r, view), view.show_values, r.build_time)
                for r in reports
            }
        }

    if not view.many:
        return to_json(document([report for _, report in run.reports]))
    return services_json([(service, document(reports)) for service, reports in by_service(run.reports)])


def _drift_markdown(run: DriftRun, view: View) -> str:
    return _drift_joined(run, view, drift_markdown, services_markdown)


def _since(report: DriftReport, view: View) -> list[Change] | None:
    return report.snapshot_changes if view.snapshot else None


def _drift_located(run: DriftRun, view: View) -> list[Located]:
    """Each drifted value as an error at its overlay line; an environment that could not be compared
    brings its findings. (The changes since a ``--snapshot`` are in the text and json formats.)"""
    located = [
        drift_finding(service, report.environment, item, report.base_label)
        for service, report in run.reports
        for item in shown_drifts(report.drifts, view.show_values)
    ]
    located.extend(Located(f.service, f.environment, finding) for f in run.failures for finding in f.error.findings)
    return located


def _drift_scope(run: DriftRun) -> Scope:
    environments = [(service, report.environment) for service, report in run.reports]
    environments.extend((f.service, f.environment) for f in run.failures)
    return Scope(environments, {})


def _drift_sarif(run: DriftRun, view: View) -> str:
    return to_json(sarif(_drift_located(run, view), _drift_scope(run), view.root, _version()))


def _drift_junit(run: DriftRun, view: View) -> str:
    return _junit(_drift_located(run, view), _drift_scope(run), "ecs-overlay drift")


def _drift_github(run: DriftRun, view: View) -> str:
    return findings_commands(_drift_located(run, view), view.root)


# verify: one environment's findings, placed like validate's (a finding without a file on the overlay file)


def _verify_located(run: VerifyRun) -> list[Located]:
    return [Located("", run.environment, finding) for finding in run.findings]


def _verify_scope(run: VerifyRun) -> Scope:
    key = ("", run.environment)
    return Scope([key], {key: run.file} if run.file is not None else {})


def _verify_text(run: VerifyRun, view: View) -> str:
    return findings_text([(run.environment, finding) for finding in run.findings])


def _verify_json(run: VerifyRun, view: View) -> str:
    return findings_json([(run.environment, finding) for finding in run.findings])


def _verify_markdown(run: VerifyRun, view: View) -> str:
    return findings_markdown([("", run.environment)], _verify_located(run))


def _verify_sarif(run: VerifyRun, view: View) -> str:
    return to_json(sarif(_verify_located(run), _verify_scope(run), view.root, _version()))


def _verify_junit(run: VerifyRun, view: View) -> str:
    return _junit(_verify_located(run), _verify_scope(run), "ecs-overlay verify")


def _verify_github(run: VerifyRun, view: View) -> str:
    return findings_commands(_verify_located(run), view.root)


# explain


def _explain_text(run: ExplainRun, view: View) -> str:
    return explain_text(run.entries)


def _explain_json(run: ExplainRun, view: View) -> str:
    return explain_json(run.entries)


def _explain_markdown(run: ExplainRun, view: View) -> str:
    return explain_markdown(run.entries)


REPORTER_BY_NAME: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (
        Reporter("text", _validate_text, _diff_text, _drift_text, _verify_text, _explain_text),
        Reporter("json", _validate_json, _diff_json, _drift_json, _verify_json, _explain_json),
        Reporter("markdown", _validate_markdown, _diff_markdown, _drift_markdown, _verify_markdown, _explain_markdown),
        Reporter("pr-comment", diff=_diff_pr_comment),
        Reporter("sarif", _validate_sarif, drift=_drift_sarif, verify=_verify_sarif),
        Reporter("junit", _validate_junit, drift=_drift_junit, verify=_verify_junit),
        Reporter("github", _validate_github, _diff_github, _drift_github, _verify_github),
    )
}
