"""The base: where it comes from (a file, a family, a service), fetched and stripped to what
RegisterTaskDefinition accepts, and the snapshots that stand in for it offline."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import schemas
from .errors import InvalidInputError, NoBaseError, OutputError, UsageError
from .findings import INFO, Finding, counted
from .merge import merge_base_location
from .ownership import ENVIRONMENT_TAG, environment_tag
from .rules.inputs import BASE_EMPTY_ENUM, BASE_NULL, UNTAGGED_BASE
from .secrets import current_run

if TYPE_CHECKING:
    from .aws import Ecs  # botocore loads only for live runs
    from .overlay import Overlay


class Base(NamedTuple):
    """A register-able task definition, and what reading it changed or found out about it."""

    taskdef: dict[str, Any]
    nulls_dropped: int = 0
    from_api: bool = False  # fetched from the ECS API (it may carry fields newer than botocore), not a file
    untagged_for: str | None = None  # rendered for this environment, on a base no environment has claimed yet
    revision: str | None = None  # the task definition ARN of a live base
    empty_enums_dropped: tuple[str, ...] = ()  # where a "" stood for an enum field (SDKs leave it out)

    def notes(self) -> list[Finding]:
        """What the user should know about reading the base: neither errors nor warnings."""
        notes = []
        if self.nulls_dropped:
            message = f"dropped {counted(self.nulls_dropped, 'null value')} from the base (null means absent in ECS)"
            notes.append(Finding(BASE_NULL, message, severity=INFO))
        if self.empty_enums_dropped:
            message = (
                f"dropped {counted(len(self.empty_enums_dropped), 'empty value')} from the base where ECS takes one of "
                f'a list of values ({", ".join(self.empty_enums_dropped)}): the SDKs leave "" out, so ECS never sees it'
            )
            notes.append(Finding(BASE_EMPTY_ENUM, message, severity=INFO))
        return notes

    def adoption_notes(self) -> list[Finding]:
        """Said where a tagged result is written or registered: the base belonged to no environment yet."""
        if self.untagged_for is None:
            return []
        message = f"base not tagged {ENVIRONMENT_TAG} yet (first adoption); the result is tagged {self.untagged_for}"
        return [Finding(UNTAGGED_BASE, message, severity=INFO)]


def claimed_for(base: Base, environment: str, label: str) -> Base:
    """``base`` for rendering ``environment``: refused when another environment's render made it (bleed)."""
    owner = environment_tag(base.taskdef)
    if owner is None:
        return base._replace(untagged_for=environment)
    if owner != environment:
        raise InvalidInputError(
            f"environment '{environment}' would start from a base rendered for environment '{owner}' "
            f"({base.revision or label} carries the tag {ENVIRONMENT_TAG}={owner}): {owner}'s values would bleed into "
            f"{environment}. Point {environment}'s `base:` at its own family or service (base: {{family: "
            f"<{environment} family>}} or base: {{cluster: …, service: …}}), or pass --family/--service; "
            "nothing was written"
        )
    return base


def read_base(document: dict[str, Any], describe_only: Iterable[str]) -> Base:
    """The register-able task definition inside a describe-task-definition document.

    Accepts ``{"taskDefinition": {...}, "tags": [...]}`` as ``aws ecs describe-task-definition``
    prints it, or a bare task definition. Every explicit ``null`` goes first: console and SDK
    dumps carry one for each field not set, and the deploy actions strip them before registering
    (aws-actions/amazon-ecs-deploy-task-definition's ``cleanNullKeys``). Then exactly
    the ``describe_only`` fields go; every other field, including ones this tool does not know,
    is kept in its order. Top-level tags become the task definition's ``tags``; an empty tag list
    is left out.
    """
    document, nulls = without_nulls(document)
    if isinstance(document.get("taskDefinition"), dict):
        taskdef = dict(document["taskDefinition"])
        tags = document.get("tags")
        if tags is not None and "tags" not in taskdef:
            taskdef["tags"] = tags
    else:
        taskdef = dict(document)
    dropped = set(describe_only)
    result = {key: value for key, value in taskdef.items() if key not in dropped}
    if result.get("tags") == []:
        del result["tags"]
    result, empty = schemas.without_empty_enums(result)
    run = current_run()
    if run is not None:  # its secrets are masked in all the run prints
        run.learn_document(result)
    return Base(result, nulls, empty_enums_dropped=tuple(empty))


def registerable(document: dict[str, Any], describe_only: Iterable[str]) -> dict[str, Any]:
    """Just the task definition of :func:`read_base`."""
    return read_base(document, describe_only).taskdef


def load_base(path: str | Path) -> dict[str, Any]:
    """Python API: the register-able task definition in a file written by
    ``aws ecs describe-task-definition`` (or a bare task definition), as ``--base FILE`` reads it."""
    return registerable(read_base_file(str(path)), schemas.describe_only_fields())


