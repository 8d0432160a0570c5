"""Load overlay files: YAML with line marks, values kept as written, ``${VAR}``, ``extends``.

An overlay is turned into the same keyed form that the merge works on (see keyed.py), and every
leaf it sets is recorded with its file:line:column so that findings and ``explain`` can point at it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from jsonschema import ValidationError

from . import schemas
from .errors import InvalidInputError, OutputError, UsageError
from .findings import Finding
from .keyed import TASK_KEYED_LISTS, Item, KeyedList, KeyedListSpec, Path, format_path, keyed_path
from .provenance import OVERLAY, Origin

MAX_FILE_BYTES = 1024 * 1024
# A YAML alias may point at a node that holds more aliases ("billion laughs"): expanding the
# graph is bounded by this many nodes, far above any real overlay.
MAX_NODES = 100_000
ENVIRONMENT_SUFFIXES = (".yaml", ".yml")

# libyaml's parser when PyYAML has it (10x faster); both give the same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Overlay:
    """One overlay file, parsed: the keyed data it sets and where each leaf came from."""

    file: str
    data: dict[str, Any] = field(default_factory=dict)
    origins: list[tuple[Path, Origin]] = field(default_factory=list)
    # Where each keyed-list item is written: the origin of the whole item when the base lacks it.
    items: list[tuple[Path, Origin]] = field(default_factory=list)
    extends: list[tuple[str, Origin]] = field(default_factory=list)
    # Credential-like environment variable names this file declares are not secret.
    allow_plaintext: list[str] = field(default_factory=list)
    # The CodeDeploy AppSpec settings; never part of the task definition. `appspec: null` removes
    # inherited settings, so "written as null" and "not written" differ.
    appspec: dict[str, Any] | None = None
    has_appspec: bool = False
    findings: list[Finding] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Parsing text (pure)


def parse_overlay(text: str, file: str, environ: Mapping[str, str]) -> Overlay:
    """Parse one overlay document; problems become findings (an alias bomb raises InvalidInputError)."""
    overlay = Overlay(file)
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "YAML syntax error"
        overlay.findings.append(
            Finding(
                "yaml-syntax",
                f"{problem}; fix the YAML syntax",
                "",
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        )
        return overlay
    except yaml.YAMLError as error:
        overlay.findings.append(Finding("yaml-syntax", f"not valid YAML: {error}", file=file))
        return overlay
    if root is None or (root.tag == _NULL_TAG and isinstance(root, yaml.ScalarNode)):
        return overlay  # an empty overlay is valid and changes nothing
    if not isinstance(root, yaml.MappingNode):
        overlay.findings.append(
            _finding_at(
                file,
                root,
                "overlay-structure",
                "the top level of an overlay must be a mapping of task-definition fields",
            )
        )
        return overlay
    reader = _Reader(file, environ)
    plain = reader.plain(root, ())
    overlay.findings.extend(reader.findings)
    for path, node, name in reader.unset_variables:
        overlay.findings.append(
            _finding_at(
                file,
                node,
                "unset-variable",
                f"${{{name}}} is not set; set it in the environment (CodeBuild variables) "
                f"or give a default: ${{{name}:-value}}",
                format_path(keyed_path(path, plain)),
            )
        )
    overlay.findings.extend(_schema_findings(plain, reader.marks, file))
    if overlay.findings:
        overlay.findings.sort(key=lambda f: (f.line or 0, f.column or 0))
        return overlay
    overlay.data = reader.keyed_task(root)
    overlay.has_appspec = "appspec" in overlay.data
    overlay.appspec = overlay.data.pop("appspec", None)
    overlay.origins = [(path, origin) for path, origin in reader.origins if path[:1] != ("appspec",)]
    overlay.items = reader.items
    overlay.extends = reader.extends
    overlay.allow_plaintext = [str(name) for name in plain.get("allowPlaintext") or []]
    return overlay


class _Reader:
    """Walks a composed YAML node graph twice: once as plain data for the overlay schema, once
    into keyed form with values kept as written where ECS expects strings."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.findings: list[Finding] = []
        self.marks: dict[tuple[str | int, ...], yaml.Node] = {}
        self.origins: list[tuple[Path, Origin]] = []
        self.items: list[tuple[Path, Origin]] = []
        self.unset_variables: list[tuple[tuple[str | int, ...], yaml.Node, str]] = []
        self.extends: list[tuple[str, Origin]] = []
        self.nodes_seen = 0
        self.constructor = yaml.SafeLoader("")
        self.root_schema = schemas.load("taskdef")

    # -- plain data, for schema validation ---------------------------------------------------

    def plain(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        self._count(node)
        if node.tag not in _PLAIN_TAGS:
            # Only data: a tag such as !!python/object is refused, never constructed.
            self.findings.append(
                _finding_at(
                    self.file,
                    node,
                    "yaml-tag",
                    f"YAML tag {node.tag} is not allowed in an overlay; write plain data",
                    format_path(path),
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            seen: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    self.findings.append(
                        _finding_at(
                            self.file,
                            key_node,
                            "yaml-merge-key",
                            "YAML merge keys (<<) are not supported; use `extends`",
                        )
                    )
                    continue
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                    self.findings.append(
                        _finding_at(
                            self.file, key_node, "yaml-key", "mapping keys must be plain text", format_path(path)
                        )
                    )
                    continue
                key = self._key_text(key_node)
                if key in seen:
                    first = seen[key]
                    self.findings.append(
                        _finding_at(
                            self.file,
                            key_node,
                            "duplicate-key",
                            f"duplicate key '{key}' (first at line {first.start_mark.line + 1}); "
                            "YAML would silently keep only the last one, so remove one of them",
                            format_path(path + (key,)),
                        )
                    )
                    continue
                seen[key] = key_node
                self.marks[path + (key,)] = key_node
                result[key] = self.plain(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.marks[path + (index,)] = item
                items.append(self.plain(item, path + (index,)))
            return items
        value = self._scalar(node)
        if isinstance(value, str) and "${" in value:
            self.unset_variables.extend((path, node, name) for name in self._unset_variables(value))
        if not isinstance(value, (str, int, float, bool, type(None))):
            return node.value  # timestamps and the like: the text as written
        return value

    # -- keyed data --------------------------------------------------------------------------

    def keyed_task(self, root: yaml.MappingNode) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key_node, value_node in root.value:
            key = self._key_text(key_node)
            if key == "extends":
                self._read_extends(value_node)
                continue
            if key == "allowPlaintext":
                continue
            schema = schemas.child(self.root_schema, key, self.root_schema)
            data[key] = self._keyed_value(value_node, (key,), schema, TASK_KEYED_LISTS.get(key))
        return data

    def _keyed_value(
        self, node: yaml.Node, path: Path, schema: dict[str, Any] | None, spec: KeyedListSpec | None
    ) -> Any:
        if _is_null(node):
            self._leaf(path, node)
            return None
        if spec is not None:
            return self._keyed_list(node, path, schema, spec)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key_text(key_node)
                result[key] = self._keyed_value(
                    value_node, path + (key,), schemas.child(schema, key, self.root_schema), None
                )
            if not result:
                self._leaf(path, node)
            return result
        if isinstance(node, yaml.SequenceNode):
            self._leaf(path, node)  # lists that are not keyed are replaced whole
            item_schema = schemas.child(schema, 0, self.root_schema)
            return [
                self._keyed_value(item, path + (index,), item_schema, None) for index, item in enumerate(node.value)
            ]
        return self._leaf_scalar(node, path, schema)

    def _keyed_list(self, node: yaml.Node, path: Path, schema: dict[str, Any] | None, spec: KeyedListSpec) -> KeyedList:
        item_schema = schemas.child(schema, 0, self.root_schema)
        keyed = KeyedList()
        if isinstance(node, yaml.SequenceNode):
            for index, item_node in enumerate(node.value):
                item = self._keyed_item(item_node, path, item_schema, spec, None, index=index)
                key = spec.item_key(item) if isinstance(item, dict) else None
                if key is None:
                    self.findings.append(
                        _finding_at(
                            self.file,
                            item_node,
                            "keyed-list-item",
                            f"this item has no '{spec.key}'; every {path[-1]} item needs one to be merged",
                            format_path(path + (index,)),
                        )
                    )
                    continue
                if key in keyed:
                    self.findings.append(
                        _finding_at(
                            self.file,
                            item_node,
                            "duplicate-item",
                            f"'{key}' appears twice in {path[-1]}",
                            format_path(path),
                        )
                    )
                keyed[key] = item
                self._rekey_origins(path, index, key)
            return keyed
        assert isinstance(node, yaml.MappingNode)  # the overlay schema allows nothing else
        for key_node, value_node in node.value:
            key = spec.normalise_key(self._key_text(key_node))
            keyed[key] = self._keyed_item(value_node, path, item_schema, spec, key, key_node)
        return keyed

    def _keyed_item(
        self,
        node: yaml.Node,
        list_path: Path,
        schema: dict[str, Any] | None,
        spec: KeyedListSpec,
        key: str | None,
        key_node: yaml.Node | None = None,
        index: int = 0,
    ) -> Any:
        # A list-form item's key is known only once it is read: its origins sit under its index
        # until _rekey_origins moves them.
        item_path = list_path + (Item(key) if key is not None else index,)
        self.items.append((item_path, self._origin(key_node or node)))
        if _is_null(node):
            self._leaf(item_path, key_node or node)
            return None
        if not isinstance(node, yaml.MappingNode):
            # Pair-like lists in mapping form: `LOG_LEVEL: warn` sets the item's value field.
            assert spec.value is not None and key is not None
            item = spec.new_item(key)
            value_schema = schemas.child(schema, spec.value, self.root_schema)
            item[spec.value] = self._leaf_scalar(node, item_path + (spec.value,), value_schema)
            return item
        item = spec.new_item(key) if key is not None else {}
        for child_key_node, child_node in node.value:
            name = self._key_text(child_key_node)
            child_schema = schemas.child(schema, name, self.root_schema)
            child_spec = spec.children.get(name)
            item[name] = self._keyed_value(child_node, item_path + (name,), child_schema, child_spec)
        return item

    def _rekey_origins(self, list_path: Path, index: int, key: str) -> None:
        prefix = list_path + (index,)
        size = len(prefix)
        for records in (self.origins, self.items):
            for position, (path, origin) in enumerate(records):
                if path[:size] == prefix:
                    records[position] = (list_path + (Item(key),) + path[size:], origin)

    def _leaf_scalar(self, node: yaml.Node, path: Path, schema: dict[str, Any] | None) -> Any:
        if schemas.expects_string(schema) or (len(path) == 1 and path[0] in ("cpu", "memory")):
            value: Any = node.value  # the text as written: `0100` stays "0100", `yes` stays "yes"
        else:
            value = self._scalar(node)
        variables: tuple[str, ...] = ()
        template = value
        if isinstance(value, str):
            value, variables = self._interpolate(value)
        self._leaf(path, node, variables, template if variables else None)
        return value

    def _leaf(self, path: Path, node: yaml.Node, variables: tuple[str, ...] = (), template: str | None = None) -> None:
        self.origins.append((path, self._origin(node, variables, template)))

    def _origin(self, node: yaml.Node, variables: tuple[str, ...] = (), template: str | None = None) -> Origin:
        mark = node.start_mark
        return Origin(OVERLAY, self.file, mark.line + 1, mark.column + 1, variables, template=template)

    # -- helpers -----------------------------------------------------------------------------

    def _interpolate(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Replace ``${VAR}``, ``${VAR:-default}`` (also when VAR is empty) and ``$${``."""
        used: list[str] = []

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            used.append(name)
            value = self.environ.get(name, "")
            return default if not value and default is not None else value

        return _VARIABLE.sub(replace, text), tuple(used)

    def _unset_variables(self, text: str) -> list[str]:
        return [
            match.group(1)
            for match in _VARIABLE.finditer(text)
            if match.group(1) and match.group(2) is None and match.group(1) not in self.environ
        ]

    def _read_extends(self, node: yaml.Node) -> None:
        targets = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for target in targets:
            mark = target.start_mark
            self.extends.append((str(target.value), Origin(OVERLAY, self.file, mark.line + 1, mark.column + 1)))

    def _scalar(self, node: yaml.Node) -> Any:
        return self.constructor.construct_object(node, deep=True)

    def _key_text(self, node: yaml.Node) -> str:
        return str(node.value)  # keys are checked to be plain scalars by the first pass

    def _count(self, node: yaml.Node) -> None:
        self.nodes_seen += 1
        if self.nodes_seen == MAX_NODES:
            raise InvalidInputError(
                f"{self.file}: more than {MAX_NODES} YAML nodes after expanding aliases; "
                "refusing to load it (an alias bomb?). Write the overlay without nested aliases."
            )


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def _finding_at(file: str, node: yaml.Node, rule: str, message: str, path: str = "") -> Finding:
    mark = node.start_mark
    return Finding(rule, message, path, file=file, line=mark.line + 1, column=mark.column + 1)


# ---------------------------------------------------------------------------------------------
# Overlay schema findings


def _schema_findings(plain: Any, marks: Mapping[tuple[str | int, ...], yaml.Node], file: str) -> list[Finding]:
    findings = []
    for error in schemas.errors("overlay", plain):
        for leaf in schemas.leaf_errors(error):
            findings.extend(_explain_error(leaf, plain, marks, file))
    return findings


def _explain_error(
    error: ValidationError, plain: Any, marks: Mapping[tuple[str | int, ...], yaml.Node], file: str
) -> list[Finding]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        unknown, allowed = schemas.unknown_fields(error)
        findings = []
        for extra in unknown:
            suggestion = schemas.closest(extra, allowed)
            hint = f"; did you mean '{suggestion}'?" if suggestion else f"; known fields: {', '.join(allowed)}"
            findings.append(
                _located(f"unknown field '{extra}'{hint}", "unknown-field", path + (extra,), plain, marks, file)
            )
        return findings
    keyed = keyed_path(path, plain)
    message = schemas.message(error, keyed)
    if error.validator == "type" and len(keyed) >= 2 and keyed[-2] == "environment" and isinstance(keyed[-1], Item):
        message = f"environment variable {keyed[-1]}: {message}"
    return [_located(message, "overlay-schema", path, plain, marks, file)]


def _located(
    message: str,
    rule: str,
    path: tuple[str | int, ...],
    plain: Any,
    marks: Mapping[tuple[str | int, ...], yaml.Node],
    file: str,
) -> Finding:
    node = None
    for size in range(len(path), 0, -1):
        node = marks.get(path[:size])
        if node is not None:
            break
    readable = format_path(keyed_path(path, plain))
    if node is None:
        return Finding(rule, message, readable, file=file)
    return _finding_at(file, node, rule, message, readable)


# ---------------------------------------------------------------------------------------------
# Files (the edge): environments, size limits, encodings, extends


def list_environments(directory: FsPath) -> list[str]:
    """Environment names: overlay files in ``directory`` not starting with ``_`` (shared layers)."""
    if not directory.is_dir():
        return []
    return sorted(
        entry.stem
        for entry in directory.iterdir()
        if entry.suffix in ENVIRONMENT_SUFFIXES and not entry.name.startswith("_") and entry.is_file()
    )


def environment_file(directory: FsPath, name: str) -> FsPath:
    """The overlay of environment ``name``; a usage error listing the choices when there is none."""
    available = list_environments(directory)
    if name in available:
        for suffix in ENVIRONMENT_SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    listed = ", ".join(available) if available else f"none: no *.yaml files in {directory}/"
    raise UsageError(f"unknown environment '{name}'; available environments: {listed}")


def read_text(path: FsPath) -> str:
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


class FileSource:
    """Reads overlay files from the working tree; ``GitSource`` reads them as they were at a commit."""

    def read(self, path: FsPath) -> str:
        return read_text(path)

    def exists(self, path: FsPath) -> bool:
        return path.is_file()


def load_layers(
    path: FsPath, environ: Mapping[str, str] | None = None, source: FileSource | None = None
) -> list[Overlay]:
    """The environment file and its ``extends`` layers, shared layers first, each file once."""
    env = os.environ if environ is None else environ
    files = source or FileSource()
    layers: list[Overlay] = []
    loaded: set[FsPath] = set()

    def visit(file: FsPath, chain: Sequence[FsPath], display: str) -> None:
        resolved = file.resolve()
        if resolved in chain:
            cycle = " -> ".join(str(p) for p in [*chain[chain.index(resolved) :], resolved])
            raise InvalidInputError(f"extends cycle: {cycle}; remove one of these extends")
        if resolved in loaded:
            return
        overlay = parse_overlay(files.read(file), display, env)
        for target, origin in overlay.extends:
            target_path = file.parent / target
            if not files.exists(target_path):
                overlay.findings.append(
                    Finding.at(
                        origin,
                        "extends-missing",
                        f"extends target '{target}' does not exist ({target_path})",
                        "extends",
                    )
                )
                continue
            visit(target_path, [*chain, resolved], _display(target_path))
        loaded.add(resolved)
        layers.append(overlay)

    visit(path, [], _display(path))
    return layers


def _display(path: FsPath) -> str:
    """Paths in messages are relative to the working directory when they can be."""
    try:
        return str(path.resolve().relative_to(FsPath.cwd()))
    except ValueError:
        return str(path)
