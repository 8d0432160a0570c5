"""Create or update the pull request's ecs-overlay comment, found by its hidden marker.

    pr_comment.py COMMENT_FILE              post it (GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER, GITHUB_TOKEN)
    pr_comment.py --failed STATUS ERRORS    print a comment saying the diff failed, with its messages

Standard library only besides ecs-overlay itself (the marker has one home: ecs_overlay.report.pr_comment).
A token that may not write (a pull request from a fork) is a warning, not a failure: the comment is
still in the job summary.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ecs_overlay.report.pr_comment import GITHUB_LIMIT, MARKER, TITLE


def failed_comment(status: str, errors: str) -> str:
    """The comment of a diff that stopped before any report (its messages never show secrets)."""
    body = errors.strip()[: GITHUB_LIMIT - 500]
    return f"{MARKER}\n## {TITLE}\n\nThe diff could not run (exit {status}):\n\n```text\n{body}\n```\n"


class GitHub:
    def __init__(self, api: str, token: str) -> None:
        self.api = api.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.api}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def own_comment(self, repository: str, number: str) -> int | None:
        """The id of the first comment carrying the marker, reading every page of the conversation."""
        page = 1
        while True:
            listed = self.call("GET", f"/repos/{repository}/issues/{number}/comments?per_page=100&page={page}")
            for comment in listed:
                if MARKER in (comment.get("body") or ""):
                    return int(comment["id"])
            if len(listed) < 100:
                return None
            page += 1


def post(comment_file: str) -> int:
    missing = [name for name in ("GITHUB_REPOSITORY", "PR_NUMBER", "GITHUB_TOKEN") if not os.environ.get(name)]
    if missing:
        print(f"pr_comment.py: set {', '.join(missing)} (the Action sets them from the pull request)", file=sys.stderr)
        return 2
    body = Path(comment_file).read_text(encoding="utf-8")
    github = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), os.environ["GITHUB_TOKEN"])
    repository, number = os.environ["GITHUB_REPOSITORY"], os.environ["PR_NUMBER"]
    try:
        existing = github.own_comment(repository, number)
        if existing is None:
            created = github.call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
            print(f"created comment {created['id']} on pull request {number}")
        else:
            github.call("PATCH", f"/repos/{repository}/issues/comments/{existing}", {"body": body})
            print(f"updated comment {existing} on pull request {number}")
    except urllib.error.HTTPError as error:
        if error.code == 403:
            print(
                "::warning title=ecs-overlay::the token may not write pull request comments (HTTP 403; a pull "
                "request from a fork, or no `pull-requests: write` permission); the comment is in the job summary"
            )
            return 0
        print(f"pr_comment.py: GitHub answered HTTP {error.code} {error.reason} for {error.url}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"pr_comment.py: cannot reach {github.api}: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--failed":
        sys.stdout.write(failed_comment(argv[1], Path(argv[2]).read_text(encoding="utf-8", errors="replace")))
        return 0
    if len(argv) == 1:
        return post(argv[0])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
