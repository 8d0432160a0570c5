"""Overlay files as they are at a git revision, read with ``git show`` (no checkout)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .environments import MAX_FILE_BYTES, FileSource
from .errors import InvalidInputError, UsageError


class GitSource(FileSource):
    """Reads ``REF:path`` for every overlay file, shared layers included.

    git runs in the directory of each file, never in the working directory: the command may run
    outside the repository with ``--environments-dir`` pointing into it.
    """

    def __init__(self, ref: str, directory: Path) -> None:
        self.ref = ref
        self._check_ref(directory)

    def _git(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60, check=False)
        except FileNotFoundError:
            raise UsageError("--against needs git on PATH") from None

    def _check_ref(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UsageError(f"--against {self.ref}: {directory} is not a directory")
        result = self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}", cwd=directory)
        if result.returncode != 0:
            raise UsageError(
                f"--against {self.ref}: not a git revision of the repository holding {directory} "
                "(fetch it first, e.g. git fetch origin main)"
            )

    def label(self, shown: str) -> str:
        return f"{shown}@{self.ref}"

    def _spec(self, path: Path) -> tuple[str, Path]:
        absolute = path.resolve()
        return f"{self.ref}:./{absolute.name}", absolute.parent

    def exists(self, path: Path) -> bool:
        spec, directory = self._spec(path)
        return directory.is_dir() and self._git("cat-file", "-e", spec, cwd=directory).returncode == 0

    def read(self, path: Path) -> str:
        spec, directory = self._spec(path)
        if not directory.is_dir():
            raise InvalidInputError(f"{path}: not in {self.ref}")
        result = self._git("show", spec, cwd=directory)
        if result.returncode != 0:
            raise InvalidInputError(f"{path}: not in {self.ref}")
        if len(result.stdout) > MAX_FILE_BYTES:
            raise InvalidInputError(f"{path} at {self.ref}: over the {MAX_FILE_BYTES}-byte limit for an overlay")
        try:
            return result.stdout.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{path} at {self.ref}: not UTF-8 text") from None
