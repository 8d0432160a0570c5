"""The only module that talks to AWS. Imported lazily: offline runs never load boto3.

Every botocore failure becomes an AwsError (exit 3) that says what to do next.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from .errors import AwsError
from .secrets import mask_text

_ACCESS_DENIED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidSignatureException",
}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}


class Ecs:
    """A thin ECS client: describe the base, find a service's task definition, register."""

    def __init__(self, region: str | None = None, timeout: float = 30) -> None:
        self._region = region
        self._timeout = timeout
        self._client: Any = None
        self._dropped: list[str] = []
        self._unreadable = False

    def _ecs(self, region_hint: str | None = None) -> Any:
        if self._client is None:
            session = boto3.session.Session()
            # CodeBuild and the AWS SDKs set AWS_REGION; botocore itself reads AWS_DEFAULT_REGION.
            region = self._region or session.region_name or os.environ.get("AWS_REGION") or region_hint
            retries: Any = {"mode": os.environ.get("AWS_RETRY_MODE", "standard")}
            config = Config(retries=retries, connect_timeout=self._timeout, read_timeout=self._timeout)
            with _translated("ecs:DescribeTaskDefinition"):
                self._client = session.client("ecs", region_name=region, config=config)
            self._client.meta.events.register("after-call.ecs.DescribeTaskDefinition", self._check_dropped)
        return self._client

    def describe_task_definition(self, reference: str) -> dict[str, Any]:
        """The describe output (``taskDefinition`` and ``tags``) for a family, family:revision or ARN."""
        client = self._ecs(_arn_region(reference))
        self._dropped, self._unreadable = [], False
        with _translated("ecs:DescribeTaskDefinition", f"task definition '{reference}'"):
            response = client.describe_task_definition(taskDefinition=reference, include=["TAGS"])
        if self._unreadable or not isinstance(response.get("taskDefinition"), dict):
            raise AwsError(
                "AWS sent an incomplete or unreadable DescribeTaskDefinition response (a cut connection "
                "or a proxy?); run again"
            )
        if self._dropped:
            raise AwsError(
                f"the installed botocore {botocore.__version__} does not know these fields of the live task "
                f"definition and would drop them silently: {', '.join(self._dropped)}. Upgrade it "
                "(pip install --upgrade ecs-overlay boto3 botocore) and run again"
            )
        return {"taskDefinition": response["taskDefinition"], "tags": response.get("tags", [])}

    def describe_only_fields(self) -> list[str]:
        """Read-only fields per the installed botocore, which may be newer than the shipped schema."""
        from .schemagen import readonly_fields

        return readonly_fields(self._ecs().meta.service_model)

    def service_task_definition(self, cluster: str, service: str) -> str:
        """The ARN of the task definition that ``service`` runs now (its primary deployment's)."""
        client = self._ecs()
        with _translated("ecs:DescribeServices", f"cluster '{cluster}'"):
            response = client.describe_services(cluster=cluster, services=[service])
        for found in response.get("services", []):
            if found.get("status") != "INACTIVE":
                arn: str = found["taskDefinition"]
                return arn
        raise AwsError(
            f"service '{service}' not found in cluster '{cluster}'; check --cluster and --service (and the region)"
        )

    def register(self, taskdef: dict[str, Any]) -> str:
        """Register ``taskdef`` as a new revision; the new revision's ARN."""
        client = self._ecs()
        permission = "ecs:RegisterTaskDefinition (and iam:PassRole on the task and execution roles)"
        with _translated(permission, f"family '{taskdef.get('family')}'"):
            response = client.register_task_definition(**taskdef)
        arn: str = response["taskDefinition"]["taskDefinitionArn"]
        return arn

    def _check_dropped(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        try:
            raw = json.loads(http_response.content)
        except ValueError:
            self._unreadable = True
            return
        self._dropped = list(_unparsed(raw, parsed, ""))


def request_problems(taskdef: dict[str, Any]) -> list[str]:
    """What botocore's request validator refuses in a RegisterTaskDefinition call (no AWS call)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    assert shape is not None
    report = ParamValidator().validate(taskdef, shape)
    if not report.has_errors():
        return []
    # botocore quotes the offending value ("…, value: hunter2, type: …"); it may be a secret, so leave it out.
    lines = [_BOTOCORE_VALUE.sub(r", \1", line.strip()) for line in report.generate_report().splitlines()]
    return [line for line in lines if line]


_BOTOCORE_VALUE = re.compile(r", value: .*?, (type: <class|valid min)")


def _unparsed(raw: Any, parsed: Any, prefix: str) -> Iterator[str]:
    """Paths present (non-null) in the raw JSON body but absent from botocore's parsed result."""
    if isinstance(raw, dict) and isinstance(parsed, dict):
        for key, value in raw.items():
            path = f"{prefix}.{key}" if prefix else key
            if key not in parsed:
                if value is not None:
                    yield path
            else:
                yield from _unparsed(value, parsed[key], path)
    elif isinstance(raw, list) and isinstance(parsed, list):
        for index, (raw_item, parsed_item) in enumerate(zip(raw, parsed, strict=False)):
            name = raw_item.get("name") if isinstance(raw_item, dict) else None
            yield from _unparsed(raw_item, parsed_item, f"{prefix}[{name if name else index}]")


def _arn_region(reference: str) -> str | None:
    parts = reference.split(":")
    return parts[3] if reference.startswith("arn:") and len(parts) > 3 and parts[3] else None


@contextmanager
def _translated(permission: str, subject: str = "") -> Iterator[None]:
    """Turn botocore's exceptions into AwsErrors with a next step."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsError(
            "no AWS credentials found. Configure them (aws configure, AWS_PROFILE, or the CodeBuild "
            "service role), or render offline with --base FILE"
        ) from None
    except NoRegionError:
        raise AwsError("no AWS region configured; set AWS_REGION or pass --region") from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as error:
        raise AwsError(
            mask_text(f"cannot reach AWS: {error}; check the network, AWS_REGION and AWS_ENDPOINT_URL")
        ) from None
    except ClientError as error:  # AWS's own messages may quote a request value
        raise AwsError(mask_text(_client_error_message(error, permission, subject))) from None
    except BotoCoreError as error:
        raise AwsError(mask_text(f"AWS call failed: {error}")) from None


def _client_error_message(error: ClientError, permission: str, subject: str) -> str:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")).strip()
    if code in _ACCESS_DENIED:
        return f"access denied: the caller needs {permission} ({message or code}); grant it in the IAM policy"
    if code in _THROTTLED:
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        return (
            f"AWS throttled the request ({code}) and it still failed after {attempts} retries; "
            "run again later, or raise AWS_MAX_ATTEMPTS"
        )
    if code == "ClusterNotFoundException":
        return f"{subject or 'cluster'} not found ({message}); check --cluster and the region"
    if code == "ServiceNotFoundException":
        return f"service not found ({message}); check --service and the region"
    if code in ("ClientException", "InvalidParameterException") and "task definition" in message.lower():
        return f"{subject or 'task definition'} not found ({message}); check the family name and the region"
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if isinstance(status, int) and status >= 500:
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        return (
            f"AWS failed with HTTP {status} ({code or 'no code'}) and still failed after {attempts} retries; "
            "run again later"
        )
    return f"AWS refused the call ({code or status}): {message or 'no message'}"
