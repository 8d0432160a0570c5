"""Credential rules: where secrets come from, and credentials written as plain environment values."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import WARNING
from ..keyed import Item, Path
from ..provenance import BASE
from ..secrets import CREDENTIAL_WORDS as CREDENTIAL_WORDS  # re-exported: what is secret lives in secrets.py
from ..secrets import looks_like_credential as looks_like_credential
from ..secrets import secret_variables, shapes_in
from .context import RuleContext
from .registry import Problem, bad, good, rule

_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$")
# AWS's own pattern for a secret ARN allows "!": secrets that RDS manages are named "rds!cluster-…"
# (https://docs.aws.amazon.com/appsync/latest/APIReference/API_RdsDataApiConfig.html, secretArn).
_SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+"
    r"(:[^:]*(:[^:]*(:[^:]*)?)?)?$"
)
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]+$")


@rule(
    "secret-source",
    summary="`secrets[].valueFrom` is an SSM parameter (ARN or name) or a Secrets Manager ARN (optionally "
    "`:json-key:version-stage:version-id`); other ARNs are refused",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {secrets: {DB_PASSWORD: 'arn:aws:s3:::bucket/db.txt'}}}\n",
            path="containerDefinitions[web].secrets[DB_PASSWORD].valueFrom",
        ),
        good(
            "containerDefinitions: {web: {secrets: "
            "{DB_PASSWORD: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf:password::'}}}\n"
        ),
        good("containerDefinitions: {web: {secrets: {DB_PASSWORD: /shop/db}}}\n"),
        good(
            "containerDefinitions: {web: {secrets: {DB_PASSWORD: 'arn:aws:secretsmanager:eu-west-1:111111111111:"
            "secret:rds!cluster-c23e617a-3d11-46fb-9fc3-f0bd9dd4d32a-FKavUv:password::'}}}\n"
        ),
    ],
)
def secret_sources(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        for secret in container.get("secrets") or []:
            source = str(secret.get("valueFrom", ""))
            if source.startswith("arn:"):
                valid = bool(_SSM_ARN.match(source) or _SECRETS_MANAGER_ARN.match(source))
            else:
                valid = bool(_SSM_NAME.match(source))
            if not valid:
                yield Problem(
                    (*path, "secrets", Item(str(secret.get("name"))), "valueFrom"),
                    "valueFrom must be an SSM parameter (ARN or name) or a Secrets Manager secret ARN "
                    "(optionally :json-key:version-stage:version-id)",
                )


@rule(
    "plaintext-secret",
    summary="an environment variable whose name looks like a credential (`PASSWORD`, `SECRET`, `TOKEN`, "
    "`API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`, `CREDENTIAL`…) with a literal value: an error when an overlay "
    "sets it, a warning when the base has it. The value is never printed",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {environment: {STRIPE_SECRET_KEY: sk_live_x}}}\n",
            path="containerDefinitions[web].environment[STRIPE_SECRET_KEY]",
        ),
        good("allowPlaintext: [TOKEN_HEADER]\ncontainerDefinitions: {web: {environment: {TOKEN_HEADER: X-Auth}}}\n"),
    ],
)
def plaintext_secrets(ctx: RuleContext) -> Iterator[Problem]:
    for item_path, name, _ in _plaintext_environment(ctx):
        if not looks_like_credential(name):
            continue
        inherited = ctx.provenance.origin((*item_path, "value")).kind == BASE
        yield Problem(
            item_path,
            f"{name} looks like a credential but is a plain environment variable; move it to `secrets` "
            "(SSM or Secrets Manager), or list it under `allowPlaintext:` if it is not secret",
            WARNING if inherited else None,
        )


@rule(
    "interpolated-secret",
    summary="a plain environment value built from a `${VAR}` whose name looks like a credential "
    "(`DATABASE_URL: postgres://app:${DB_PASSWORD}@db/app`): the task definition would hold the credential in "
    "plain text, readable by anyone allowed to describe it; pass it with `secrets`. Names the variable, never "
    "the value",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    severity=WARNING,
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {environment: {DATABASE_URL: 'postgres://shop:${DB_PASSWORD:-}@db/shop'}}}\n",
            path="containerDefinitions[web].environment[DATABASE_URL]",
        ),
        good("containerDefinitions: {web: {environment: {DATABASE_HOST: '${DB_HOST:-db}'}}}\n"),
        good(
            "allowPlaintext: [DB_PASSWORD]\n"
            "containerDefinitions: {web: {environment: {DATABASE_URL: 'postgres://shop:${DB_PASSWORD:-}@db/shop'}}}\n"
        ),
    ],
)
def interpolated_secrets(ctx: RuleContext) -> Iterator[Problem]:
    # A credential-like name is plaintext-secret's to report; here, the names that do not look like one.
    for item_path, name, _ in _plaintext_environment(ctx):
        variables = secret_variables((*item_path, "value"), (ctx.provenance,))
        if looks_like_credential(name) or not variables or set(variables) & ctx.plaintext_allowed:
            continue
        used = ", ".join(f"${{{variable}}}" for variable in variables)
        yield Problem(
            item_path,
            f"{name} is built from {used}, so the task definition would hold that credential in plain text, "
            "readable by anyone allowed to describe it; pass it with `secrets` (SSM Parameter Store or Secrets "
            f"Manager) instead, or list {name} under `allowPlaintext:` if it is not secret",
        )


@rule(
    "embedded-secret",
    summary="a plain environment value that holds a secret by its shape: a URL with a password, an AWS access "
    "key, a token (GitHub, GitLab, Slack, Stripe, Google, npm, JWT), a private key, `password=…` (see "
    "src/ecs_overlay/secrets.py); move the credential to `secrets`. The value is never printed",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    severity=WARNING,
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {environment: {CACHE_URL: 'redis://:hunter2@cache:6379/0'}}}\n",
            path="containerDefinitions[web].environment[CACHE_URL]",
        ),
        bad(
            "containerDefinitions: {web: {environment: {UPLOADER: AKIAIOSFODNN7EXAMPLE}}}\n",
            path="containerDefinitions[web].environment[UPLOADER]",
        ),
        good("containerDefinitions: {web: {environment: {CACHE_URL: 'redis://cache:6379/0'}}}\n"),
        good(
            "containerDefinitions: {web: {environment: {DB_ARN: "
            "'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf'}}}\n"
        ),
        good("containerDefinitions: {web: {environment: {GIT_COMMIT: 9d8e7f6a1b2c3d4e5f60718293a4b5c6d7e8f901}}}\n"),
    ],
)
def embedded_secrets(ctx: RuleContext) -> Iterator[Problem]:
    for item_path, name, value in _plaintext_environment(ctx):
        if looks_like_credential(name) or secret_variables((*item_path, "value"), (ctx.provenance,)):
            continue  # plaintext-secret or interpolated-secret reports it
        kinds = shapes_in(value)
        if kinds:
            yield Problem(
                item_path,
                f"{name} holds {' and '.join(kinds)} in plain text; move the credential to `secrets` (SSM "
                f"Parameter Store or Secrets Manager), or list {name} under `allowPlaintext:` if it is not secret",
            )


def _plaintext_environment(ctx: RuleContext) -> Iterator[tuple[Path, str, str]]:
    """(item path, name, value) of each non-empty environment value not allowed as plain text."""
    for path, container in ctx.containers():
        for item in container.get("environment") or []:
            name, value = str(item.get("name")), item.get("value")
            if value and name not in ctx.plaintext_allowed:
                yield (*path, "environment", Item(name)), name, str(value)
