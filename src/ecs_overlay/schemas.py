"""The shipped JSON Schemas, parsed once, with validators built once and reused."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from .findings import short
from .keyed import Path as KeyedPath
from .ownership import ENVIRONMENT_TAG
from .provenance import Provenance
from .secrets import reveals


@functools.cache
def load(name: str) -> dict[str, Any]:
    """``load("taskdef")`` → the parsed ``schema/taskdef.schema.json`` shipped in the package."""
    schema: dict[str, Any] = json.loads(shipped_text(name))
    return schema


def shipped_text(name: str) -> str:
    """The text of ``schema/<name>.schema.json`` as shipped in the package (``ecs-overlay schema`` prints it)."""
    installed = Path(__file__).parent / "schema" / f"{name}.schema.json"
    if installed.is_file():  # a wheel: read it directly, importlib.resources costs more to import than this
        text = installed.read_text("utf-8")
    else:  # an editable install maps the package ecs_overlay.schema onto the repository's schema/
        from importlib import resources

        text = resources.files("ecs_overlay.schema").joinpath(f"{name}.schema.json").read_text("utf-8")
    return text


@functools.cache
def validator(name: str) -> Draft202012Validator:
    # The shipped schemas are checked against the metaschema by the test suite, not on every run.
    return Draft202012Validator(inline_refs(load(name)))


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local ``$ref`` replaced by its definition.

    Resolving references is most of what validating a task definition costs; the generated
    schemas are not recursive, so they can be resolved once, here, instead of on every check.
    """
    definitions = schema.get("$defs", {})
    done: dict[str, Any] = {}  # each definition resolved once and shared: validators only read it

    def resolve(node: dict[str, Any], seen: tuple[str, ...]) -> Any:
        # One pass per node, values that are no container copied as they are: this runs on every run.
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/") and _only_a_reference(node):
            name = reference.rsplit("/", 1)[1]
            if name in seen:  # recursive: keep the reference
                return {"$ref": reference}
            if name not in done:
                done[name] = resolve(definitions[name], (*seen, name))
            return done[name]
        result: dict[str, Any] = {}
        for key, value in node.items():
            kind = type(value)
            if kind is dict and key != "$defs":
                value = resolve(value, seen)
            elif kind is list:
                value = [resolve(item, seen) if type(item) is dict else item for item in value]
            elif key in _ANNOTATIONS and kind is str:
                continue  # titles and descriptions are for editors' hover; validating never reads them
            result[key] = value
        return result

    resolved: dict[str, Any] = resolve(schema, ())
    return resolved


_ANNOTATIONS = ("title", "description")


def _only_a_reference(node: dict[str, Any]) -> bool:
    """A ``$ref`` with nothing beside it but a title and a description: the definition can stand in its place."""
    return all(key == "$ref" or (key in _ANNOTATIONS and isinstance(value, str)) for key, value in node.items())


def unknown_fields(error: ValidationError) -> tuple[list[str], list[str]]:
    """(the unknown keys, the allowed keys) of an ``additionalProperties`` error."""
    allowed = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
    unknown = [key for key in error.instance if key not in allowed] if isinstance(error.instance, dict) else []
    return unknown, allowed


def closest(name: str, allowed: list[str]) -> str | None:
    """The allowed key ``name`` is most likely a typo of (``memroy`` → ``memory``), if any."""
    import difflib  # only when there is a typo to explain

    matches = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return matches[0] if matches else None


def errors(name: str, instance: Any) -> list[ValidationError]:
    """Schema errors of ``instance``; never an unknown-field error for a field botocore knows.

    The shipped schema was generated from one botocore; a newer installed botocore may know
    fields it does not. Only when the shipped schema finds unknown fields is botocore imported
    (offline runs stay fast) and, if it differs, the schema regenerated from it and used instead.
    """
    found = list(validator(name).iter_errors(instance))
    if any(error.validator == "additionalProperties" for error in found):
        installed = _installed_botocore_validator(name)
        if installed is not None:
            found = list(installed.iter_errors(instance))
    return found


