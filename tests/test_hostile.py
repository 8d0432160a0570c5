"""Hostile and broken input through the command (in-process; signals, pipes and closed streams through
the installed command, ``e2e``): a clear message naming the file and the problem, the right exit code,
no traceback, and an existing taskdef.json left byte-for-byte as it was."""

from __future__ import annotations

import errno
import functools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_overlay import environments as environments_module
from ecs_overlay.cli import cli
from ecs_overlay.errors import EcsOverlayError
from ecs_overlay.output import to_json
from ecs_overlay.overlay import parse_overlay

from .conftest import Run, clean_environ, installed_command, run_in_process
from .test_review import committed

PREVIOUS = b'{"family": "previous-artifact"}\n'


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\ncontainerDefinitions: {web: {command: *a9}}\n"


CASES = {
    "yaml-syntax": ("containerDefinitions:\n  web: {image: [unclosed\n", 1, ["environments/prod.yaml:3:1", "YAML"]),
    "not-utf8": (b"family: caf\xe9\n", 1, ["environments/prod.yaml:1: not UTF-8"]),
    "top-level-list": ("- cpu: 256\n", 1, ["environments/prod.yaml:1:1", "must be a mapping"]),
    "top-level-scalar": ("just text\n", 1, ["environments/prod.yaml:1:1", "must be a mapping"]),
    "alias-bomb": (_alias_bomb(), 1, ["environments/prod.yaml", "alias bomb"]),
    "too-large": ("# " + "x" * (1024 * 1024) + "\n", 1, ["environments/prod.yaml", "1048576-byte limit"]),
    "python-tag": (
        'cpu: !!python/object/apply:os.system ["touch pwned"]\n',
        1,
        ["environments/prod.yaml:1:6", "python/object/apply:os.system is not allowed"],
    ),
    "extends-missing": ("extends: _gone.yaml\n", 1, ["environments/prod.yaml:1:10", "_gone.yaml' does not exist"]),
    "env-value-mapping": (
        "containerDefinitions: {web: {environment: {SETTINGS: {a: 1}}}}\n",
        1,
        ["environments/prod.yaml:1:44", "environment variable SETTINGS: the value should be", "not a mapping or list"],
    ),
    "duplicate-key": (
        "cpu: 256\ncpu: 512\n",
        1,
        ["environments/prod.yaml:2:1", "duplicate key 'cpu' (first at line 1)"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_overlay(invoke, project: Path, case: str) -> None:
    content, exit_code, fragments = CASES[case]
    overlay = project / "environments" / "prod.yaml"
    if isinstance(content, bytes):
        overlay.write_bytes(content)
    else:
        overlay.write_text(content, encoding="utf-8")
    target = project / "taskdef.json"
    target.write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == exit_code, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert not (project / "pwned").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".taskdef")] == []


def test_extends_cycle(invoke, project: Path) -> None:
    environments = project / "environments"
    (environments / "_a.yaml").write_text("extends: _b.yaml\n")
    (environments / "_b.yaml").write_text("extends: _a.yaml\n")
    (environments / "prod.yaml").write_text("extends: _a.yaml\n")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1
    assert "extends cycle:" in result.stderr and "_a.yaml" in result.stderr and "_b.yaml" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_an_empty_overlay_is_valid_and_renders_the_base(invoke, project: Path) -> None:
    (project / "environments" / "prod.yaml").write_text("")
    result = invoke("render", "--env", "prod", "--base", "base.json", "-o", "-", cwd=project)
    assert result.returncode == 0, result.stderr
    assert len(result.json()["containerDefinitions"]) == 3


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,?\n\t $~01.e")), max_size=80))
def test_arbitrary_yaml_never_escapes_as_an_unexpected_exception(text: str) -> None:
    try:
        overlay = parse_overlay(text, "fuzz.yaml", {})
    except EcsOverlayError:
        return
    for finding in overlay.findings:
        assert finding.file == "fuzz.yaml"


# ---------------------------------------------------------------------------------------------------------------
# Outputs, inputs and values as a user hits them, in-process with click's CliRunner where that proves as much.

APPSPEC_BEFORE = b"previous appspec\n"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-api"


@pytest.fixture
def in_project(project: Path) -> Callable[..., Run]:
    """``in_project(*args, stdin=)``: the command in-process in the example project (conftest's ``invoke``)."""
    return functools.partial(run_in_process, cwd=project)


def _artifacts(project: Path) -> dict[str, bytes]:
    """An existing taskdef.json and appspec.yaml, as a previous build left them; returns their bytes."""
    (project / "taskdef.json").write_bytes(PREVIOUS)
    (project / "appspec.yaml").write_bytes(APPSPEC_BEFORE)
    return _snapshot_of(project)


def _snapshot_of(project: Path) -> dict[str, bytes]:
    """Every file in the project (environments excepted) and its bytes: nothing new, nothing changed."""
    return {
        str(path.relative_to(project)): path.read_bytes() if path.is_file() and not path.is_symlink() else b"<link>"
        for path in sorted(project.rglob("*"))
        if not path.is_dir() and "environments" not in path.parts
    }


RENDER = ("render", "--env", "prod", "--base", "base.json")


@pytest.mark.parametrize(
    ("outputs", "fragments"),
    [
        (["-o", "taskdef.json", "--appspec", "taskdef.json"], ["--output taskdef.json", "--appspec taskdef.json"]),
        (["-o", "taskdef.json", "--appspec", "./taskdef.json"], ["--appspec ./taskdef.json", "same file"]),
        (["-o", "link.json", "--appspec", "taskdef.json"], ["--output link.json", "same file"]),
        (["-o", "hard.json", "--appspec", "taskdef.json"], ["--output hard.json", "same file"]),
        (["-o", "-", "--appspec", "-"], ["would both write to standard output"]),
    ],
    ids=["same-name", "dot-slash", "symlink", "hard-link", "both-stdout"],
)
def test_two_outputs_in_one_place_are_a_usage_error_before_anything_is_written(
    in_project: Callable[..., Run], project: Path, outputs: list[str], fragments: list[str]
) -> None:
    _artifacts(project)
    (project / "link.json").symlink_to("taskdef.json")
    os.link(project / "taskdef.json", project / "hard.json")
    before = _snapshot_of(project)
    result = in_project(*RENDER, *outputs)
    assert result.returncode == 2, result.stderr
    for fragment in [*fragments, "give each output its own file"]:
        assert fragment in result.stderr, result.stderr
    assert result.stdout == ""
    assert _snapshot_of(project) == before


@pytest.mark.parametrize(
    ("outputs", "fragments"),
    [
        (["--appspec", "adir"], ["cannot write adir (--appspec)", "it is a directory", "nothing was written"]),
        (["-o", "adir", "--appspec", "appspec.yaml"], ["cannot write adir (--output)", "it is a directory"]),
        (["--appspec", "missing/appspec.yaml"], ["missing/appspec.yaml (--appspec)", "directory missing does not"]),
        (["-o", "missing/taskdef.json", "--appspec", "appspec.yaml"], ["create it first", "nothing was written"]),
    ],
    ids=["appspec-directory", "output-directory", "appspec-missing-dir", "output-missing-dir"],
)
def test_an_output_that_cannot_be_written_leaves_every_other_output_as_it_was(
    in_project: Callable[..., Run], project: Path, outputs: list[str], fragments: list[str]
) -> None:
    (project / "adir").mkdir()
    before = _artifacts(project)
    result = in_project(*RENDER, *outputs)
    assert result.returncode == 3, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert _snapshot_of(project) == before


def test_a_read_only_directory_for_one_output_leaves_the_other_as_it_was(
    in_project: Callable[..., Run], project: Path
) -> None:
    before = _artifacts(project)
    if os.geteuid() == 0:  # root writes into any directory it may chmod; sysfs refuses new files even to root
        target = "/sys/appspec.yaml"
    else:
        locked = project / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = "locked/appspec.yaml"
        before = _snapshot_of(project)
    result = in_project(*RENDER, "--appspec", target)
    assert result.returncode == 3, result.stderr
    assert f"cannot write {target} (--appspec)" in result.stderr and "nothing was written" in result.stderr
    assert _snapshot_of(project) == before


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(
    in_project: Callable[..., Run], project: Path
) -> None:
    artifacts = project / "artifacts"
    artifacts.mkdir()
    (artifacts / "taskdef.json").write_bytes(PREVIOUS)
    (project / "taskdef.json").symlink_to("artifacts/taskdef.json")
    result = in_project(*RENDER, "--appspec", "appspec.yaml")
    assert result.returncode == 0, result.stderr
    assert (project / "taskdef.json").is_symlink()
    assert os.readlink(project / "taskdef.json") == "artifacts/taskdef.json"
    assert json.loads((artifacts / "taskdef.json").read_text())["family"] == "checkout-api-prod"
    assert sorted(p.name for p in artifacts.iterdir()) == ["taskdef.json"]  # staged beside the target, then renamed


def test_dev_null_is_written_in_place_alongside_a_file(in_project: Callable[..., Run], project: Path) -> None:
    result = in_project(*RENDER, "-o", os.devnull, "--appspec", "appspec.yaml")
    assert result.returncode == 0, result.stderr
    assert Path(os.devnull).is_char_device()
    assert (project / "appspec.yaml").read_text().startswith("version: 0.0")


# --- Signals and pipes: only a real process shows what a signal or a closed pipe does.


def _open_writer(fifo: Path, process: subprocess.Popen[str]) -> int:
    """Open the FIFO's writing end once the command has opened it for reading: it is then past start-up."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            assert error.errno == errno.ENXIO and process.poll() is None, process.communicate()
            time.sleep(0.02)


@pytest.mark.e2e
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_render_exits_with_the_signal_code_and_keeps_the_old_file(
    project: Path, signum: int, code: int
) -> None:
    before = _artifacts(project)
    fifo = project / "base.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [installed_command(), *RENDER[:-1], "base.fifo", "--appspec", "appspec.yaml"],
        cwd=project,
        env=clean_environ(),
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = _open_writer(fifo, process)  # the command now waits for its base
    try:
        process.send_signal(signum)
        try:
            _, stderr = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            # CPython runs a signal handler between bytecodes: a signal that lands after the last check and
            # before the read() call starts interrupts nothing, so the handler waits for the read to return.
            # End the read (EOF); the pending handler then runs before anything else does.
            os.close(writer)
            writer = -1
            _, stderr = process.communicate(timeout=30)
    finally:
        if writer >= 0:
            os.close(writer)
    assert process.returncode == code, stderr
    assert stderr == f"Error: interrupted by {signal.Signals(signum).name}\n"
    assert {k: v for k, v in _snapshot_of(project).items() if k != "base.fifo"} == before


def _into_a_closed_pipe(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    reading, writing = os.pipe()
    os.close(reading)  # the reader is gone before the first byte, as with `| head -0`
    try:
        return subprocess.run(
            [installed_command(), *args],
            cwd=project,
            env=clean_environ(),
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writing)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "args",
    [
        ("diff", "--env", "prod", "--base", "base.json"),
        ("explain", "--env", "prod", "--base", "base.json"),
        ("diff", "--env", "prod", "--base", "base.json", "--format", "json"),
        (*RENDER, "-o", "-", "--appspec", "appspec.yaml"),
    ],
    ids=["diff", "explain", "diff-json", "render-stdout"],
)
def test_output_into_a_broken_pipe_is_a_one_line_io_error(project: Path, args: tuple[str, ...]) -> None:
    before = _artifacts(project)
    process = _into_a_closed_pipe(project, *args)
    assert process.returncode == 3, process.stderr
    assert process.stderr.endswith("\nError: cannot write standard output: Broken pipe\n") or process.stderr == (
        "Error: cannot write standard output: Broken pipe\n"
    )
    assert "Traceback" not in process.stderr and "Exception ignored" not in process.stderr
    assert _snapshot_of(project) == before


def _in_a_shell(project: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``ecs-overlay COMMAND`` through bash, for redirections such as ``>&-`` that only a shell sets up."""
    return subprocess.run(
        ["bash", "-c", f"'{installed_command()}' {command}"],
        cwd=project,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("diff --env prod --base base.json >&-", "Error: cannot write standard output: it is closed"),
        ("render --env prod --base base.json -o - >&-", "Error: cannot write - (--output): standard output is closed"),
        ("render --env prod --base - <&-", "Error: --base -: standard input is closed"),
    ],
    ids=["diff-stdout-closed", "render-stdout-closed", "base-stdin-closed"],
)
def test_closed_standard_streams_are_clean_io_errors(project: Path, command: str, message: str) -> None:
    before = _artifacts(project)
    process = _in_a_shell(project, command)
    assert process.returncode == 3, process.stderr
    assert process.stderr.startswith(message), process.stderr
    assert len(process.stderr.splitlines()) == 1 and "Traceback" not in process.stderr
    assert _snapshot_of(project) == before


