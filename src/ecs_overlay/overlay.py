"""Overlay text to ``Overlay``: YAML with line marks, values kept as written, ``${VAR}``, ``extends``.

An overlay is turned into the same keyed form that the merge works on (see keyed.py), and every
leaf it sets is recorded with its file:line:column so that findings and ``explain`` can point at it.
Pure: the files themselves are read by environments.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import ValidationError

from . import schemas
from .errors import EcsOverlayError, InvalidInputError
from .findings import ERROR, Finding, RuleId, has_errors
from .keyed import (
    APPEND,
    LIST_OPERATIONS,
    REPLACE,
    TASK_KEYED_LISTS,
    TASK_KEYED_MAPPINGS,
    AppendingList,
    Item,
    KeyedList,
    KeyedListSpec,
    Path,
    ReplacingList,
    format_path,
    keyed_path,
    spec_for,
)
from .provenance import OVERLAY, Origin
from .rules.inputs import (
    DUPLICATE_ITEM,
    DUPLICATE_KEY,
    ENV_FILE_INVALID,
    KEYED_LIST_ITEM,
    LIST_OPERATION,
    OVERLAY_SCHEMA,
    OVERLAY_STRUCTURE,
    UNKNOWN_FIELD,
    VARIABLE_SYNTAX,
    YAML_KEY,
    YAML_MERGE_KEY,
    YAML_SYNTAX,
    YAML_TAG,
)
from .variables import NUMBER_KINDS, Problem, interpolate, not_a_number, number_from

# A YAML alias may point at a node that holds more aliases ("billion laughs"): expanding the
# graph is bounded by this many nodes, far above any real overlay.
MAX_NODES = 100_000
# A node may also be one long value named a thousand times: the text the aliases expand to is bounded too.
# Both are measured on the node graph before it is walked, each node sized once: refusing a bomb costs
# what reading the file costs.
MAX_EXPANDED = 4 * 1024 * 1024
# Real overlays nest a dozen levels; far deeper is refused before anything recurses that deep.
MAX_DEPTH = 100

# libyaml's parser when PyYAML has it (10x faster); both give the same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"
# YAML 1.1 spellings of booleans (PyYAML reads yes/no/on/off as booleans; y/n it already reads as text).
# Editors read YAML 1.2, where they are text: the tool reads them as text too, so both agree.
YAML11_BOOLEANS = {"yes": "true", "on": "true", "y": "true", "no": "false", "off": "false", "n": "false"}
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


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
    # Names (environment variables, free-form map keys, ${VARS}) whose values this file declares secret.
    secret_names: list[str] = field(default_factory=list)
    # Every ${VAR} read, by where: what the run masks (secrets.KnownSecrets), even from a file with errors.
    variables_read: list[tuple[tuple[str | int, ...], tuple[str, ...]]] = field(default_factory=list)
    # The CodeDeploy AppSpec settings; never part of the task definition. `appspec: null` removes
    # inherited settings, so "written as null" and "not written" differ.
    appspec: dict[str, Any] | None = None
    has_appspec: bool = False
    # The ECS service settings `deploy` manages (deploymentConfiguration); never part of the task definition.
    service: dict[str, Any] | None = None
    has_service: bool = False
    service_origins: list[tuple[Path, Origin]] = field(default_factory=list)  # ("service", …) paths
    # One-off tasks `deploy` runs on the new revision before updating the service (migrations), by name.
    tasks: dict[str, Any] | None = None
    has_tasks: bool = False
    # Where the environment's base lives (`base:`: family or cluster+service, region, roleArn); not part
    # of the task definition either, and merged through `extends` the same way.
    base_location: dict[str, Any] | None = None
    has_base_location: bool = False
    # How `verify` reaches other accounts (`verify: roles: {ACCOUNT: ROLE_ARN}`); not part of the task
    # definition, merged through `extends` like the others.
    verify_settings: dict[str, Any] | None = None
    has_verify_settings: bool = False
    # Where each value of those sections is written, so that a finding about one can name its line.
    section_origins: list[tuple[Path, Origin]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # The dotenv files `envFile:` read, relative to this file: part of the environment as much as the overlay is.
    imports: list[str] = field(default_factory=list)


# Reads a file named relative to the overlay: (its text, its name as messages show it); raises EcsOverlayError.
ReadBeside = Callable[[str], tuple[str, str]]
# The container field naming dotenv files (docker compose's env_file) whose variables join its `environment`.
ENV_FILE = "envFile"


# ---------------------------------------------------------------------------------------------
# Parsing text (pure)


def parse_overlay(text: str, file: str, environ: Mapping[str, str], read: ReadBeside | None = None) -> Overlay:
    """Parse one overlay document; problems become findings (an alias bomb raises InvalidInputError).

    Every finding goes into the reader's one list, read once at the end, so none found while keying
    can be lost; the keyed pass runs only on a document that passed the schema. ``read`` reads a file
    named relative to this one (``envFile:``), as (text, name shown in messages); the caller owns the disk.
    """
    overlay = Overlay(file)
    reader = _Reader(text, file, environ, read)
    root = reader.compose()
    if root is not None:
        plain = reader.check(root)
        if isinstance(names := plain.get("secretNames"), list):  # masked even when the file has errors
            overlay.secret_names = [name for name in names if isinstance(name, str)]
        if not has_errors(reader.findings):
            overlay.data = reader.keyed_task(root)
            overlay.allow_plaintext = [str(name) for name in plain.get("allowPlaintext") or []]
    overlay.findings = sorted(reader.findings, key=lambda f: (f.line or 0, f.column or 0))
    overlay.variables_read = reader.variables_read
    if has_errors(overlay.findings):
        overlay.data, overlay.allow_plaintext = {}, []
        return overlay
    overlay.has_appspec = "appspec" in overlay.data
    overlay.appspec = overlay.data.pop("appspec", None)
    overlay.has_service = "service" in overlay.data
    overlay.service = overlay.data.pop("service", None)
    overlay.has_tasks = "tasks" in overlay.data
    overlay.tasks = overlay.data.pop("tasks", None)
    overlay.has_base_location = "base" in overlay.data
    overlay.base_location = overlay.data.pop("base", None)
    overlay.has_verify_settings = "verify" in overlay.data
    overlay.verify_settings = overlay.data.pop("verify", None)
    sections = (("appspec",), ("service",), ("tasks",), ("base",), ("verify",))
    overlay.origins = [(path, origin) for path, origin in reader.origins if path[:1] not in sections]
    overlay.service_origins = [(path, origin) for path, origin in reader.origins if path[:1] == ("service",)]
    overlay.section_origins = [(path, origin) for path, origin in reader.origins if path[:1] in sections]
    overlay.items = reader.items
    overlay.extends = reader.extends
    overlay.imports = reader.imports
    return overlay


class _Reader:
    """Walks a composed YAML node graph twice: once as plain data for the overlay schema, once
    into keyed form with values kept as written where ECS expects strings. Both passes report
    into ``findings``."""

    def __init__(self, text: str, file: str, environ: Mapping[str, str], read: ReadBeside | None = None) -> None:
        self.text = text
        self.file = file
        self.environ = environ
        self.read = read
        self.imports: list[str] = []
        self.findings: list[Finding] = []
        self.marks: dict[tuple[str | int, ...], yaml.Node] = {}
        self.origins: list[tuple[Path, Origin]] = []
        self.items: list[tuple[Path, Origin]] = []
        self.variable_problems: list[tuple[tuple[str | int, ...], yaml.Node, Problem]] = []
        # (path of the mapping, `$replace` or `$append`, the mapping): checked once the document is read
        self.operations: list[tuple[tuple[str | int, ...], str, yaml.MappingNode]] = []
        self.variables_read: list[tuple[tuple[str | int, ...], tuple[str, ...]]] = []
        self.too_deep: tuple[tuple[str | int, ...], yaml.Node] | None = None
        self.extends: list[tuple[str, Origin]] = []
        self.nodes_seen = 0
        self.constructor = yaml.SafeLoader("")
        self.root_schema = schemas.load("taskdef")
        self._lines: list[str] | None = None

    def compose(self) -> yaml.MappingNode | None:
        """The document's top-level mapping, or None when it is empty or cannot be read."""
        try:
            root = yaml.compose(self.text, Loader=_LOADER)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or "YAML syntax error"
            self.findings.append(
                Finding(
                    YAML_SYNTAX,
                    f"{problem}; fix the YAML syntax",
                    "",
                    file=self.file,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            )
            return None
        except yaml.YAMLError as error:
            self.findings.append(Finding(YAML_SYNTAX, f"not valid YAML: {error}", file=self.file))
            return None
        if root is None or (root.tag == _NULL_TAG and isinstance(root, yaml.ScalarNode)):
            return None  # an empty overlay is valid and changes nothing
        self._check_expanded(root)
        if not isinstance(root, yaml.MappingNode):
            self.findings.append(
                _finding_at(
                    self.file,
                    root,
                    OVERLAY_STRUCTURE,
                    "the top level of an overlay must be a mapping of task-definition fields",
                )
            )
            return None
        return root

    def check(self, root: yaml.MappingNode) -> dict[str, Any]:
        """The first pass: the document as plain data, its YAML, variables and schema checked."""
        plain: dict[str, Any] = self.plain(root, ())
        for path, node, problem in self.variable_problems:
            line, column = self._position(node, problem.offset)
            readable = format_path(keyed_path(path, plain))
            self.findings.append(Finding(problem.rule, problem.message, readable, ERROR, self.file, line, column))
        if self.too_deep is not None:
            path, node = self.too_deep
            message = f"nested more than {MAX_DEPTH} levels deep; an overlay never needs that, so flatten it"
            readable = format_path(keyed_path(path[:4], plain))
            self.findings.append(_finding_at(self.file, node, OVERLAY_STRUCTURE, message, readable))
        else:  # the schema would only repeat it, value by nested value
            misused = self._misused_operations(plain)
            self.findings.extend(misused)
            said = {finding.path for finding in misused}
            self.findings.extend(
                finding
                for finding in _schema_findings(plain, self.marks, self.file)
                if not any(finding.path == path or finding.path.startswith((f"{path}.", f"{path}[")) for path in said)
            )
        return plain

    def _misused_operations(self, plain: dict[str, Any]) -> list[Finding]:
        """``$replace``/``$append`` written where the schema's own message would puzzle: beside items, or
        ``$append`` on a keyed list (which adds new items by itself)."""
        found = []
        said: set[int] = set()
        for path, operation, node in self.operations:
            if id(node) in said:
                continue  # `$replace` and `$append` in one mapping: said once
            said.add(id(node))
            schema = self._schema_at(path)
            if schema is None or schema.get("type") != "array":
                continue  # a mapping such as dockerLabels: `$replace` is an ordinary key there
            keyed = keyed_path(path, plain)
            spec = spec_for(keyed)
            field = path[-1]
            if len(node.value) > 1:
                message = (
                    f"{operation} stands alone in {field}: write every item under it "
                    f"({field}: {{{operation}: …}}), nothing beside it"
                )
            elif operation == APPEND and spec is not None:
                message = (
                    f"{APPEND} adds to plain lists; {field} is keyed by {spec.key}, and items the base lacks are "
                    f"added already: write them without {APPEND} (or use {REPLACE} for exactly these items)"
                )
            else:
                continue
            found.append(_finding_at(self.file, node, LIST_OPERATION, message, format_path(keyed)))
        return found

    # -- plain data, for schema validation ---------------------------------------------------

    def plain(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        self._count(node)
        if len(path) > MAX_DEPTH:
            self.too_deep = self.too_deep or (path, node)
            return None
        if node.tag not in _PLAIN_TAGS:
            # Only data: a tag such as !!python/object is refused, never constructed.
            self.findings.append(
                _finding_at(
                    self.file,
                    node,
                    YAML_TAG,
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
                            YAML_MERGE_KEY,
                            "YAML merge keys (<<) are not supported; use `extends`",
                        )
                    )
                    continue
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                    self.findings.append(
                        _finding_at(self.file, key_node, YAML_KEY, "mapping keys must be plain text", format_path(path))
                    )
                    continue
                key = self._key_text(key_node)
                if "${" in key:
                    self.findings.append(
                        _finding_at(
                            self.file,
                            key_node,
                            VARIABLE_SYNTAX,
                            f"'{key}': ${{…}} is replaced in values, not in keys; write the key as it should be",
                            format_path(path + (key,)),
                        )
                    )
                if key in seen:
                    first = seen[key]
                    self.findings.append(
                        _finding_at(
                            self.file,
                            key_node,
                            DUPLICATE_KEY,
                            f"duplicate key '{key}' (first at line {first.start_mark.line + 1}); "
                            "YAML would silently keep only the last one, so remove one of them",
                            format_path(path + (key,)),
                        )
                    )
                    continue
                seen[key] = key_node
                self.marks[path + (key,)] = key_node
                if key in LIST_OPERATIONS:
                    self.operations.append((path, key, node))
                result[key] = self.plain(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.marks[path + (index,)] = item
                items.append(self.plain(item, path + (index,)))
            return items
        try:
            value = self._scalar(node)
        except (ValueError, TypeError, KeyError, yaml.YAMLError):
            # An explicit tag on a value it cannot read: `!!int abc`.
            tag = node.tag.rpartition(":")[2]
            self.findings.append(
                _finding_at(
                    self.file,
                    node,
                    YAML_TAG,
                    f"'{node.value}' is not a valid !!{tag}; remove the tag or fix the value",
                    format_path(path),
                )
            )
            return None
        if isinstance(value, str) and "$" in value:
            self._check_variables(value, path, node)
            kind = _number_kind(self._schema_at(path)) if "${" in value else None
            if kind is not None:
                return self._number(value, path, node, kind)
        if not isinstance(value, (str, int, float, bool, type(None))):
            return node.value  # timestamps and the like: the text as written
        return value

    def _schema_at(self, path: tuple[str | int, ...]) -> dict[str, Any] | None:
        """The task-definition schema of the value at ``path`` (list and mapping forms alike)."""
        schema: dict[str, Any] | None = self.root_schema
        for step in path:
            schema = schemas.child(schema, step, self.root_schema)
        return schema

    def _number(self, written: str, path: tuple[str | int, ...], node: yaml.Node, kind: str) -> int | float | None:
        """A numeric field written with ``${…}``: the number it gives, checked by the schema as if written;
        None when it gives none (a finding at the ``${``) or a variable is wrong (already a finding)."""
        result = interpolate(written, self.environ)
        if result.problems:
            return None
        number = number_from(result.value, kind)
        if number is None:
            self.variable_problems.append((path, node, not_a_number(written, kind)))
        return number

    # -- keyed data --------------------------------------------------------------------------

    def keyed_task(self, root: yaml.MappingNode) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key_node, value_node in root.value:
            key = self._key_text(key_node)
            if key == "extends":
                self._read_extends(value_node)
                continue
            if key in ("allowPlaintext", "secretNames"):
                continue
            schema = schemas.child(self.root_schema, key, self.root_schema)
            spec, fields = TASK_KEYED_LISTS.get(key), TASK_KEYED_MAPPINGS.get(key, {})
            data[key] = self._keyed_value(value_node, (key,), schema, spec, fields)
        return data

    def _keyed_value(
        self,
        node: yaml.Node,
        path: Path,
        schema: dict[str, Any] | None,
        spec: KeyedListSpec | None,
        fields: Mapping[str, KeyedListSpec] = MappingProxyType({}),
    ) -> Any:
        """``spec``: the keyed list ``node`` is; ``fields``: the keyed lists inside the mapping ``node`` is."""
        if _is_null(node):
            self._leaf(path, node)
            return None
        operation = _list_operation(node, schema, spec)
        if operation is not None:
            return self._operated_list(*operation, path, schema, spec)
        if spec is not None:
            return self._keyed_list(node, path, schema, spec)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key_text(key_node)
                result[key] = self._keyed_value(
                    value_node, path + (key,), schemas.child(schema, key, self.root_schema), fields.get(key)
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

    def _operated_list(
        self,
        operation: str,
        key_node: yaml.Node,
        node: yaml.Node,
        path: Path,
        schema: dict[str, Any] | None,
        spec: KeyedListSpec | None,
    ) -> Any:
        """A list under ``$replace`` or ``$append`` (the overlay schema allows ``$append`` on plain lists only)."""
        if spec is None:
            items = self._keyed_value(node, path, schema, None)
            return AppendingList(items) if operation == APPEND else items
        # The whole list is this layer's: its record outranks what earlier layers set inside it, and each
        # item written here is recorded after it (an item the base has too is this layer's as written).
        self._leaf(path, key_node)
        return ReplacingList(self._keyed_list(node, path, schema, spec, whole=True))

    def _keyed_list(
        self, node: yaml.Node, path: Path, schema: dict[str, Any] | None, spec: KeyedListSpec, whole: bool = False
    ) -> KeyedList:
        item_schema = schemas.child(schema, 0, self.root_schema)
        keyed = KeyedList()
        first: dict[str, yaml.Node] = {}
        if isinstance(node, yaml.SequenceNode):
            for index, item_node in enumerate(node.value):
                origins_from, items_from = len(self.origins), len(self.items)
                item = self._keyed_item(item_node, path, item_schema, spec, None, index=index, whole=whole)
                key = spec.item_key(item) if isinstance(item, dict) else None
                if key is None:
                    self._problem(
                        item_node,
                        KEYED_LIST_ITEM,
                        f"this item has no '{spec.key}'; every {path[-1]} item needs one to be merged",
                        path + (index,),
                    )
                elif self._unique(key, item_node, first, path):
                    keyed[key] = item
                    self._rekey(path + (index,), path + (Item(key),), origins_from, items_from)
            return keyed
        assert isinstance(node, yaml.MappingNode)  # the overlay schema allows nothing else
        for key_node, value_node in node.value:
            text = self._key_text(key_node)
            problem = spec.key_problem(text)
            if problem is not None:
                self._problem(key_node, KEYED_LIST_ITEM, problem, path)
                continue
            key = spec.normalise_key(text)
            if self._unique(key, key_node, first, path):
                keyed[key] = self._keyed_item(value_node, path, item_schema, spec, key, key_node, whole=whole)
        return keyed

    def _unique(self, key: str, node: yaml.Node, first: dict[str, yaml.Node], path: Path) -> bool:
        """False, with a finding, when ``key`` already names an item of this list (in any spelling)."""
        earlier = first.setdefault(key, node)
        if earlier is node:
            return True
        self._problem(
            node,
            DUPLICATE_ITEM,
            f"'{key}' appears twice in {path[-1]} (first at line {earlier.start_mark.line + 1}); "
            "only one can be kept, so remove the other",
            path + (Item(key),),
        )
        return False

    def _problem(self, node: yaml.Node, rule: RuleId, message: str, path: Path) -> None:
        self.findings.append(_finding_at(self.file, node, rule, message, format_path(path)))

    def _keyed_item(
        self,
        node: yaml.Node,
        list_path: Path,
        schema: dict[str, Any] | None,
        spec: KeyedListSpec,
        key: str | None,
        key_node: yaml.Node | None = None,
        index: int = 0,
        whole: bool = False,
    ) -> Any:
        # A list-form item's key is known only once it is read: its origins sit under its index
        # until _rekey_origins moves them.
        item_path = list_path + (Item(key) if key is not None else index,)
        self.items.append((item_path, self._origin(key_node or node)))
        if whole:
            self._leaf(item_path, key_node or node)
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
        env_files: yaml.Node | None = None
        for child_key_node, child_node in node.value:
            name = self._key_text(child_key_node)
            if name == ENV_FILE and list_path == ("containerDefinitions",):
                env_files = child_node
                continue
            child_schema = schemas.child(schema, name, self.root_schema)
            child_spec = spec.children.get(name)
            item[name] = self._keyed_value(child_node, item_path + (name,), child_schema, child_spec)
        if env_files is not None:
            self._import_environment(item, env_files, item_path)
        return item

    def _import_environment(self, container: dict[str, Any], node: yaml.Node, container_path: Path) -> None:
        """The variables of the container's dotenv files under its ``environment``, as if written there in this
        layer; a variable the layer's own ``environment`` sets wins (docker compose's order), and a later file
        wins over an earlier one."""
        imported = KeyedList()
        origins: dict[str, Origin] = {}
        path = container_path + ("environment",)
        for file_node in node.value if isinstance(node, yaml.SequenceNode) else [node]:
            relative = str(file_node.value)
            if self.read is None:
                message = f"{ENV_FILE} '{relative}' is read relative to an overlay file; load the overlay from a file"
                self._problem(file_node, ENV_FILE_INVALID, message, container_path + (ENV_FILE,))
                continue
            try:
                text, label = self.read(relative)
            except EcsOverlayError as error:
                self._problem(file_node, ENV_FILE_INVALID, f"{ENV_FILE} '{relative}': {error.message}", path)
                continue
            self.imports.append(relative)
            from .dotenv import parse_dotenv  # loaded only by overlays that import dotenv files

            entries, problems = parse_dotenv(text, self.environ)
            shown = format_path(path)
            self.findings.extend(
                Finding(problem.rule, problem.message, shown, ERROR, label, problem.line, problem.column)
                for problem in problems
            )
            for entry in entries:
                imported.pop(entry.name, None)
                imported[entry.name] = {"name": entry.name, "value": entry.value}
                origins[entry.name] = Origin(
                    OVERLAY, label, entry.line, entry.column, entry.variables, template=entry.template
                )
        written = container.get("environment")
        if isinstance(written, KeyedList):
            kept = {name: item for name, item in imported.items() if name not in written}
            combined = (ReplacingList if isinstance(written, ReplacingList) else KeyedList)(kept)
            combined.update(written)
        else:  # no environment written, or `environment: null`: then exactly the files' variables
            kept = imported
            combined = KeyedList(kept) if written is None and "environment" not in container else ReplacingList(kept)
        container["environment"] = combined
        for name in kept:
            self.items.append((path + (Item(name),), origins[name]))
            self.origins.append((path + (Item(name), "value"), origins[name]))

    def _rekey(self, old: Path, new: Path, origins_from: int, items_from: int) -> None:
        """Move the records made since ``origins_from``/``items_from`` from ``old`` to ``new``:
        only the item just read, so each record moves once per keyed list around it."""
        size = len(old)
        for records, start in ((self.origins, origins_from), (self.items, items_from)):
            for position in range(start, len(records)):
                path, origin = records[position]
                if path[:size] == old:
                    records[position] = (new + path[size:], origin)

    def _leaf_scalar(self, node: yaml.Node, path: Path, schema: dict[str, Any] | None) -> Any:
        kind = _number_kind(schema)
        if kind is not None and node.tag == _STR_TAG and "${" in str(node.value):
            text, read = self._interpolate(str(node.value))  # the first pass checked it gives a number
            self._leaf(path, node, read, str(node.value))
            return number_from(text, kind)
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
        result = interpolate(text, self.environ)  # problems were reported by the first pass
        return result.value, result.variables

    def _check_variables(self, text: str, path: tuple[str | int, ...], node: yaml.Node) -> None:
        if path[:1] in (("extends",), ("allowPlaintext",), ("secretNames",)):
            if "${" in text:
                self.findings.append(
                    _finding_at(
                        self.file,
                        node,
                        VARIABLE_SYNTAX,
                        f"'{text}': ${{…}} is not replaced in {path[0]}; write the name as it is",
                        format_path(path),
                    )
                )
            return
        interpolated = interpolate(text, self.environ)
        self.variable_problems.extend((path, node, problem) for problem in interpolated.problems)
        if interpolated.variables:
            self.variables_read.append((path, interpolated.variables))

    def _position(self, node: yaml.Node, offset: int) -> tuple[int, int]:
        """Line and column (1-based) of the text at ``offset`` in a scalar's value, found where the
        scalar is written; the scalar's start when escapes or folding make it differ."""
        start, end = node.start_mark, node.end_mark
        value = str(node.value)
        snippet = value[offset:].split("\n", 1)[0][:40]
        occurrence = value[:offset].count(snippet)
        if self._lines is None:
            self._lines = self.text.split("\n")
        for number in range(start.line, min(end.line, len(self._lines) - 1) + 1):
            line = self._lines[number]
            column = line.find(snippet, start.column if number == start.line else 0)
            while column >= 0:
                if occurrence == 0:
                    return number + 1, column + 1
                occurrence -= 1
                column = line.find(snippet, column + 1)
        return start.line + 1, start.column + 1

    def _read_extends(self, node: yaml.Node) -> None:
        targets = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for target in targets:
            mark = target.start_mark
            self.extends.append((str(target.value), Origin(OVERLAY, self.file, mark.line + 1, mark.column + 1)))

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _BOOL_TAG and str(node.value).lower() in YAML11_BOOLEANS:
            return node.value  # text, as YAML 1.2 and editors read it: `essential: yes` is an error
        return self.constructor.construct_object(node, deep=True)

    def _key_text(self, node: yaml.Node) -> str:
        return str(node.value)  # keys are checked to be plain scalars by the first pass

    def _check_expanded(self, root: yaml.Node) -> None:
        characters, nodes = _expanded_size(root, self.file)
        if nodes >= MAX_NODES:
            self.nodes_seen = MAX_NODES - 1
            self._count(root)
        if characters > MAX_EXPANDED:
            raise InvalidInputError(
                f"{self.file}: more than {MAX_EXPANDED // (1024 * 1024)} MiB of YAML after expanding aliases; "
                "refusing to load it (an alias bomb?). Write the overlay without nested aliases."
            )

    def _count(self, node: yaml.Node) -> None:
        self.nodes_seen += 1
        if self.nodes_seen == MAX_NODES:
            raise InvalidInputError(
                f"{self.file}: more than {MAX_NODES} YAML nodes after expanding aliases; "
                "refusing to load it (an alias bomb?). Write the overlay without nested aliases."
            )


def _expanded_size(root: yaml.Node, file: str) -> tuple[int, int]:
    """(characters of scalar text, nodes) the document holds with every alias expanded, each distinct node
    sized once (iteratively: libyaml nests 1000 deep); a node holding an alias to itself is refused."""
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_sized = pending.pop()
        if id(node) in sizes:
            continue
        children = [] if isinstance(node, yaml.ScalarNode) else node.value
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in children for child in pair]
        if not children_sized:
            if id(node) in open_nodes:  # an alias inside the node it names: data without end
                mark = node.start_mark
                raise InvalidInputError(
                    f"{file}:{mark.line + 1}:{mark.column + 1}: this node holds an alias to itself, so its data "
                    "would never end; write it without that alias"
                )
            open_nodes.add(id(node))
            pending.append((node, True))
            pending.extend((child, False) for child in children)
            continue
        open_nodes.discard(id(node))
        characters = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        nodes = 1
        for child in children:
            child_characters, child_nodes = sizes.get(id(child), (0, 0))
            characters, nodes = characters + child_characters, nodes + child_nodes
        sizes[id(node)] = (characters, nodes)
    return sizes[id(root)]


def _list_operation(
    node: yaml.Node, schema: dict[str, Any] | None, spec: KeyedListSpec | None
) -> tuple[str, yaml.Node, yaml.Node] | None:
    """(``$replace`` or ``$append``, its key node, the list written under it) when ``node`` wraps a list so;
    only where a list belongs: elsewhere (``dockerLabels``) ``$replace`` is an ordinary key."""
    if not (isinstance(node, yaml.MappingNode) and len(node.value) == 1):
        return None
    key_node, value_node = node.value[0]
    if key_node.value not in LIST_OPERATIONS or (spec is None and (schema or {}).get("type") != "array"):
        return None
    return str(key_node.value), key_node, value_node


def _number_kind(schema: dict[str, Any] | None) -> str | None:
    """``integer`` or ``number`` for a numeric field, else None."""
    kind = None if schema is None else schema.get("type")
    return kind if isinstance(kind, str) and kind in NUMBER_KINDS else None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def _finding_at(file: str, node: yaml.Node, rule: RuleId, message: str, path: str = "") -> Finding:
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
                _located(f"unknown field '{extra}'{hint}", UNKNOWN_FIELD, path + (extra,), plain, marks, file)
            )
        return findings
    keyed = keyed_path(path, plain)
    message = schemas.message(error, keyed)
    if error.validator == "type" and isinstance(error.instance, str) and "${" in error.instance:
        message += "; ${…} is replaced in text and numbers only, so write the value itself"
    if error.validator == "type" and "boolean" in str(error.validator_value) and isinstance(error.instance, str):
        meant = YAML11_BOOLEANS.get(error.instance.lower())
        if meant is not None:
            message = (
                f"{error.instance} is not a boolean in YAML 1.2, which editors use (YAML 1.1 reads it as {meant}); "
                f"write {meant}"
            )
    if error.validator == "type" and len(keyed) >= 2 and keyed[-2] == "environment" and isinstance(keyed[-1], Item):
        message = f"environment variable {keyed[-1]}: {message}"
    return [_located(message, OVERLAY_SCHEMA, path, plain, marks, file)]


def _located(
    message: str,
    rule: RuleId,
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
