"""Shared fixtures: the example files, the command (in-process with ``invoke``, as a subprocess with
``run_cli`` for the end-to-end layer), and moto's standalone server."""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import socketserver

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_BASE = REPO / "examples" / "sample-app" / "describe-task-definition.json"
EXAMPLE_ENVIRONMENTS = REPO / "environments"


def _end_worker_now() -> None:
    """An xdist worker that has reported its last result ends at once: its interpreter would otherwise spend
    a second or more freeing what the run built (moto's backends, botocore's models, hypothesis's data) while
    the controller waits for it. Registered as the tests load, this runs after the exit handlers of what they
    import (atexit calls the last registered first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_end_worker_now)


def pytest_configure(config: pytest.Config) -> None:
    """Let pytest keep the test modules it has rewritten for its assertions (in tests/__pycache__), as it does
    wherever PYTHONDONTWRITEBYTECODE is unset: with it set (as on our machines) each worker parses and rewrites
    every test module again at every run, about 1.7 s of each worker's 2.9 s of collection. Only this process
    writes bytecode: the commands the tests start still inherit the variable.

    And collect garbage in full rarely. What a test process keeps grows all run long (moto's backends, the
    botocore models each service's first client decodes, hypothesis's data): a full collection walks all of it,
    about 0.2 s each time by the end, and CPython's default thresholds ran about 25 of them in the busier of two
    workers, 5 s of its CPU. The young generations are still collected as usual (a file or socket a test leaks in
    a cycle is young: its warning fails that test or the next), and in full once more as the last test ends
    (``collected_in_full_at_the_end``); a worker peaks at about 600 MB instead of 460.

    And botocore made quicker to make clients with (``_quicker_botocore_clients``), before any test makes one."""
    sys.dont_write_bytecode = False
    _quicker_botocore_clients()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)
    if hasattr(config, "workerinput"):
        # pytest's own full collections after the last test, which ``collected_in_full_at_the_end`` makes
        # before it: in an xdist worker what they find is reported nowhere, and they cost a second at the end.
        from _pytest import unraisableexception

        config.stash[unraisableexception.gc_collect_iterations_key] = 0


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (the imported modules, the tests) lives to the end: a full collection need not walk
    it again (a quarter of each one's cost)."""
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end tests first, the rest in file order: they are the long ones (pre-commit building its hook,
    wheels, the kit's scripts, about a third of the suite's time in 48 tests), and a long test started last keeps
    one worker busy after the other has run out of tests."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the package's modules once, before any worker starts. pip compiles a regular install; an editable one
    leaves src/ to be compiled by each interpreter that imports it, and where PYTHONDONTWRITEBYTECODE is set (as on
    our machines) every run of the installed command (the end-to-end layer, the kit's scripts) would compile the
    whole package again: about a third of its start-up."""
    if not hasattr(session.config, "workerinput"):  # the xdist controller, or a run without workers
        import compileall

        compileall.compile_dir(REPO / "src" / "ecs_overlay", quiet=1)


def installed_command() -> str:
    """The ``ecs-overlay`` console script installed next to this interpreter."""
    candidate = Path(sys.executable).parent / "ecs-overlay"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ecs-overlay")
    if found is None:
        pytest.fail("ecs-overlay is not installed; run the README's test command (pip install -e '.[test]')")
    return found


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def copy_checkout(destination: Path) -> None:
    """This working tree's files (untracked ones too, ignored ones not) copied to ``destination``:
    what a commit of it, or a checkout of it, would hold."""
    ls_files = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
    listed = subprocess.run(ls_files, cwd=REPO, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment without any real AWS settings: tests never reach AWS."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("DEPLOY_ENV", "IMAGE_ARCH")
    }
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
        }
    )
    env.update(extra or {})
    return env


@pytest.fixture(scope="session", autouse=True)
def collected_in_full_at_the_end() -> Iterator[None]:
    """A full garbage collection in the last test's teardown, so that a file or socket leaked anywhere in the
    run warns while a test can still fail for it: pytest's own full collection at the end comes after an xdist
    worker has sent its last report, and what it finds there never reaches the run's result."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from ``clean_environ()``: a developer's or CI's AWS settings, DEPLOY_ENV or
    IMAGE_ARCH never reach the command, however a test runs it (fixtures may set what they need after)."""
    _become(monkeypatch, clean_environ())


def _become(patch: pytest.MonkeyPatch, environ: Mapping[str, str]) -> None:
    """The process environment made ``environ`` through ``patch`` (which restores it): only the variables
    that differ are touched, each a putenv."""
    for key in set(os.environ) - set(environ):
        patch.delenv(key)
    for key, value in environ.items():
        if os.environ.get(key) != value:
            patch.setenv(key, value)


def run_installed(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> Run:
    """Run the installed command as a subprocess, as a user would."""
    process = subprocess.run(
        [installed_command(), *args],
        cwd=cwd,
        env=clean_environ(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(process.returncode, process.stdout, process.stderr)


def run_in_process(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> Run:
    """Run the command in this process with click's CliRunner, in ``cwd`` with ``clean_environ(env)``
    as the whole environment; everything is restored afterwards.

    An exception the command does not turn into an exit code is raised here, traceback and all, and a
    printed traceback fails too: a foreseeable fault must never reach a user as one.
    """
    from click.testing import CliRunner

    from ecs_overlay.cli import cli

    with pytest.MonkeyPatch.context() as patch:
        _become(patch, clean_environ(env))
        if cwd is not None:
            patch.chdir(cwd)
        result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="ecs-overlay", catch_exceptions=False)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return Run(result.exit_code, result.stdout, result.stderr)


def without_static_credentials(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: botocore must find credentials elsewhere."""
    return {key: value for key, value in env.items() if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}


@pytest.fixture
def invoke() -> Callable[..., Run]:
    """``invoke(*args, cwd=, env=, stdin=)``: the command in-process, the default for CLI tests."""
    return run_in_process


@pytest.fixture
def run_cli() -> Callable[..., Run]:
    """``run_cli(*args, cwd=, env=, stdin=, timeout=)``: the installed command as a subprocess, for the
    end-to-end layer (marked ``e2e``) where the process itself is under test."""
    return run_installed


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project (environments and base) in a temporary directory."""
    shutil.copytree(EXAMPLE_ENVIRONMENTS, tmp_path / "environments")
    shutil.copy(EXAMPLE_BASE, tmp_path / "base.json")
    return tmp_path


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone server on 127.0.0.1, a real HTTP endpoint for boto3 and the CLI: one per worker,
    reset between tests by the ``ecs`` fixture."""
    from moto.server import ThreadedMotoServer

    # moto's EC2 loads ~1,000 stock AMIs each time a region's backend starts, and every reset restarts it;
    # no test launches an instance, so none is loaded (moto's documented switch, read by the server thread).
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    _quicker_moto_requests()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # Left serving to the end of the process, its thread a daemon's: stopping it waits for werkzeug's next poll
    # (every 0.5 s), in the last test's teardown, which is the end of the run.
    yield f"http://{host}:{port}"


def _quicker_botocore_clients() -> None:
    """Two answers botocore works out again for each session and client a command makes (a third of making a
    client, about 150 event handlers registered each time), kept instead: whether a handler takes ``**kwargs``
    (read from its signature with inspect; a function's signature never changes) and each event name's alias
    (with botocore's own aliases, kept by each session for itself). The answers are botocore's own."""
    import types

    from botocore import compat, hooks

    aliased: dict[str, str] = {}  # event name -> its name after botocore's default aliases
    make_aliaser = hooks.EventAliaser.__init__

    def aliaser(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        make_aliaser(self, event_emitter, event_aliases)
        if event_aliases is None:
            self._alias_name_cache = aliased

    hooks.EventAliaser.__init__ = aliaser  # type: ignore[method-assign]

    answers: dict[types.FunctionType, bool] = {}

    def accepts_kwargs(func: Any) -> bool:
        function = getattr(func, "__func__", func)  # a bound method takes what its function takes
        if not isinstance(function, types.FunctionType):
            return bool(compat.accepts_kwargs(func))
        if function not in answers:
            answers[function] = bool(compat.accepts_kwargs(function))
        return answers[function]

    hooks.accepts_kwargs = accepts_kwargs


def _quicker_moto_requests() -> None:
    """Two look-ups moto's server repeats on every request, made once (a sixth of a request's cost): the
    dispatcher lists moto's package directory (~170 isdir calls) to find a backend, and each response class
    lists its methods with inspect.getmembers. Neither changes while the server runs. And werkzeug's access log
    line, which nobody reads here (no handler shows werkzeug's INFO records), is not composed for each request."""
    import functools

    from moto import backends
    from moto.core import responses, utils
    from werkzeug.serving import WSGIRequestHandler

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.cache(lambda cls: frozenset(utils.method_names_from_class(cls)))
    WSGIRequestHandler.log_request = lambda self, code="-", size="-": None  # type: ignore[method-assign]


@pytest.fixture
def aws_env(moto_endpoint: str) -> dict[str, str]:
    """Environment variables that point boto3 and the installed command at moto's server."""
    return {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
    }


def moto_client(service: str, endpoint: str, region: str = "eu-west-1", **credentials: str) -> Any:
    """A boto3 client on moto's server for arranging and checking state (static test credentials unless
    given), made once per worker: a client holds no state of moto's, and making one costs milliseconds."""
    key = (service, endpoint, region, tuple(sorted(credentials.items())))
    if key not in _MOTO_CLIENTS:
        import boto3

        credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        _MOTO_CLIENTS[key] = boto3.client(service, endpoint_url=endpoint, region_name=region, **credentials)
    return _MOTO_CLIENTS[key]


_MOTO_CLIENTS: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], Any] = {}


