"""The Action and the example workflows as GitHub reads them: third-party actions pinned to full commit SHAs, the
steps GitHub runs when the SARIF upload fails, and the permissions a private repository needs granted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO

ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / "examples" / "github").glob("*.yml"))
OURS = "ecs-overlay/ecs-overlay"  # this repository's Action: pinned by the user to the commit they reviewed
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.M)


def uses_lines(path: Path) -> list[tuple[str, str]]:
    """Each `uses:` reference of ``path`` with the comment on its line."""
    return [(reference, comment.strip()) for reference, comment in USES.findall(path.read_text(encoding="utf-8"))]


def steps_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return document["runs"]["steps"]  # type: ignore[no-any-return]
    return [step for job in document["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda path: path.name)
def test_every_third_party_action_is_pinned_to_a_full_commit_sha_with_its_version(path: Path) -> None:
    """A tag can be moved to other code; a commit SHA cannot. The comment names the release it is, for people
    and for Dependabot, which updates both."""
    lines = uses_lines(path)
    parsed = [step["uses"] for step in steps_of(yaml.safe_load(path.read_text(encoding="utf-8"))) if "uses" in step]
    assert [reference for reference, _ in lines] == parsed  # the pattern saw every step that uses an action
    wrong = [
        (reference, comment)
        for reference, comment in lines
        if not re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}", reference)
        or not (reference.startswith(f"{OURS}@") or re.fullmatch(r"# v\d+\.\d+\.\d+", comment))
    ]
    assert lines and wrong == []


class Run:
    """How GitHub runs a composite Action's steps: each `if:` evaluated in the run's context (without a status
    function it means `success() && (...)`), a failing step fails the job unless it has `continue-on-error`,
    and `steps.<id>.outcome` is what the step did, before continue-on-error."""

    def __init__(self, event: str, inputs: dict[str, str], fails: Callable[[dict[str, Any], dict[str, str]], bool]):
        self.context: dict[str, Any] = {"github": {"event_name": event}, "inputs": inputs, "steps": {}}
        self.job_failed = False
        self.ran: list[str] = []
        for step in yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]:
            name = step.get("name", step.get("uses", ""))
            if not self.holds(str(step.get("if", "success()"))):
                self.record(step, "skipped")
                continue
            self.ran.append(name)
            outputs = {"status": inputs["validate-exit"]} if step.get("id") == "validate" else {}
            failed = fails(step, inputs)
            self.record(step, "failure" if failed else "success", outputs)
            self.job_failed |= failed and not step.get("continue-on-error", False)

    def record(self, step: dict[str, Any], outcome: str, outputs: dict[str, str] | None = None) -> None:
        if "id" in step:
            self.context["steps"][step["id"]] = {"outcome": outcome, "outputs": outputs or {}}

    def holds(self, condition: str) -> bool:
        expression = condition.strip().removeprefix("${{").removesuffix("}}")
        if not re.search(r"\b(success|failure|always|cancelled)\(\)", expression):
            expression = f"success() && ({expression})"

        def value(match: re.Match[str]) -> str:
            found: Any = self.context
            for key in match.group(0).split("."):
                found = found.get(key, "") if isinstance(found, dict) else ""
            return repr(found)

        python = re.sub(r"\b(?:github|inputs|steps)(?:\.[\w-]+)+", value, expression)
        python = python.replace("&&", " and ").replace("||", " or ")
        python = re.sub(r"!(?!=)", " not ", python)
        functions = {
            "success": lambda: not self.job_failed,
            "failure": lambda: self.job_failed,
            "always": lambda: True,
            "cancelled": lambda: False,
        }
        return bool(eval(python, {"__builtins__": {}}, functions))  # the Action's own expressions, nothing else


def action_run(event: str = "pull_request", validate_exit: int = 0, upload_fails: bool = False, **inputs: str) -> Run:
    def fails(step: dict[str, Any], run_inputs: dict[str, str]) -> bool:
        if step.get("id") == "validate":
            return int(run_inputs["validate-exit"]) > 1  # the step exits with validate's 2 or 3, else 0
        if "upload-sarif" in step.get("uses", ""):
            return upload_fails
        return "exit 1" in step.get("run", "")

    return Run(event, {"upload-sarif": "true", "comment": "true", **inputs, "validate-exit": str(validate_exit)}, fails)


COMMENT = "Comment what the pull request changes"
WARN = "Say that the SARIF upload failed"
FAIL = "Fail on validation errors"


def test_the_comment_is_posted_when_the_sarif_upload_fails() -> None:
    """Code scanning not enabled (no Advanced Security on a private repository) makes the upload fail; the pull
    request still gets its comment, the run says the upload failed, and only validate's errors fail the job."""
    clean = action_run(upload_fails=True)
    assert COMMENT in clean.ran and WARN in clean.ran and not clean.job_failed
    errors = action_run(upload_fails=True, validate_exit=1)
    assert COMMENT in errors.ran and FAIL in errors.ran and errors.job_failed


def test_the_steps_github_runs_otherwise() -> None:
    uploaded = action_run()
    assert uploaded.ran[-1] == COMMENT and WARN not in uploaded.ran and not uploaded.job_failed
    assert "Upload SARIF to code scanning" not in action_run(**{"upload-sarif": "false"}).ran
    assert COMMENT not in action_run(event="push").ran
    # validate could not run (2 usage, 3 AWS): no SARIF to upload, and the comment says what the diff found.
    stopped = action_run(validate_exit=3)
    assert "Upload SARIF to code scanning" not in stopped.ran and COMMENT in stopped.ran and stopped.job_failed
    assert FAIL not in stopped.ran


# What each action a workflow uses needs from GITHUB_TOKEN. Naming any permission sets all others to none, and on a
# private repository nothing is readable unless granted (GitHub's starter workflows and codeql-action's README).
NEEDS = {
    "actions/checkout": {"contents": "read"},
    "actions/setup-python": {},
    "aws-actions/configure-aws-credentials": {"id-token": "write"},  # OIDC: role-to-assume without keys
    # validate's SARIF upload (code scanning; upload-sarif reads the run's status, which a private repository
    # must grant), the comment, and the pull request's base commit fetched for the diff.
    OURS: {"security-events": "write", "actions": "read", "pull-requests": "write", "contents": "read"},
}
LEVEL = {"none": 0, "read": 1, "write": 2}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_example_workflows_grant_what_their_steps_need_on_a_private_repository(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", workflow.get("permissions"))
        assert isinstance(granted, dict), f"{path.name}: job {name} names its permissions"
        needed: dict[str, str] = {}
        for step in job["steps"]:
            if "uses" in step:
                for scope, level in NEEDS[step["uses"].split("@")[0]].items():
                    needed[scope] = max(needed.get(scope, "none"), level, key=LEVEL.__getitem__)
        short = {scope: level for scope, level in needed.items() if LEVEL[granted.get(scope, "none")] < LEVEL[level]}
        more = {scope: level for scope, level in granted.items() if LEVEL[level] > LEVEL[needed.get(scope, "none")]}
        assert (short, more) == ({}, {}), f"{path.name}: missing {short}, more than needed {more}"
