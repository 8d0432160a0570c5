"""Adopting a running service (``init``): the environment layer written from what runs today, and the
values environments share factored into ``_common.yaml``.

``adopt_environment`` reads the files and fetches the live base; everything below it is pure (data and
text in, texts out). ``cli.py`` writes what it returns, all or nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import schemas
from .base import BaseOptions, fetch_base, read_base_file, registerable
from .environments import Environments, read_text, shown_path
from .errors import InvalidInputError, UsageError
from .output import to_json
from .overlay import parse_overlay
from .render import render
from .secrets import looks_like_credential, shapes_in

COMMON = "_common.yaml"
# The option naming a container's CloudWatch log group, per log driver (FireLens: Fluent Bit's cloudwatch outputs).
_LOG_GROUP_OPTIONS = {"awslogs": "awslogs-group", "awsfirelens": "log_group_name"}


@dataclass
class Adoption:
    """What ``init`` writes (path → text), what it says about it, and a one-line summary."""

    files: dict[Path, str]
    notes: list[str]
    summary: str


def adopt_environment(name: str, environments: Environments, options: BaseOptions, force: bool) -> Adoption:
    """The files that adopt the service of ``options`` as environment ``name``: its layer (factored with
    the environments init wrote before), the overlay schema the layers point editors at, and a snapshot."""
    directory = environments.directory
    existing = [
        directory / f"{name}{suffix}" for suffix in (".yaml", ".yml") if (directory / f"{name}{suffix}").exists()
    ]
    if existing and not (force and existing == [directory / f"{name}.yaml"]):
        shown = " and ".join(shown_path(path) for path in existing)
        advice = "pass --force to overwrite it" if existing == [directory / f"{name}.yaml"] else "keep one .yaml file"
        raise UsageError(f"{shown} exists; {advice}")
    base, label = fetch_base(options, [], name)
    location = {"cluster": options.cluster, "service": options.service, "region": options.ecs().region_name()}
    schema_path = directory.parent / "schema" / "overlay.schema.json"
    snapshots = directory.parent / "snapshots"
    layer = environment_layer(location, base.taskdef, os.path.relpath(schema_path, directory), label)
    others = {
        other: (read_text(environments.file(other)), _snapshot(snapshots / f"{other}.json"))
        for other in environments.names()
        if other != name
    }
    common = directory / COMMON
    adopted = adopt(name, layer, base.taskdef, directory, others, read_text(common) if common.is_file() else None)
    files = {
        **adopted.files,
        schema_path: json.dumps(schemas.load("overlay"), indent=2) + "\n",
        snapshots / f"{name}.json": to_json(base.taskdef),
    }
    _, left_in_base = managed_values(base.taskdef)
    notes = [
        f"{shown_path(directory / f'{name}.yaml')}: note: {variable} looks like a credential: left in the base, not "
        "copied into the overlay; move it to `secrets`"
        for variable in left_in_base
    ]
    factored = f"; {' and '.join(adopted.factored)} extend {COMMON}" if adopted.factored else ""
    return Adoption(files, notes, f"environment {name} adopted from {label}{factored}")


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


def read_layer(text: str) -> Layer:
    """A layer init wrote before (comments above the data kept); its scalars round-trip as init wrote them."""
    lines = text.splitlines()
    comments = []
    for line in lines:
        if not line.startswith("#"):
            break
        comments.append(line)
    data = yaml.safe_load(text)
    return Layer(data if isinstance(data, dict) else {}, comments)


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
    """The files of an adoption: path → text, in the order they are named to the user."""

    files: dict[Path, str]
    factored: list[str]  # the environments whose files now extend _common.yaml


def adopt(
    name: str,
    layer: Layer,
    base: Mapping[str, Any],
    directory: Path,
    others: Mapping[str, tuple[str, Mapping[str, Any] | None]],
    common_text: str | None,
) -> Adopted:
    """The environment file of ``name`` (whose live base is ``base``), factored with the others when
    that can be done safely.

    ``others``: each other environment's file text and its snapshot (None when it has none).
    With ``_common.yaml`` present, the new layer extends it and says only how it differs. Without
    it, every environment that init wrote (no ``extends``, a snapshot to check against) joins the
    new one: what all share goes to ``_common.yaml``. Each factored environment must render exactly
    as before on its base, or nothing is written.
    """
    own = directory / f"{name}.yaml"
    if common_text is not None:
        common_layer = read_layer(common_text)
        containers = [str(container.get("name")) for container in base.get("containerDefinitions") or []]
        factored = layer_text(with_extends(layer, beyond(layer.data, common_layer.data, containers)))
        _check_same(name, base, layer_text(layer), factored, common_text)
        return Adopted({own: factored}, [name])
    joining = {
        other: (read_layer(text), snapshot)
        for other, (text, snapshot) in others.items()
        if snapshot is not None and "extends" not in read_layer(text).data
    }
    common = dict(layer.data)
    for other_layer, _ in joining.values():
        common = shared(common, other_layer.data)
    if not joining or not common:
        return Adopted({own: layer_text(layer)}, [])
    common_text = layer_text(Layer(common, _common_comments(layer.comments)))
    files = {directory / COMMON: common_text}
    for other, (other_layer, snapshot) in sorted({**joining, name: (layer, base)}.items()):
        assert snapshot is not None
        factored = layer_text(with_extends(other_layer, beyond(other_layer.data, common)))
        _check_same(other, snapshot, layer_text(other_layer), factored, common_text)
        files[directory / f"{other}.yaml"] = factored
    return Adopted(files, sorted([name, *joining]))


def _common_comments(comments: Sequence[str]) -> list[str]:
    schema_line = [line for line in comments if "$schema=" in line]
    return [
        *schema_line,
        "# What every environment shares (written by `ecs-overlay init`); each <env>.yaml extends it.",
    ]


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
