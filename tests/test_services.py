"""Many services in one run (--services): grouping, worst exit code, a shared layer parsed once,
git read once per run for --against, and snapshots of every service against moto's server."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLE_BASE
from .test_e2e_aws import example_taskdef, register
from .test_review import committed

ORG = "tags:\n  cost-centre: platform\n"


def service(root: Path, name: str, environments: dict[str, str]) -> None:
    """A service under root/services: a `_common.yaml` extending the organisation's layer, and its environments."""
    directory = root / "services" / name / "environments"
    directory.mkdir(parents=True)
    (directory / "_common.yaml").write_text(f"extends: ../../_shared/org.yaml\ntags:\n  service: {name}\n")
    for env, body in environments.items():
        (directory / f"{env}.yaml").write_text(f"extends: _common.yaml\nfamily: {name}-{env}\n{body}")


def repository(root: Path, names: list[str], envs: tuple[str, ...] = ("stage", "prod"), snapshots: bool = True) -> Path:
    """Services `names`, each with `envs`, and (unless told not to) a snapshot per environment under root/snapshots."""
    (root / "services" / "_shared").mkdir(parents=True)
    (root / "services" / "_shared" / "org.yaml").write_text(ORG)
    document = json.loads(EXAMPLE_BASE.read_text())
    for name in names:
        service(root, name, {env: f"tags:\n  env: {env}\n" for env in envs})
        for env in envs if snapshots else ():
            (root / "snapshots" / name).mkdir(parents=True, exist_ok=True)
            (root / "snapshots" / name / f"{env}.json").write_text(json.dumps(document))
    return root


def edit(root: Path, name: str, env: str, old: str, new: str) -> None:
    path = root / "services" / name / "environments" / f"{env}.yaml"
    path.write_text(path.read_text().replace(old, new))


