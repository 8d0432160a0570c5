"""Overlay files as they are at a git revision: one ``git ls-tree`` and one ``git cat-file --batch`` per run.

The tree is listed once when the source opens; blobs are read on demand through one long-lived
``git cat-file --batch`` process, so a run across hundreds of services costs two git processes,
not one per file. A working-tree file whose git blob id equals the one at the revision is known to
be unchanged without reading anything (``unchanged``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO

from .environments import MAX_FILE_BYTES, FileSource, ParseCache
from .errors import InvalidInputError, OutputError, UsageError


class GitSource(FileSource):
    """Reads ``REF:path`` for every overlay file, shared layers included (no checkout).

    git runs at the top of the work tree holding ``directory``, never in the working directory:
    the command may run outside the repository with ``--environments-dir`` pointing into it.
    Close it (or use it as a context manager) to end the ``cat-file`` process.
    """

    def __init__(self, ref: str, directory: Path) -> None:
        self.ref = ref
        if not directory.is_dir():
            raise UsageError(f"--against {ref}: {directory} is not a directory")
        self._not_a_revision = UsageError(
            f"--against {ref}: not a git revision of the repository holding {directory} "
            "(fetch it first, e.g. git fetch origin main)"
        )
        top = _work_tree_top(directory.resolve())
        if top is None:
            raise UsageError(
                f"--against {ref}: {directory} is not in a git work tree (a CodePipeline source artifact is a zip "
                "without git history), so there is no revision to compare with. Run it in a clone of the "
                "repository (in CodePipeline, choose the source action's Full clone option instead of the "
                "default ZIP), or compare without git: --base DIR renders each environment on its snapshot, "
                "and --env A --to-env B compares two environments"
            )
        self.top = top
        self._blobs = self._list_tree()
        self._batch: subprocess.Popen[bytes] | None = None
        self.parsed: ParseCache = {}  # files at the revision, each parsed once per run

    def __enter__(self) -> GitSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._batch is not None:
            batch, self._batch = self._batch, None
            for stream in (batch.stdin, batch.stdout):
                if stream is not None:
                    stream.close()
            batch.wait(timeout=60)

    def _list_tree(self) -> dict[str, str]:
        """Every blob of the revision's tree: path from the top of the work tree → object id."""
        try:
            result = subprocess.run(
                ["git", "ls-tree", "-r", "-z", "--full-tree", f"{self.ref}^{{commit}}"],
                cwd=self.top,
                capture_output=True,
                timeout=60,
                check=False,
            )
        except FileNotFoundError:
            raise UsageError("--against needs git on PATH") from None
        if result.returncode != 0:
            raise self._not_a_revision
        blobs: dict[str, str] = {}
        for record in result.stdout.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            fields = meta.split()
            if len(fields) == 3 and fields[1] == b"blob":
                blobs[os.fsdecode(name)] = fields[2].decode("ascii")
        return blobs

    def label(self, shown: str) -> str:
        return f"{shown}@{self.ref}"

    def _key(self, path: Path) -> str | None:
        """``path`` as ls-tree names it, or None when it lies outside the work tree."""
        try:
            return path.resolve().relative_to(self.top).as_posix()
        except ValueError:
            return None

    def _object(self, path: Path) -> str | None:
        key = self._key(path)
        return None if key is None else self._blobs.get(key)

    def exists(self, path: Path) -> bool:
        return self._object(path) is not None

    def unchanged(self, path: Path) -> bool:
        """The working-tree file has exactly the content it has at the revision (same blob id)."""
        blob = self._object(path)
        return blob is not None and self.working_blob(path, len(blob)) == blob

    def working_blob(self, path: Path, size: int = 40) -> str | None:
        """The git blob id the working-tree file would have (``size`` 64: a SHA-256 repository)."""
        try:
            content = path.read_bytes()
        except OSError:
            return None
        algorithm = hashlib.sha256 if size == 64 else hashlib.sha1
        return algorithm(b"blob %d\0" % len(content) + content).hexdigest()

    def files_in(self, directory: Path) -> dict[str, str]:
        """The files directly in ``directory`` at the revision: name → blob id."""
        prefix = self._key(directory)
        if prefix is None:
            return {}
        prefix = "" if prefix == "." else f"{prefix}/"
        return {
            key[len(prefix) :]: blob
            for key, blob in self._blobs.items()
            if key.startswith(prefix) and "/" not in key[len(prefix) :]
        }

    def read(self, path: Path) -> str:
        blob = self._object(path)
        if blob is None:
            raise InvalidInputError(f"{path}: not in {self.ref}")
        content = self._cat(blob, path)
        if len(content) > MAX_FILE_BYTES:
            raise InvalidInputError(f"{path} at {self.ref}: over the {MAX_FILE_BYTES}-byte limit for an overlay")
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{path} at {self.ref}: not UTF-8 text") from None

    def _cat(self, blob: str, path: Path) -> bytes:
        """One blob through the run's ``git cat-file --batch`` (started on first use)."""
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.top,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        stdin, stdout = self._batch.stdin, self._batch.stdout
        assert stdin is not None and stdout is not None  # both are pipes
        try:
            stdin.write(f"{blob}\n".encode("ascii"))
            stdin.flush()
            header = stdout.readline().split()
            if len(header) != 3:
                raise InvalidInputError(f"{path}: not in {self.ref}")
            return _read_exactly(stdout, int(header[2]) + 1)[:-1]  # the content, then a newline
        except (OSError, ValueError) as error:
            raise OutputError(f"{path} at {self.ref}: git cat-file failed ({error})") from None


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            raise ValueError("git ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _work_tree_top(directory: Path) -> Path | None:
    """The top of the git work tree holding ``directory`` (found on disk, without running git)."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None
