"""Stable JSON and all-or-nothing writes: a failed run never leaves a partial or changed artifact.

Also the output boundary of a run: while a command runs, standard output and standard error are
:class:`MaskedStream` s that mask every value the run knows is secret (secrets.KnownSecrets) in all
that is printed, reports and messages alike. Only artifacts (``render -o -``) go around it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .errors import InvalidInputError, OutputError, UsageError
from .secrets import current_run, end_run, start_run

STDOUT = "-"


def to_json(document: Any) -> str:
    """2-space indent, keys in the order they came, non-ASCII kept, trailing newline.

    NaN and Infinity are not JSON: refused here as a last line of defence, whatever let them in.
    """
    try:
        return json.dumps(document, indent=2, ensure_ascii=False, default=str, allow_nan=False) + "\n"
    except ValueError:
        raise InvalidInputError(
            "the result holds a number that is not finite (NaN or Infinity), which JSON cannot express; "
            "give a finite number"
        ) from None


class Artifact(NamedTuple):
    """One output of a run: the option that named it (for messages), where it goes, what it holds."""

    option: str
    path: str
    text: str


class Target(NamedTuple):
    """Where an output really goes, decided before anything is written."""

    option: str
    path: str  # as the user wrote it
    real: Path | None  # the regular file to replace, symlinks followed; None for a stream
    identity: tuple[Any, ...]  # equal for two names of one file


def destination(path: str) -> str:
    """An output path as a message names it: ``-`` is standard output."""
    return "standard output" if path == "-" else path


def check_outputs(outputs: Sequence[tuple[str, str]]) -> list[Target]:
    """Every ``(option, path)`` resolved and checked; nothing is written.

    Two outputs naming one file (in any spelling: ``./x``, a symlink, a hard link) or two sharing
    standard output are a usage error; a target that cannot be written is an I/O error.
    """
    targets = [_target(option, path) for option, path in outputs]
    discarded = _target("", os.devnull).identity  # /dev/null may take any number of outputs
    for index, target in enumerate(targets):
        for earlier in targets[:index]:
            both_stdout = target.path == STDOUT and earlier.path == STDOUT
            if both_stdout or (target.identity == earlier.identity and target.identity != discarded):
                raise UsageError(_same_place(earlier, target))
    return targets


def write_all(artifacts: Sequence[Artifact]) -> None:
    """Write every artifact, or none; ``-`` is standard output.

    All targets are checked first (``check_outputs``). Streams (standard output, a FIFO, /dev/null)
    cannot be taken back, so they are written first, in place. Then each file is written to a
    temporary file beside its real target and, once all are written, renamed into place, with
    SIGTERM and SIGINT held back for the milliseconds that takes: a failure leaves every existing
    file as it was, an interruption lands after the last rename, and no temporary file is left.
    """
    targets = check_outputs([(artifact.option, artifact.path) for artifact in artifacts])
    for target, artifact in zip(targets, artifacts, strict=True):
        if target.real is None:
            try:
                _write_stream(target.path, artifact.text)
            except OSError as error:
                raise OutputError(f"cannot write {target.path} ({target.option}): {_reason(error)}") from None
    files = [(target, artifact) for target, artifact in zip(targets, artifacts, strict=True) if target.real]
    outcome = "no output file was changed" if len(files) < len(targets) else "nothing was written"
    staged: list[tuple[Target, Path]] = []
    current = ""
    # a signal now is acted on once every file is complete, or cleaned up
    with _signals_held(), _undone_on_failure(lambda: _discard(staged)):
        try:
            for target, artifact in files:
                current = f"{target.path} ({target.option})"
                staged.append((target, _stage(target.real, artifact.text)))  # type: ignore[arg-type]
            for target, temporary in staged:
                current = f"{target.path} ({target.option})"
                os.replace(temporary, target.real)  # type: ignore[arg-type]
        except OSError as error:
            raise OutputError(f"cannot write {current}: {_reason(error)}; {outcome}") from None


def write_tree(artifacts: Sequence[Artifact], root: Path) -> None:
    """:func:`write_all` for files in directories under ``root`` that may not exist yet (``snapshot
    --services``, ``init``): the missing directories are created first, and removed again when the write
    fails, so that a failing run leaves the disk as it found it. Nothing is written through a symlink that
    leads out of ``root`` (a folder a pull request made a link to elsewhere)."""
    for artifact in artifacts:
        _inside(root, artifact)
    created: list[Path] = []
    with _undone_on_failure(lambda: _remove_directories(created)):
        try:
            for directory in sorted({Path(artifact.path).parent for artifact in artifacts}):
                for missing in reversed([d for d in (directory, *directory.parents) if not d.exists()]):
                    missing.mkdir()
                    created.append(missing)
        except OSError as error:
            raise OutputError(f"cannot create {error.filename} ({artifacts[0].option}): {_reason(error)}") from None
        write_all(artifacts)


def _inside(root: Path, artifact: Artifact) -> None:
    """Refuse ``artifact`` when a symlink on its way from ``root`` leads out of ``root``."""
    real_root = Path(os.path.realpath(root))
    path = Path(artifact.path)
    for step in (*reversed(path.parents), path):
        if step == root or not step.is_relative_to(root) or not step.is_symlink():
            continue
        if not Path(os.path.realpath(step)).is_relative_to(real_root):
            kind = "a file" if step == path else "a directory"
            where = "the working directory" if str(root) == "." else str(root)
            raise OutputError(
                f"cannot write {artifact.path} ({artifact.option}): {step} is a symlink to {kind} outside {where}; "
                "nothing was written"
            )


def _remove_directories(created: Sequence[Path]) -> None:
    for directory in reversed(created):
        with contextlib.suppress(OSError):
            directory.rmdir()


@contextlib.contextmanager
def _undone_on_failure(undo: Callable[[], None]) -> Iterator[None]:
    """Run ``undo`` when the block fails in any way (an error, an interruption), then let the failure go on."""
    try:
        yield
    except BaseException:
        undo()
        raise


class MaskedStream:
    """A text stream whose every write has the run's known secret values masked (see secrets.KnownSecrets).

    It offers no ``buffer``, so that nothing (click looks for one) can write around the mask.
    """

    def __init__(self, stream: Any, mask: Callable[[str], str]) -> None:
        self.unmasked = stream
        self._mask = mask

    def write(self, text: str) -> int:
        self.unmasked.write(self._mask(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self.unmasked, name)


@contextlib.contextmanager
def masked_output(environ: Mapping[str, str]) -> Iterator[None]:
    """One command's run: its known secrets collected from ``environ`` and what it reads, and masked in
    everything it prints to standard output and standard error, error messages included."""
    previous, previous_run = (sys.stdout, sys.stderr), current_run()
    known = start_run(environ)
    sys.stdout, sys.stderr = (None if stream is None else MaskedStream(stream, known.mask) for stream in previous)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = previous
        end_run(previous_run)


def write_stdout(text: str, *, artifact: bool = False) -> None:
    """Standard output, or an I/O error (exit 3) when it is closed or nobody reads it any more.

    An ``artifact`` (``render -o -``) is written as it is; everything else goes through the mask.
    """
    stream = sys.stdout
    if artifact and isinstance(stream, MaskedStream):
        stream = stream.unmasked
    if stream is None:
        raise OutputError("cannot write standard output: it is closed; run the command with an open stdout")
    try:
        try:
            stream.write(text)
        except UnicodeEncodeError:  # a strict stream (PYTHONIOENCODING=ascii) and a character it cannot hold
            encoding = getattr(stream, "encoding", None) or "ascii"
            if artifact:  # an artifact must stay what it is
                raise OutputError(
                    f"cannot write standard output: its encoding ({encoding}) cannot hold this output's characters; "
                    "set PYTHONIOENCODING=utf-8 or write to a file with -o"
                ) from None
            stream.write(text.encode(encoding, "backslashreplace").decode(encoding))  # a report: shown escaped
        stream.flush()
    except (OSError, ValueError) as error:
        reason = _reason(error) if isinstance(error, OSError) else "it is closed"
        raise OutputError(f"cannot write standard output: {reason}") from None


def _target(option: str, path: str) -> Target:
    if path == STDOUT:
        return _stdout_target(option)
    if not path.strip():
        raise UsageError(f"{option} needs a file path (or - for standard output)")
    try:
        info = os.stat(path)  # through symlinks
    except FileNotFoundError:
        return _new_file_target(option, path)
    except OSError as error:
        raise OutputError(f"cannot write {path} ({option}): {_reason(error)}; nothing was written") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path} ({option}): it is a directory; give a file path; nothing was written")
    identity = ("file", info.st_dev, info.st_ino)
    if not stat.S_ISREG(info.st_mode):
        # Not a regular file (a device, a FIFO, /dev/stdout): written in place, never replaced.
        return Target(option, path, None, identity)
    # The real file is replaced, so a symlink stays a link and its target gets the new content.
    return Target(option, path, _writable_beside(Path(os.path.realpath(path)), option, path), identity)


def _stdout_target(option: str) -> Target:
    if sys.stdout is None:
        raise OutputError(
            f"cannot write - ({option}): standard output is closed; give a file path; nothing was written"
        )
    identity: tuple[Any, ...] = ("stdout",)
    with contextlib.suppress(OSError, ValueError, AttributeError):  # not a real descriptor when captured
        info = os.fstat(sys.stdout.fileno())
        identity = ("file", info.st_dev, info.st_ino)
    return Target(option, STDOUT, None, identity)


def _new_file_target(option: str, path: str) -> Target:
    real = Path(os.path.realpath(path))  # a new file, or the missing target of a symlink
    if not real.parent.is_dir():
        directory = real.parent if Path(path).is_symlink() else Path(path).parent  # where the link points
        raise OutputError(
            f"cannot write {path} ({option}): the directory {directory} does not exist; "
            "create it first; nothing was written"
        )
    return Target(option, path, _writable_beside(real, option, path), ("new", str(real)))


def _writable_beside(real: Path, option: str, path: str) -> Path:
    """The temporary file goes beside the real target, so its directory must take new files."""
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {path} ({option}): the directory {real.parent} is not writable; nothing was written"
        )
    return real


def _same_place(first: Target, second: Target) -> str:
    if STDOUT in (first.path, second.path):
        return (
            f"{first.option} {first.path} and {second.option} {second.path} would both write to standard output; "
            "give each output its own file"
        )
    return (
        f"{first.option} {first.path} and {second.option} {second.path} are the same file; "
        "give each output its own file"
    )


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _write_stream(target: str, text: str) -> None:
    """Standard output, /dev/null, a FIFO: written in place, never renamed over."""
    if target == STDOUT:
        write_stdout(text, artifact=True)
        return
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)


def _discard(staged: Sequence[tuple[Target, Path]]) -> None:
    for _, temporary in staged:
        with contextlib.suppress(OSError):
            temporary.unlink()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while artifacts are renamed into place: all of them, or none."""
    held = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
