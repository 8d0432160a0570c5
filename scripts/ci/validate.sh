#!/usr/bin/env bash
# The Action's validate step: SARIF for code scanning (written to $SARIF_FILE) and annotations on the
# overlay lines for the run's log; exits as validate does (0 clean or warnings only, 1 errors).
# Inputs from the environment: ECS_OVERLAY_ARGS (e.g. "--services services --base snapshots"),
# SARIF_FILE (default ecs-overlay.sarif).
set -uo pipefail
read -ra args <<< "${ECS_OVERLAY_ARGS:-}"
sarif_file="${SARIF_FILE:-ecs-overlay.sarif}"

ecs-overlay validate "${args[@]}" --format sarif > "$sarif_file"
status=$?
if [ "$status" -gt 1 ]; then  # usage (2) or AWS/I-O (3): no report was written, say so and stop
  echo "::error title=ecs-overlay validate::validate exited $status; see the messages above" >&2
  exit "$status"
fi
ecs-overlay validate "${args[@]}" --format github 2> /dev/null
exit "$status"
