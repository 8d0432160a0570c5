"""The pull-request kit as CI runs it: the Action's scripts (scripts/ci/) and the CodeBuild buildspecs'
commands as subprocesses, in local git repositories, against a fake GitHub API on 127.0.0.1 and moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_overlay.report.pr_comment import MARKER

from .conftest import REPO, clean_environ, serve_in_background
from .test_e2e_aws import example_taskdef, register
from .test_reporters import valid_junit, valid_sarif
from .test_review import GIT_ENV, committed, git
from .test_services import edit, repository

pytestmark = pytest.mark.e2e
SCRIPTS = REPO / "scripts" / "ci"
TOKEN = "ghs_test-token"


BOT = "github-actions[bot]"  # the author of what GitHub Actions' token writes; GraphQL's viewer says "github-actions"


class FakeGitHub(ThreadingHTTPServer):
    """Issue comments of one pull request (acme/deploy#7), as GitHub's REST API serves them, and GraphQL's
    ``viewer``: the token's account."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.authorizations: list[str | None] = []
        self.refuse_writes = False
        self.answer_writes: tuple[int, bytes] | None = None  # (status, body) for every POST and PATCH
        self.redirect_to: str | None = None  # every request answered with a redirect to this origin
        self.viewer = "github-actions"

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def own(self) -> list[dict[str, Any]]:
        return [comment for comment in self.comments if comment["user"]["login"] == BOT and MARKER in comment["body"]]

    def comment(self, body: str, login: str = "reviewer") -> None:
        kind = "Bot" if login.endswith("[bot]") else "User"
        self.comments.append({"id": 1000 + len(self.comments), "body": body, "user": {"login": login, "type": kind}})


class _Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        self.server.requests.append((method, self.path))
        self.server.authorizations.append(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        sent = json.loads(self.rfile.read(length)) if length else None
        if self.server.redirect_to is not None:
            self.send_response(307)
            self.send_header("Location", self.server.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._answer(401, {"message": "Bad credentials"})
        comments = self.server.comments
        if method == "POST" and self.path == "/graphql" and "viewer" in sent["query"]:
            return self._answer(200, {"data": {"viewer": {"login": self.server.viewer}}})
        if method in ("POST", "PATCH") and self.server.answer_writes is not None:
            status, body = self.server.answer_writes
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if method == "GET" and self.path.startswith("/repos/acme/deploy/issues/7/comments?"):
            query = dict(part.split("=") for part in self.path.split("?", 1)[1].split("&"))
            size, page = int(query["per_page"]), int(query["page"])
            return self._answer(200, comments[(page - 1) * size : page * size])
        if method in ("POST", "PATCH") and self.server.refuse_writes:
            return self._answer(403, {"message": "Resource not accessible by integration"})
        if method == "POST" and self.path == "/repos/acme/deploy/issues/7/comments":
            self.server.comment(sent["body"], BOT)
            return self._answer(201, comments[-1])
        if method == "PATCH" and self.path.startswith("/repos/acme/deploy/issues/comments/"):
            wanted = int(self.path.rsplit("/", 1)[1])
            for comment in comments:
                if comment["id"] == wanted:
                    comment["body"] = sent["body"]
                    return self._answer(200, comment)
        return self._answer(404, {"message": "Not Found"})

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")


def serving(host: str = "127.0.0.1") -> Iterator[FakeGitHub]:
    server = FakeGitHub(host)
    serve_in_background(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serving()


@pytest.fixture
def elsewhere() -> Iterator[FakeGitHub]:
    """Another host on loopback (127.0.0.2, its own port) that would take the token if it were sent there."""
    yield from serving("127.0.0.2")


def tool_path() -> str:
    """This interpreter's bin directory first: the installed ecs-overlay and a python3 that imports it."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def script(name: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name)],
        cwd=cwd,
        env=clean_environ({"PATH": tool_path(), **GIT_ENV, **env}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def pull_request(github: FakeGitHub, tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        "GITHUB_API_URL": github.url,
        "GITHUB_GRAPHQL_URL": f"{github.url}/graphql",
        "GITHUB_REPOSITORY": "acme/deploy",
        "PR_NUMBER": "7",
        "GITHUB_TOKEN": TOKEN,
        "ECS_OVERLAY_ARGS": "--services services --base snapshots",
        "COMMENT_FILE": str(tmp_path / "comment.md"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        **env,
    }


def test_pr_comment_is_created_once_then_updated_in_place(github: FakeGitHub, tmp_path: Path) -> None:
    root = committed(repository(tmp_path / "repo", ["billing", "checkout"]))
    base = head(root)
    for n in range(150):  # two pages
        github.comment(f"a reviewer's comment {n}")
    edit(root, "checkout", "prod", "env: prod", "env: prod\n  owner: payments")
    env = pull_request(github, tmp_path, BASE_SHA=base)

    first = script("pr-comment.sh", root, **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("created comment 1150 on pull request 7")
    [own] = github.own()
    assert own["body"].startswith(MARKER) and "| `checkout` | `prod` | 1 | 0 |" in own["body"]
    assert "billing" not in own["body"]  # untouched services are not rendered
    assert (tmp_path / "summary.md").read_text() == own["body"] == (tmp_path / "comment.md").read_text()
    assert ("GET", "/repos/acme/deploy/issues/7/comments?per_page=100&page=2") in github.requests

    edit(root, "billing", "stage", "env: stage", "env: stage\n  owner: billing")
    second = script("pr-comment.sh", root, **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("updated comment 1150 on pull request 7")
    [own] = github.own()
    assert len(github.comments) == 151
    assert "| `billing` | `stage` | 1 | 0 |" in own["body"] and "| `checkout` | `prod` | 1 | 0 |" in own["body"]


def test_a_diff_that_cannot_run_is_said_in_the_comment(github: FakeGitHub, tmp_path: Path) -> None:
    root = committed(repository(tmp_path / "repo", ["billing"]))
    args = "--environments-dir services/billing/environments --base nowhere.json"
    result = script("pr-comment.sh", root, **pull_request(github, tmp_path, BASE_SHA=head(root), ECS_OVERLAY_ARGS=args))
    assert result.returncode == 3, result.stderr  # diff's exit code, after the comment is posted
    [own] = github.own()
    assert own["body"].startswith(MARKER) and "The diff could not run (exit 3)" in own["body"]
    assert "nowhere.json" in own["body"]


def test_a_token_that_may_not_write_warns_and_keeps_the_summary(github: FakeGitHub, tmp_path: Path) -> None:
    root = committed(repository(tmp_path / "repo", ["billing"]))
    edit(root, "billing", "prod", "env: prod", "env: prod\n  owner: payments")
    github.refuse_writes = True
    result = script("pr-comment.sh", root, **pull_request(github, tmp_path, BASE_SHA=head(root)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("::warning title=ecs-overlay::the token may not write pull request comments")
    assert github.comments == [] and MARKER in (tmp_path / "summary.md").read_text()


def test_a_base_commit_missing_from_a_shallow_checkout_is_fetched(github: FakeGitHub, tmp_path: Path) -> None:
    upstream = committed(repository(tmp_path / "upstream", ["billing"]))
    base = head(upstream)
    edit(upstream, "billing", "prod", "env: prod", "env: prod\n  owner: payments")
    git(upstream, "commit", "-qam", "an owner")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{upstream}", str(clone)], check=True, capture_output=True
    )
    result = script("pr-comment.sh", clone, **pull_request(github, tmp_path, BASE_SHA=base))
    assert result.returncode == 0, result.stderr
    [own] = github.own()
    assert "| `billing` | `prod` | 1 | 0 |" in own["body"]


def post_comment(github: FakeGitHub, tmp_path: Path, body: str = f"{MARKER}\nthe new comment\n") -> Any:
    """pr_comment.py posting ``body``, as pr-comment.sh runs it."""
    comment = tmp_path / "comment.md"
    comment.write_text(body)
    env = {key: value for key, value in pull_request(github, tmp_path).items() if key.startswith(("GITHUB", "PR"))}
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "pr_comment.py"), str(comment)],
        env=clean_environ({"PATH": tool_path(), **env}),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_marker_in_someone_elses_comment_is_never_updated(github: FakeGitHub, tmp_path: Path) -> None:
    forged = f"{MARKER}\n## ecs-overlay: what this pull request changes\n\nNothing to see: approve."
    github.comment(forged, "mallory")  # first, and carrying the marker
    github.comment(f"quoting it:\n> {MARKER}", BOT)  # the bot's, but the marker is not what it starts with
    result = post_comment(github, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("created comment 1002 on pull request 7")
    assert github.comments[0]["body"] == forged and github.comments[1]["body"].startswith("quoting")
    assert ("PATCH", "/repos/acme/deploy/issues/comments/1000") not in github.requests

    github.viewer = "Octo-Deployer"  # a user's token: its comments are by that login (any case)
    github.comment(f"{MARKER}\nmine", "octo-deployer")
    github.comment(f"{MARKER}\nhis", "mallory")
    again = post_comment(github, tmp_path, f"{MARKER}\nsecond push\n")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("updated comment 1003 on pull request 7")
    assert [comment["body"] for comment in github.comments[3:]] == [f"{MARKER}\nsecond push\n", f"{MARKER}\nhis"]


def test_the_token_is_never_sent_on_a_redirect_to_another_host(
    github: FakeGitHub, elsewhere: FakeGitHub, tmp_path: Path
) -> None:
    github.redirect_to = elsewhere.url
    result = post_comment(github, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("pr_comment.py: the comment was not posted: GitHub's answer (HTTP 307) redirects")
    assert elsewhere.url in result.stderr and TOKEN not in result.stderr + result.stdout
    assert f"Bearer {TOKEN}" not in elsewhere.authorizations and elsewhere.comments == []
    assert github.authorizations and all(sent == f"Bearer {TOKEN}" for sent in github.authorizations)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((500, b'{"message": "Server Error"}'), "GitHub answered HTTP 500 Internal Server Error for"),
        ((422, b'{"message": "Body is too long"}'), ": Body is too long"),
        ((201, b"<html>a proxy's page</html>"), "GitHub's answer is not what its REST API documents"),
    ],
)
def test_a_failed_post_fails_the_step_with_one_clear_line(
    github: FakeGitHub, tmp_path: Path, answer: tuple[int, bytes], said: str
) -> None:
    root = committed(repository(tmp_path / "repo", ["billing"]))
    edit(root, "billing", "prod", "env: prod", "env: prod\n  owner: payments")
    github.answer_writes = answer
    result = script("pr-comment.sh", root, **pull_request(github, tmp_path, BASE_SHA=head(root)))
    assert result.returncode == 1, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("pr_comment.py")]
    assert line.startswith("pr_comment.py: the comment was not posted: ") and said in line
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert MARKER in (tmp_path / "summary.md").read_text()  # the job summary still has it


def test_the_failed_diff_comment_keeps_its_messages_inside_the_block(tmp_path: Path) -> None:
    errors = tmp_path / "errors.txt"
    errors.write_text(f"Error: environments/```\n</pre>\n{MARKER}\n<!-- hide the rest\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "pr_comment.py"), "--failed", "3", str(errors)],
        env=clean_environ({"PATH": tool_path()}),
        capture_output=True,
        text=True,
        check=True,
    )
    comment = result.stdout
    assert comment.startswith(MARKER) and comment.count("<!--") == 1 and comment.count("</pre>") == 1
    assert "&lt;/pre&gt;" in comment and "&lt;!-- hide the rest" in comment


def test_validate_script_writes_sarif_and_annotates(tmp_path: Path) -> None:
    root = repository(tmp_path, ["billing", "checkout"])
    edit(root, "checkout", "prod", "tags:", "memroy: 2048\ntags:")
    sarif_file = tmp_path / "out.sarif"
    args = "--services services --base snapshots"
    result = script("validate.sh", root, ECS_OVERLAY_ARGS=args, SARIF_FILE=str(sarif_file))
    assert result.returncode == 1
    [finding] = valid_sarif(sarif_file.read_text())["runs"][0]["results"]
    assert finding["ruleId"] == "unknown-field"
    assert result.stdout.startswith("::error file=services/checkout/environments/prod.yaml,line=3,col=1,")
    again = script("validate.sh", root, ECS_OVERLAY_ARGS=args, SARIF_FILE=str(sarif_file))
    assert again.returncode == 1  # the SARIF file of the run before does not make the same tree pass
    edit(root, "checkout", "prod", "memroy: 2048\n", "")
    fixed = script("validate.sh", root, ECS_OVERLAY_ARGS=args, SARIF_FILE=str(sarif_file))
    assert fixed.returncode == 0 and fixed.stdout == ""
    assert valid_sarif(sarif_file.read_text())["runs"][0]["results"] == []


def test_the_action_runs_these_scripts_and_posts_the_sarif_it_writes() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    steps = action["runs"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert action["runs"]["using"] == "composite"
    assert (
        '"$GITHUB_ACTION_PATH/scripts/ci/validate.sh"' in runs
        and '"$GITHUB_ACTION_PATH/scripts/ci/pr-comment.sh"' in runs
    )
    assert 'pip install --quiet -c "$GITHUB_ACTION_PATH/.ci/constraints.txt" "$GITHUB_ACTION_PATH"' in runs
    validate = next(step for step in steps if step.get("id") == "validate")
    upload = next(step for step in steps if "upload-sarif" in step.get("uses", ""))
    assert upload["with"]["sarif_file"] == validate["env"]["SARIF_FILE"]
    assert all("${{ inputs" not in step.get("run", "") for step in steps)  # inputs reach scripts as env only


def buildspec_commands(name: str, phase: str) -> tuple[list[str], dict[str, str]]:
    spec = yaml.safe_load((REPO / "examples" / "codebuild" / name).read_text())
    return spec["phases"][phase]["commands"], {k: str(v) for k, v in spec["env"]["variables"].items()}


def run_phase(name: str, phase: str, cwd: Path, env: dict[str, str]) -> list[tuple[str, int]]:
    """The phase's commands one by one in one directory, as CodeBuild runs them: the first failure ends it."""
    commands, variables = buildspec_commands(name, phase)
    done = []
    for command in commands:
        process = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=clean_environ({"PATH": tool_path(), **variables, **env}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        done.append((command, process.returncode))
        if process.returncode != 0:
            break
    return done


def test_pull_request_buildspec_on_a_webhook_build(
    project: Path, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    for environment in ("stage", "prod"):  # the live bases, families checkout-api-stage and checkout-api-prod
        register(ecs, example_taskdef(environment))
    upstream = committed(project)
    git(upstream, "branch", "-M", "main")
    clone = tmp_path / "build"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    prod = clone / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    done = run_phase("buildspec-pr.yml", "build", clone, {**aws_env, "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main"})
    assert [status for _, status in done] == [0] * len(buildspec_commands("buildspec-pr.yml", "build")[0]), done
    report = valid_junit((clone / "reports" / "ecs-overlay-validate.xml").read_text())
    assert [suite["@name"] for suite in report["testsuite"]] == ["prod", "stage"] and report["@failures"] == "0"
    markdown = (clone / "reports" / "ecs-overlay-diff.md").read_text()
    assert "### `prod` — 1 change" in markdown and "`containerDefinitions[web].environment[LOG_LEVEL]`" in markdown

    prod.write_text(prod.read_text() + "memroy: 1\n")
    failed = run_phase("buildspec-pr.yml", "build", clone, {**aws_env, "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main"})
    assert failed[-1][1] != 0 and failed[-1][0].startswith("test ")  # the report is written, then the build fails
    report = valid_junit((clone / "reports" / "ecs-overlay-validate.xml").read_text())
    assert report["@failures"] == "1"


def test_scheduled_drift_buildspec_reports_drift_as_junit(project: Path, ecs: Any, aws_env: dict[str, str]) -> None:
    for environment in ("stage", "prod"):  # live: the example, which the overlays change
        register(ecs, example_taskdef(environment))
    done = run_phase("buildspec-drift.yml", "build", project, aws_env)
    assert done[-1][0].startswith("test ") and done[-1][1] != 0  # drift fails the build, after the report
    report = valid_junit((project / "reports" / "ecs-overlay-drift.xml").read_text())
    suites = {suite["@name"]: suite for suite in report["testsuite"]}
    assert set(suites) == {"prod", "stage"}
    [case] = suites["prod"]["testcase"]
    line = (project / "environments" / "prod.yaml").read_text().splitlines().index("      LOG_LEVEL: warn") + 1
    assert case["@name"] == "drift" and f"environments/prod.yaml:{line}:18 " in case["failure"][0]["$"]
