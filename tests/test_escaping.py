"""Hostile names and values through validate, diff and drift in every format: each format escapes a user's
string for its sink at one boundary (report/markdown_escape.py, report/terminal.py, report/github.py, the JUnit
document, SARIF's artifact URIs), so that no key, environment variable, service directory or value can
forge a line, hide a section, break a table or invalidate a report."""

from __future__ import annotations

import io
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from ecs_overlay.report.markdown_escape import code, text
from ecs_overlay.report.pr_comment import MARKER, Section, pr_comment
from ecs_overlay.report.terminal import printable, printable_stderr, raw_stderr

from .test_reporters import valid_junit, valid_sarif
from .test_review import committed
from .test_services import edit, repository

# Sorted first, so that every section after it must survive it. A newline, a table's pipe, backticks, an
# HTML comment opener, a percent sign, a hash and a non-ASCII letter.
SERVICE = "a pay\n| `x` <!-- é#%"
# The key: an HTML comment left open would hide every environment after it in the comment.
NOTE = '"NOTE\\n\\n<!--\\n"'
ENV_NAME = '"E\\e[31m|`::%,-->"'
VALUE = '"v\\n-->\\e]0;title\\a %0A\\r\\n::error::forged \\uFFFE \\0 \\u202e"'
CONTROL = '"\\0\\e[2J\\uFFFE"'  # characters XML 1.0 forbids, in a key
COMMANDS = {
    "validate": ("validate",),
    "diff": ("diff", "--all", "--against", "HEAD"),
    "drift": ("drift", "--all"),
}
ARGS = ("--services", "services", "--base", "snapshots")


def hostile(tmp_path: Path) -> Path:
    """Two services, the first with a hostile directory name; after the commit its prod sets an environment
    variable with a hostile name and value (a change; drift) and its stage has unknown hostile fields (a
    finding; it does not render); billing, after it, changes too."""
    root = repository(tmp_path, ["billing", "hostile"])
    shutil.move(root / "services" / "hostile", root / "services" / SERVICE)
    shutil.move(root / "snapshots" / "hostile", root / "snapshots" / SERVICE)
    committed(root)
    environment = f"{{web: {{environment: {{{NOTE}: x, {ENV_NAME}: {VALUE}}}}}}}"
    edit(root, SERVICE, "prod", "tags:", f"containerDefinitions: {environment}\ntags:")
    edit(root, SERVICE, "stage", "tags:", f"{NOTE}: 1\n{CONTROL}: 2\ntags:")
    edit(root, "billing", "prod", "env: prod", "env: prod\n  owner: payments")
    return root


def run(invoke: Any, root: Path, command: str, output_format: str, cwd: Path | None = None) -> Any:
    result = invoke(*COMMANDS[command], *ARGS, "--format", output_format, cwd=cwd or root)
    assert result.returncode == 1, result.stderr  # the hostile stage does not render: exit 1, as the README says
    return result