def botocore_versions() -> tuple[str, str | None]:
    """(the botocore version the shipped schema was generated from, the installed one if any).

    Read from package metadata: saying which version checked a field costs no botocore import.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed: str | None = version("botocore")
    except PackageNotFoundError:  # pragma: no cover - botocore is a dependency
        installed = None
    return str(load("taskdef").get("x-botocore-version", "?")), installed


def botocore_does_not_model() -> str:
    """Which botocore models judged a field unknown, as a sentence's subject: "botocore 1.2.3 (…) does not model"."""
    shipped, installed = botocore_versions()
    if installed is None or installed == shipped:
        return f"botocore {shipped} (the schema's version and the installed one) does not model"
    return f"neither the schema's botocore {shipped} nor the installed botocore {installed} models"


@functools.cache
def _installed_botocore_validator(name: str) -> Draft202012Validator | None:
    from .aws import installed_ecs_model  # botocore, only when the shipped schema finds unknown fields

    version, model = installed_ecs_model()
    if version == load("taskdef").get("x-botocore-version"):
        return None
    from .schemagen import overlay_schema, service_schema, taskdef_schema

    taskdef = taskdef_schema(model, version)
    service = service_schema(model, version)
    generated = {"taskdef": taskdef, "service": service}
    return Draft202012Validator(generated.get(name) or overlay_schema(taskdef, service))


