"""The only module that talks to AWS. Imported lazily: offline runs never load botocore.

One ``Ecs`` per run: one botocore session, one client per service and region (created on first use,
shared by every thread of the run), each reference described once.
Every AWS call ends within the run's deadline; every botocore failure, every configuration mistake
and every malformed answer becomes an AwsError (exit 3) that says what to do next, except ECS
refusing a task definition, which is invalid input (exit 1) with ECS's own words.
"""

from __future__ import annotations

import gzip
import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import botocore
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    DataNotFoundError,
    EndpointConnectionError,
    InvalidMaxRetryAttemptsError,
    InvalidRegionError,
    InvalidRetryModeError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.loaders import JSONFileLoader, Loader
from botocore.parsers import ResponseParserError

from .errors import AwsError, InvalidInputError
from .secrets import mask_text


def installed_ecs_model() -> tuple[str, Any]:
    """(the installed botocore's version, its ECS service model): what the shipped schemas are checked against."""
    return botocore.__version__, botocore.session.get_session().get_service_model("ecs")


_ACCESS_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
# Credentials AWS does not accept: a permission would not help, fresh credentials would.
_REFUSED_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
# What botocore raises, unwrapped, for a body of the wrong shape or a configuration value it cannot use.
_PLAIN_FAULTS = (ValueError, TypeError, AttributeError, KeyError, IndexError)
# ECS's ClientException when two registrations of one family overlap: a moment's contention, not a refusal
# of the definition (ECS's own text, as reported in hashicorp/terraform-provider-aws#9777).
_CONCURRENT_REGISTRATION = "Too many concurrent attempts to create a new revision"
_WAIT_SLICE = 0.25  # seconds between checks for a pending signal while an AWS call runs
_BOTOCORE_VALUE = re.compile(r", value: .*?, (type: <class|valid min)")
_REGISTER_PERMISSION = "ecs:RegisterTaskDefinition (and iam:PassRole on the task and execution roles)"
# What each service answers when the thing asked about does not exist (S3's HEAD answers a bare 404).
_MISSING = {
    "NoSuchEntity",
    "ParameterNotFound",
    "ResourceNotFoundException",
    "RepositoryNotFoundException",
    "ImageNotFoundException",
    "FileSystemNotFound",
    "AccessPointNotFound",
    "RuleNotFound",
    "ListenerNotFound",
    "NoSuchKey",
    "NoSuchBucket",
    "NotFound",
    "404",
    "TargetGroupNotFound",
}
# ECS's ClientException for a family or revision that does not exist (it has no error code of its own).
_NO_TASK_DEFINITION = "unable to describe task definition"
# An operation this endpoint does not offer (moto answers an unimplemented one with a bare HTTP 500).
_UNOFFERED = {"NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation"}
_MAX_DOWNLOAD = 4 * 1024 * 1024  # an image configuration is a few KiB
# A question AWS will not answer as asked (an identifier of the wrong form): no answer, not a failure.
_UNASKABLE = {"ValidationException", "InvalidParameterException", "InvalidParameterValue", "BadRequest"}
# Secrets Manager: a value its KMS key will not decrypt for the caller, or a secret in a state that refuses reads.
_UNASKABLE |= {"DecryptionFailure", "InvalidRequestException"}
# Bases a --services run describes at once. ECS throttles each account's calls per region with token buckets
# (cluster reads: a burst of 50, then 20 a second), shared with every other job of the account: eight at once
# stays modest; botocore's retry mode absorbs a throttled call, and one still throttled is asked again later.
DESCRIBE_CONCURRENCY = 8
MOST_AT_ONCE = 32  # the most ECS_OVERLAY_AWS_CONCURRENCY may ask for; every client's connection pool holds as many
CONCURRENCY_VARIABLE = "ECS_OVERLAY_AWS_CONCURRENCY"


def concurrency() -> int:
    """How many bases a run describes at once: ECS_OVERLAY_AWS_CONCURRENCY (1: one after another, as the
    run asks for them), else DESCRIBE_CONCURRENCY. Lower it where other jobs of the account are throttled."""
    text = os.environ.get(CONCURRENCY_VARIABLE, "").strip()
    if not text:
        return DESCRIBE_CONCURRENCY
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MOST_AT_ONCE):
        raise AwsError(
            f"{CONCURRENCY_VARIABLE}={text!r} is not a whole number from 1 to {MOST_AT_ONCE}; fix it or unset it "
            f"(the default is {DESCRIBE_CONCURRENCY} calls at once, 1 describes one base after another)"
        )
    return int(text)


