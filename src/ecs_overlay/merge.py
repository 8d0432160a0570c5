"""The keyed deep merge: mappings merge, scalars and plain lists replace, ``null`` deletes;
a list written under ``$replace`` is taken as written, one under ``$append`` extends the base's.

Built on deepmerge with custom strategies. Both sides arrive in keyed form (keyed.py), so a keyed
list is an ordered mapping and "merge item by item, keep the base's order, append new items"
is the ordinary mapping merge. Nothing here mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from deepmerge import Merger

from .errors import InvalidInputError
from .findings import Finding
from .keyed import AppendingList, Item, KeyedList, Path, PathStep, ReplacingList, format_path
from .overlay import Overlay
from .provenance import Provenance
from .rules.inputs import UNMERGEABLE_LIST


def _merge_mappings(merger: Merger, path: list[PathStep], base: dict[str, Any], nxt: dict[str, Any]) -> Any:
    if isinstance(nxt, ReplacingList):
        return _without_nulls(nxt)
    keyed = isinstance(base, KeyedList) or isinstance(nxt, KeyedList)
    result: dict[str, Any] = KeyedList(base) if keyed else dict(base)
    for key, value in nxt.items():
        step: PathStep = Item(key) if keyed else key
        if value is None:
            result.pop(key, None)
        elif key in result and result[key] is not None:
            result[key] = merger.value_strategy([*path, step], result[key], value)
        else:
            result[key] = _without_nulls(value)
    return result


def _replace(merger: Merger, path: list[PathStep], base: Any, nxt: Any) -> Any:
    if isinstance(nxt, AppendingList) and isinstance(base, list):
        return _appended(base, _without_nulls(nxt))
    if isinstance(nxt, KeyedList) and not isinstance(nxt, ReplacingList) and isinstance(base, list):
        raise _UnmergeableList(tuple(path))
    return _without_nulls(nxt)


def _appended(base: list[Any], items: list[Any]) -> list[Any]:
    """The base's items, then each appended item the base lacks: the live base is the previous render,
    which holds them already, so rendering again must not add them twice."""
    result = list(base)
    result.extend(item for item in items if item not in base)
    return result


class _UnmergeableList(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path = path


MERGER = Merger(
    type_strategies=[(dict, [_merge_mappings])],
    fallback_strategies=[_replace],
    type_conflict_strategies=[_replace],
)


def merge_layers(base: dict[str, Any], overlays: Sequence[Overlay]) -> tuple[dict[str, Any], Provenance]:
    """Apply ``overlays`` in order on a keyed ``base``; return the keyed result and its origins."""
    provenance = Provenance()
    merged = base
    for overlay in overlays:
        for path, origin in overlay.items:
            if not _exists(merged, path):
                provenance.set(path, origin)  # a new item comes, as a whole, from this overlay
        try:
            merged = MERGER.merge(merged, overlay.data)
        except _UnmergeableList as error:
            readable = format_path(error.path)
            raise InvalidInputError(
                f"cannot merge {readable}: the base lists some items twice or without their key, "
                "so they cannot be matched by key; fix the base task definition first, or write the whole list under "
                "$replace",
                [
                    Finding(
                        UNMERGEABLE_LIST,
                        "the base lists items twice or without their key",
                        readable,
                        file=overlay.file,
                    )
                ],
            ) from None
        for path, origin in overlay.origins:
            provenance.set(path, origin)
    return merged, provenance


def merge_appspec(overlays: Sequence[Overlay]) -> dict[str, Any] | None:
    """The ``appspec`` sections of all layers, merged by the same rules; ``appspec: null`` removes."""
    return _merge_sections(overlay.appspec for overlay in overlays if overlay.has_appspec)


def merge_service(overlays: Sequence[Overlay]) -> dict[str, Any] | None:
    """The ``service`` sections of all layers (what deploy sends with UpdateService); ``service: null`` removes
    the inherited settings. A null inside is kept: it tells deploy to remove that setting from the service
    (``lifecycleHooks: null``), which leaving the key out would not."""
    merged: dict[str, Any] | None = None
    for overlay in overlays:
        if overlay.has_service:
            merged = None if overlay.service is None else _merged_keeping_nulls(merged or {}, overlay.service)
    return merged


def service_provenance(overlays: Sequence[Overlay]) -> Provenance:
    """Where each value of the merged ``service`` section was written (paths start with "service")."""
    provenance = Provenance()
    for overlay in overlays:
        for path, origin in overlay.service_origins:
            provenance.set(path, origin)
    return provenance


def _merged_keeping_nulls(base: dict[str, Any], nxt: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in nxt.items():
        current = result.get(key)
        both_mappings = isinstance(current, dict) and isinstance(value, dict)
        result[key] = _merged_keeping_nulls(current, value) if both_mappings else value  # type: ignore[arg-type]
    return result


def merge_tasks(overlays: Sequence[Overlay]) -> dict[str, Any] | None:
    """The ``tasks`` sections of all layers (deploy's one-off tasks, by name); ``tasks: null`` removes them all."""
    return _merge_sections(overlay.tasks for overlay in overlays if overlay.has_tasks)


def merge_base_location(overlays: Sequence[Overlay]) -> dict[str, Any]:
    """The ``base`` sections of all layers (where the base lives), merged; ``base: null`` removes."""
    merged = _merge_sections(overlay.base_location for overlay in overlays if overlay.has_base_location)
    return {key: value for key, value in (merged or {}).items() if value is not None}


def merge_verify_roles(overlays: Sequence[Overlay]) -> dict[str, str]:
    """The ``verify: roles:`` of all layers, merged: account id → the role verify assumes to look there."""
    merged = _merge_sections(overlay.verify_settings for overlay in overlays if overlay.has_verify_settings)
    roles = (merged or {}).get("roles") or {}
    return {str(account): str(role) for account, role in roles.items() if role is not None}


def _merge_sections(sections: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Sections that are not part of the task definition, layer after layer; a ``null`` section removes."""
    merged: dict[str, Any] | None = None
    for section in sections:
        merged = None if section is None else MERGER.merge(merged or {}, section)
    return merged


def _exists(data: Any, path: Path) -> bool:
    for step in path:
        key = step.key if isinstance(step, Item) else step
        if not isinstance(data, dict) or data.get(key) is None:
            return False
        data = data[key]
    return True


def _without_nulls(value: Any) -> Any:
    """A copy of an overlay value added where the base has nothing: nulls there delete nothing."""
    if isinstance(value, dict):
        result = KeyedList() if isinstance(value, KeyedList) else {}
        for key, child in value.items():
            if child is not None:
                result[key] = _without_nulls(child)
        return result
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
