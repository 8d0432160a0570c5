"""Overlay files as they are at a git revision: one ``git ls-tree`` and one ``git cat-file --batch`` per run.

The tree is listed once when the source opens; blobs are read on demand through one long-lived
``git cat-file --batch`` process, so a run across hundreds of services costs two git processes,
not one per file. A working-tree file whose git blob id equals the one at the revision is known to
be unchanged without reading anything (``unchanged``).

Symlinks are resolved on each side as that side holds them: at the revision a symlink is a blob of mode
120000 whose content is its target, followed within the revision's tree; in the working tree the target's
content is read. A file is looked up by the name it is reached by, so a layer replaced by a symlink to
another file reads as changed. A symlink that leaves the repository or loops is an error on either side.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO

from .environments import MAX_FILE_BYTES, FileSource, ParseCache, symlink_loop
from .errors import InvalidInputError, OutputError, UsageError

_SYMLINK = b"120000"
# As the kernel does (MAXSYMLINKS): a chain longer than this is taken for a loop.
_MAX_SYMLINKS = 40


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
        # The same top as the paths name it (never through a symlink below it): the key of a file is the
        # way it is reached, each symlink on that way resolved at the revision by ``_resolved``.
        written = Path(os.path.abspath(directory))
        self._top_as_named = next(
            (d for d in (written, *written.parents) if (d / ".git").exists() and d.resolve() == top), top
        )
        self._symlinks: dict[str, str] = {}  # path → blob id, for the symlinks of the revision's tree
        self._targets: dict[str, str] = {}  # symlink blob id → its target, as read
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
                kind = self._symlinks if fields[0] == _SYMLINK else blobs
                kind[os.fsdecode(name)] = fields[2].decode("ascii")
        return blobs

    def label(self, shown: str) -> str:
        return f"{shown}@{self.ref}"

    def _key(self, path: Path) -> str | None:
        """``path`` as it is reached from the top of the work tree (``..`` kept: a symlink before it changes
        where it leads), or None when it is not below the top."""
        parts = path.absolute().parts
        top = self._top_as_named.parts
        if parts[: len(top)] == top:
            return "/".join(parts[len(top) :])
        try:  # reached from outside the work tree (a symlink into it): from where its folder really is
            return (path.parent.resolve() / path.name).relative_to(self.top).as_posix()
        except ValueError:
            return None

    def _resolved(self, key: str) -> str | None:
        """``key`` with every symlink of the revision's tree on its way followed, as git stores them; None for
        a path that climbs out of the tree by itself (``../..``): it is not in the revision."""
        done: list[str] = []
        pending = key.split("/")
        hops = 0
        link = ""
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    if not link:
                        return None
                    raise self._leaves(link)
                done.pop()
                continue
            candidate = "/".join([*done, part])
            if candidate not in self._symlinks:
                done.append(part)
                continue
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise InvalidInputError(
                    f"{key} at {self.ref}: symlinks loop (more than {_MAX_SYMLINKS} followed); point the symlink "
                    "at a file"
                )
            link = candidate
            target = self._link_target(link)
            if target.startswith("/"):
                raise self._leaves(link)
            pending = [*target.split("/"), *pending]
        return "/".join(done)

    def _link_target(self, link: str) -> str:
        blob = self._symlinks[link]
        if blob not in self._targets:
            self._targets[blob] = os.fsdecode(self._cat(blob, Path(link)))
        return self._targets[blob]

    def _leaves(self, link: str) -> InvalidInputError:
        return InvalidInputError(
            f"{link} at {self.ref} is a symlink to {self._link_target(link)}, which leaves the repository; "
            "overlay files are read from the repository only, so copy the file in"
        )

    def _at_revision(self, path: Path) -> str | None:
        """The path ``path`` reaches in the revision's tree, or None when it leads nowhere in it."""
        key = self._key(path)
        return None if key is None else self._resolved(key)

    def _object(self, path: Path) -> str | None:
        reached = self._at_revision(path)
        return None if reached is None else self._blobs.get(reached)

    def identity(self, path: Path) -> Path:
        """The file ``path`` reaches at the revision (its symlinks followed there)."""
        reached = self._at_revision(path)
        return path.resolve() if reached is None else self.top / reached

    def exists(self, path: Path) -> bool:
        return self._object(path) is not None

    def unchanged(self, path: Path) -> bool:
        """The working-tree file has exactly the content it has at the revision (same blob id)."""
        blob = self._object(path)
        return blob is not None and self.working_blob(path, len(blob)) == blob

    def check_working(self, path: Path) -> None:
        """A working-tree file compared with the revision stays in the repository, its symlinks resolving."""
        named = self._key(path) or str(path)
        try:
            real = Path(os.path.realpath(path, strict=True))
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise symlink_loop(named) from None
            return  # missing: the load that reads it says so
        if not real.is_relative_to(self.top):
            raise InvalidInputError(
                f"{named} is a symlink that leaves the repository (to {real}); a pull request is compared with "
                "what git holds, so copy the file in"
            )

    def working_blob(self, path: Path, size: int = 40) -> str | None:
        """The git blob id the working-tree file would have (``size`` 64: a SHA-256 repository): its
        content, a symlink's target's content."""
        self.check_working(path)
        try:
            content = path.read_bytes()
        except OSError:
            return None
        algorithm = hashlib.sha256 if size == 64 else hashlib.sha1
        return algorithm(b"blob %d\0" % len(content) + content).hexdigest()

    def files_in(self, directory: Path) -> dict[str, str]:
        """The files directly in ``directory`` at the revision: name → blob id (a symlink's: its target's;
        a dangling one is left out)."""
        prefix = self._at_revision(directory)
        if prefix is None:
            return {}
        prefix = "" if prefix == "" else f"{prefix}/"
        found = {}
        for name in sorted(self._blobs.keys() | self._symlinks.keys()):  # in ls-tree's order
            if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                blob = self._object(directory / name[len(prefix) :])
                if blob is not None:
                    found[name[len(prefix) :]] = blob
        return found

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