@pytest.mark.e2e
def test_a_file_output_that_is_also_standard_output_is_a_usage_error(project: Path) -> None:
    """`--appspec -` while the shell sends standard output into the file -o names: one file, two writers."""
    process = _in_a_shell(project, "render --env prod --base base.json -o out.json --appspec - >>out.json")
    assert process.returncode == 2, process.stderr
    assert "--output out.json and --appspec - would both write to standard output" in process.stderr
    assert (project / "out.json").read_bytes() == b""


# --- Input files of every command.


def _base_text(project: Path) -> str:
    return (project / "base.json").read_text(encoding="utf-8")


def test_a_missing_base_is_an_io_error(in_project: Callable[..., Run], project: Path) -> None:
    before = _artifacts(project)
    result = in_project("render", "--env", "prod", "--base", "gone.json")
    assert result.returncode == 3
    assert "--base gone.json: no such file" in result.stderr
    assert _snapshot_of(project) == before


def test_a_base_with_a_byte_order_mark_renders_like_one_without(in_project: Callable[..., Run], project: Path) -> None:
    plain = in_project(*RENDER, "-o", "-")
    (project / "bom.json").write_text("\ufeff" + _base_text(project), encoding="utf-8")
    marked = in_project("render", "--env", "prod", "--base", "bom.json", "-o", "-")
    assert marked.returncode == plain.returncode == 0, marked.stderr
    assert marked.stdout == plain.stdout