def leaf_errors(error: ValidationError) -> list[ValidationError]:
    """The errors that explain an ``anyOf`` failure, from the branch the value was meant for.

    The overlay schema allows a keyed list as a list, a mapping or null; when a mapping has
    three mistakes, the user wants those three, not "is not valid under any of the schemas".
    """
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for child in error.context:
        branches.setdefault(child.schema_path[0], []).append(child)
    meant = [
        errors for errors in branches.values() if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    if not meant:
        return [best_match([error])]
    chosen = min(meant, key=len)
    return [leaf for child in chosen for leaf in leaf_errors(child)]


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


_SECRET_HOLDERS = ("environment", "secrets")


def message(error: ValidationError, path: KeyedPath = (), provenances: Sequence[Provenance] = ()) -> str:
    """A short, readable sentence for one schema error (null, meaning "delete", is not listed).

    ``path`` is the error's keyed path. Values under ``environment`` and ``secrets``, and values that
    hold a secret (see secrets.py), are never echoed: the message says "the value" instead.
    """
    hidden = any(step in _SECRET_HOLDERS for step in error.absolute_path) or reveals(path, error.instance, provenances)
    if hidden:
        shown = "the value"
    elif isinstance(error.instance, float):
        shown = _yaml_spelling(error.instance)
    else:
        shown = short(error.instance, 60)
    expected: Any = error.validator_value
    if error.validator == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        kinds = [kind for kind in wanted if kind != "null"]
        if set(kinds) == {"string", "number", "boolean"}:
            return f"{shown} should be a single value (text, a number or true/false), not a mapping or list"
        return f"{shown} should be {' or '.join(_TYPE_NAMES.get(str(kind), str(kind)) for kind in kinds)}"
    if error.validator == "enum":
        choices = ", ".join(str(choice) for choice in expected if choice is not None)
        return f"{shown} is not one of: {choices}"
    count = len(error.instance) if isinstance(error.instance, (list, str, dict)) else None
    if error.validator in ("maxItems", "minItems") and count is not None:
        bound = "at most" if error.validator == "maxItems" else "at least"
        counting = ""
        if tuple(error.absolute_path) == ("tags",):
            tags = error.instance if isinstance(error.instance, list) else []
            if any(isinstance(tag, dict) and tag.get("key") == ENVIRONMENT_TAG for tag in tags):
                counting = f" (counting the {ENVIRONMENT_TAG} tag ecs-overlay adds)"
        return f"has {count} items{counting}; ECS allows {bound} {expected}"
    if error.validator in ("maxLength", "minLength") and count is not None:
        bound = "at most" if error.validator == "maxLength" else "at least"
        return f"{shown} is {count} characters long; ECS allows {bound} {expected}"
    if error.validator in ("minimum", "maximum"):
        bound = "at least" if error.validator == "minimum" else "at most"
        return f"{shown} is out of range; ECS allows {bound} {expected}"
    if error.validator == "pattern":
        return f"{shown} has characters ECS does not allow here"
    text = error.message.replace(repr(error.instance), "the value") if hidden else error.message
    if hidden and reveals(path, text, provenances):  # the value is quoted some other way: say less
        text = f"the value does not pass the {error.validator} check"
    return text if len(text) <= 160 else text[:157] + "..."


def _yaml_spelling(number: float) -> str:
    """``.nan``, ``.inf``, ``-.inf`` as YAML writes them (Python would say nan, inf)."""
    if number != number:
        return ".nan"
    if number in (float("inf"), float("-inf")):
        return ".inf" if number > 0 else "-.inf"
    return repr(number)


def describe_only_fields() -> frozenset[str]:
    """Fields of DescribeTaskDefinition's output that RegisterTaskDefinition does not accept."""
    return frozenset(load("taskdef")["x-describe-only"])


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (the generated schemas use nothing else)."""
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def child(schema: dict[str, Any] | None, step: str | int, root: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of ``step`` inside ``schema`` (a property, a map value or a list item)."""
    if schema is None:
        return None
    schema = resolve(schema, root)
    if isinstance(step, int) or schema.get("type") == "array":
        items = schema.get("items")
        return resolve(items, root) if items else None
    if step in schema.get("properties", {}):
        return resolve(schema["properties"][step], root)
    extra = schema.get("additionalProperties")
    return resolve(extra, root) if isinstance(extra, dict) else None


def whole_numbers(name: str, document: Any) -> Any:
    """``document`` with every float that has no fraction turned into an int where the schema wants an
    integer: ``512.0`` → ``512``. YAML and JSON write them alike, but botocore refuses a float there;
    ``512.5`` is left as it is for the schema to refuse."""
    root = load(name)
    return _whole_numbers(document, root, root)


def _whole_numbers(value: Any, schema: dict[str, Any] | None, root: dict[str, Any]) -> Any:
    if schema is None:
        return value
    if isinstance(value, float) and value.is_integer() and resolve(schema, root).get("type") == "integer":
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item, child(schema, key, root), root) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item, child(schema, index, root), root) for index, item in enumerate(value)]
    return value


def without_empty_enums(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``document`` (a task definition) without the fields whose value is ``""`` where the API takes
    one of an enum's values, and where they were. A file base written by hand or by a template carries
    them (``"appProtocol": ""``); the SDKs leave such a field out, so ECS never sees it."""
    root = load("taskdef")
    dropped: list[str] = []
    kept = _without_empty_enums(document, root, root, "", dropped)
    return kept, dropped


def _without_empty_enums(
    value: Any, schema: dict[str, Any] | None, root: dict[str, Any], at: str, out: list[str]
) -> Any:
    if schema is None:
        return value
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            inner = child(schema, key, root)
            where = f"{at}.{key}" if at else str(key)
            if item == "" and inner is not None and "" not in inner.get("enum", [""]):
                out.append(where)
                continue
            kept[key] = _without_empty_enums(item, inner, root, where, out)
        return kept
    if isinstance(value, list):
        return [
            _without_empty_enums(item, child(schema, i, root), root, f"{at}[{i}]", out) for i, item in enumerate(value)
        ]
    return value


def expects_string(schema: dict[str, Any] | None) -> bool:
    return schema is not None and schema.get("type") == "string"
