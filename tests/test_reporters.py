"""Every --format from one registry: SARIF and JUnit valid against their published schemas (vendored in
tests/schemas/), GitHub workflow commands escaped as the runner reads them, the pull-request comment
with its marker, its summary and its size guard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from ecs_overlay.diff import CHANGED, Change
from ecs_overlay.findings import INFO, WARNING, Finding
from ecs_overlay.report.github import command
from ecs_overlay.report.junit import junit
from ecs_overlay.report.located import Located, Scope
from ecs_overlay.report.pr_comment import GITHUB_LIMIT, MARKER, Section, pr_comment
from ecs_overlay.report.reporters import REPORTER_BY_NAME, formats
from ecs_overlay.report.sarif import sarif
from ecs_overlay.rules.registry import REGISTRY

from .test_e2e_aws import example_taskdef, register
from .test_review import committed
from .test_services import edit, repository

SCHEMAS = Path(__file__).parent / "schemas"
SARIF_SCHEMA = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
JUNIT_SCHEMA = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def valid_sarif(text: str) -> dict[str, Any]:
    document = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    return document


def valid_junit(text: str) -> Any:
    assert text.startswith("<?xml"), text  # (xmlschema would read any other text as a file name)
    JUNIT_SCHEMA.validate(text)
    return JUNIT_SCHEMA.to_dict(text)


def broken_services(tmp_path: Path) -> Path:
    """Two services: checkout/prod misspells a field (a finding at a line), billing/stage's snapshot has a
    field botocore does not model and a null (findings with no file: an error and an info)."""
    root = repository(tmp_path, ["billing", "checkout"])
    edit(root, "checkout", "prod", "tags:", "memroy: 2048\ntags:")
    snapshot = root / "snapshots" / "billing" / "stage.json"
    document = json.loads(snapshot.read_text())
    document["taskDefinition"].update({"futureField": 1, "pidMode": None})
    snapshot.write_text(json.dumps(document))
    return root


def test_each_command_offers_the_formats_the_registry_gives_it(invoke: Any) -> None:
    assert formats("validate") == ["text", "json", "markdown", "sarif", "junit", "github"]
    assert formats("diff") == ["text", "json", "markdown", "pr-comment", "github"]
    assert formats("drift") == ["text", "json", "markdown", "sarif", "junit", "github"]
    assert formats("verify") == ["text", "json", "markdown", "sarif", "junit", "github"]
    assert formats("explain") == ["text", "json", "markdown"]
    assert set(REPORTER_BY_NAME) == {"text", "json", "markdown", "pr-comment", "sarif", "junit", "github"}
    refused = invoke("diff", "--format", "sarif")
    assert refused.returncode == 2 and "'sarif' is not one of 'text', 'json', 'markdown'" in refused.stderr
    assert "[text|json|markdown|sarif|junit|github]" in invoke("validate", "--help").stdout
    assert "[text|json|markdown|sarif|junit|github]" in invoke("drift", "--help").stdout
    assert "[text|json|markdown|sarif|junit|github]" in invoke("verify", "--help").stdout
    assert "[text|json|markdown]" in invoke("explain", "--help").stdout


def test_validate_sarif_is_valid_and_places_findings_at_overlay_lines(invoke: Any, tmp_path: Path) -> None:
    root = broken_services(tmp_path)
    result = invoke("validate", "--services", "services", "--base", "snapshots", "--format", "sarif", cwd=root)
    assert result.returncode == 1
    document = valid_sarif(result.stdout)
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ecs-overlay" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"unknown-field", "base-null"}
    assert rules["unknown-field"]["helpUri"] == REGISTRY["unknown-field"].source
    assert rules["unknown-field"]["shortDescription"]["text"] == REGISTRY["unknown-field"].summary
    assert rules["base-null"]["defaultConfiguration"]["level"] == "note"
    results = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r for r in run["results"]
    }
    misspelt = results[("unknown-field", "services/checkout/environments/prod.yaml")]
    assert misspelt["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 1}
    assert misspelt["level"] == "error" and "did you mean 'memory'" in misspelt["message"]["text"]
    assert "(service checkout, environment prod)" in misspelt["message"]["text"]
    # no file of its own: placed on its environment's overlay file, without a region
    in_base = results[("unknown-field", "services/billing/environments/stage.yaml")]
    assert "region" not in in_base["locations"][0]["physicalLocation"]
    assert results[("base-null", "services/billing/environments/stage.yaml")]["level"] == "note"
    assert driver["rules"][misspelt["ruleIndex"]]["id"] == "unknown-field"


def test_validate_junit_is_valid_with_a_suite_per_environment(invoke: Any, tmp_path: Path) -> None:
    root = broken_services(tmp_path)
    result = invoke("validate", "--services", "services", "--base", "snapshots", "--format", "junit", cwd=root)
    assert result.returncode == 1
    report = valid_junit(result.stdout)
    suites = {suite["@name"]: suite for suite in report["testsuite"]}
    assert list(suites) == ["billing/prod", "billing/stage", "checkout/prod", "checkout/stage"]
    assert (report["@tests"], report["@failures"]) == ("4", "2")
    assert suites["billing/prod"]["testcase"] == [{"@name": "no errors", "@classname": "billing/prod"}]
    [failed] = suites["checkout/prod"]["testcase"]
    assert failed["@name"] == "unknown-field" and "prod.yaml:3:1 memroy" in failed["failure"][0]["@message"]
    assert "base-null" in suites["billing/stage"]["system-out"][0]


def test_junit_warnings_are_skipped_cases_and_do_not_fail_the_environment() -> None:
    items = [
        Located("", "prod", Finding("ulimit-range", "soft above hard", "x", WARNING, "environments/prod.yaml", 4, 3)),
        Located("", "prod", Finding("ulimit-range", "again", "y", WARNING, "environments/prod.yaml", 6, 3)),
        Located("", "prod", Finding("base-null", "dropped 1 null", severity=INFO)),
    ]
    report = valid_junit(junit(items, Scope([("", "prod")], {}), "ecs-overlay validate"))
    [suite] = report["testsuite"]
    assert (suite["@tests"], suite["@failures"], suite["@skipped"]) == ("2", "0", "1")
    skipped, passed = suite["testcase"]
    assert skipped["@name"] == "ulimit-range" and "soft above hard" in skipped["skipped"][0]["@message"]
    assert "again" in skipped["skipped"][0]["$"]
    assert passed["@name"] == "no errors"


def test_sarif_finding_without_any_file_has_no_location() -> None:
    document = sarif(
        [Located("", "prod", Finding("base-null", "dropped", severity=INFO))], Scope([], {}), Path("."), "1"
    )
    valid_sarif(json.dumps(document))
    assert document["runs"][0]["results"][0]["locations"] == []


def test_github_commands_escape_data_and_properties() -> None:
    line = command("error", "50% of\r\nit: a, b", "rule:x,y", "dir,a/b:c.yaml", 12, None)
    assert line == "::error file=dir%2Ca/b%3Ac.yaml,line=12,col=1,title=rule%3Ax%2Cy::50%25 of%0D%0Ait: a, b\n"
    assert command("notice", "m", "t", None, None, None) == "::notice title=t::m\n"


def test_validate_github_annotates_the_overlay_line(invoke: Any, tmp_path: Path) -> None:
    root = broken_services(tmp_path)
    result = invoke("validate", "--services", "services", "--base", "snapshots", "--format", "github", cwd=root)
    lines = result.stdout.splitlines()
    assert (
        "::error file=services/checkout/environments/prod.yaml,line=3,col=1,title=unknown-field::memroy: unknown "
        "field 'memroy'; did you mean 'memory'? (service checkout, environment prod)"
    ) in lines
    assert any(line.startswith("::notice title=base-null::dropped 1 null value") for line in lines)


PR_COMMENT = ("diff", "--all", "--against", "HEAD", "--services", "services", "--base", "snapshots")
PR_COMMENT += ("--format", "pr-comment")
SECRET = "env: prod\nallowPlaintext: [API_TOKEN]\ncontainerDefinitions: {web: {environment: {API_TOKEN: s3cr3t-value}}}"


def drifted(tmp_path: Path) -> Path:
    root = repository(tmp_path, ["a", "b"], envs=("prod",))
    edit(root, "a", "prod", "env: prod", "env: prod\ncpu: 4096\nmemory: 8192")  # differs from the snapshot
    return root


def test_drift_sarif_junit_and_github_point_at_the_line_that_sets_the_drifted_value(
    invoke: Any, tmp_path: Path
) -> None:
    root = drifted(tmp_path)
    args = ("drift", "--all", "--services", "services", "--base", "snapshots", "--format")
    result = invoke(*args, "sarif", cwd=root)
    assert result.returncode == 4
    run = valid_sarif(result.stdout)["runs"][0]
    [drift] = run["tool"]["driver"]["rules"]
    assert drift["id"] == "drift" and drift["shortDescription"]["text"] == REGISTRY["drift"].summary
    cpu = next(r for r in run["results"] if r["message"]["text"].startswith("cpu:"))
    location = cpu["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "services/a/environments/prod.yaml"
    assert location["region"] == {"startLine": 5, "startColumn": 6}
    assert cpu["message"]["text"].endswith('the overlays set "4096" (service a, environment prod)')

    report = valid_junit(invoke(*args, "junit", cwd=root).stdout)
    suites = {suite["@name"]: suite for suite in report["testsuite"]}
    assert list(suites) == ["a/prod", "b/prod"]  # b's overlays set a family and tags the snapshot lacks
    [case] = suites["a/prod"]["testcase"]
    assert case["@name"] == "drift" and suites["a/prod"]["@failures"] == "1"
    assert "services/a/environments/prod.yaml:5:6 cpu: error: live snapshots/a/prod.json has" in case["failure"][0]["$"]

    annotations = invoke(*args, "github", cwd=root).stdout
    assert "::error file=services/a/environments/prod.yaml,line=5,col=6,title=drift::cpu: live" in annotations


def test_drift_reports_mask_secrets(invoke: Any, tmp_path: Path) -> None:
    root = repository(tmp_path, ["a"], envs=("prod",))
    edit(root, "a", "prod", "env: prod", SECRET)
    for output_format in ("sarif", "junit", "github"):
        result = invoke(
            "drift", "--all", "--services", "services", "--base", "snapshots", "--format", output_format, cwd=root
        )
        assert result.returncode == 4, result.stderr
        assert "API_TOKEN" in result.stdout and "s3cr3t-value" not in result.stdout


def test_diff_github_annotates_the_overlay_line_that_causes_a_change(invoke: Any, project: Path) -> None:
    committed(project)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("LOG_LEVEL: warn", "LOG_LEVEL: error"))
    result = invoke("diff", "--all", "--against", "HEAD", "--base", "base.json", "--format", "github", cwd=project)
    assert result.returncode == 0, result.stderr
    line = prod.read_text().splitlines().index("      LOG_LEVEL: error") + 1
    assert result.stdout == (
        f"::notice file=environments/prod.yaml,line={line},col=18,title=ecs-overlay diff::"
        'containerDefinitions[web].environment[LOG_LEVEL]: "warn" -> "error" (environment prod: HEAD -> working tree)\n'
    )


def test_pr_comment_summary_first_then_collapsible_sections_secrets_masked(invoke: Any, tmp_path: Path) -> None:
    root = committed(repository(tmp_path, ["billing", "checkout"]))
    edit(root, "checkout", "prod", "env: prod", SECRET)
    edit(root, "billing", "stage", "tags:", "memroy: 1\ntags:")
    result = invoke(*PR_COMMENT, cwd=root)
    assert result.returncode == 1  # billing/stage does not render
    comment = result.stdout
    assert comment.startswith(MARKER + "\n## ecs-overlay: what this pull request changes\n")
    assert "s3cr3t-value" not in comment and '`"****"`' in comment
    table = comment.index("| service | environment | changes | findings |")
    assert "| `checkout` | `prod` | 1 | 0 |" in comment and "| `billing` | `stage` | — | 1 |" in comment
    first_section = comment.index("<details>")
    assert table < first_section
    assert (
        "<details><summary><code>checkout/prod</code>: 1 change <i>(HEAD -&gt; working tree)</i></summary>" in comment
    )
    assert "<code>billing/stage</code>: does not render" in comment and "memroy" in comment
    assert comment.count("<details>") == comment.count("</details>") == 2


def change(index: int) -> Change:
    return Change(("containerDefinitions", "web", f"V{index}"), CHANGED, "a" * 200, "b" * 200)


def test_pr_comment_cuts_whole_sections_to_fit_and_says_which() -> None:
    sections = [Section("svc", f"env{n}", "HEAD -> working tree", [change(i) for i in range(100)]) for n in range(10)]
    comment = pr_comment(sections, "title")
    assert len(comment) <= GITHUB_LIMIT
    kept = comment.count("</details>")
    assert 0 < kept < 10 and comment.count("<details>") == kept  # whole sections only
    assert f"**{10 - kept} sections cut** to stay under GitHub's 65,536-character comment limit" in comment
    assert f"`svc/env{kept}` (100 changes)" in comment and "`svc/env9` (100 changes)" in comment
    assert f"<code>svc/env{kept - 1}</code>" in comment and f"<code>svc/env{kept}</code>" not in comment
    assert all(f"| `svc` | `env{n}` | 100 | 0 |" in comment for n in range(10))  # the summary keeps every row
    small = pr_comment(sections[:1], "title")
    assert "cut" not in small and small.count("</details>") == 1


def test_pr_comment_of_a_huge_diff_from_the_command_line(invoke: Any, tmp_path: Path) -> None:
    root = committed(repository(tmp_path, ["a", "b", "c"]))
    variables = "".join(f"      VARIABLE_{i}: {'x' * 120}\n" for i in range(300))
    for name in ("a", "b", "c"):
        edit(
            root, name, "prod", "env: prod", f"env: prod\ncontainerDefinitions:\n  web:\n    environment:\n{variables}"
        )
    result = invoke(*PR_COMMENT, cwd=root)
    assert result.returncode == 0, result.stderr
    comment = result.stdout
    assert len(comment) <= GITHUB_LIMIT < 3 * len(variables)  # the whole diff would not fit
    assert "sections cut" in comment and "`c/prod` (300 changes)" in comment
    assert comment.count("<details>") == comment.count("</details>") >= 1


@pytest.mark.parametrize("output_format", ["text", "json", "markdown", "pr-comment", "github"])
def test_every_diff_format_masks_secrets(invoke: Any, project: Path, output_format: str) -> None:
    (project / "environments" / "prod.yaml").write_text(
        "allowPlaintext: [LEGACY_TOKEN]\ncontainerDefinitions: {web: {environment: {LEGACY_TOKEN: s3cr3t-value}}}\n"
    )
    result = invoke("diff", "--env", "prod", "--base", "base.json", "--format", output_format, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "LEGACY_TOKEN" in result.stdout and "s3cr3t-value" not in result.stdout


def test_sarif_of_an_environment_with_two_files_names_the_one_the_finding_is_on(invoke: Any, project: Path) -> None:
    (project / "environments" / "prod.yml").write_text("cpu: 4096\n")
    result = invoke("validate", "--format", "sarif", cwd=project)
    assert result.returncode == 1
    [finding] = valid_sarif(result.stdout)["runs"][0]["results"]
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "environments/prod.yaml"
    assert "has two files" in finding["message"]["text"]


def test_validate_markdown_summarises_then_tables_each_environment(invoke: Any, project: Path) -> None:
    for env, field in (("prod", "memroy"), ("stage", "cpu|x")):
        overlay = project / "environments" / f"{env}.yaml"
        overlay.write_text(overlay.read_text() + f"{field}: 1\n")
    line = len((project / "environments" / "prod.yaml").read_text().splitlines())
    result = invoke("validate", "--format", "markdown", cwd=project)
    assert result.returncode == 1, result.stderr
    summary, prod, stage = result.stdout.split("### ")
    assert summary.startswith("2 errors, 0 warnings in 2 environments.\n\n| environment | errors | warnings | info |")
    assert "| `prod` | 1 | 0 | 0 |" in summary and "| `stage` | 1 | 0 | 0 |" in summary
    assert prod.startswith("`prod` — 1 error, 0 warnings\n\n| severity | rule | where | path | message |\n")
    assert (
        f"| error | `unknown-field` | `environments/prod.yaml:{line}:1` | `memroy` | "
        "unknown field 'memroy'; did you mean 'memory'? |"
    ) in prod
    # a pipe in a name stays inside its cell
    [row] = [row for row in stage.splitlines() if "unknown-field" in row]
    assert "<code>cpu&#124;x</code>" in row and row.count("|") == 6


def test_validate_markdown_groups_by_service(invoke: Any, tmp_path: Path) -> None:
    root = broken_services(tmp_path)
    result = invoke("validate", "--services", "services", "--base", "snapshots", "--format", "markdown", cwd=root)
    assert result.returncode == 1, result.stderr
    text = result.stdout
    assert "| service | environment | errors | warnings | info |" in text
    assert "| `billing` | `stage` | 1 | 0 | 1 |" in text and "| `checkout` | `stage` | 0 | 0 | 0 |" in text
    billing, checkout = text.index("## Service `billing`"), text.index("## Service `checkout`")
    assert billing < checkout
    assert "| info | `base-null` |  |  | dropped 1 null value" in text[billing:checkout]
    assert "`services/checkout/environments/prod.yaml:3:1` | `memroy` |" in text[checkout:]
    assert text[checkout:].count("### ") == 2 and "### `stage` — no findings" in text[checkout:]


def test_drift_markdown_against_the_live_service_masks_secrets(
    invoke: Any, project: Path, ecs: Any, aws_env: dict[str, str]
) -> None:
    live = example_taskdef("prod")
    web = next(c for c in live["containerDefinitions"] if c["name"] == "web")
    web["environment"] += [
        {"name": "API_TOKEN", "value": "canary-live-token-5e5e"},
        {"name": "BUILD_REF", "value": "build-41"},
    ]
    register(ecs, live)
    prod = project / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "      LOG_LEVEL: warn\n",
            "      LOG_LEVEL: warn\n      API_TOKEN: canary-overlay-token-7a7a\n      BUILD_REF: ${BUILD_NUMBER}\n",
        )
        + "allowPlaintext: [API_TOKEN]\n"
    )
    result = invoke("drift", "--format", "markdown", cwd=project, env={**aws_env, "DEPLOY_ENV": "prod"})
    assert result.returncode == 4, result.stderr
    text = result.stdout
    assert "canary-" not in text + result.stderr
    assert re.match(r"### `prod` — \d+ managed values drifted\n\n_live checkout-api-prod_\n\n\| path \|", text), text
    drifted, build_time = text.split("Build-time values differ (not drift): 1\n")
    assert '| `containerDefinitions[web].environment[API_TOKEN]` | `"****"` | `"****"` |' in drifted
    log_level = "| `containerDefinitions[web].environment[LOG_LEVEL]` |"
    assert f'{log_level} `"info"` | `"warn"` | `environments/prod.yaml:15:18` |' in drifted
    assert "BUILD_REF" not in drifted
    assert '| `containerDefinitions[web].environment[BUILD_REF]` | `"build-41"` | `"${BUILD_NUMBER}"` |' in build_time
