"""``init``: adopting a running service, the environment layer written from what runs today, extending
``_common.yaml`` when there is one.

init only ever adds files: an existing layer, schema or snapshot is never rewritten (a layer someone keeps
by hand holds comments and spellings a re-dump would lose), and no secret value of the live service is
written into the repository. ``adopt_environment`` reads the files and fetches the live base; everything
below it is pure (data and text in, texts out). ``cli.py`` writes what it returns, all or nothing.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import ruamel.yaml
import yaml
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from .. import schemas
from ..base import BaseOptions, fetch_base, read_base_file, registerable
from ..environments import Environments, read_text, shown_path
from ..errors import InvalidInputError, UsageError
from ..findings import counted
from ..output import to_json
from ..overlay import parse_overlay
from ..render import render
from ..secrets import MASK, looks_like_credential, mask, shapes_in
from .environment import Connection, Context

COMMON = "_common.yaml"
# The option naming a container's CloudWatch log group, per log driver (FireLens: Fluent Bit's cloudwatch outputs).
_LOG_GROUP_OPTIONS = {"awslogs": "awslogs-group", "awsfirelens": "log_group_name"}
# A name, never a path: letters and digits first (`_` names a shared layer, `.` a hidden file, `-` an option).
_ENVIRONMENT_NAME = re.compile(r"[^\W_][\w.-]*")


def check_environment_name(name: str) -> None:
    """``--env`` names the file ``<name>.yaml`` in the environments directory, and nothing else."""
    if _ENVIRONMENT_NAME.fullmatch(name) and not name.endswith((".yaml", ".yml")):
        return
    if name.endswith((".yaml", ".yml")):
        hint = f"give the name without its suffix: --env {name.rsplit('.', 1)[0]}"
    elif name.startswith("_"):
        hint = "names starting with _ are shared layers (_common.yaml), which every environment may extend"
    else:
        hint = "letters, digits, and . _ - after the first character; no path"
    raise UsageError(f"--env {json.dumps(name)} is not an environment name: {hint}")


class InitRequest(NamedTuple):
    environment: str
    environments: Environments
    cluster: str
    service: str
    force: bool
    factor: bool
    context: Context


@dataclass
class Adoption:
    """What ``init`` writes (path → text, under ``root``), what it says about it, and a one-line summary."""

    files: dict[Path, str]
    notes: list[str]
    summary: str
    root: Path = Path()  # a new repository has no environments/, schema/ or snapshots/ yet: created under it

    @property
    def exit_code(self) -> int:
        return 0  # a failure is an error on its way out, with its own exit code


def run(request: InitRequest) -> Adoption:
    options = BaseOptions(cluster=request.cluster, service=request.service, region=request.context.aws.region)
    adoption = adopt_environment(
        request.environment, request.environments, options, request.force, request.factor, request.context.aws
    )
    adoption.root = request.environments.directory.parent
    return adoption


def adopt_environment(
    name: str, environments: Environments, options: BaseOptions, force: bool, factor: bool, aws: Connection
) -> Adoption:
    """The files that adopt the service of ``options`` as environment ``name``: its layer (factored with
    the environments init wrote before), the overlay schema the layers point editors at, and a snapshot."""
    check_environment_name(name)
    directory = environments.directory
    existing = [
        directory / f"{name}{suffix}" for suffix in (".yaml", ".yml") if (directory / f"{name}{suffix}").exists()
    ]
    if existing and not (force and existing == [directory / f"{name}.yaml"]):
        shown = " and ".join(shown_path(path) for path in existing)
        advice = "pass --force to overwrite it" if existing == [directory / f"{name}.yaml"] else "keep one .yaml file"
        raise UsageError(f"{shown} exists; {advice}")
    base, label = fetch_base(options, [], name, aws.ecs)
    location = {"cluster": options.cluster, "service": options.service, "region": aws.ecs().region_name()}
    schema_path = directory.parent / "schema" / "overlay.schema.json"
    snapshots = directory.parent / "snapshots"
    layer = environment_layer(location, base.taskdef, os.path.relpath(schema_path, directory), label)
    others = {
        other: (read_text(environments.file(other)), _snapshot(snapshots / f"{other}.json"))
        for other in environments.names()
        if other != name
    }
    common = directory / COMMON
    common_text = read_text(common) if common.is_file() else None
    adopted = adopt(name, layer, base.taskdef, directory, others, common_text, factor)
    snapshot_path = snapshots / f"{name}.json"
    files = {**adopted.files, snapshot_path: to_json(mask((), base.taskdef))}
    schema_text = json.dumps(schemas.load("overlay"), indent=2) + "\n"
    notes = []
    if not schema_path.exists():
        files[schema_path] = schema_text
    elif read_text(schema_path) != schema_text:
        notes.append(
            f"{shown_path(schema_path)}: note: it differs from this version's schema; left as it is "
            f"(`ecs-overlay schema -o {shown_path(schema_path)}` writes this version's)"
        )
    _, left_in_base = managed_values(base.taskdef)
    notes += [
        f"{shown_path(directory / f'{name}.yaml')}: note: {variable} looks like a credential: left in the base, not "
        "copied into the overlay; move it to `secrets`"
        for variable in left_in_base
    ]
    notes += [
        f"{shown_path(snapshot_path)}: note: {where} written as {MASK} (the live value is a secret; the "
        "repository never holds it)"
        for where in masked_values(base.taskdef)
    ]
    notes += adopted.notes
    extends = f"; {' and '.join(adopted.extending)} extend {COMMON}" if len(adopted.extending) > 1 else ""
    extends = extends or (f"; it extends {COMMON}" if adopted.extending else "")
    return Adoption(files, notes, f"environment {name} adopted from {label}{extends}")


def masked_values(taskdef: Mapping[str, Any]) -> list[str]:
    """The values the snapshot writes as ``****`` (``container: NAME`` for environment variables, else the
    field), as every report masks them: credential-named variables and entries, secret-shaped text."""
    masked = mask((), taskdef)
    found: list[str] = []
    for container, shown in zip(
        taskdef.get("containerDefinitions") or [], masked.get("containerDefinitions") or [], strict=True
    ):
        for field, value in container.items():
            if shown.get(field) == value:
                continue
            if field == "environment":
                found += [
                    f"{container.get('name')}: {item.get('name')}"
                    for item, written in zip(value, shown[field], strict=True)
                    if item != written
                ]
            else:
                found.append(f"{container.get('name')}: {field}")
    found += [field for field, value in taskdef.items() if field != "containerDefinitions" and masked[field] != value]
    return found


def _snapshot(path: Path) -> dict[str, Any] | None:
    """The snapshot init wrote for an environment, stripped as render reads it; None when there is none."""
    if not path.is_file():
        return None
    return registerable(read_base_file(str(path), "snapshot"), schemas.describe_only_fields())


@dataclass
class Layer:
    """One overlay file init writes: its data, and the comment lines above it."""

    data: dict[str, Any]
    comments: list[str]


def managed_values(taskdef: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The values an infra team manages per environment, as overlay data: task cpu and memory, each
    container's environment, secrets (their ``valueFrom``) and log group (awslogs, or FireLens's log_group_name).

    Also returns the environment variables left in the base because their name or value looks like a
    credential (``container: NAME``): copied into the overlay they would sit in git in plain text.
    """
    values: dict[str, Any] = {}
    for name in ("cpu", "memory"):
        size = taskdef.get(name)
        if isinstance(size, str):
            values[name] = int(size) if size.isdigit() else size
    containers: dict[str, Any] = {}
    left_in_base: list[str] = []
    for container in taskdef.get("containerDefinitions") or []:
        entry: dict[str, Any] = {}
        environment: dict[str, str] = {}
        for item in container.get("environment") or []:
            variable, value = str(item.get("name")), str(item.get("value", ""))
            if looks_like_credential(variable) or shapes_in(value):
                left_in_base.append(f"{container['name']}: {variable}")
            else:
                environment[variable] = value.replace("${", "$${")  # the live text, not a variable to replace
        if environment:
            entry["environment"] = environment
        secrets = {str(item.get("name")): str(item.get("valueFrom")) for item in container.get("secrets") or []}
        if secrets:
            entry["secrets"] = secrets
        logging = container.get("logConfiguration") or {}
        option = _LOG_GROUP_OPTIONS.get(str(logging.get("logDriver")))
        group = (logging.get("options") or {}).get(option) if option else None
        if option and isinstance(group, str):
            entry["logConfiguration"] = {"options": {option: group}}
        if entry:
            containers[str(container["name"])] = entry
    if containers:
        values["containerDefinitions"] = containers
    return values, left_in_base


