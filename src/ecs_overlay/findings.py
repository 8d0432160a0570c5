"""Findings: what is wrong (or suspicious), where, and what to do about it."""

from __future__ import annotations

import json
from typing import Any, Final, Literal, NamedTuple, NewType

from .provenance import Origin

Severity = Literal["error", "warning", "info"]
# A finding's id, as only the rules registry makes one (``declare()``, ``rule()``): mypy refuses a bare string.
RuleId = NewType("RuleId", str)
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"  # said once, counts as neither an error nor a warning


class Finding(NamedTuple):
    """One problem; ``path`` is readable (``containerDefinitions[web].memory``)."""

    rule: RuleId
    message: str
    path: str = ""
    severity: Severity = ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @classmethod
    def at(
        cls, origin: Origin | None, rule: RuleId, message: str, path: str = "", severity: Severity = ERROR
    ) -> Finding:
        """A finding placed at an origin's file position, when it has one."""
        if origin is None or origin.file is None:
            return cls(rule, message, path, severity)
        return cls(rule, message, path, severity, origin.file, origin.line, origin.column)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def location(self) -> str:
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    def to_text(self) -> str:
        where = " ".join(part for part in (self.location(), self.path) if part)
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.severity}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


def short(value: Any, limit: int = 100) -> str:
    """``value`` as JSON (``null``, ``true``, ``{"a": 1}``), cut to ``limit`` characters: how messages show values."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def counted(count: int, noun: str) -> str:
    """``counted(1, "problem")`` → "1 problem"; ``counted(3, "problem")`` → "3 problems"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.is_error for finding in findings)
