"""Environments on disk: which overlay files a directory holds, and each environment's layers.

The directory is listed once per run (an ``Environments`` lives as long as the command), so a
service with K environments costs K file reads, not K listings of K files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from .errors import InvalidInputError, OutputError, UsageError
from .findings import Finding
from .overlay import Overlay, parse_overlay
from .rules.inputs import ENVIRONMENT_FILE, EXTENDS_MISSING
from .secrets import current_run

MAX_FILE_BYTES = 1024 * 1024
# An environment is a few layers deep (env → _common → an organisation's layer); far deeper is refused
# before anything recurses that deep.
MAX_EXTENDS_DEPTH = 32
ENVIRONMENT_SUFFIXES = (".yaml", ".yml")


class FileSource:
    """Reads overlay files from the working tree; ``GitSource`` reads them as they were at a commit."""

    def read(self, path: Path) -> str:
        return read_text(path)

    def exists(self, path: Path) -> bool:
        return path.is_file()

    def label(self, shown: str) -> str:
        """How a file read from here is named in messages (``GitSource`` adds its revision)."""
        return shown

    def identity(self, path: Path) -> Path:
        """The file ``path`` reaches here, symlinks followed: one file read once, however it is named."""
        try:
            return path.resolve()
        except RuntimeError:  # pathlib's word for a symlink loop
            raise symlink_loop(str(path)) from None


def symlink_loop(named: str) -> InvalidInputError:
    return InvalidInputError(f"{named}: symlinks loop; point the symlink at a file")


class Environments:
    """The environments of one directory: ``<name>.yaml`` files (``.yml`` too), ``_*`` being shared layers."""

    def __init__(self, directory: Path, parsed: ParseCache | None = None) -> None:
        """``parsed``: files already read this run, shared between the services of one run so that a
        layer every service extends (``extends: ../../_shared/org.yaml``) is read and parsed once."""
        self.directory = directory
        self._files: dict[str, list[Path]] | None = None
        # a shared layer is read once, not once per environment (nor per service)
        self._parsed: ParseCache = {} if parsed is None else parsed

    def _listing(self) -> dict[str, list[Path]]:
        if self._files is None:
            files: dict[str, list[Path]] = {}
            try:
                entries = sorted(os.scandir(self.directory), key=lambda entry: entry.name)
            except OSError:
                entries = []  # no such directory: no environments, said where they are looked up
            for entry in entries:
                stem, suffix = os.path.splitext(entry.name)
                if suffix in ENVIRONMENT_SUFFIXES and not stem.startswith("_") and _is_file(entry):
                    files.setdefault(stem, []).append(self.directory / entry.name)
            self._files = files
        return self._files

    def names(self) -> list[str]:
        """Environment names, sorted; a name with both a .yaml and a .yml file is listed once."""
        return sorted(self._listing())

    def file(self, name: str) -> Path:
        """The overlay of environment ``name``: a usage error listing the choices when there is none,
        an input error naming both files when ``name.yaml`` and ``name.yml`` both exist."""
        found = self._listing().get(name)
        if found is None:
            available = ", ".join(self.names()) or f"none: no *.yaml files in {self.directory}/"
            raise UsageError(f"unknown environment '{name}'; available environments: {available}")
        if len(found) > 1:
            raise InvalidInputError(self._ambiguous(name, found))
        return found[0]

    def load(self, name: str) -> list[Overlay]:
        """The environment's layers, shared layers first; two files for one environment become a
        finding of that environment, so ``validate`` reports it and goes on with the others."""
        found = self._listing().get(name)
        if found is not None and len(found) > 1:
            ambiguous = Overlay(shown_path(found[0]))
            ambiguous.findings.append(self._ambiguity(name, found))
            return [ambiguous]
        return load_layers(self.file(name), parsed=self._parsed)

    def layer_files(self, name: str) -> list[Path]:
        """Every file environment ``name`` is made of (its file and what it extends, at any depth),
        as read by :meth:`load`, each named as it is reached (a symlink by its own name, not its target's)."""
        self.load(name)
        found: list[Path] = []
        seen: set[Path] = set()
        pending = list(self._listing().get(name, []))
        while pending:
            path = pending.pop()
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(path)
                known = self._parsed.get(resolved)
                # relative to the file as reached here: the cache's targets are as the first reader reached them
                pending.extend(path.parent / target for target, _ in (known.overlay.extends if known else []))
                for imported in (path.parent / name for name in (known.overlay.imports if known else [])):
                    if imported.resolve() not in seen:  # dotenv files an overlay imports
                        seen.add(imported.resolve())
                        found.append(imported)
        return found

    def _ambiguity(self, name: str, found: Sequence[Path]) -> Finding:
        return Finding(ENVIRONMENT_FILE, self._ambiguous(name, found), file=shown_path(found[0]))

    @staticmethod
    def _ambiguous(name: str, found: Sequence[Path]) -> str:
        files = " and ".join(shown_path(path) for path in found)
        return f"environment '{name}' has two files, {files}; keep one (delete or rename the other)"


def _is_file(entry: os.DirEntry[str]) -> bool:
    """A file, or a symlink that loops: listed, so that reading it says what is wrong with it."""
    try:
        return entry.is_file()
    except OSError:
        return True


def read_text(path: Path) -> str:
    """An overlay file as text, refusing huge or non-UTF-8 files with a clear error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInputError(
                f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit for an overlay; "
                "split it into shared layers with `extends`"
            )
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise InvalidInputError(f"{path}: no such file") from error
    except OSError as error:
        raise OutputError(f"{path}: cannot read it: {error.strerror}") from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InvalidInputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); save it as UTF-8"
        ) from error


class _Parsed(NamedTuple):
    """One file read: its overlay, and the ``extends`` targets that exist (a missing one is a finding)."""

    overlay: Overlay
    targets: list[Path]


ParseCache = dict[Path, _Parsed]
"""Files already read this run (resolved path → parsed overlay); overlays never change once parsed."""


def load_layers(
    path: Path,
    environ: Mapping[str, str] | None = None,
    source: FileSource | None = None,
    parsed: ParseCache | None = None,
) -> list[Overlay]:
    """The environment file and its ``extends`` layers, shared layers first, each file once.

    ``parsed`` keeps files already read during this run (overlays are never changed once parsed).
    """
    env = os.environ if environ is None else environ
    files = source or FileSource()
    working = Path.cwd()
    shown = _shown_from(working)
    known: dict[Path, _Parsed] = {} if parsed is None else parsed
    layers: list[Overlay] = []
    loaded: set[Path] = set()

    def read(file: Path, resolved: Path) -> _Parsed:
        def beside(relative: str) -> tuple[str, str]:
            target = file.parent / relative
            _inside_checkout(relative, target, working)
            return files.read(target), files.label(shown(target.resolve(), target))

        overlay = parse_overlay(files.read(file), files.label(shown(resolved, file)), env, beside)
        run = current_run()
        if run is not None:  # what the file marks secret is masked in all the run prints
            run.learn_overlay(overlay, env)
        targets = []
        for target, origin in overlay.extends:
            target_path = file.parent / target
            if files.exists(target_path):
                targets.append(target_path)
            else:
                message = f"extends target '{target}' does not exist ({target_path})"
                overlay.findings.append(Finding.at(origin, EXTENDS_MISSING, message, "extends"))
        return _Parsed(overlay, targets)

    def visit(file: Path, chain: Sequence[Path]) -> None:
        resolved = files.identity(file)
        if resolved in chain:
            cycle = " -> ".join(files.label(shown(p, p)) for p in [*chain[chain.index(resolved) :], resolved])
            raise InvalidInputError(f"extends cycle: {cycle}; remove one of these extends")
        if resolved in loaded:
            return
        if len(chain) >= MAX_EXTENDS_DEPTH:
            names = [files.label(shown(p, p)) for p in [*chain, resolved]]
            if len(names) > 6:
                names = [*names[:3], f"… ({len(names) - 6} more) …", *names[-3:]]
            raise InvalidInputError(
                f"extends chain deeper than {MAX_EXTENDS_DEPTH} files: {' -> '.join(names)}; merge some of these layers"
            )
        if resolved not in known:
            known[resolved] = read(file, resolved)
        overlay, targets = known[resolved]
        for target_path in targets:
            visit(target_path, [*chain, resolved])
        loaded.add(resolved)
        layers.append(overlay)

    visit(path, [])
    return layers


def _inside_checkout(relative: str, target: Path, working: Path) -> None:
    """An ``envFile`` is read from the checkout, never from elsewhere on the machine: a pull request's overlay
    naming ``/proc/self/environ`` (or a link to it) would otherwise print the build's own variables in its diff.
    The checkout is the git work tree around the working directory, else the working directory itself."""
    root = _checkout(working.resolve())
    resolved = target.resolve()
    if Path(relative).is_absolute() or (resolved != root and root not in resolved.parents):
        raise InvalidInputError(
            f"{target}: outside the checkout {root}; an envFile is a file of the repository, named relative to "
            "the overlay"
        )


def _checkout(directory: Path) -> Path:
    """The nearest directory holding ``.git`` at or above ``directory``; ``directory`` when there is none (a
    CodePipeline source artifact is a zip without history)."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def load_environment(directory: str | Path, name: str, environ: Mapping[str, str] | None = None) -> list[Overlay]:
    """Python API: environment ``name``'s layers from ``directory``, shared layers first, ready for
    ``render``; ``${VARS}`` come from ``environ`` (default ``os.environ``). Problems are findings."""
    return load_layers(Environments(Path(directory)).file(name), environ)


def shown_path(path: Path) -> str:
    """Paths in messages are relative to the working directory when they can be."""
    return _shown_from(Path.cwd())(path.resolve(), path)


def _shown_from(cwd: Path) -> Callable[[Path, Path], str]:
    """``shown_path`` with the working directory looked up once, for every file of a load."""
    base = cwd.resolve()

    def shown(resolved: Path, written: Path) -> str:
        try:
            return str(resolved.relative_to(base))
        except ValueError:
            return str(written)

    return shown