@pytest.mark.parametrize(
    ("replacement", "where"),
    [("NaN", "base.json:8:24: NaN"), ("Infinity", "base.json:8:24: Infinity"), ("-Infinity", "8:24: -Infinity")],
)
def test_non_finite_numbers_in_a_base_are_refused_with_file_and_line(
    in_project: Callable[..., Run], project: Path, replacement: str, where: str
) -> None:
    text = _base_text(project)
    assert text.splitlines()[7] == '                "cpu": 0,'
    (project / "base.json").write_text(text.replace('"cpu": 0,', f'"cpu": {replacement},', 1))
    before = _artifacts(project)
    result = in_project(*RENDER)
    assert result.returncode == 1, result.stderr
    assert where in result.stderr and "not a finite number" in result.stderr
    assert _snapshot_of(project) == before


def test_json_output_refuses_non_finite_numbers() -> None:
    with pytest.raises(EcsOverlayError, match="not finite"):
        to_json({"memory": float("nan")})


@pytest.mark.parametrize("opening", ["[", '{"a": '])
def test_a_deeply_nested_base_is_a_clean_error(in_project: Callable[..., Run], project: Path, opening: str) -> None:
    (project / "deep.json").write_text(opening * 100_000)
    before = _artifacts(project)
    result = in_project("render", "--env", "prod", "--base", "deep.json")
    assert result.returncode == 1
    assert "deep.json: nested more than 64 levels deep" in result.stderr
    assert _snapshot_of(project) == before


