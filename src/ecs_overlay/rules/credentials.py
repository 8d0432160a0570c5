"""Credential rules: where secrets come from, and credentials written as plain environment values."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..keyed import Item
from ..provenance import BASE
from .context import RuleContext
from .registry import Problem, bad, good, rule

CREDENTIAL_WORDS = (
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
    "CLIENT_KEY",
)

_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$")
# AWS's own pattern for a secret ARN allows "!": secrets that RDS manages are named "rds!cluster-…"
# (https://docs.aws.amazon.com/appsync/latest/APIReference/API_RdsDataApiConfig.html, secretArn).
_SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+"
    r"(:[^:]*(:[^:]*(:[^:]*)?)?)?$"
)
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]+$")


def looks_like_credential(name: str) -> bool:
    """Environment variable names that usually hold credentials (DB_PASSWORD, GITHUB_TOKEN, …)."""
    upper = name.upper()
    return any(word in upper for word in CREDENTIAL_WORDS)


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
    for path, container in ctx.containers():
        for item in container.get("environment") or []:
            name = str(item.get("name"))
            if not looks_like_credential(name) or name in ctx.plaintext_allowed or not item.get("value"):
                continue
            inherited = ctx.provenance.origin((*path, "environment", Item(name), "value")).kind == BASE
            yield Problem(
                (*path, "environment", Item(name)),
                f"{name} looks like a credential but is a plain environment variable; move it to `secrets` "
                "(SSM or Secrets Manager), or list it under `allowPlaintext:` if it is not secret",
                "warning" if inherited else None,
            )
