"""Stable JSON and atomic writes: a failed run never leaves a partial or changed artifact."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import OutputError


def to_json(document: Any) -> str:
    """2-space indent, keys in the order they came, non-ASCII kept, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def write_all(files: Sequence[tuple[str, str]]) -> None:
    """Write each (path, text); ``-`` is standard output.

    Every file is first written to a temporary file beside its target; only when all of them
    are written are they renamed into place, so a failure leaves every existing file as it was.
    """
    staged: list[tuple[str, Path]] = []
    streams = [(target, text) for target, text in files if target == "-" or _is_stream(Path(target))]
    current = ""
    try:
        for target, text in files:
            if (target, text) in streams:
                continue
            current = target
            staged.append((target, _stage(Path(target), text)))
        for target, temporary in staged:
            current = target
            os.replace(temporary, target)
    except OSError as error:
        for _, temporary in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()
        raise OutputError(f"cannot write {current}: {error.strerror}; nothing was written") from None
    for target, text in streams:
        # Standard output, /dev/null, a FIFO: written in place, never renamed over.
        if target == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)


def _is_stream(path: Path) -> bool:
    """An existing target that is not a regular file (a device, a FIFO) must not be replaced."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return False


def _stage(target: Path, text: str) -> Path:
    directory = target.parent
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode_for(target))
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return temporary


def _mode_for(target: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