class LiveBase(NamedTuple):
    """A base to describe: a family (family:revision, ARN), or the (cluster, service) whose running task
    definition it is; in a region, as a role (None: the configuration's, the standard chain's)."""

    reference: str | tuple[str, str]
    region: str | None = None
    role_arn: str | None = None


@dataclass
class _CallState:
    """What botocore's event hooks saw of one call; they run in the call's own thread (_CallThread)."""

    parsing: bool = False  # botocore is parsing an answer: a plain exception now means a malformed body
    dropped: list[str] = field(default_factory=list)  # fields of the answer the installed botocore does not know
    unreadable: bool = False  # the answer is not JSON
    passing: bool = False  # it failed for the moment (throttled, timed out, unreachable, AWS's 5xx), not for good


class _CallThread(threading.Thread):
    """The thread one AWS call runs in, carrying what the hooks see of that call: calls made at once by
    several threads (a --services run describing its bases) each keep their own."""

    def __init__(self, state: _CallState, work: Callable[[], None]) -> None:
        super().__init__(target=work, name="ecs-overlay-aws-call", daemon=True)
        self.state = state


def _hooked() -> _CallState:
    """The state of the call whose answer botocore is handling in this thread."""
    thread = threading.current_thread()
    return thread.state if isinstance(thread, _CallThread) else _CallState()


class Answer(NamedTuple):
    """What AWS said to a question verify asks: the answer, or why there is none.

    ``missing``: the thing does not exist; ``denied``: the caller lacks ``reason``'s permission;
    ``unanswered``: this endpoint does not offer the operation.
    """

    status: Literal["ok", "missing", "denied", "unanswered"]
    body: Any = None
    reason: str = ""


