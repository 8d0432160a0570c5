"""Stable JSON and atomic writes: a failed run never leaves a partial or changed artifact."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import OutputError


def to_json(document: Any) -> str:
    """2-space indent, keys in the order they came, non-ASCII kept, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def write_all(files: Sequence[tuple[str, str]]) -> None:
    """Write each (path, text); ``-`` is standard output.

    Every file is first written to a temporary file beside its target; only when all of them
    are written are they renamed into place. SIGTERM and SIGINT are held back meanwhile (it takes
    milliseconds), so a failure leaves every existing file as it was, an interruption lands after
    the last rename, and no temporary file is ever left behind.
    """
    staged: list[tuple[str, Path]] = []
    streams = [(target, text) for target, text in files if target == "-" or _is_stream(Path(target))]
    stream_targets = {target for target, _ in streams}
    current = ""
    with _signals_held():  # a SIGTERM now is acted on once every file is complete, or cleaned up
        try:
            for target, text in files:
                if target in stream_targets:
                    continue
                current = target
                staged.append((target, _stage(Path(target), text)))
            for target, temporary in staged:
                current = target
                os.replace(temporary, target)
        except OSError as error:
            _discard(staged)
            raise OutputError(f"cannot write {current}: {error.strerror}; nothing was written") from None
        except BaseException:
            _discard(staged)
            raise
    try:
        for target, text in streams:
            current = target
            _write_stream(target, text)
    except OSError as error:
        raise OutputError(f"cannot write {current}: {error.strerror}") from None


def _write_stream(target: str, text: str) -> None:
    """Standard output, /dev/null, a FIFO: written in place, never renamed over."""
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)


def _discard(staged: Sequence[tuple[str, Path]]) -> None:
    for _, temporary in staged:
        with contextlib.suppress(OSError):
            temporary.unlink()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while artifacts are written: both are written, or neither."""
    held = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