_APPSPEC_TARGET = "version: 0.0\nResources:\n- TargetService:\n    Type: AWS::ECS::Service\n    Properties:\n"
_PROPERTIES = "      TaskDefinition: <TASK_DEFINITION>\n      LoadBalancerInfo:\n"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("version: 0.0\nResources: {TargetService: {}}\n", ["Resources: error: Resources must be a list"]),
        ("version: 0.0\nResources:\n- TargetService: web\n", ["TargetService: error: TargetService must be a"]),
        (_APPSPEC_TARGET + "      - TaskDefinition\n", ["Properties: error: Properties must be a mapping"]),
        (_APPSPEC_TARGET + "      TaskDefinition: <TASK_DEFINITION>\n      LoadBalancerInfo: web\n", ["must be a"]),
        (
            _APPSPEC_TARGET + _PROPERTIES + "        ContainerName: web\n        ContainerPort: abc\n",
            ["LoadBalancerInfo.ContainerPort: error: ContainerPort must be a port number"],
        ),
        (
            _APPSPEC_TARGET + _PROPERTIES + "        ContainerName: [web]\n        ContainerPort: 8080\n",
            ["ContainerName must be the name of a container"],
        ),
        (
            _APPSPEC_TARGET + _PROPERTIES + "        ContainerName: web\n        ContainerPort: 8080\n"
            "Hooks: {AfterInstall: smoke-test}\n",
            ["Hooks: error: Hooks must be a list of `- EventName: LambdaFunctionName` items"],
        ),
        ("- just\n- a list\n", ["an appspec is a mapping"]),
        ("[" * 50_000 + "\n", ["nested too deeply"]),
    ],
    ids=[
        "resources-mapping",
        "target-string",
        "properties-list",
        "lbinfo-string",
        "port-text",
        "name-list",
        "hooks-mapping",
        "top-list",
        "deep",
    ],
)
def test_a_hand_written_appspec_of_the_wrong_shape_gives_findings(
    in_project: Callable[..., Run], project: Path, text: str, fragments: list[str]
) -> None:
    (project / "handmade.yaml").write_text(text)
    before = _artifacts(project)
    result = in_project(*RENDER, "--check-appspec", "handmade.yaml")
    assert result.returncode == 1, result.stderr
    assert "handmade.yaml" in result.stderr and "[appspec-structure]" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert _snapshot_of(project) == before