def without_nulls(value: Any) -> tuple[Any, int]:
    """``value`` without any ``null`` (a mapping's value or a list's item, at any depth), and how many went."""
    if not isinstance(value, (dict, list)):
        return value, 0
    kept: dict[Any, Any] = {}
    dropped = 0
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if item is None:
            dropped += 1
            continue
        kept[key], inner = without_nulls(item)
        dropped += inner
    return (kept if isinstance(value, dict) else list(kept.values())), dropped


MAX_DEPTH = 64  # a task definition nests about 8 deep; far deeper is not one, and would exhaust the stack


def read_base_file(name: str, option: str = "--base") -> dict[str, Any]:
    """A base from a file, or from standard input when ``name`` is ``-``; ``option`` names it in messages."""
    return parse_base(read_input(name, option), "standard input" if name == "-" else name)


def read_input(name: str, option: str) -> str:
    """The text of an input file (``-``: standard input), as the option ``option`` names it.

    A file that cannot be read is an I/O failure (exit 3); one that is not UTF-8 is invalid input (exit 1).
    """
    label = "standard input" if name == "-" else name
    try:
        if name == "-":
            if sys.stdin is None:
                raise OutputError(f"{option} -: standard input is closed; pipe the file in, or give its path")
            return sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutputError(f"{option} {name}: no such file") from None
    except IsADirectoryError:
        raise OutputError(f"{option} {label}: is a directory; give a file") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{option} {label}: not UTF-8 text") from None
    except OSError as error:
        raise OutputError(f"{option} {label}: cannot read it: {error.strerror or error}") from None
    except ValueError:  # standard input closed under us
        raise OutputError(f"{option} {label}: cannot read it: it is closed") from None


