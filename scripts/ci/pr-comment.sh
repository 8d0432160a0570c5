#!/usr/bin/env bash
# The Action's review step: `diff --all --against` the pull request's base as the PR comment, written to
# $COMMENT_FILE and the job summary, then posted (or updated in place) by pr_comment.py.
# Inputs from the environment: BASE_SHA (the PR's base commit), ECS_OVERLAY_ARGS, COMMENT_FILE
# (default ecs-overlay-comment.md), POST_COMMENT (default true), and for posting GITHUB_API_URL,
# GITHUB_GRAPHQL_URL (the runner sets both), GITHUB_REPOSITORY, PR_NUMBER, GITHUB_TOKEN.
set -uo pipefail
read -ra args <<< "${ECS_OVERLAY_ARGS:-}"
comment_file="${COMMENT_FILE:-ecs-overlay-comment.md}"
: "${BASE_SHA:?BASE_SHA: the pull request base commit (github.event.pull_request.base.sha)}"

# actions/checkout fetches one commit by default: bring the base commit in when it is missing.
if ! git rev-parse --quiet --verify "$BASE_SHA^{commit}" > /dev/null; then
  git fetch --quiet --no-tags --depth=1 origin "$BASE_SHA" || exit 3
fi

errors=$(mktemp)
ecs-overlay diff --all --against "$BASE_SHA" "${args[@]}" --format pr-comment > "$comment_file" 2> "$errors"
status=$?
cat "$errors" >&2
if [ ! -s "$comment_file" ]; then  # the run stopped before any report: the comment says why
  python3 "$(dirname "$0")/pr_comment.py" --failed "$status" "$errors" > "$comment_file"
fi
rm -f "$errors"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$comment_file" >> "$GITHUB_STEP_SUMMARY"
fi
if [ "${POST_COMMENT:-true}" = "true" ]; then
  python3 "$(dirname "$0")/pr_comment.py" "$comment_file" || exit $?
fi
exit "$status"