def test_validate_groups_findings_by_service_and_exits_with_the_worst(invoke: Any, tmp_path: Path) -> None:
    root = repository(tmp_path, ["billing", "checkout", "search"])
    edit(root, "checkout", "prod", "tags:", "memroy: 2048\ntags:")
    result = invoke("validate", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("=== service checkout\nservices/checkout/environments/prod.yaml:3:1 memroy")
    assert result.stdout.count("=== service") == 1  # only services with findings have a heading in text
    assert "checked 3 services, 6 environments, rendered task definitions: 1 error, 0 warnings" in result.stderr

    document = invoke("validate", "--services", "services", "--base", "snapshots", "--format", "json", cwd=root)
    services = document.json()["services"]
    assert list(services) == ["billing", "checkout", "search"]
    assert services["billing"]["environments"] == {"prod": {"findings": []}, "stage": {"findings": []}}
    [finding] = services["checkout"]["environments"]["prod"]["findings"]
    assert finding["file"] == "services/checkout/environments/prod.yaml" and "memroy" in finding["message"]


def test_a_shared_layer_is_read_and_parsed_once_for_all_services(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecs_overlay import environments

    root = repository(tmp_path, [f"svc-{number:02d}" for number in range(25)])
    parsed: Counter[str] = Counter()
    original = environments.parse_overlay

    def counting(text: str, label: str, *args: Any, **kwargs: Any) -> Any:
        parsed[label] += 1
        return original(text, label, *args, **kwargs)

    monkeypatch.setattr(environments, "parse_overlay", counting)
    result = invoke("validate", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 0, result.stderr
    assert parsed["services/_shared/org.yaml"] == 1
    assert len(parsed) == 1 + 25 * 3 and set(parsed.values()) == {1}  # org, and each service's 3 files, once


def git_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every git subcommand the run starts: subprocess.run starts its process through subprocess.Popen too."""
    from ecs_overlay import gitsource

    calls: list[str] = []
    popen = subprocess.Popen

    def counted_popen(args: list[str], *rest: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return popen(args, *rest, **kwargs)

    monkeypatch.setattr(gitsource.subprocess, "Popen", counted_popen)
    return calls


def test_diff_against_reads_git_once_and_reports_only_the_touched_services(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"svc-{number:02d}" for number in range(12)]
    root = committed(repository(tmp_path, names))
    edit(root, "svc-03", "prod", "env: prod", "env: production")
    edit(root, "svc-07", "stage", "env: stage", "env: staging")
    calls = git_calls(monkeypatch)
    args = ["diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", "--exit-code"]
    result = invoke(*args, "--format", "json", cwd=root)
    assert result.returncode == 4, result.stderr
    assert sorted(calls) == ["cat-file", "ls-tree"]  # one listing, one batch for every blob read
    services = result.json()["services"]
    assert list(services) == ["svc-03", "svc-07"]
    assert list(services["svc-03"]["environments"]) == ["prod"]  # stage is the same at HEAD: not rendered
    [change] = services["svc-03"]["environments"]["prod"]["changes"]
    assert (change["path"], change["old"], change["new"]) == ("tags[env]", "prod", "production")
    assert "10 services and 22 environments unchanged at HEAD: not rendered" in result.stderr

    text = invoke(*args, cwd=root)
    assert text.stdout.startswith("=== service svc-03\n== prod: HEAD -> working tree: 1 change\n~ tags[env]")
    assert "=== service svc-07\n== stage: HEAD -> working tree: 1 change" in text.stdout
    markdown = invoke(*args, "--format", "markdown", cwd=root)
    assert markdown.stdout.startswith("## Service `svc-03`\n\n### `prod` — 1 change")


def test_a_change_to_the_shared_layer_touches_every_service(invoke: Any, tmp_path: Path) -> None:
    root = committed(repository(tmp_path, ["a", "b", "c"]))
    org = root / "services" / "_shared" / "org.yaml"
    org.write_text(ORG.replace("platform", "payments"))
    result = invoke("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('~ tags[cost-centre]: "platform" -> "payments"  (services/_shared/org.yaml:2:16)') == 6
    assert "0 services and 0 environments unchanged at HEAD" in result.stderr


def test_a_deleted_shared_layer_is_reported_for_every_service(invoke: Any, tmp_path: Path) -> None:
    root = committed(repository(tmp_path, ["a", "b"]))
    (root / "services" / "_shared" / "org.yaml").unlink()  # the services' own files are unchanged
    result = invoke("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 1
    assert result.stderr.count("extends target '../../_shared/org.yaml' does not exist") == 4  # each environment
    assert "(service a, environment prod)" in result.stderr and "(service b, environment stage)" in result.stderr


def test_nothing_changed_renders_nothing_and_starts_no_cat_file(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = committed(repository(tmp_path, ["a", "b"]))
    calls = git_calls(monkeypatch)
    result = invoke("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 0, result.stderr
    assert calls == ["ls-tree"] and result.stdout == ""
    assert "2 services and 4 environments unchanged at HEAD: not rendered" in result.stderr


def test_git_errors_keep_their_messages(invoke: Any, tmp_path: Path) -> None:
    root = repository(tmp_path, ["a"])
    outside = invoke("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots", cwd=root)
    assert outside.returncode == 2
    assert "--against HEAD: services is not in a git work tree" in outside.stderr
    committed(root)
    unknown = invoke("diff", "--all", "--against", "nope", "--services", "services", "--base", "snapshots", cwd=root)
    assert unknown.returncode == 2 and "--against nope: not a git revision" in unknown.stderr


def test_drift_goes_on_past_a_broken_service_and_exits_with_the_worst(invoke: Any, tmp_path: Path) -> None:
    root = repository(tmp_path, ["a", "b", "c"], envs=("prod",))
    edit(root, "a", "prod", "env: prod", "env: prod\ncpu: 4096\nmemory: 8192")  # differs from the snapshot
    edit(root, "b", "prod", "tags:", "memroy: 1\ntags:")
    result = invoke("drift", "--all", "--services", "services", "--base", "snapshots", "--format", "json", cwd=root)
    assert result.returncode == 1  # a service that does not render outranks drift (4)
    services = result.json()["services"]
    assert list(services) == ["a", "c"]
    drifted = {name: {item["path"] for item in services[name]["environments"]["prod"]["drift"]} for name in services}
    assert {"cpu", "memory"} <= drifted["a"] and "cpu" not in drifted["c"]  # c sets only family and tags
    assert "problem in environment 'prod'" in result.stderr and "(service b, environment prod)" in result.stderr
    edit(root, "b", "prod", "memroy: 1\n", "")
    again = invoke("drift", "--all", "--services", "services", "--base", "snapshots", cwd=root)
    assert again.returncode == 4, again.stderr
    assert again.stdout.startswith("=== service a\n== prod: live snapshots/a/prod.json: 6 managed values drifted")
    assert "=== service b\n" in again.stdout and "=== service c\n" in again.stdout


def test_snapshot_writes_every_service_and_validate_reads_them_back(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    root = repository(tmp_path, ["billing", "checkout"], snapshots=False)
    for name in ("billing", "checkout"):
        for env in ("stage", "prod"):
            register(ecs, {**example_taskdef(), "family": f"{name}-{env}"})
    result = invoke("snapshot", "--services", "services", "-o", "snap", cwd=root, env=aws_env)
    assert result.returncode == 0, result.stderr
    assert "wrote snap/: snapshots of 4 environments of 2 services" in result.stderr
    written = sorted(str(path.relative_to(root / "snap")) for path in (root / "snap").rglob("*.json"))
    assert written == ["billing/prod.json", "billing/stage.json", "checkout/prod.json", "checkout/stage.json"]
    assert json.loads((root / "snap" / "checkout" / "stage.json").read_text())["family"] == "checkout-stage"
    checked = invoke("validate", "--services", "services", "--base", "snap", cwd=root)
    assert checked.returncode == 0, checked.stderr


def test_snapshot_of_a_missing_family_writes_nothing(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    root = repository(tmp_path, ["billing", "checkout"], envs=("prod",), snapshots=False)
    register(ecs, {**example_taskdef(), "family": "billing-prod"})  # checkout-prod is not registered
    result = invoke("snapshot", "--services", "services", "-o", "snap", cwd=root, env=aws_env)
    assert result.returncode == 3, result.stderr
    assert not (root / "snap").exists()


def test_no_services_is_a_usage_error(invoke: Any, tmp_path: Path) -> None:
    (tmp_path / "services" / "empty").mkdir(parents=True)
    result = invoke("validate", "--services", "services", cwd=tmp_path)
    assert result.returncode == 2
    assert "--services services: no services found; a service is a subdirectory holding environments/" in (
        result.stderr
    )


def test_a_family_shared_by_services_is_described_once(invoke: Any, tmp_path: Path, fake_ecs: Any) -> None:
    root = repository(tmp_path, ["a", "b", "c"], snapshots=False)
    for name in ("a", "b", "c"):
        for env in ("stage", "prod"):
            edit(root, name, env, f"family: {name}-{env}", "family: shared-base" if env == "prod" else "family: other")
    fake_ecs.respond(200, json.loads(EXAMPLE_BASE.read_text()))
    result = invoke("drift", "--all", "--services", "services", cwd=root, env=fake_ecs.env())
    assert result.returncode == 4, result.stderr  # the example base has none of the overlays' tags
    assert result.stdout.count("=== service") == 3 and result.stdout.count("== prod: live shared-base") == 3
    assert fake_ecs.operations() == ["DescribeTaskDefinition"] * 2  # shared-base and other, once each


def test_snapshot_that_cannot_write_one_file_leaves_no_new_directory(
    invoke: Any, tmp_path: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    root = repository(tmp_path, ["billing", "checkout"], envs=("prod",), snapshots=False)
    for name in ("billing", "checkout"):
        register(ecs, {**example_taskdef(), "family": f"{name}-prod"})
    (root / "snap" / "checkout" / "prod.json").mkdir(parents=True)  # in the way of checkout's snapshot
    result = invoke("snapshot", "--services", "services", "-o", "snap", cwd=root, env=aws_env)
    assert result.returncode != 0 and "snap/checkout/prod.json" in result.stderr
    assert sorted(path.name for path in (root / "snap").iterdir()) == ["checkout"]  # snap/billing went again


def test_a_pull_request_across_services_reports_renamed_and_removed_environments_and_missing_snapshots(
    invoke: Any, tmp_path: Path
) -> None:
    root = committed(repository(tmp_path, ["billing", "checkout"]))
    billing = root / "services" / "billing" / "environments"
    (billing / "stage.yaml").rename(billing / "staging.yaml")  # no snapshot billing/staging.json yet
    (root / "services" / "checkout" / "environments" / "prod.yaml").unlink()
    result = invoke("diff", "--against", "HEAD", "--services", "services", "--base", "snapshots", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "=== service checkout\n"
        "== prod: environment prod removed (at HEAD, not in the working tree); HEAD -> working tree: no changes\n"
    )
    assert result.stderr.startswith("0 services and 2 environments unchanged at HEAD: not rendered\n")
    assert "service billing, environment staging: no base, not compared: --base snapshots/billing: no staging.json" in (
        result.stderr
    )
