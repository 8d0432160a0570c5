"""Revision hygiene against moto's server: `deregister --keep N` never touches a revision a service runs,
and `rollback` points the service back at its previous revision (the fault proxy tells the rollout's
end, which moto never reaches)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecs_overlay.base import AwsPlace
from ecs_overlay.revisions import previous_revision, prune_plan

from .conftest import FaultProxy
from .test_deploy import TASK_DEFINITIONS, described, running
from .test_e2e_aws import example_taskdef


def revision(number: int, family: str = "checkout-api-prod") -> str:
    return f"{TASK_DEFINITIONS}/{family}:{number}"


def register(ecs: Any, count: int, environment: str = "prod") -> None:
    for _ in range(count):
        ecs.register_task_definition(
            **{
                **example_taskdef(environment),
                "tags": [{"key": "ecs-overlay:environment", "value": environment}],
            }
        )


def active(ecs: Any, family: str = "checkout-api-prod") -> list[str]:
    arns: list[str] = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    return sorted(arns, key=lambda arn: int(arn.rsplit(":", 1)[1]))


@pytest.fixture
def revisions(ecs: Any, project: Path) -> None:
    """checkout-api-prod:1..6; shop/checkout (prod's `base:` service) runs :2, shop/worker runs :3;
    checkout-api-stage:1..3 beside them."""
    register(ecs, 6)
    register(ecs, 3, "stage")
    ecs.create_cluster(clusterName="shop")
    ecs.create_service(cluster="shop", serviceName="checkout", taskDefinition=revision(2), desiredCount=1)
    ecs.create_service(cluster="shop", serviceName="worker", taskDefinition=revision(3), desiredCount=1)
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(
        overlay.read_text().replace(
            "base:\n  family: checkout-api-prod\n", "base:\n  cluster: shop\n  service: checkout\n"
        )
    )


def test_deregister_keeps_the_newest_and_every_revision_a_service_runs(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str]
) -> None:
    dry = invoke("deregister", "--env", "prod", "--keep", "2", "--dry-run", cwd=project, env=aws_env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.splitlines() == [
        f"kept (a service runs it): {revision(3)}",
        f"kept (a service runs it): {revision(2)}",
        f"would deregister {revision(4)}",
        f"would deregister {revision(1)}",
        "family checkout-api-prod: kept the newest 2 revisions and 2 in use; would deregister 2; nothing changed "
        "(dry run)",
    ]
    assert len(active(ecs)) == 6
    done = invoke("deregister", "--env", "prod", "--keep", "2", cwd=project, env=aws_env)
    assert done.returncode == 0, done.stderr
    assert f"deregistered {revision(4)}" in done.stderr.splitlines()
    assert active(ecs) == [revision(n) for n in (2, 3, 5, 6)]
    assert len(active(ecs, "checkout-api-stage")) == 3  # another family: untouched


def test_deregister_without_the_base_service_keeps_what_the_named_clusters_run(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str]
) -> None:
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(overlay.read_text().replace("base:\n  cluster: shop\n  service: checkout\n", ""))
    unprotected = invoke("deregister", "--env", "prod", "--keep", "1", "--dry-run", cwd=project, env=aws_env)
    assert unprotected.returncode == 0, unprotected.stderr
    assert f"would deregister {revision(2)}" in unprotected.stderr.splitlines()  # nothing said it runs
    result = invoke("deregister", "--env", "prod", "--keep", "1", "--cluster", "shop", cwd=project, env=aws_env)
    assert result.returncode == 0, result.stderr
    assert active(ecs) == [revision(n) for n in (2, 3, 6)]


def test_deregister_needs_keep(invoke: Any, project: Path) -> None:
    result = invoke("deregister", "--env", "prod", cwd=project)
    assert result.returncode == 2 and "Missing option '--keep'" in result.stderr
    zero = invoke("deregister", "--env", "prod", "--keep", "0", cwd=project)
    assert zero.returncode == 2 and "--keep" in zero.stderr


def test_rollback_points_the_service_at_the_previous_revision_and_waits(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    ecs.update_service(cluster="shop", service="checkout", taskDefinition=revision(4))
    ecs.deregister_task_definition(taskDefinition=revision(3))  # not ACTIVE: not a revision to go back to
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", revision(4)))  # the rollout ended
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", revision(2)))
    result = invoke("rollback", "--env", "prod", "--poll-interval", "0", cwd=project, env=fault_proxy.env(aws_env))
    assert result.returncode == 0, result.stderr
    assert result.stdout == revision(2) + "\n"
    lines = result.stderr.splitlines()
    assert lines[0] == f"rolling back service shop/checkout: {revision(4)} -> {revision(2)}"
    assert f"updated service shop/checkout: {revision(4)} -> {revision(2)}" in lines
    assert lines[-1].startswith("deployment completed: PRIMARY COMPLETED")
    assert [update for update in fault_proxy.sent("UpdateService")] == [
        {"cluster": "shop", "service": "checkout", "taskDefinition": revision(2)}
    ]
    assert running(ecs) == revision(2)


def test_rollback_to_a_named_revision(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.forward("DescribeServices")
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", revision(5)))
    result = invoke(
        "rollback", "--env", "prod", "--to-revision", "5", "--poll-interval", "0", cwd=project,
        env=fault_proxy.env(aws_env),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert running(ecs) == revision(5)


def test_rollback_without_an_older_revision_says_what_to_do(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str], fault_proxy: FaultProxy
) -> None:
    fault_proxy.answer("DescribeServices", 200, described("COMPLETED", revision(1)))
    result = invoke("rollback", "--env", "prod", cwd=project, env=fault_proxy.env(aws_env))
    assert result.returncode == 2
    assert "family checkout-api-prod has no ACTIVE revision older than checkout-api-prod:1" in result.stderr
    assert "--to-revision N" in result.stderr
    assert "UpdateService" not in fault_proxy.operations


def test_rollback_refuses_a_service_of_another_environment(
    invoke: Any, project: Path, ecs: Any, revisions: None, aws_env: dict[str, str]
) -> None:
    result = invoke(
        "rollback", "--env", "stage", "--cluster", "shop", "--service", "checkout", cwd=project, env=aws_env
    )
    assert result.returncode == 1
    assert f"the revision it runs, {revision(2)}, is tagged ecs-overlay:environment=prod" in result.stderr
    assert running(ecs) == revision(2)


def test_the_previous_revision_mid_rollout_is_the_one_the_older_deployment_runs() -> None:
    service = {
        "taskDefinition": revision(4),
        "deployments": [
            {"status": "PRIMARY", "taskDefinition": revision(4), "rolloutState": "IN_PROGRESS"},
            {"status": "ACTIVE", "taskDefinition": revision(2)},
        ],
    }
    assert previous_revision(None, service, AwsPlace()) == revision(2)  # type: ignore[arg-type]  # no AWS call


def test_prune_plan_keeps_the_newest_and_those_in_use() -> None:
    arns = [revision(n) for n in (6, 5, 4, 3, 2, 1)]
    pruning = prune_plan("checkout-api-prod", arns, 2, {revision(2), revision(6)})
    assert pruning.kept == [revision(6), revision(5)]
    assert pruning.in_use == [revision(2)]
    assert pruning.deregistered == [revision(4), revision(3), revision(1)]
