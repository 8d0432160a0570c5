"""Create or update the pull request's ecs-overlay comment: the one this token's own account wrote, found by its
hidden marker.

    pr_comment.py COMMENT_FILE              post it (GITHUB_API_URL, GITHUB_GRAPHQL_URL, GITHUB_REPOSITORY,
                                            PR_NUMBER, GITHUB_TOKEN)
    pr_comment.py --failed STATUS ERRORS    print a comment saying the diff failed, with its messages

Standard library only besides ecs-overlay itself (the marker has one home: ecs_overlay.report.pr_comment).
Exit 0 posted (or, for a token that may not write, a pull request from a fork, a warning: the comment is
still in the job summary), 1 the comment could not be posted, 2 usage.

Anyone can paste the marker into a comment of their own: only a comment whose author is the token's
account (GraphQL's ``viewer``; an app such as GitHub Actions writes as ``<slug>[bot]``) and that starts with
the marker is updated. The token goes to GitHub's API origin only: a redirect elsewhere is refused.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ecs_overlay.report.markdown_escape import preformatted
from ecs_overlay.report.pr_comment import GITHUB_LIMIT, MARKER, TITLE


class PostError(Exception):
    """Why the comment could not be posted, as one line for the job's log."""


def failed_comment(status: str, errors: str) -> str:
    """The comment of a diff that stopped before any report (its messages never show secrets)."""
    body = errors.strip()[: GITHUB_LIMIT - 500]
    return f"{MARKER}\n## {TITLE}\n\nThe diff could not run (exit {status}):\n\n{preformatted(body.splitlines())}\n"


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect within the API's origin (a renamed repository); refuses any other, which
    urllib would follow with the Authorization header."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if origin(newurl) != origin(req.full_url):
            fp.close()
            raise PostError(
                f"GitHub's answer (HTTP {code}) redirects to {newurl}, another host than {req.full_url}; "
                "not followed, so that the token goes nowhere else. Check GITHUB_API_URL and GITHUB_GRAPHQL_URL"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def same_author(author: str, viewer: str) -> bool:
    """Logins compare without case; an app's comments are by ``<slug>[bot]``, GraphQL's viewer may say ``<slug>``."""

    def plain(login: str) -> str:
        login = login.strip().lower()
        return login.removesuffix("[bot]")

    return bool(author) and plain(author) == plain(viewer)


class GitHub:
    def __init__(self, api: str, graphql: str, token: str) -> None:
        self.api = api.rstrip("/")
        self.graphql = graphql
        self.token = token
        self.opener = urllib.request.build_opener(_SameOriginRedirects())

    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            url if "://" in url else f"{self.api}{url}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
            },
        )
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def viewer(self) -> str:
        """The login of the token's account (a user, or an app's bot)."""
        answer = self.call("POST", self.graphql, {"query": "query { viewer { login } }"})
        login = (((answer or {}).get("data") or {}).get("viewer") or {}).get("login")
        if not isinstance(login, str) or not login:
            errors = "; ".join(str(error.get("message")) for error in (answer or {}).get("errors") or [])
            raise PostError(f"GitHub's GraphQL API did not say which account the token is ({errors or 'no login'})")
        return login

    def own_comment(self, repository: str, number: str, viewer: str) -> int | None:
        """The id of the first comment by ``viewer`` that starts with the marker, reading every page."""
        page = 1
        while True:
            listed = self.call("GET", f"/repos/{repository}/issues/{number}/comments?per_page=100&page={page}")
            for comment in listed:
                author = (comment.get("user") or {}).get("login") or ""
                if same_author(author, viewer) and (comment.get("body") or "").startswith(MARKER):
                    return int(comment["id"])
            if len(listed) < 100:
                return None
            page += 1


def _graphql_url(api: str) -> str:
    """GITHUB_GRAPHQL_URL as the runner sets it, else beside the REST API (GitHub Enterprise: /api/graphql)."""
    configured = os.environ.get("GITHUB_GRAPHQL_URL")
    if configured:
        return configured
    api = api.rstrip("/")
    return api.removesuffix("/v3") + "/graphql" if api.endswith("/api/v3") else f"{api}/graphql"


def _answered(error: urllib.error.HTTPError) -> str:
    """GitHub's own message from an error answer, when it gave one."""
    try:
        message = json.loads(error.read() or b"{}").get("message")
    except (ValueError, AttributeError, OSError):
        message = None
    return f": {message[:300]}" if isinstance(message, str) and message else ""


def post(comment_file: str) -> int:
    missing = [name for name in ("GITHUB_REPOSITORY", "PR_NUMBER", "GITHUB_TOKEN") if not os.environ.get(name)]
    if missing:
        print(f"pr_comment.py: set {', '.join(missing)} (the Action sets them from the pull request)", file=sys.stderr)
        return 2
    try:
        body = Path(comment_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"pr_comment.py: cannot read the comment {comment_file}: {error}", file=sys.stderr)
        return 1
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    github = GitHub(api, _graphql_url(api), os.environ["GITHUB_TOKEN"])
    repository, number = os.environ["GITHUB_REPOSITORY"], os.environ["PR_NUMBER"]
    try:
        existing = github.own_comment(repository, number, github.viewer())
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
        print(
            f"pr_comment.py: the comment was not posted: GitHub answered HTTP {error.code} {error.reason} for "
            f"{error.url}{_answered(error)}",
            file=sys.stderr,
        )
        return 1
    except PostError as error:
        print(f"pr_comment.py: the comment was not posted: {error}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        print(f"pr_comment.py: the comment was not posted: cannot reach {github.api}: {error}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        print(
            f"pr_comment.py: the comment was not posted: GitHub's answer is not what its REST API documents "
            f"({type(error).__name__}: {error})",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--failed":
        try:
            errors = Path(argv[2]).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            print(f"pr_comment.py: cannot read the diff's messages {argv[2]}: {error}", file=sys.stderr)
            return 2
        sys.stdout.write(failed_comment(argv[1], errors))
        return 0
    if len(argv) == 1:
        return post(argv[0])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
