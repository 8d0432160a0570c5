"""The application layer on its own: where the base lives, decided once; results that know their exit code; a
command that speaks only through the console it is given."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ecs_overlay.app import render as render_command
from ecs_overlay.app.diff import DiffRun, EnvironmentDiff
from ecs_overlay.app.drift import DriftReport, DriftRun
from ecs_overlay.app.environment import Connection, Context, Failure
from ecs_overlay.app.validate import ValidateRun
from ecs_overlay.app.verify import VerifyRun
from ecs_overlay.base import BaseFile, BaseOptions, locate, of_service, service_location
from ecs_overlay.diff import CHANGED, Change
from ecs_overlay.environments import Environments
from ecs_overlay.errors import EXIT_DIFFERENCES, EXIT_INVALID, InvalidInputError, UsageError
from ecs_overlay.findings import Finding
from ecs_overlay.render import RenderOptions

from .helpers import overlay

REPO = Path(__file__).resolve().parents[2]
SERVICE_BASE = "base:\n  cluster: shop\n  service: shop-web\n"


@pytest.mark.parametrize(
    ("options", "layers", "running", "where"),
    [
        (BaseOptions(family="shop:7"), [SERVICE_BASE], "arn:running", "shop:7"),  # the options first
        (BaseOptions(cluster="c", service="s"), ["family: shop\n"], None, ("c", "s")),
        (BaseOptions(), [SERVICE_BASE, "family: shop\n"], "arn:running", ("shop", "shop-web")),  # then base:
        (BaseOptions(), ["base:\n  family: shop-prod\n"], "arn:running", "shop-prod"),
        (BaseOptions(), ["base:\n  region: eu-west-1\nfamily: shop\n"], "arn:running", "arn:running"),  # deploy
        (BaseOptions(), ["family: shop\n"], None, "shop"),  # then the overlay's family:
        (BaseOptions(base_file="base.json"), [SERVICE_BASE], None, BaseFile("base.json")),
    ],
)
def test_the_base_lives_where_the_options_then_base_then_family_say(
    options: BaseOptions, layers: list[str], running: str | None, where: object
) -> None:
    assert locate(options, [overlay(text) for text in layers], "prod", running) == where


def test_no_base_anywhere_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no base given"):
        locate(BaseOptions(), [overlay("cpu: 256\n")], "prod")


def test_the_service_is_the_options_else_the_environments_base_section() -> None:
    layers = [overlay(SERVICE_BASE)]
    assert service_location(BaseOptions(cluster="other", service="web"), layers) == ("other", "web")
    assert service_location(BaseOptions(), layers) == ("shop", "shop-web")
    assert service_location(BaseOptions(), [overlay("family: shop\n")]) is None


def test_a_service_of_many_reads_its_own_snapshot_directory(tmp_path: Path) -> None:
    options = BaseOptions(base_file=str(tmp_path))
    assert of_service(options, "checkout").base_file == str(tmp_path / "checkout")
    assert of_service(options, "") == options  # the one service of a plain run
    assert of_service(BaseOptions(base_file="-"), "checkout").base_file == "-"


def test_base_options_are_plain_data_without_a_connection() -> None:
    assert BaseOptions(family="shop") == BaseOptions(family="shop")
    assert not hasattr(BaseOptions(), "ecs")


def _change() -> Change:
    return Change(("cpu",), CHANGED, "256", "512")


def test_a_failure_outranks_differences_and_differences_count_only_when_asked() -> None:
    changed = DiffRun(diffs=[("", EnvironmentDiff("prod", [_change()], "base", "rendered"))])
    assert changed.exit_code == 0  # without --exit-code
    changed.exit_on_changes = True
    assert changed.exit_code == EXIT_DIFFERENCES
    changed.failures.append(Failure("shop", "stage", InvalidInputError("does not render")))
    assert changed.exit_code == EXIT_INVALID


def test_drift_exits_4_and_a_failure_1() -> None:
    assert DriftRun(reports=[("", DriftReport("prod", "base"))]).exit_code == 0
    assert DriftRun(reports=[("", DriftReport("prod", "base", snapshot_changes=[_change()]))]).exit_code == 4
    assert DriftRun(failures=[Failure("shop", "prod", InvalidInputError("x"))]).exit_code == EXIT_INVALID


def test_validate_and_verify_exit_1_on_an_error_only() -> None:
    warning = Finding("some-rule", "careful", severity="warning")
    error = Finding("some-rule", "wrong")
    assert ValidateRun(findings=[("", "prod", warning)]).exit_code == 0
    assert ValidateRun(findings=[("", "prod", warning), ("", "prod", error)]).exit_code == EXIT_INVALID
    assert VerifyRun("prod", [warning]).exit_code == 0
    assert VerifyRun("prod", [error]).exit_code == EXIT_INVALID


class _Recorded:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)

    def warn_loudly(self, text: str) -> None:
        self.lines.append(f"LOUD {text}")


def test_render_speaks_through_its_console_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    console = _Recorded()
    base = BaseOptions(base_file=str(REPO / "examples" / "sample-app" / "describe-task-definition.json"))
    request = render_command.RenderRequest(
        "prod", Environments(tmp_path / "environments"), base, [], RenderOptions(), None,
        str(tmp_path / "taskdef.json"), None, None, None, None, False, Context(console, Connection()),
    )  # fmt: skip
    result = render_command.run(request)
    assert result.exit_code == 0
    assert [artifact.option for artifact in result.artifacts] == ["--output"]
    assert not (tmp_path / "taskdef.json").exists()  # cli.py writes what the result holds
    assert capsys.readouterr() == ("", "")
    assert console.lines[-1].startswith("kept images (no --image given): ")
    assert result.summary.startswith(f"wrote {tmp_path / 'taskdef.json'}: environment prod, base ")
