"""The pull-request comment: a summary table, then each service's environments in collapsible sections.

It starts with a hidden marker so that a bot finds and updates its own comment instead of adding one
per push, and it stays under GitHub's comment limit by cutting whole sections, saying which. Every name,
path, value and message goes through ``markdown_escape``: none can write the marker, hide a section behind an
HTML comment or break the summary table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..diff import Change
from ..findings import Finding, counted
from .located import qualified
from .markdown import changes_table
from .markdown_escape import code, preformatted, text

MARKER = "<!-- ecs-overlay:pr-comment -->"
TITLE = "ecs-overlay: what this pull request changes"
GITHUB_LIMIT = 65_536  # characters in an issue or pull-request comment body
_LISTED_CUTS = 20


@dataclass
class Section:
    """One environment of one service: its changes (masked as wanted), or why it could not be compared."""

    service: str
    environment: str
    heading: str
    changes: Sequence[Change] = ()
    error: str | None = None
    findings: Sequence[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return qualified(self.service, self.environment)

    def summary(self) -> str:
        if self.error is not None:
            return "does not render"
        return counted(len(self.changes), "change") if self.changes else "no changes"

    def details(self) -> str:
        title = f"<code>{text(self.name)}</code>: {text(self.summary())} <i>({text(self.heading)})</i>"
        if self.error is not None:
            lines = [finding.to_text() for finding in self.findings]
            body = f"**Error:** {text(self.error)}" + (f"\n\n{preformatted(lines)}" if lines else "")
        else:
            body = changes_table(self.changes) if self.changes else "No changes."
        return f"<details><summary>{title}</summary>\n\n{body}\n\n</details>\n"


def pr_comment(sections: Sequence[Section], title: str = TITLE, limit: int = GITHUB_LIMIT) -> str:
    """The comment's Markdown, at most ``limit`` characters: sections are cut from the end while it is longer."""
    many = any(section.service for section in sections)
    header = (
        "| service | environment | changes | findings |\n|---|---|---:|---:|"
        if many
        else ("| environment | changes | findings |\n|---|---:|---:|")
    )
    rows = []
    for section in sections:
        changes = "—" if section.error is not None else str(len(section.changes))
        cells = [code(section.environment), changes, str(len(section.findings))]
        if many:
            cells.insert(0, code(section.service))
        rows.append("| " + " | ".join(cells) + " |")
    changed = sum(1 for section in sections if section.changes)
    failed = sum(1 for section in sections if section.error is not None)
    verdict = f"{counted(changed, 'environment')} changed, {counted(failed, 'environment')} that do not render"
    head = f"{MARKER}\n## {title}\n\n{verdict}.\n\n" + "\n".join([header, *rows]) + "\n\n"
    if not sections:
        head = f"{MARKER}\n## {title}\n\nNo environment is affected by this change.\n"
    details = [section.details() for section in sections]

    def length(kept: int) -> int:
        return len(head) + sum(map(len, details[:kept])) + len(_cut_note(sections[kept:]))

    kept = len(details)
    while kept and length(kept) > limit:
        kept -= 1
    body = head + "".join(details[:kept]) + _cut_note(sections[kept:])
    if len(body) > limit:  # a summary table alone over the limit: thousands of environments
        note = f"\n\n_The summary was cut at {limit:,} characters, GitHub's limit for a comment._\n"
        body = body[: limit - len(note)] + note
    return body


def _cut_note(cut: Sequence[Section]) -> str:
    if not cut:
        return ""
    names = ", ".join(f"{code(section.name)} ({section.summary()})" for section in cut[:_LISTED_CUTS])
    more = f" and {len(cut) - _LISTED_CUTS} more" if len(cut) > _LISTED_CUTS else ""
    return (
        f"\n**{counted(len(cut), 'section')} cut** to stay under GitHub's {GITHUB_LIMIT:,}-character comment "
        f"limit: {names}{more}. Run `ecs-overlay diff` for those environments (or read the job's log) "
        "to see them.\n"
    )