def environment_layer(location: dict[str, Any], taskdef: Mapping[str, Any], schema_ref: str, source: str) -> Layer:
    """The layer of a newly adopted environment: ``base:`` and the managed values, commented."""
    values, left_in_base = managed_values(taskdef)
    comments = [
        f"# yaml-language-server: $schema={schema_ref}",
        f"# Written by `ecs-overlay init` from {source}; the values below are managed here from now on.",
    ]
    if left_in_base:
        comments += [
            "# Left in the base, not copied here: these environment variables look like credentials",
            f"# ({', '.join(left_in_base)}). Move each to `secrets` (SSM Parameter Store or Secrets Manager)",
            "# and add it below as a secret; until then the base keeps the value.",
        ]
    return Layer({"base": location, **values}, comments)


def layer_text(layer: Layer) -> str:
    body = yaml.safe_dump(layer.data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return "".join(f"{line}\n" for line in layer.comments) + body


def read_layer(text: str, file: str = "") -> Layer:
    """A layer already in the repository (comments above the data kept), read as editors read it (YAML 1.2:
    `yes` is text) and as its text holds it: loaded round-trip, so that it can be written back unchanged."""
    lines = text.splitlines()
    comments = []
    for line in lines:
        if not line.startswith("#"):
            break
        comments.append(line)
    data = _load_kept(text, file)
    return Layer(_plain(data) if isinstance(data, dict) else {}, comments)


def _load_kept(text: str, file: str) -> Any:
    try:
        return _round_trip(text).load(text)
    except YAMLError as error:
        raise InvalidInputError(f"{file}: not valid YAML ({str(error).splitlines()[0]}); fix it first") from None


def _plain(value: Any) -> Any:
    """Round-trip data as plain values (``0022`` as written is the number 22, a quoted key a plain string), so
    that layers compare, and dump, as any other data."""
    if isinstance(value, dict):
        return {str(key): _plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_plain(child) for child in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return str(value)  # a timestamp and the like: its text


def _round_trip(text: str) -> ruamel.yaml.YAML:
    """A round-trip reader and writer keeping comments, quotes, scalars as written and the file's indentation."""
    kept = ruamel.yaml.YAML()
    kept.preserve_quotes = True
    kept.width = 1_000_000  # never fold a long line
    try:
        _, indent, dash = load_yaml_guess_indent(text)
    except YAMLError:
        indent, dash = None, None
    kept.indent(mapping=indent or 2, sequence=indent or 2, offset=dash or 0)
    return kept


def shared(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """What two layers set identically at the same paths."""
    common: dict[str, Any] = {}
    for key, value in first.items():
        if key == "extends" or key not in second:
            continue
        other = second[key]
        if isinstance(value, dict) and isinstance(other, dict):
            inner = shared(value, other)
            if inner:
                common[key] = inner
        elif value == other and value is not None:
            common[key] = value
    return common


def beyond(
    data: Mapping[str, Any],
    common: Mapping[str, Any],
    containers: Collection[str] = (),
    path: tuple[str, ...] = (),
) -> dict[str, Any]:
    """What ``data`` sets on top of ``common``; ``null`` on each value ``common`` sets that ``data`` does not
    (a whole container only when it is not among the base's ``containers``: deleting a value inside a
    container the base lacks would add the container, incomplete)."""
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in common:
            result[key] = value
        elif isinstance(value, dict) and isinstance(common[key], dict):
            inner = beyond(value, common[key], containers, (*path, key))
            if inner:
                result[key] = inner
        elif value != common[key]:
            result[key] = value
    for key, shared_value in common.items():
        if key in data:
            continue
        missing_container = path == ("containerDefinitions",) and key not in containers
        if isinstance(shared_value, dict) and not missing_container:
            result[key] = beyond({}, shared_value, containers, (*path, key))
        else:
            result[key] = None
    return result


def with_extends(layer: Layer, data: dict[str, Any]) -> Layer:
    return Layer({"extends": COMMON, **data}, layer.comments)


@dataclass
class Adopted:
    """The files of an adoption (path → text: the environment's own file, nothing else) and notes about it."""

    files: dict[Path, str]
    extending: list[str]  # the environments whose files extend _common.yaml after this adoption
    notes: list[str]


def adopt(
    name: str,
    layer: Layer,
    base: Mapping[str, Any],
    directory: Path,
    others: Mapping[str, tuple[str, Mapping[str, Any] | None]],
    common_text: str | None,
    factor: bool = False,
) -> Adopted:
    """The environment file of ``name`` (whose live base is ``base``); no other file is touched unless
    ``factor`` asks for it.

    ``others``: each other environment's file text and its snapshot (None when it has none).
    With ``_common.yaml`` present, the new layer extends it and says only how it differs, checked to
    render exactly as the plain layer would on ``base``. Without it, the layer stands alone, and what it
    sets alike with the environments init wrote before (no ``extends``, a snapshot) is said in a note.
    With ``factor``, those values move into a new ``_common.yaml`` instead: each other file is edited
    round-trip (``extends`` added, the moved lines taken out, every other line kept as written), and each
    environment must render exactly as before on its snapshot, or nothing is written.
    """
    own = directory / f"{name}.yaml"
    if common_text is not None:
        common_layer = read_layer(common_text, shown_path(directory / COMMON))
        containers = [str(container.get("name")) for container in base.get("containerDefinitions") or []]
        factored = layer_text(with_extends(layer, beyond(layer.data, common_layer.data, containers)))
        _check_same(name, base, layer_text(layer), factored, common_text)
        return Adopted({own: factored}, [name], [])
    kept = {other: read_layer(text, shown_path(directory / f"{other}.yaml")) for other, (text, _) in others.items()}
    joining = sorted(
        other for other, (_, snapshot) in others.items() if snapshot is not None and "extends" not in kept[other].data
    )
    common = dict(layer.data)
    for other in joining:
        common = shared(common, kept[other].data)
    if not joining or not common:
        return Adopted({own: layer_text(layer)}, [], [])
    together = sorted([name, *joining])
    if not factor:
        note = (
            f"{shown_path(own)}: note: {' and '.join(together)} set {counted(_leaves(common), 'value')} alike; "
            f"init --factor moves them into {COMMON} (editing each file only there), or move them by hand"
        )
        return Adopted({own: layer_text(layer)}, [], [note])
    common_text = layer_text(Layer(common, [*layer.comments[:1], _COMMON_COMMENT]))
    files = {directory / COMMON: common_text}
    for other in joining:
        text, snapshot = others[other]
        assert snapshot is not None
        edited = _extending_common(text, common, shown_path(directory / f"{other}.yaml"))
        _check_same(other, snapshot, text, edited, common_text)
        files[directory / f"{other}.yaml"] = edited
    factored = layer_text(with_extends(layer, beyond(layer.data, common)))
    _check_same(name, base, layer_text(layer), factored, common_text)
    files[own] = factored
    return Adopted(files, together, [])


_COMMON_COMMENT = (
    "# What every environment shares (written by `ecs-overlay init --factor`); each <env>.yaml extends it."
)


def _extending_common(text: str, common: Mapping[str, Any], shown: str) -> str:
    """``text`` with ``extends: _common.yaml`` added and what ``common`` holds taken out, round-trip; refused
    unless every other line stays exactly as written."""
    data = _load_kept(text, shown)
    _remove(data, common)
    data.insert(0, "extends", COMMON)
    written = io.StringIO()
    _round_trip(text).dump(data, written)
    edited = written.getvalue()
    remaining = iter(text.splitlines())
    added = f"extends: {COMMON}"
    if not all(line == added or any(line == old for old in remaining) for line in edited.splitlines()):
        raise InvalidInputError(
            f"{shown}: cannot add `extends: {COMMON}` and take out the shared values without rewriting other "
            f"lines; nothing was written. Move the shared values into {COMMON} by hand"
        )
    return edited


def _remove(data: Any, common: Mapping[str, Any]) -> None:
    for key, value in common.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _remove(data[key], value)
            if not data[key]:
                del data[key]
        else:
            del data[key]


def _leaves(data: Mapping[str, Any]) -> int:
    return sum(_leaves(value) if isinstance(value, dict) else 1 for value in data.values())


def _check_same(name: str, snapshot: Mapping[str, Any], before: str, after: str, common: str) -> None:
    """Refuse a factoring that would change what ``name`` renders on its snapshot."""
    environ = dict(os.environ)
    old = render(snapshot, [parse_overlay(before, f"{name}.yaml", environ)])
    new = render(snapshot, [parse_overlay(common, COMMON, environ), parse_overlay(after, f"{name}.yaml", environ)])
    if old.taskdef != new.taskdef:
        raise InvalidInputError(
            f"factoring what environments share into {COMMON} would change what environment '{name}' renders; "
            f"nothing was written. Write {COMMON} by hand, or adopt with --force after moving {name}.yaml aside"
        )