def test_a_missing_appspec_to_check_is_an_io_error(in_project: Callable[..., Run], project: Path) -> None:
    result = in_project(*RENDER, "--check-appspec", "nowhere.yaml")
    assert result.returncode == 3
    assert "--check-appspec nowhere.yaml: no such file" in result.stderr


@pytest.mark.parametrize(
    ("snapshot", "exit_code", "fragment"),
    [
        (None, 3, "--snapshot saved.json: no such file"),
        ("{not json", 1, "saved.json:1:2: not JSON"),
        ('{"containerDefinitions": "web"}', 4, 'containerDefinitions: "web" -> '),
        ('{"containerDefinitions": [1, {"name": 2}], "tags": "x"}', 4, "containerDefinitions"),
    ],
    ids=["missing", "not-json", "containers-text", "odd-items"],
)
def test_a_drift_snapshot_of_any_shape_is_read_or_refused_cleanly(
    in_project: Callable[..., Run], project: Path, snapshot: str | None, exit_code: int, fragment: str
) -> None:
    if snapshot is not None:
        (project / "saved.json").write_text(snapshot)
    result = in_project("drift", "--env", "prod", "--base", "base.json", "--snapshot", "saved.json")
    assert result.returncode == exit_code, result.stderr
    assert fragment in result.stdout + result.stderr


# --- Values that cannot be right.


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (":abc", "the repository name is empty"),
        ("web=:abc", "the repository name is empty"),
        ("=x", "write NAME=URI or just URI"),
        (f"{REPOSITORY}:", "the tag after ':' is empty"),
        (f"{REPOSITORY}@sha256:xyz", "the digest after '@' must be an algorithm and hex digits"),
        (f"{REPOSITORY}@sha256:{'A' * 64}", "a sha256 digest is 64 lowercase hex digits"),
        (f"{REPOSITORY}:3f9c 2e1", "it contains whitespace"),
        ("ghcr.io/Acme/checkout:1", "repository names must be lowercase"),
        ("repo:tag:again", "it is not an image reference"),
    ],
)
def test_a_malformed_image_is_a_usage_error_before_any_work(
    in_project: Callable[..., Run], project: Path, image: str, problem: str
) -> None:
    before = _artifacts(project)
    result = in_project(*RENDER, "--image", image)
    assert result.returncode == 2, result.stderr
    assert problem in result.stderr and "--image" in result.stderr
    assert _snapshot_of(project) == before


@pytest.mark.parametrize(
    "image",
    [
        f"{REPOSITORY}:9d8e7f6",
        f"{REPOSITORY}@sha256:{'a' * 64}",
        f"{REPOSITORY}:9d8e7f6@sha256:{'0' * 64}",
        "web=localhost:5000/checkout-api:dev",
        "web=registry.example.com:5000/team/checkout__api--x.y:v1.0_RC",
        "web=<IMAGE1_NAME>",
    ],
)
def test_well_formed_images_and_placeholders_are_accepted(
    in_project: Callable[..., Run], project: Path, image: str
) -> None:
    result = in_project(*RENDER, "-o", "-", "--image", image)
    assert result.returncode == 0, result.stderr
    web = json.loads(result.stdout)["containerDefinitions"][0]
    assert web["image"] == image.partition("=")[2] or web["image"] == image


