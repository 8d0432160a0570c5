"""GitHub Actions workflow commands: annotations on the overlay lines, shown in the run and on the PR's files.

Escaping follows GitHub's runner (``toolkit/packages/core/src/command.ts``): in the message ``%``, CR
and LF; in a property also ``:`` and ``,``, which would otherwise end the property. The log shows the
line as it is, so the message's other control characters (an ANSI sequence in a key) are shown escaped
first, as the terminal shows them; the file property is left as the file is named, to match it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..diff import ADDED, REMOVED, Change
from ..findings import ERROR, INFO, WARNING, Severity, short
from .located import Located, relative_path
from .terminal import printable

_LINE_BREAKS = "\r\n"  # encoded as GitHub documents, not shown escaped
_COMMANDS: dict[Severity, str] = {ERROR: "error", WARNING: "warning", INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, title: str, file: str | None, line: int | None, column: int | None) -> str:
    properties = {}
    if file is not None:
        properties["file"] = file
        if line is not None:
            properties["line"] = str(line)
            properties["col"] = str(column or 1)
    properties["title"] = printable(title, keep=_LINE_BREAKS)
    listed = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{kind} {listed}::{escape_data(printable(message, keep=_LINE_BREAKS))}\n"


def findings_commands(items: Sequence[Located], root: Path) -> str:
    lines = []
    for item in items:
        finding = item.finding
        file = relative_path(finding.file, root) if finding.file is not None else None
        where = f"{finding.path}: " if finding.path else ""
        message = f"{where}{finding.message} ({item.scope})"
        lines.append(command(_COMMANDS[finding.severity], message, finding.rule, file, finding.line, finding.column))
    return "".join(lines)


def changes_commands(diffs: Sequence[tuple[str, str, Sequence[Change]]], root: Path) -> str:
    """A notice on each overlay line that causes a change (changes already masked as wanted);
    a change that no overlay line causes (the base, an ``--image``) has no line to annotate."""
    lines = []
    for suite, heading, changes in diffs:
        for change in changes:
            origin = change.origin
            if origin is None or origin.file is None:
                continue
            if change.operation == ADDED:
                what = f"adds {short(change.new)}"
            elif change.operation == REMOVED:
                what = f"removes {short(change.old)}"
            else:
                what = f"{short(change.old)} -> {short(change.new)}"
            message = f"{change.readable_path}: {what} (environment {suite}: {heading})"
            file = relative_path(origin.file, root)
            lines.append(command("notice", message, "ecs-overlay diff", file, origin.line, origin.column))
    return "".join(lines)
