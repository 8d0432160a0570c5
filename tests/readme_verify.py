"""The README's verify example: ``python3 tests/readme_verify.py COMMAND…`` arranges an account on moto's
standalone server (127.0.0.1, seeded so that its ids repeat), writes ``environments/demo.yaml`` pointing at
it, and runs COMMAND against it; what it prints and its exit code are COMMAND's.

The account holds what the example base points at, except that the database secret's JSON has no
``password`` key; the environment adds a token whose secret is scheduled for deletion and reads the
Datadog key from a parameter in another account (111111111111), for which it names no role.

With README_VERIFY_MOTO_ENDPOINT set (tests/test_readme.py sets it to its worker's moto server), the account is
arranged on that server instead, emptied before and after, rather than on one started for this run.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

OTHER_ACCOUNT = "111111111111"
# A moto server already running (tests/conftest.py's moto_endpoint), to arrange the account on.
STARTED_SERVER = "README_VERIFY_MOTO_ENDPOINT"
TRUST_ECS_TASKS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def arrange(endpoint: str) -> str:
    """The account's resources; the environment overlay that points at them."""
    import boto3

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    iam, secrets, ssm, logs, ecr = (client(name) for name in ("iam", "secretsmanager", "ssm", "logs", "ecr"))
    for role in ("checkout-api-execution", "checkout-api-task"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_ECS_TASKS))
    database = secrets.create_secret(Name="checkout/db", SecretString=json.dumps({"username": "checkout"}))["ARN"]
    token = secrets.create_secret(Name="checkout/legacy-token", SecretString="not shown")["ARN"]
    secrets.delete_secret(SecretId=token, RecoveryWindowInDays=7)
    ssm.put_parameter(Name="/checkout/stripe-api-key", Value="not shown", Type="SecureString")
    for group in ("/ecs/checkout-api/firelens", "/ecs/checkout-api/datadog"):
        logs.create_log_group(logGroupName=group)
    ecr.create_repository(repositoryName="checkout-api")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "1" * 64,
                "size": 500,
                "platform": {"architecture": "arm64", "os": "linux"},
            }
        ],
    }
    ecr.put_image(
        repositoryName="checkout-api",
        imageManifest=json.dumps(index),
        imageTag="v1",
        imageManifestMediaType=index["mediaType"],
    )
    return (
        "family: checkout-api\n"
        "containerDefinitions:\n"
        "  web:\n"
        "    secrets:\n"
        f'      DB_PASSWORD: "{database}:password::"\n'
        f"      LEGACY_TOKEN: {token}\n"
        "  datadog-agent:\n"
        "    secrets:\n"
        f"      DD_API_KEY: arn:aws:ssm:eu-west-1:{OTHER_ACCOUNT}:parameter/datadog/api-key\n"
    )


def post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, method="POST")).read()


def run(command: list[str], endpoint: str) -> int:
    """COMMAND against the account arranged on moto's server at ``endpoint``, seeded so that its ids repeat."""
    post(f"{endpoint}/moto-api/seed?a=19")
    Path("environments").mkdir(exist_ok=True)
    Path("environments/demo.yaml").write_text(arrange(endpoint), encoding="utf-8")
    environ = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
    }
    return subprocess.run(command, env=environ, check=False).returncode


def main(command: list[str]) -> int:
    started = os.environ.get(STARTED_SERVER)
    if started:  # the test suite's server: empty, as a new one is, then left empty and unseeded for the next test
        post(f"{started}/moto-api/reset")
        try:
            return run(command, started)
        finally:
            post(f"{started}/moto-api/reset")
            post(f"{started}/moto-api/seed?a={random.SystemRandom().randrange(2**32)}")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log (nor moto's "not implemented")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        return run(command, f"http://{host}:{port}")
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