def test_render_writes_a_placeholder_and_says_so_but_register_refuses_it(
    in_project: Callable[..., Run], project: Path
) -> None:
    rendered = in_project(*RENDER, "-o", "-", "--image", "web=<IMAGE1_NAME>")
    assert rendered.returncode == 0
    assert json.loads(rendered.stdout)["containerDefinitions"][0]["image"] == "<IMAGE1_NAME>"
    assert "containerDefinitions[web].image: note: <IMAGE1_NAME> is a placeholder" in rendered.stderr
    registered = in_project(
        "register", "--env", "prod", "--base", "base.json", "--dry-run", "--image", "web=<IMAGE1_NAME>"
    )
    assert registered.returncode == 1
    assert "not registering placeholders as images (containerDefinitions[web].image is <IMAGE1_NAME>)" in (
        registered.stderr
    )
    assert "--image NAME=URI" in registered.stderr and "valid RegisterTaskDefinition" not in registered.stderr


def test_a_placeholder_in_the_base_is_never_registered(in_project: Callable[..., Run], project: Path) -> None:
    (project / "base.json").write_text(_base_text(project).replace(f"{REPOSITORY}:3f9c2e1", "<IMAGE1_NAME>"))
    result = in_project("register", "--env", "prod", "--base", "base.json", "--dry-run")
    assert result.returncode == 1
    assert "containerDefinitions[web].image is <IMAGE1_NAME>" in result.stderr


def test_render_without_image_says_which_images_it_kept(in_project: Callable[..., Run], project: Path) -> None:
    result = in_project(*RENDER, "-o", "-")
    assert result.returncode == 0
    assert (
        f"kept images (no --image given): web {REPOSITORY}:3f9c2e1, "
        "log-router public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4, "
        "datadog-agent public.ecr.aws/datadog/agent:7.52.0\n"
    ) in result.stderr
    with_image = in_project(*RENDER, "-o", "-", "--image", f"{REPOSITORY}:9d8e7f6")
    assert "kept images" not in with_image.stderr


FLOAT_OVERLAYS = {
    "container-memory": "containerDefinitions: {web: {memory: 512.0, memoryReservation: 256.0}}\n",
    "port-mapping": "containerDefinitions: {web: {portMappings: {8080: {hostPort: 8080.0}}}}\n",
    "health-check": "containerDefinitions: {web: {healthCheck: {command: [CMD, x], interval: 30.0, retries: 3.0}}}\n",
    "ulimits": "containerDefinitions: {web: {ulimits: {nofile: {softLimit: 1024.0, hardLimit: 2048.0}}}}\n",
    "ephemeral-storage": "ephemeralStorage: {sizeInGiB: 30.0}\n",
    "task-size": "cpu: 1024.0\nmemory: 2048.0\n",
    "fraction": "containerDefinitions: {web: {memory: 512.5}}\n",
    "fraction-in-list": "containerDefinitions: {web: {ulimits: [{name: nofile, softLimit: 1.5, hardLimit: 2}]}}\n",
}


@pytest.mark.parametrize("case", sorted(FLOAT_OVERLAYS))
def test_render_and_register_dry_run_agree_on_numbers(in_project: Callable[..., Run], project: Path, case: str) -> None:
    """What render writes, botocore's request validator (register --dry-run) accepts, and the reverse."""
    (project / "environments" / "qa.yaml").write_text("extends: prod.yaml\n" + FLOAT_OVERLAYS[case])
    rendered = in_project("render", "--env", "qa", "--base", "base.json", "-o", "-")
    registered = in_project("register", "--env", "qa", "--base", "base.json", "--dry-run")
    assert rendered.returncode == registered.returncode, (rendered.stderr, registered.stderr)
    if case.startswith("fraction"):
        assert rendered.returncode == 1 and "should be a whole number" in rendered.stderr
        assert "environments/qa.yaml:2:" in rendered.stderr
        return
    assert rendered.returncode == 0, rendered.stderr
    assert "is a valid RegisterTaskDefinition request" in registered.stderr
    assert _floats(json.loads(rendered.stdout)) == []  # every whole number written as one: 512, not 512.0


def _floats(value: object) -> list[float]:
    if isinstance(value, float):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [found for item in items for found in _floats(item)]


def test_a_float_in_the_base_is_written_as_the_integer_ecs_wants(in_project: Callable[..., Run], project: Path) -> None:
    (project / "base.json").write_text(
        _base_text(project).replace('"containerPort": 8080,', '"containerPort": 8080.0,')
    )
    rendered = in_project(*RENDER, "-o", "-")
    assert rendered.returncode == 0, rendered.stderr
    assert json.loads(rendered.stdout)["containerDefinitions"][0]["portMappings"][0]["containerPort"] == 8080
    assert '"containerPort": 8080,' in rendered.stdout
    assert in_project("register", "--env", "prod", "--base", "base.json", "--dry-run").returncode == 0