def control_characters(output: str) -> list[str]:
    """Characters a terminal or a parser would act on (line breaks aside)."""
    return [c for c in output if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs") or c in "\u202e\ufffe")]


def tables(markdown: str) -> list[list[str]]:
    """Each Markdown table: its consecutive lines starting with ``|``."""
    found: list[list[str]] = []
    previous = False
    for line in markdown.splitlines():
        row = line.startswith("|")
        if row and not previous:
            found.append([])
        if row:
            found[-1].append(line)
        previous = row
    return found


def assert_whole_tables(markdown: str) -> None:
    """Every row of every table has its header's cells: no name split a cell or ended a row."""
    listed = tables(markdown)
    assert listed, markdown
    for table in listed:
        assert all(row.endswith("|") for row in table), table
        assert {row.count("|") for row in table} == {table[0].count("|")}, table


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_markdown_keeps_every_hostile_string_inside_its_cell(invoke: Any, tmp_path: Path, command: str) -> None:
    root = hostile(tmp_path)
    output = run(invoke, root, command, "markdown").stdout
    assert "<!--" not in output and "-->" not in output
    assert control_characters(output) == []
    assert_whole_tables(output)
    # both services' headings, the hostile one first, each shown on its line
    headings = [line for line in output.splitlines() if line.startswith("## Service ")]
    assert headings[0] == f"## Service {code(SERVICE)}" and headings[-1] == "## Service `billing`"
    assert "pay&#92;n" in headings[0] and "&lt;!--" in headings[0]


def test_the_pr_comment_cannot_be_hidden_or_forged_by_a_key(invoke: Any, tmp_path: Path) -> None:
    root = hostile(tmp_path)
    result = invoke(*COMMANDS["diff"], *ARGS, "--format", "pr-comment", cwd=root)
    assert result.returncode == 1, result.stderr
    comment = result.stdout
    assert comment.startswith(MARKER + "\n")
    assert comment.count("<!--") == comment.count("-->") == 1  # only the marker's
    assert control_characters(comment) == []
    [summary] = tables(comment.split("<details>")[0])
    assert summary[2:] == [
        f"| {code(SERVICE)} | `prod` | 2 | 0 |",
        "| `billing` | `prod` | 1 | 0 |",
        f"| {code(SERVICE)} | `stage` | — | 2 |",  # environments that do not render come last
    ]
    assert_whole_tables(comment)
    # every section after the one holding the key is there, opened and closed
    assert comment.count("<details>") == comment.count("</details>") == 3
    assert "<details><summary><code>billing/prod</code>: 1 change" in comment
    assert "NOTE&#92;n&#92;n&lt;!--&#92;n" in comment


def test_a_name_that_spells_the_marker_does_not_write_it() -> None:
    body = pr_comment([Section(MARKER, "prod\n\n" + MARKER, "HEAD -> working tree", error=MARKER)])
    assert body.count(MARKER) == 1 and body.startswith(MARKER)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_text_and_messages_show_control_characters_escaped(invoke: Any, tmp_path: Path, command: str) -> None:
    root = hostile(tmp_path)
    result = run(invoke, root, command, "text")
    for stream in (result.stdout, result.stderr):
        assert control_characters(stream) == [], stream
        assert not [line for line in stream.splitlines() if line.startswith(("::", "<!--", "-->", "NOTE"))]
    findings = result.stdout if command == "validate" else result.stderr
    assert "NOTE\\n\\n<!--\\n" in findings  # the finding, on one line, as Python would write the key
    assert "\\x00\\x1b[2J\\ufffe" in findings
    if command != "validate":
        assert f"(service {printable(SERVICE)}, environment stage)" in result.stderr.splitlines()
        assert "environment[E\\x1b[31m|`::%,-->]" in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_github_commands_are_one_line_each_with_no_raw_control_character(
    invoke: Any, tmp_path: Path, command: str
) -> None:
    root = hostile(tmp_path)
    output = run(invoke, root, command, "github").stdout
    assert control_characters(output) == []
    command_line = re.compile(r"::(error|warning|notice) (file=[^,:]*,line=\d+,col=\d+,)?title=[^,:]*::.*")
    lines = output.splitlines()
    assert lines and all(command_line.fullmatch(line) for line in lines), lines
    hostile_file = "file=services/a pay%0A| `x` <!-- é#%25/environments/stage.yaml,line=3,col=1,"
    assert any(hostile_file in line and "NOTE%0A%0A<!--%0A" in line for line in lines)


@pytest.mark.parametrize("command", ["validate", "drift"])
def test_junit_stays_valid_xml_whatever_a_key_holds(invoke: Any, tmp_path: Path, command: str) -> None:
    root = hostile(tmp_path)
    output = run(invoke, root, command, "junit").stdout
    report = valid_junit(output)
    names = [suite["@name"] for suite in report["testsuite"]]
    assert f"{SERVICE}/stage" in names and "billing/prod" in names
    assert "\\x00\\x1b[2J\\ufffe" in output


RFC_3986_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")


@pytest.mark.parametrize("command", ["validate", "drift"])
def test_sarif_locations_are_percent_encoded_from_the_repository_root(
    invoke: Any, tmp_path: Path, command: str
) -> None:
    root = hostile(tmp_path)
    args = ["--services", ".", "--base", "../snapshots", "--format", "sarif"]
    result = invoke(*COMMANDS[command], *args, cwd=root / "services")  # from a subdirectory of the repository
    assert result.returncode == 1, result.stderr
    [sarif_run] = valid_sarif(result.stdout)["runs"]
    uris = [
        location["physicalLocation"]["artifactLocation"]["uri"]
        for found in sarif_run["results"]
        for location in found["locations"]
    ]
    assert uris and all(RFC_3986_PATH.fullmatch(uri) for uri in uris), uris
    assert all((root / unquote(uri)).is_file() for uri in uris), uris
    assert "services/a%20pay%0A%7C%20%60x%60%20%3C%21--%20%C3%A9%23%25/environments/stage.yaml" in uris


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("a\x1b[31mb\rc\nd\te\x00\x7f\x9b\u2028\u202e\ufffe\udce9é ü") == (
        "a\\x1b[31mb\\rc\\nd\\te\\x00\\x7f\\x9b\\u2028\\u202e\\ufffe\\udce9é ü"
    )
    assert printable("plain text: [web].image") == "plain text: [web].image"


def test_markdown_text_and_code_leave_no_syntax() -> None:
    assert text("a|b `c` <!-- *d* _e_ [f](g) \\ h\ni &amp;") == (
        "a&#124;b &#96;c&#96; &lt;!-- &#42;d&#42; &#95;e&#95; &#91;f](g) &#92; h&#92;ni &amp;amp;"
    )
    assert code("containerDefinitions[web].image") == "`containerDefinitions[web].image`"
    assert code("a|b") == "<code>a&#124;b</code>" and code(" x") == "<code> x</code>" and code("") == "<code></code>"


def test_every_message_on_stderr_shows_control_characters_escaped(invoke: Any, project: Path) -> None:
    """A message no one wrote an escape for (validate's closing line, naming each environment) still
    goes through the one boundary: standard error itself."""
    stage = project / "environments" / "stage.yaml"
    shutil.copy(stage, project / "environments" / "qa\x1b]0;pwned\x07\r.yaml")
    shutil.copy(stage, project / "environments" / "x\n::error::forged.yaml")
    result = invoke("validate", cwd=project)
    assert result.returncode == 0, result.stderr
    assert control_characters(result.stderr) == []
    assert result.stderr == (
        "checked 4 environments (prod, qa\\x1b]0;pwned\\x07\\r, stage, x\\n::error::forged), "
        "overlay files: 0 errors, 0 warnings\n"
    )
    usage = invoke("validate", "--format", "x\n::error::forged", cwd=project)
    assert usage.returncode == 2 and usage.stderr.startswith("Usage: ecs-overlay validate [OPTIONS]\nTry ")
    assert not [line for line in usage.stderr.splitlines() if line.startswith("::")]


def test_a_hostile_key_that_fails_render_leaves_the_output_and_prints_one_line(invoke: Any, project: Path) -> None:
    overlay = project / "environments" / "prod.yaml"
    overlay.write_text(overlay.read_text() + f"{NOTE}: 1\n{CONTROL}: 2\n")
    target = project / "taskdef.json"
    target.write_bytes(b'{"family": "previous"}\n')
    result = invoke("render", "--env", "prod", "--base", "base.json", cwd=project)
    assert result.returncode == 1 and target.read_bytes() == b'{"family": "previous"}\n'
    assert control_characters(result.stderr) == []
    [note, control, error] = result.stderr.splitlines()
    assert note.startswith("environments/prod.yaml:") and "unknown field 'NOTE\\n\\n<!--\\n'" in note
    assert "unknown field '\\x00\\x1b[2J\\ufffe'" in control and error.startswith("Error: ")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _InFront:
    """Another stream put in front of standard error for the run, as masking does."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return int(self.stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def test_the_progress_line_on_a_terminal_keeps_its_own_control_sequence_and_escapes_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecs_overlay import cli

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with printable_stderr():
        monkeypatch.setattr(sys, "stderr", _InFront(sys.stderr))
        assert raw_stderr() is terminal
        progress = cli._progress()
        progress.status("PRIMARY \x1b[2J1/2 running", 80)
        progress.line("event: \x1b]0;owned\x07 done")
        progress.done()
    assert (
        terminal.getvalue() == "\r\x1b[K[1m20s] PRIMARY \\x1b[2J1/2 running\r\x1b[Kevent: \\x1b]0;owned\\x07 done\n\n"
    )


def test_standard_error_is_put_back_after_a_run() -> None:
    before = sys.stderr
    with printable_stderr():
        assert sys.stderr is not before
        with printable_stderr():  # entered again (a command run from within a run): one escaping stream
            assert sys.stderr.raw is before  # type: ignore[attr-defined]
    assert sys.stderr is before and raw_stderr() is before