@pytest.fixture
def ecs(aws_env: dict[str, str], moto_endpoint: str) -> Any:
    """A boto3 ECS client on moto's server, for arranging and checking state."""
    client = moto_client("ecs", moto_endpoint, aws_env["AWS_REGION"])
    # moto's state is per server: start each test from nothing.
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    return client


def serve_in_background(server: socketserver.BaseServer) -> str:
    """Serve ``server`` on a daemon thread until its ``shutdown()``; its URL. shutdown() waits for the serving
    loop to notice, every poll interval: 0.5 s by default, 4 ms at 0.005 s (0.4 % of a core while it serves)."""
    import threading

    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


class FakeEcs:
    """A local HTTP server that answers ECS calls with canned responses, on purpose.

    ``respond(status, body)`` sets the answer to every call; ``respond(..., target="RegisterTaskDefinition")``
    the answer to one operation. A body is sent as JSON, or as it is when given as bytes.
    """

    def __init__(self) -> None:
        import http.server
        import threading

        self.answers: dict[str, tuple[int, Any]] = {"": (200, {})}
        # "answer", "hang" (never answer), "truncate" (close mid-body) or "trickle" (one byte at a time)
        self.behaviour = "answer"
        self.behaviours: dict[str, str] = {}  # per operation, e.g. {"RegisterTaskDefinition": "hang"}
        self.requests: list[str] = []
        self.released = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                target = self.headers.get("X-Amz-Target", "")
                fake.requests.append(target)
                operation = target.rsplit(".", 1)[-1]
                behaviour = fake.behaviours.get(operation, fake.behaviour)
                if behaviour == "hang":
                    fake.released.wait(timeout=30)
                    return
                status, body = fake.answers.get(operation, fake.answers[""])
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if behaviour == "truncate":
                    self.wfile.write(payload[: len(payload) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if behaviour == "trickle":
                    for byte in payload:  # each read gets a byte well within any read timeout
                        if fake.released.wait(timeout=0.05):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = serve_in_background(self.server)

    def respond(self, status: int, body: Any, target: str = "") -> None:
        self.answers[target] = (status, body)

    def operations(self) -> list[str]:
        """The operations called so far, in order: ``DescribeTaskDefinition``, …"""
        return [target.rsplit(".", 1)[-1] for target in self.requests]

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "eu-west-1",
        }

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_ecs() -> Iterator[FakeEcs]:
    fake = FakeEcs()
    try:
        yield fake
    finally:
        fake.close()


class FaultProxy:
    """moto's server behind a local proxy that answers chosen operations itself: what moto cannot model
    (iam:SimulatePrincipalPolicy, a deployment that completes or fails, AccessDenied) stands in here.

    ``answer(operation, status, body)`` queues an answer for that operation (X-Amz-Target's suffix,
    or the query protocol's Action); the last queued answer repeats; ``forward(operation)`` queues a
    turn for moto itself. Everything else goes to moto. ``requests`` holds (operation, body) in order;
    ``most_at_once`` is the most requests it was answering at one time. ``gather`` and ``answer_after`` hold
    requests back until an overlap or an order is there for certain, where a delay would only make it likely on
    a loaded machine (and cost its seconds on every run).
    """

    HOLD_LIMIT = 10.0  # seconds a held request waits at most: reached only when the awaited never comes

    def __init__(self, upstream: str) -> None:
        import http.client
        import http.server
        import threading
        import urllib.parse

        self.answers: dict[str, list[tuple[int, bytes, str]]] = {}
        self.operations: list[str] = []
        self.requests: list[tuple[str, bytes]] = []
        self.most_at_once = 0
        self.answered: list[bytes] = []  # the bodies of the requests answered so far, in order
        self.after: dict[str, str] = {}  # see answer_after
        self.gathering: tuple[int, float] | None = None  # see gather
        self.gathered = 0.0  # when the last gathering's requests are let go
        answering: list[None] = []
        counting = self.changed = threading.Condition()
        target = urllib.parse.urlsplit(upstream)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                if not operation:
                    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                    operation = (fields.get("Action") or [""])[0]
                proxy.operations.append(operation)
                proxy.requests.append((operation, body))
                with counting:
                    answering.append(None)
                    proxy.most_at_once = max(proxy.most_at_once, len(answering))
                    counting.notify_all()
                try:
                    proxy._hold(body, answering)
                    status, headers, payload = self.answer_or_forward(operation, body)
                finally:
                    with counting:  # answered before the answer goes: the command may ask again the moment it has it
                        answering.pop()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    with counting:
                        proxy.answered.append(body)
                        counting.notify_all()

            def answer_or_forward(self, operation: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
                queued = proxy.answers.get(operation)
                status, payload, content_type = (
                    (queued.pop(0) if len(queued) > 1 else queued[0]) if queued else (0, b"", "")
                )
                headers = {"Content-Type": content_type}
                if not status:
                    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    connection.request(self.command, self.path, body, dict(self.headers))
                    response = connection.getresponse()
                    status, payload = response.status, response.read()
                    headers = {
                        key: value
                        for key, value in response.getheaders()
                        if key.lower() not in ("transfer-encoding", "connection", "content-length")
                    }
                    connection.close()
                return status, headers, payload

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any  # noqa: N815 - http.server's naming

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        # Room for every connection of a command's describing threads (32) at once: socketserver listens with a
        # backlog of 5, and a connection past it waits out TCP's 1 s retransmission.
        self.server.request_queue_size = 64
        self.server.server_bind()
        self.server.server_activate()
        self.url = serve_in_background(self.server)

    def answer(self, operation: str, status: int, body: Any, content_type: str = "application/x-amz-json-1.1") -> None:
        payload = (
            body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else json.dumps(body).encode()
        )
        self.answers.setdefault(operation, []).append((status, payload, content_type))

    def forward(self, operation: str) -> None:
        self.answers.setdefault(operation, []).append((0, b"", ""))

    def gather(self, count: int, linger: float = 0.0) -> None:
        """Hold the next requests until ``count`` are being answered at once, then all of them ``linger``
        seconds more (a request that comes meanwhile overlaps them): ``most_at_once`` reaches ``count``
        for certain when the command makes that many calls at once, and exceeds it when it makes more."""
        self.gathering = (count, linger)

    def answer_after(self, text: str, other: str) -> None:
        """Answer a request whose body holds ``text`` only once a request whose body holds ``other`` has been
        answered: an order of answers made certain."""
        self.after[text] = other

    def _hold(self, body: bytes, answering: list[None]) -> None:
        """Wait as ``gather`` and ``answer_after`` say, at most HOLD_LIMIT seconds each."""
        until = 0.0
        with self.changed:
            gathering = self.gathering
            if gathering is not None:
                count, linger = gathering
                self.changed.wait_for(
                    lambda: self.gathering is not gathering or len(answering) >= count, self.HOLD_LIMIT
                )
                if self.gathering is gathering:  # the first to see them all (or to give up) ends this gathering
                    self.gathering, self.gathered = None, time.monotonic() + linger
                until = self.gathered
            awaited = [other.encode() for text, other in self.after.items() if text.encode() in body]
            self.changed.wait_for(
                lambda: all(any(o in done for done in self.answered) for o in awaited), self.HOLD_LIMIT
            )
        if gathering is not None:
            time.sleep(max(until - time.monotonic(), 0.0))

    def sent(self, operation: str) -> list[Any]:
        """The JSON bodies sent for ``operation``, in order."""
        return [json.loads(body) for name, body in self.requests if name == operation]

    def env(self, aws_env: Mapping[str, str]) -> dict[str, str]:
        return {**aws_env, "AWS_ENDPOINT_URL": self.url}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_proxy(moto_endpoint: str, ecs: Any) -> Iterator[FaultProxy]:
    """A FaultProxy in front of moto's server (reset, as the ecs fixture does)."""
    proxy = FaultProxy(moto_endpoint)
    try:
        yield proxy
    finally:
        proxy.close()