# -- in-process, as a user hits them: nothing dropped, every ${…} resolved or refused -----------------


def run_in(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Result:
    """The command run in-process from ``project``; a traceback (any other exception) fails the test."""
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, list(args), env={"DEPLOY_ENV": None, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result


SILENT_DROPS = {
    "container-without-name": (
        "containerDefinitions:\n  - image: repo/app:1\n",
        "environments/prod.yaml:2:5 containerDefinitions[0]: error: this item has no 'name'",
    ),
    "env-item-without-name": (
        "containerDefinitions:\n  web:\n    environment:\n      - {value: lost}\n",
        "environments/prod.yaml:4:9 containerDefinitions[web].environment[0]: error: this item has no 'name'",
    ),
    "same-port-two-spellings": (
        "containerDefinitions:\n  web:\n    portMappings:\n      9000: {}\n      9000/tcp: {hostPort: 9000}\n",
        "environments/prod.yaml:5:7 containerDefinitions[web].portMappings[9000/tcp]: error: "
        "'9000/tcp' appears twice in portMappings (first at line 4)",
    ),
    "port-protocol-in-capitals": (
        "containerDefinitions:\n  web:\n    portMappings:\n      9000/TCP: {}\n",
        "environments/prod.yaml:4:7 containerDefinitions[web].portMappings: error: '9000/TCP': "
        "the protocol is tcp or udp, in lowercase as ECS accepts it; write 9000/tcp",
    ),
    "secret-twice": (
        "containerDefinitions:\n  web:\n    secrets:\n"
        "      - {name: API_KEY, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/a}\n"
        "      - {name: API_KEY, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/b}\n",
        "environments/prod.yaml:5:9 containerDefinitions[web].secrets[API_KEY]: error: 'API_KEY' appears twice",
    ),
    "container-twice": (
        "containerDefinitions:\n  - {name: web, cpu: 128}\n  - {name: web, cpu: 256}\n",
        "environments/prod.yaml:3:5 containerDefinitions[web]: error: 'web' appears twice in containerDefinitions",
    ),
    "nested-default-unset": (
        "containerDefinitions:\n  web:\n    environment:\n      RELEASE: ${TAG:-${FALLBACK_TAG}}\n",
        "environments/prod.yaml:4:23 containerDefinitions[web].environment[RELEASE]: error: ${FALLBACK_TAG} is not set",
    ),
    "unsupported-variable-form": (
        "containerDefinitions:\n  web:\n    environment:\n      RELEASE: v-${TAG/x/y}\n",
        "environments/prod.yaml:4:18 containerDefinitions[web].environment[RELEASE]: error: '${TAG/x/y}': "
        "this form is not supported",
    ),
    "unclosed-variable": (
        "containerDefinitions:\n  web:\n    image: repo/app:${TAG\n",
        "environments/prod.yaml:3:21 containerDefinitions[web].image: error: '${TAG' has no closing }",
    ),
    "required-variable": (
        "containerDefinitions:\n  web:\n    image: 'repo/app:${TAG:?set TAG to the commit}'\n",
        "environments/prod.yaml:3:22 containerDefinitions[web].image: error: ${TAG} is not set: set TAG to the commit",
    ),
}


@pytest.mark.parametrize("case", sorted(SILENT_DROPS))
def test_nothing_is_dropped_or_left_unresolved(project: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    text, expected = SILENT_DROPS[case]
    (project / "environments" / "prod.yaml").write_text(text, encoding="utf-8")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = run_in(project, monkeypatch, "render", "--env", "prod", "--base", "base.json")
    assert result.exit_code == 1, result.output
    assert expected in result.stderr, result.stderr
    assert "Error: 1 problem in environment 'prod'; nothing was written" in result.stderr
    assert (project / "taskdef.json").read_bytes() == PREVIOUS


def test_compose_variable_forms_render_resolved(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "containerDefinitions:\n  web:\n    environment:\n"
        "      A: ${UNSET:-${CODEBUILD_BUILD_NUMBER}}\n"
        "      B: ${EMPTY-kept-empty}\n"
        "      C: ${UNSET-default}\n"
        "      D: $${HOME} stays\n",
        encoding="utf-8",
    )
    env = {"CODEBUILD_BUILD_NUMBER": "42", "EMPTY": "", "UNSET": None}
    result = run_in(project, monkeypatch, "render", "--env", "prod", "--base", "base.json", "-o", "-", env=env)  # type: ignore[dict-item]
    assert result.exit_code == 0, result.stderr
    [web] = [c for c in json.loads(result.stdout)["containerDefinitions"] if c["name"] == "web"]
    values = {item["name"]: item["value"] for item in web["environment"]}
    assert (values["A"], values["B"], values["C"], values["D"]) == ("42", "", "default", "${HOME} stays")
    assert "${" not in result.stdout.replace("${HOME}", "")


def test_an_environment_with_a_yaml_and_a_yml_file_is_an_error_naming_both(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments = project / "environments"
    (environments / "prod.yml").write_text("cpu: 4096\n", encoding="utf-8")
    (project / "taskdef.json").write_bytes(PREVIOUS)
    result = run_in(project, monkeypatch, "render", "--env", "prod", "--base", "base.json")
    assert result.exit_code == 1
    assert (
        "environments/prod.yaml: error: environment 'prod' has two files, environments/prod.yaml and "
        "environments/prod.yml; keep one" in result.stderr
    )
    assert (project / "taskdef.json").read_bytes() == PREVIOUS
    checked = run_in(project, monkeypatch, "validate", "--base", "base.json")
    assert checked.exit_code == 1
    assert "checked 2 environments (prod, stage)" in checked.stderr  # listed once, stage still checked
    assert checked.stdout.count("has two files") == 1


def test_environment_discovery_lists_the_directory_and_reads_each_file_once_per_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments = project / "environments"
    for index in range(12):
        (environments / f"env{index:02d}.yaml").write_text("extends: _common.yaml\n", encoding="utf-8")
    listings: list[str] = []
    real_scandir = os.scandir

    def counting_scandir(path: Any) -> Any:
        listings.append(str(path))
        return real_scandir(path)

    parsed: list[str] = []

    def counting_parse(text: str, file: str, *rest: Any) -> Any:
        parsed.append(file)
        return parse_overlay(text, file, *rest)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    monkeypatch.setattr(environments_module, "parse_overlay", counting_parse)
    result = run_in(project, monkeypatch, "validate", "--base", "base.json")
    assert result.exit_code == 0, result.output
    assert "checked 14 environments" in result.stderr
    assert listings == ["environments"]
    assert sorted(parsed) == sorted({*parsed}) and len(parsed) == 15  # each file once, _common.yaml included
    listings.clear()
    assert run_in(project, monkeypatch, "diff", "--all", "--base", "base.json").exit_code == 0
    assert listings == ["environments"]


def test_diff_against_a_revision_works_from_outside_the_repository(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = run_in(
        elsewhere,
        monkeypatch,
        "diff",
        "--env",
        "prod",
        "--against",
        "HEAD",
        "--environments-dir",
        str(project / "environments"),
        "--base",
        str(project / "base.json"),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    [change] = json.loads(result.stdout)["environments"]["prod"]["changes"]
    assert (change["path"], change["old"], change["new"]) == (
        "containerDefinitions[web].environment[LOG_LEVEL]",
        "warn",
        "error",
    )


def test_a_problem_in_an_overlay_at_the_revision_says_it_is_at_that_revision(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = project / "environments" / "prod.yaml"
    fixed = prod.read_text()
    prod.write_text(fixed.replace("cpu: 1024", "cpuu: 1024"))
    committed(project)
    prod.write_text(fixed)  # the pull request fixes the typo
    result = run_in(project, monkeypatch, "diff", "--env", "prod", "--against", "HEAD", "--base", "base.json")
    assert result.exit_code == 1
    assert "environments/prod.yaml@HEAD:9:1 cpuu: error: unknown field 'cpuu'" in result.stderr
    assert "in environment 'prod'; it does not render as it is at HEAD" in result.stderr


def test_diff_against_outside_any_repository_is_a_usage_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_in(project, monkeypatch, "diff", "--env", "prod", "--against", "HEAD", "--base", "base.json")
    assert result.exit_code == 2
    # a CodePipeline source zip: what to do instead, not "fetch it first"
    assert "--against HEAD: environments is not in a git work tree" in result.stderr
    assert "Full clone" in result.stderr and "--base DIR" in result.stderr and "--to-env" in result.stderr