class _NotFinite(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _refuse(token: str) -> Any:
    raise _NotFinite(token)


def _finite(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise _NotFinite(token)
    return number


def parse_base(text: str, label: str) -> dict[str, Any]:
    """A describe-task-definition document or a bare task definition, checked to be one."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors save: accepted as in overlays
    try:
        document = json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{label}:{error.lineno}:{error.colno}: not JSON ({error.msg}); give the output of "
            "`aws ecs describe-task-definition --include TAGS` or a task definition"
        ) from None
    except _NotFinite as error:
        raise InvalidInputError(
            f"{label}:{_position(text, error.token)}: {error.token} is not a finite number; JSON and ECS "
            "take only finite numbers, so write the value itself"
        ) from None
    except RecursionError:
        raise _too_deep(label) from None
    _check_depth(document, label)
    if not isinstance(document, dict):
        raise InvalidInputError(f"{label}: expected a JSON object (a task definition), got {_json_kind(document)}")
    taskdef = document.get("taskDefinition", document)
    if not isinstance(taskdef, dict):
        raise InvalidInputError(f"{label}: taskDefinition should be a JSON object, got {_json_kind(taskdef)}")
    if "containerDefinitions" not in taskdef:
        raise InvalidInputError(
            f"{label}: no containerDefinitions; this does not look like a task definition "
            "(expected `aws ecs describe-task-definition` output)"
        )
    return document


def _position(text: str, token: str) -> str:
    """``line:column`` of ``token`` where it stands as a value, not inside a string."""
    value = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+-])(' + re.escape(token) + r")(?![\w.])")
    for match in value.finditer(text):
        if match.group(1) is not None:
            line = text.count("\n", 0, match.start(1)) + 1
            return f"{line}:{match.start(1) - text.rfind(chr(10), 0, match.start(1))}"
    return "1:1"


def _check_depth(document: Any, label: str) -> None:
    pending = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(label)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _too_deep(label: str) -> InvalidInputError:
    return InvalidInputError(
        f"{label}: nested more than {MAX_DEPTH} levels deep; a task definition nests about 8, "
        "so this is not one (give `aws ecs describe-task-definition` output)"
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    return "a number" if isinstance(value, (int, float)) else "an object"


@dataclass(frozen=True)
class BaseOptions:
    """Where the base comes from, as the options said it: exactly one of family, cluster+service, or a file.

    Plain data: the run's one AWS connection is the application layer's (app/environment.py), handed to
    :func:`fetch_base` as ``connect``, so that every environment of the run shares one client and each
    reference is described once.
    """

    family: str | None = None
    cluster: str | None = None
    service: str | None = None
    base_file: str | None = None
    region: str | None = None
    timeout: float = 30

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.family, self.cluster, self.service, self.base_file))

    def check(self) -> None:
        if (self.cluster is None) != (self.service is None):
            raise UsageError("--cluster and --service go together: give both, or neither")
        chosen = [
            name
            for name, given in (
                ("--family", self.family),
                ("--cluster/--service", self.cluster),
                ("--base", self.base_file),
            )
            if given
        ]
        if len(chosen) > 1:
            raise UsageError(f"give only one base: {' or '.join(chosen)}")


def of_service(options: BaseOptions, service: str) -> BaseOptions:
    """The options as one service of ``--services`` reads them: ``--base SNAPDIR`` is ``SNAPDIR/<service>``
    (``<service>/<env>.json`` in it); every other base option is the run's own."""
    if service and options.base_file not in (None, "-") and Path(str(options.base_file)).is_dir():
        return replace(options, base_file=str(Path(str(options.base_file)) / service))
    return options


class BaseFile(NamedTuple):
    """A base read from a file (``--base FILE``, or ``--base DIR``'s ``<environment>.json``), offline."""

    path: str


# Where an environment's base lives: a file, a family (family:revision or ARN), or the revision a service runs.
Location = BaseFile | str | tuple[str, str]


def locate(
    options: BaseOptions, layers: Sequence[Overlay], environment: str | None = None, running: str | None = None
) -> Location:
    """Where the base lives, decided in one place: the options, then the environment's ``base:`` section,
    then ``running`` (deploy: the revision the service runs), then the overlay's ``family:``.

    ``--base DIR`` holds one ``<environment>.json`` per environment (as ``snapshot`` writes them),
    for teams whose environments live in different accounts.
    """
    options.check()
    if options.base_file is not None:
        path = options.base_file
        if path != "-" and Path(path).is_dir():
            if environment is None:
                raise UsageError(f"--base {path} is a directory; give a file, or name the environment")
            path = str(Path(path) / f"{environment}.json")
            if not Path(path).is_file():
                raise NoBaseError(
                    f"--base {options.base_file}: no {environment}.json; write it with "
                    f"`ecs-overlay snapshot --env {environment} -o {path}`"
                )
        return BaseFile(path)
    if options.cluster is not None and options.service is not None:
        return options.cluster, options.service
    if options.family is not None:
        return options.family
    location = merge_base_location(layers)
    cluster, service, family = (location.get(key) for key in ("cluster", "service", "family"))
    files = ", ".join(layer.file for layer in layers if layer.has_base_location)
    where = f"environment '{environment}' ({files})" if environment else files
    if (cluster is None) != (service is None):
        raise InvalidInputError(f"{where}: `base:` needs cluster and service together; give both, or neither")
    if family is not None and cluster is not None:
        raise InvalidInputError(
            f"{where}: `base:` sets both family and cluster/service; keep one (`null` removes an inherited one)"
        )
    if cluster is not None and service is not None:
        return str(cluster), str(service)
    if family is not None:
        return str(family)
    return running if running is not None else _overlay_family(layers)


def service_location(options: BaseOptions, layers: Sequence[Overlay]) -> tuple[str, str] | None:
    """The environment's ECS service: --cluster and --service, else the ones its ``base:`` section names."""
    location = merge_base_location(layers)
    cluster = options.cluster or location.get("cluster")
    service = options.service or location.get("service")
    return (str(cluster), str(service)) if cluster and service else None


def fetch_base(
    options: BaseOptions,
    layers: Sequence[Overlay],
    environment: str | None,
    connect: Callable[[], Ecs],
    running: str | None = None,
) -> tuple[Base, str]:
    """The register-able base and a label saying where it came from (see :func:`locate`).

    ``connect`` opens the run's AWS connection on first use: a base read from a file never loads botocore.
    """
    where = locate(options, layers, environment, running)
    if isinstance(where, BaseFile):
        base, label = read_base(read_base_file(where.path), schemas.describe_only_fields()), where.path
    else:
        base, label = _fetch_live(connect(), aws_place(options, layers), where)
    return (base if environment is None else claimed_for(base, environment, label)), label


def _fetch_live(ecs: Ecs, place: AwsPlace, where: str | tuple[str, str]) -> tuple[Base, str]:
    if isinstance(where, tuple):
        cluster, service = where
        reference = ecs.service_task_definition(cluster, service, *place)
        label = f"service {cluster}/{service} ({reference})"
    else:
        reference = label = where
    document = ecs.describe_task_definition(reference, *place)
    arn = document["taskDefinition"].get("taskDefinitionArn")
    revision = arn if isinstance(arn, str) else None
    return read_base(document, ecs.describe_only_fields())._replace(from_api=True, revision=revision), label


def live_location(
    options: BaseOptions, layers: Sequence[Overlay], environment: str | None
) -> tuple[str | tuple[str, str], AwsPlace] | None:
    """Where :func:`fetch_base` describes a live base (the family or ARN, or the cluster and service) and the
    region and role; None for a base read from a file. For describing many environments' bases ahead (``prefetch``)."""
    where = locate(options, layers, environment)
    return None if isinstance(where, BaseFile) else (where, aws_place(options, layers))


class AwsPlace(NamedTuple):
    """Where an environment's AWS calls go: its region and the role to assume (None: the standard chain)."""

    region: str | None = None
    role_arn: str | None = None


def aws_place(options: BaseOptions, layers: Sequence[Overlay]) -> AwsPlace:
    """--region over the layers' ``base.region``; the role is the layers' ``base.roleArn`` (the account)."""
    location = merge_base_location(layers)
    return AwsPlace(options.region or location.get("region"), location.get("roleArn"))


def _overlay_family(layers: Sequence[Overlay]) -> str:
    for layer in reversed(layers):
        family = layer.data.get("family")
        if isinstance(family, str) and family:
            return family
    raise UsageError(
        "no base given: pass --family, --cluster and --service, or --base FILE, "
        "or set `base:` (family, or cluster and service) in the environment's overlay"
    )