class Ecs:
    """The run's ECS connection: describe the base, find a service's task definition, register.

    ``timeout`` bounds each AWS call as a whole, retries included: connecting, sending, and reading
    the complete answer. Answers are kept for the run, so a reference is described once however
    many environments start from it.
    """

    def __init__(self, region: str | None = None, timeout: float = 30) -> None:
        self._region = region
        self._timeout = timeout
        self._session: Any = None
        self._clients: dict[tuple[str, str | None, str | None], Any] = {}  # by (service, region, role assumed)
        # Creating the session, its clients and a role's credentials is not safe from two threads at once;
        # using the clients is.
        self._creating = threading.RLock()
        self._assumed: dict[str, dict[str, str]] = {}  # each role assumed once per run
        self._described: dict[tuple[str | None, str | None, str], dict[str, Any]] = {}
        self._services: dict[tuple[str | None, str | None, str, str], str] = {}
        # A description that failed for good (not found, denied, malformed), kept as the answer: a base described
        # ahead (describe_bases) fails for the environment that asks for it, in the run's order, without being
        # asked again. A failure of the moment (throttled, timed out) is not kept: the run asks again itself.
        self._failed: dict[tuple[str | None, ...], AwsError] = {}
        self._asking: dict[tuple[str | None, ...], threading.Lock] = {}  # one thread asks; the others wait for it
        self._readonly: list[str] | None = None
        self._latest = threading.local()  # each thread's latest call (its _CallState), read once it has ended

    def describe_task_definition(
        self, reference: str, region: str | None = None, role_arn: str | None = None
    ) -> dict[str, Any]:
        """The describe output (``taskDefinition`` and ``tags``) for a family, family:revision or ARN."""
        client = self._client(_arn_region(reference), region, role_arn)
        key = (client.meta.region_name, role_arn, reference)

        def described() -> dict[str, Any]:
            response = self._call(
                client.describe_task_definition,
                "ecs:DescribeTaskDefinition",
                f"task definition '{reference}'",
                taskDefinition=reference,
                include=["TAGS"],
            )
            return self._checked_description(response)

        answer: dict[str, Any] = self._once(self._described, key, described)
        return answer

    def described_already(
        self, reference: str, region: str | None = None, role_arn: str | None = None
    ) -> dict[str, Any] | None:
        """The run's description of ``reference`` if it has one (no AWS call)."""
        client = self._client(_arn_region(reference), region, role_arn)
        return self._described.get((client.meta.region_name, role_arn, reference))

    def _once(self, answers: dict[Any, Any], key: tuple[str | None, ...], describe: Callable[[], Any]) -> Any:
        """``answers[key]``, described once per run however many threads ask for it at once; a failure too."""
        with self._creating:
            asking = self._asking.setdefault(key, threading.Lock())
        with asking:
            if key in self._failed:
                raise self._failed[key]
            if key not in answers:
                try:
                    answers[key] = describe()
                except AwsError as error:
                    latest = getattr(self._latest, "state", None)
                    if latest is None or not latest.passing:  # a moment's fault: asked again when the run asks
                        self._failed[key] = error
                    raise
        return answers[key]

    def describe_base(self, base: LiveBase) -> dict[str, Any]:
        """The describe output of a base: the task definition named, or the one the service runs."""
        reference = base.reference
        if isinstance(reference, tuple):
            reference = self.service_task_definition(*reference, base.region, base.role_arn)
        return self.describe_task_definition(reference, base.region, base.role_arn)

    def describe_bases(self, bases: Sequence[LiveBase], workers: int, finished: Callable[[int], None]) -> None:
        """Describe ``bases``, ``workers`` at a time, into the run's answers (failures kept as answers too);
        ``finished(index)`` in this thread as each is done.

        The workers are daemon threads: Ctrl-C ends the wait here, and the process does not wait for them.
        """
        pending: queue.SimpleQueue[int] = queue.SimpleQueue()
        done: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(bases)):
            pending.put(index)

        def work() -> None:
            while True:
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.describe_base(bases[index])
                except Exception:  # kept (an AwsError), or met again when the run asks for this base itself
                    pass
                finally:
                    done.put(index)

        for _ in range(min(workers, len(bases))):
            threading.Thread(target=work, name="ecs-overlay-describe", daemon=True).start()
        for _ in range(len(bases)):
            while True:
                try:
                    index = done.get(timeout=_WAIT_SLICE)  # in slices: a signal is handled between them
                except queue.Empty:
                    continue
                break
            finished(index)

    def _checked_description(self, response: Any) -> dict[str, Any]:
        taskdef = response.get("taskDefinition") if isinstance(response, dict) else None
        containers = taskdef.get("containerDefinitions") if isinstance(taskdef, dict) else None
        tags = response.get("tags", []) if isinstance(response, dict) else None
        seen: _CallState = self._latest.state
        if (
            seen.unreadable
            or not isinstance(taskdef, dict)
            or not isinstance(containers, list)
            or not all(isinstance(container, dict) for container in containers)
            or not isinstance(tags, list)
        ):
            raise AwsError(
                "AWS sent an incomplete or malformed DescribeTaskDefinition response (a cut connection, "
                "a proxy, or a wrong AWS_ENDPOINT_URL?); check AWS_ENDPOINT_URL and run again"
            )
        if seen.dropped:
            raise AwsError(
                f"the installed botocore {botocore.__version__} does not know these fields of the live task "
                f"definition and would drop them silently: {', '.join(seen.dropped)}. Upgrade it "
                "(pip install --upgrade ecs-overlay botocore) and run again"
            )
        return {"taskDefinition": taskdef, "tags": tags}

    def describe_only_fields(self) -> list[str]:
        """Read-only fields per the installed botocore, which may be newer than the shipped schema."""
        if self._readonly is None:
            from .schemagen import readonly_fields

            self._readonly = readonly_fields(self._model())
        return self._readonly

    def service_task_definition(
        self, cluster: str, service: str, region: str | None = None, role_arn: str | None = None
    ) -> str:
        """The ARN of the task definition that ``service`` runs now (its primary deployment's)."""
        client = self._client(None, region, role_arn)
        key = (client.meta.region_name, role_arn, cluster, service)

        def running() -> str:
            return str(self.describe_service(cluster, service, region, role_arn)["taskDefinition"])

        arn: str = self._once(self._services, key, running)
        return arn

    def region_name(self, region: str | None = None, role_arn: str | None = None) -> str | None:
        """The region the calls for ``region`` (and ``role_arn``) go to, as the configuration resolves it."""
        return str(self._client(None, region, role_arn).meta.region_name) or None

    def register(self, taskdef: dict[str, Any], region: str | None = None, role_arn: str | None = None) -> str:
        """Register ``taskdef`` as a new revision; the new revision's ARN."""
        client = self._client(None, region, role_arn)
        response = self._call(
            client.register_task_definition,
            _REGISTER_PERMISSION,
            f"family '{taskdef.get('family')}'",
            **taskdef,
        )
        registered = response.get("taskDefinition") if isinstance(response, dict) else None
        arn = registered.get("taskDefinitionArn") if isinstance(registered, dict) else None
        if not isinstance(arn, str):
            raise AwsError(
                "AWS sent a malformed RegisterTaskDefinition response (no taskDefinitionArn); the revision may "
                "have been registered: check with `aws ecs list-task-definitions` before running again"
            )
        return arn

    def describe_service(
        self, cluster: str, service: str, region: str | None = None, role_arn: str | None = None
    ) -> dict[str, Any]:
        """The service as DescribeServices tells it now (never cached: deploy polls it)."""
        client = self._client(None, region, role_arn)
        response = self._call(
            client.describe_services,
            "ecs:DescribeServices",
            f"cluster '{cluster}'",
            cluster=cluster,
            services=[service],
        )
        _running_task_definition(response, cluster, service)  # the same checks: found, active, well formed
        found: dict[str, Any] = next(s for s in response["services"] if s.get("status") != "INACTIVE")
        return found

    def update_service(
        self, cluster: str, service: str, region: str | None = None, role_arn: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """UpdateService with ``changes`` (taskDefinition, deploymentConfiguration); the service as updated."""
        client = self._client(None, region, role_arn)
        response = self._call(
            client.update_service,
            "ecs:UpdateService (and iam:PassRole on the task and execution roles)",
            f"cluster '{cluster}'",
            cluster=cluster,
            service=service,
            **changes,
        )
        updated = response.get("service") if isinstance(response, dict) else None
        if not isinstance(updated, dict):
            raise AwsError(
                "AWS sent a malformed UpdateService response; the service may have been updated: check with "
                "`aws ecs describe-services` before running again"
            )
        return updated

    def deregister_task_definition(self, arn: str, region: str | None = None, role_arn: str | None = None) -> None:
        """Deregister the revision ``arn`` (one that deploy registered and no service uses)."""
        client = self._client(None, region, role_arn)
        self._call(
            client.deregister_task_definition, "ecs:DeregisterTaskDefinition", f"revision '{arn}'", taskDefinition=arn
        )

    def request_problems(self, taskdef: dict[str, Any], operation: str = "RegisterTaskDefinition") -> list[str]:
        """What botocore's request validator refuses in a call of ``operation`` with these parameters
        (RegisterTaskDefinition's: a task definition), without calling AWS."""
        from botocore.validate import ParamValidator

        shape = self._model().operation_model(operation).input_shape
        assert shape is not None
        report = ParamValidator().validate(taskdef, shape)
        if not report.has_errors():
            return []
        # botocore quotes the offending value ("…, value: hunter2, type: …"); it may be a secret, so leave it out.
        lines = [_BOTOCORE_VALUE.sub(r", \1", line.strip()) for line in report.generate_report().splitlines()]
        return [line for line in lines if line]

    def _model(self) -> Any:
        """ECS's service model: the client's when one is open, else loaded without opening one."""
        for (service, _, _), client in list(self._clients.items()):  # a copy: other threads may add clients
            if service == "ecs":
                return client.meta.service_model
        with _translated("ecs:DescribeTaskDefinition"):
            return self._botocore_session().get_service_model("ecs")

    def _botocore_session(self) -> Any:
        with self._creating:
            return self._session or self._new_session()

    def _new_session(self) -> Any:
        if self._session is None:
            session = botocore.session.Session()
            try:
                data_path = session.get_config_variable("data_path")  # AWS_DATA_PATH, as botocore reads it
            except (ProfileNotFound, ConfigParseError):
                data_path = None  # reported by the first AWS call; `register --dry-run --base` needs none
            session.register_component("data_loader", _DataLoader(data_path))
            self._session = session
        return self._session

    def region(self, region: str | None = None) -> str | None:
        """The region calls go to: --region, then the environment's ``base.region``, then the AWS configuration."""
        session = self._botocore_session()
        with _translated("ecs:DescribeTaskDefinition"), self._creating:  # botocore reads its config files once
            # CodeBuild and the AWS SDKs set AWS_REGION; botocore itself reads AWS_DEFAULT_REGION.
            chosen: str | None = (
                self._region or region or session.get_config_variable("region") or os.environ.get("AWS_REGION")
            )
        return chosen

    def client(
        self, service: str, region: str | None = None, role_arn: str | None = None, resource_region: str | None = None
    ) -> Any:
        """The run's client for ``service`` as ``role_arn``, created once: in ``resource_region`` (where the
        resource lives, from its ARN) when given, else in ``region`` as ``region()`` resolves it."""
        return self._client(resource_region, region, role_arn, service=service, explicit=resource_region is not None)

    def call(
        self,
        service: str,
        operation: str,
        permission: str,
        subject: str = "",
        *,
        region: str | None = None,
        role_arn: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """One call that acts or follows an action (RunTask, CreateDeployment, DeregisterTaskDefinition, …;
        ``operation`` in botocore's snake_case): its answer, or AwsError as any other call."""
        client = self._client(None, region, role_arn, service=service)
        response = self._call(getattr(client, operation), permission, subject, **params)
        if not isinstance(response, dict):
            raise AwsError(
                f"AWS sent a malformed {_operation_name(getattr(client, operation))} response; check "
                "AWS_ENDPOINT_URL and run again"
            )
        return response

    def ask(
        self,
        service: str,
        operation: str,
        permission: str,
        *,
        region: str | None = None,
        role_arn: str | None = None,
        resource_region: str | None = None,
        **params: Any,
    ) -> Answer:
        """One read-only question (``operation`` in botocore's snake_case): its answer, or why there is none.

        Not existing, a missing permission and an operation the endpoint does not offer are answers,
        not failures; everything else (no credentials, no network, the deadline) raises AwsError as
        any other call does.
        """
        call = getattr(self.client(service, region, role_arn, resource_region), operation)
        outcome = self._attempt(call, **params)
        if isinstance(outcome, ClientError):
            details = outcome.response.get("Error", {})
            code = str(details.get("Code", ""))
            message = mask_text(str(details.get("Message", "")).strip())
            status = outcome.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _ACCESS_DENIED or code in ("403", "Forbidden"):  # S3's HEAD answers a bare 403
                return Answer("denied", reason=permission)
            if code in _MISSING or _NO_TASK_DEFINITION in message.lower():
                return Answer("missing", reason=message or code)
            # A 500 or 501 without an error code of its own: the endpoint has no such operation (moto's way).
            if code in _UNOFFERED or (status in (500, 501) and code in ("", str(status))):
                return Answer("unanswered", reason=f"{_operation_name(call)} is not offered by this endpoint")
            if code in _UNASKABLE:
                return Answer("unanswered", reason=f"AWS refused the question ({code}: {message or 'no message'})")
        if isinstance(outcome, ResponseParserError):  # an HTML error page where JSON or XML was due
            return Answer("unanswered", reason=f"{_operation_name(call)} is not offered by this endpoint")
        return Answer("ok", self._finished(outcome, call, permission, ""))

    def _client(
        self,
        region_hint: str | None = None,
        region: str | None = None,
        role_arn: str | None = None,
        service: str = "ecs",
        explicit: bool = False,
    ) -> Any:
        """The client of ``service`` in a region (and assumed role), created once: ``--region``, then the
        environment's ``base.region``, then the AWS configuration, then the ARN's region.

        ``explicit``: ``region_hint`` is where the resource lives (an ARN's region), so it wins.
        """
        configured = self.region(region)
        permission = "ecs:DescribeTaskDefinition" if service == "ecs" else f"{service}:*"
        with _translated(permission), self._creating:
            chosen = region_hint if explicit else (configured or region_hint)
            key = (service, chosen, role_arn)
            if key not in self._clients:
                credentials = self._role_credentials(role_arn, chosen) if role_arn else {}
                client = self._create_client(service, chosen, **credentials)
                if service == "ecs":
                    client.meta.events.register("after-call.ecs.DescribeTaskDefinition", self._check_dropped)
                    client.meta.events.register("before-send.ecs", self._sending)
                    client.meta.events.register("before-parse.ecs", self._parsing_answer)
                self._clients[key] = client
        return self._clients[key]

    def _create_client(self, service: str, region: str | None, **credentials: str) -> Any:
        session = self._botocore_session()
        _check_max_attempts(session)
        retries: Any = {"mode": os.environ.get("AWS_RETRY_MODE", "standard")}
        config = Config(
            retries=retries,
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            max_pool_connections=MOST_AT_ONCE,  # a connection per describing thread (botocore's default: 10)
        )
        try:
            return session.create_client(service, region_name=region, config=config, **credentials)
        except InvalidRegionError:
            raise AwsError(
                f"{json.dumps(region)} is not an AWS region name; set AWS_REGION (or --region, or the environment's "
                "base.region) to one such as eu-west-1"
            ) from None
        except ValueError as error:  # botocore raises bare ValueErrors for several settings
            raise AwsError(_unusable_configuration(error)) from None

    def _role_credentials(self, role_arn: str, region: str | None) -> dict[str, str]:
        """Temporary credentials of ``role_arn`` (the environment's ``base.roleArn``), assumed once per run
        with the standard chain's credentials, through the regional STS endpoint."""
        if role_arn not in self._assumed:
            sts = self._create_client("sts", region)
            try:
                response = self._call(
                    sts.assume_role,
                    f"sts:AssumeRole on {role_arn}, and the role's trust policy must allow the caller",
                    f"role '{role_arn}'",
                    RoleArn=role_arn,
                    RoleSessionName="ecs-overlay",
                )
            except AwsError as error:
                raise AwsError(
                    f"cannot assume role {role_arn} (the environment's base.roleArn): {error.message}"
                ) from None
            found = response.get("Credentials") if isinstance(response, dict) else None
            if not isinstance(found, dict) or not all(
                isinstance(found.get(key), str) for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")
            ):
                raise AwsError(f"AWS sent a malformed AssumeRole response for {role_arn}; check AWS_ENDPOINT_URL")
            self._assumed[role_arn] = {
                "aws_access_key_id": found["AccessKeyId"],
                "aws_secret_access_key": found["SecretAccessKey"],
                "aws_session_token": found["SessionToken"],
            }
        return self._assumed[role_arn]

    def _call(self, operation: Callable[..., Any], permission: str, subject: str, **params: Any) -> Any:
        """``operation(**params)`` within the deadline, botocore's failures translated.

        botocore bounds each socket read, not the whole answer: a body that trickles in byte by byte
        would be read for ever. The call runs in a daemon thread (it never keeps the process alive);
        this thread waits at most the deadline, and Ctrl-C still interrupts the wait.
        """
        return self._finished(self._attempt(operation, **params), operation, permission, subject)

    def _attempt(self, operation: Callable[..., Any], **params: Any) -> Any:
        """``operation(**params)``'s result, or the exception it raised; AwsError past the deadline."""
        outcome: list[Any] = []
        finished = threading.Event()
        self._latest.state = state = _CallState()

        def work() -> None:
            try:
                outcome.append(operation(**params))
            except Exception as error:  # handed to the waiting thread, which translates it
                outcome.append(error)
            finally:
                finished.set()

        _CallThread(state, work).start()
        deadline = time.monotonic() + self._timeout
        # In slices: CPython runs a signal handler between bytecodes, so a Ctrl-C that lands just before a
        # wait begins would otherwise wait out the whole deadline.
        while not finished.wait(min(_WAIT_SLICE, max(deadline - time.monotonic(), 0.0))):
            if time.monotonic() >= deadline:
                state.passing = True
                raise AwsError(_timed_out(self._timeout, _operation_name(operation)))
        return outcome[0]

    def _finished(self, result: Any, operation: Callable[..., Any], permission: str, subject: str) -> Any:
        """The result of an attempt, or its failure translated."""
        name = _operation_name(operation)
        if isinstance(result, _PLAIN_FAULTS) and self._latest.state.parsing:
            raise AwsError(
                f"AWS sent a malformed {name} response (botocore cannot parse it); check AWS_ENDPOINT_URL and run again"
            )
        if isinstance(result, Exception):
            self._latest.state.passing = _passing(result)
            with _translated(permission, subject, name, self._timeout):
                raise result
        return result

    def _sending(self, **_: Any) -> None:
        _hooked().parsing = False

    def download(self, url: str) -> bytes | None:
        """The body at a URL AWS handed out (ECR's presigned layer URL), within the deadline; None when it
        cannot be had (the caller then says it could not check)."""
        import urllib.request

        def download_layer() -> bytes:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                body: bytes = response.read(_MAX_DOWNLOAD)
                return body

        if not url.startswith(("https://", "http://")):
            return None
        outcome = self._attempt(download_layer)
        return outcome if isinstance(outcome, bytes) else None

    def _parsing_answer(self, **_: Any) -> None:
        _hooked().parsing = True

    def _check_dropped(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        try:
            raw = json.loads(http_response.content)
        except ValueError:
            _hooked().unreadable = True
            return
        _hooked().dropped = list(_unparsed(raw, parsed, ""))


class _PlainJsonFiles(JSONFileLoader):
    """botocore's data files decoded into plain dicts (ordered, as every dict is) instead of OrderedDicts:
    the 1.2 MB endpoints.json every client reads decodes about four times faster. A process that runs
    several commands (the Python API, the test suite) decodes each file once: botocore only reads them."""

    def load_file(self, file_path: str) -> Any:
        return _decoded(file_path)


_DECODED: dict[str, Any] = {}  # file path → its data, for the files that exist


def _decoded(file_path: str) -> Any:
    if file_path in _DECODED:
        return _DECODED[file_path]
    for extension, opener in ((".json", open), (".json.gz", gzip.open)):
        try:
            with opener(file_path + extension, "rb") as stream:
                data = json.loads(stream.read().decode("utf-8"))
        except FileNotFoundError:
            continue
        _DECODED[file_path] = data
        return data
    return None


class _DataLoader(Loader):
    """botocore's data loader with the same search paths (AWS_DATA_PATH, ~/.aws/models, botocore's data),
    except that loading a model does not list the ~400 services of botocore's data directory (about 900
    file checks) only to confirm that the one asked for is among them."""

    def __init__(self, data_path: str | None) -> None:
        extra = [os.path.expanduser(path) for path in data_path.split(os.pathsep)] if data_path else []
        super().__init__(extra_search_paths=extra, file_loader=_PlainJsonFiles())

    def list_available_services(self, type_name: str) -> _ServiceNames:  # type: ignore[override]
        return _ServiceNames(self, type_name)


class _ServiceNames:
    """The services botocore knows, asked one name at a time (ECS, and STS or SSO for credentials):
    ``name in services`` looks in that service's directory alone; iterating lists them all, as botocore does."""

    def __init__(self, loader: _DataLoader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name

    def __contains__(self, name: object) -> bool:
        try:
            return isinstance(name, str) and bool(self._loader.list_api_versions(name, self._type_name))
        except DataNotFoundError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(Loader.list_available_services(self._loader, self._type_name))


def _operation_name(operation: Callable[..., Any]) -> str:
    """``describe_task_definition`` → ``DescribeTaskDefinition``, as AWS and IAM name it."""
    return "".join(part.capitalize() for part in getattr(operation, "__name__", "call").split("_"))


def _passing(error: Exception) -> bool:
    """A failure of the moment, which asking again later may not meet: throttled, timed out, unreachable, 5xx."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in _THROTTLED or (isinstance(status, int) and status >= 500)
    return isinstance(error, (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, ConnectionClosedError))


def _timed_out(timeout: float, operation: str) -> str:
    message = (
        f"cannot reach AWS: {operation} timed out after {timeout:g} s (--aws-timeout, retries included); "
        "check the network and AWS_ENDPOINT_URL, or raise --aws-timeout"
    )
    if operation == "RegisterTaskDefinition":  # the request may have arrived, only its answer not
        message += "; the revision may have been registered all the same: see `aws ecs list-task-definitions`"
    return message


def _running_task_definition(response: Any, cluster: str, service: str) -> str:
    services = response.get("services") if isinstance(response, dict) else None
    if not isinstance(services, list) or not all(isinstance(found, dict) for found in services):
        raise AwsError("AWS sent a malformed DescribeServices response; check AWS_ENDPOINT_URL and run again")
    for found in services:
        if found.get("status") != "INACTIVE":
            arn = found.get("taskDefinition")
            if not isinstance(arn, str) or not arn:
                raise AwsError(
                    f"AWS described service '{service}' without its task definition; check AWS_ENDPOINT_URL "
                    "and run again"
                )
            return arn
    raise AwsError(
        f"service '{service}' not found in cluster '{cluster}'; check --cluster and --service (and the region)"
    )


def _unusable_configuration(error: Exception) -> str:
    """What to say when botocore cannot use a setting: the endpoint URL by name when it is the one."""
    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    for name in ("AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL"):
        url = os.environ.get(name)
        try:
            valid = not url or is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)
        except ValueError:  # urllib's own complaint, e.g. about an unclosed [
            valid = False
        if not valid:
            return (
                f"{name}={json.dumps(url)} is not a URL; set it to one such as https://ecs.eu-west-1.amazonaws.com, "
                "or unset it"
            )
    return (
        f"botocore cannot use the AWS configuration ({error}); check the AWS_* environment variables and "
        "the AWS config files"
    )


def _check_max_attempts(session: Any) -> None:
    """botocore reads max_attempts with int() and would raise a bare ValueError."""
    try:
        session.get_config_variable("max_attempts")
    except ValueError:
        raise AwsError(_max_attempts_message()) from None


def _max_attempts_message() -> str:
    where = (
        f"AWS_MAX_ATTEMPTS={os.environ['AWS_MAX_ATTEMPTS']!r}"
        if "AWS_MAX_ATTEMPTS" in os.environ
        else "max_attempts in the AWS config file"
    )
    return f"{where} is not a whole number of at least 1; fix it or unset it (the default is 3 attempts)"


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
def _translated(permission: str, subject: str = "", operation: str = "", timeout: float = 0) -> Iterator[None]:
    """Turn botocore's exceptions (and the configuration faults it raises as plain ones) into errors
    with a next step."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsError(
            "no AWS credentials found. Configure them (aws configure, AWS_PROFILE, or the CodeBuild "
            "service role), or render offline with --base FILE"
        ) from None
    except (SSOError, TokenRetrievalError, CredentialRetrievalError) as error:
        raise AwsError(
            f"cannot get AWS credentials: {str(error).rstrip('.')}; refresh them (aws sso login, or the profile's "
            "credential_process or role settings) and run again"
        ) from None
    except NoRegionError:
        raise AwsError("no AWS region configured; set AWS_REGION or pass --region") from None
    except ProfileNotFound as error:
        raise AwsError(
            f"AWS profile '{error.kwargs.get('profile')}' not found in the AWS config files; set AWS_PROFILE to "
            "one that `aws configure list-profiles` lists, or unset it"
        ) from None
    except ConfigParseError as error:
        path = str(error.kwargs.get("path"))
        credentials = os.path.expanduser(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))
        variable = "AWS_SHARED_CREDENTIALS_FILE" if path == credentials else "AWS_CONFIG_FILE"
        raise AwsError(
            f"cannot parse the AWS config file {path}; fix its INI syntax, or point {variable} at a valid one"
        ) from None
    except InvalidMaxRetryAttemptsError:
        raise AwsError(_max_attempts_message()) from None
    except InvalidRetryModeError:
        raise AwsError(
            f"AWS_RETRY_MODE={os.environ.get('AWS_RETRY_MODE', '')!r} is not a retry mode; "
            "use standard, adaptive or legacy, or unset it"
        ) from None
    except (ConnectTimeoutError, ReadTimeoutError):
        raise AwsError(_timed_out(timeout, operation or "the call")) from None
    except (EndpointConnectionError, ConnectionClosedError) as error:
        raise AwsError(
            mask_text(f"cannot reach AWS: {error}; check the network, AWS_REGION and AWS_ENDPOINT_URL")
        ) from None
    except ClientError as error:
        _raise_client_error(error, permission, subject, operation)
    except BotoCoreError as error:
        raise AwsError(
            mask_text(f"AWS call failed: {str(error).rstrip('.')}; ")
            + "check the AWS_* environment variables and the AWS config files"
        ) from None
    except OSError as error:  # a file the AWS configuration names: a web-identity token, a CA bundle
        raise AwsError(
            f"cannot read {error.filename or 'a file'} named by the AWS configuration ({error.strerror}); "
            "check AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CA_BUNDLE and the AWS config files"
        ) from None
    except _PLAIN_FAULTS as error:  # e.g. AWS_METADATA_SERVICE_TIMEOUT=abc, read while finding credentials
        raise AwsError(_unusable_configuration(error)) from None


def _raise_client_error(error: ClientError, permission: str, subject: str, operation: str) -> None:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = mask_text(str(details.get("Message", "")).strip())  # AWS's own words may quote a request value
    if operation == "RegisterTaskDefinition" and _CONCURRENT_REGISTRATION in message:
        raise AwsError(
            f"ECS is registering another revision of {subject} at this moment ({code}: {message}); "
            "nothing was registered; run again in a moment"
        ) from None
    if operation == "RegisterTaskDefinition" and code in ("ClientException", "InvalidParameterException"):
        # ECS refusing the definition's content: invalid input, in ECS's own words.
        raise InvalidInputError(
            f"ECS refused the task definition: {message or code}; fix the overlay (or the base) and run again; "
            "nothing was registered"
        ) from None
    raise AwsError(_client_error_message(error, code, message, permission, subject, operation)) from None


def _client_error_message(
    error: ClientError, code: str, message: str, permission: str, subject: str, operation: str
) -> str:
    metadata = error.response.get("ResponseMetadata", {})
    attempts = metadata.get("RetryAttempts", 0)
    if code in _ACCESS_DENIED:
        return f"access denied: the caller needs {permission} ({message or code}); grant it in the IAM policy"
    if code in _REFUSED_CREDENTIALS:
        return (
            f"AWS does not accept these credentials ({code}: {message or 'no message'}); refresh them "
            "(aws sso login, aws configure, AWS_SESSION_TOKEN, or the CodeBuild service role) and run again"
        )
    if code in _THROTTLED:
        return (
            f"AWS throttled the request ({code}) and it still failed after {attempts} retries; "
            "run again later, or raise AWS_MAX_ATTEMPTS"
        )
    if code == "ClusterNotFoundException":
        return f"{subject or 'cluster'} not found ({message}); check --cluster and the region"
    if code == "ServiceNotFoundException":
        return f"service not found ({message}); check --service and the region"
    if (
        operation == "DescribeTaskDefinition"
        and code in ("ClientException", "InvalidParameterException")
        and _NO_TASK_DEFINITION in message.lower()
    ):
        return f"{subject or 'task definition'} not found ({message}); check the family name and the region"
    status = metadata.get("HTTPStatusCode")
    if isinstance(status, int) and status >= 500:
        return (
            f"AWS failed with HTTP {status} ({code or 'no code'}) and still failed after {attempts} retries; "
            "run again later"
        )
    return f"AWS refused {operation or 'the call'} ({code or status}): {message or 'no message'}"
