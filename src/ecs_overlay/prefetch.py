"""The live bases of a ``--services`` run, described ahead of it, several at a time.

The run renders service after service and asks for each environment's base when it comes to it: one
AWS call after another, so 200 services × 4 environments at 0.1 s a call wait over two minutes on the
network alone. Described ahead (``aws.concurrency()`` calls at once), every answer, and every failure
for good, is in the run's ``Ecs`` when the run asks for it: what the run reports, and in which order, does
not change. Offline runs (file bases, no base) never get far enough here to load botocore or start a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .base import AwsPlace, BaseOptions, live_location
from .errors import EcsOverlayError
from .findings import has_errors

if TYPE_CHECKING:
    from .aws import Ecs
    from .overlay import Overlay
    from .services import Service

# Told as each service's bases are all described: (the service, services described so far, services in all).
Described = Callable[[str, int, int], None]
# The layers the run renders an environment from, or None where it will not ask for the base (the overlay
# does not load); raising EcsOverlayError means the same.
LayersOf = Callable[["Service", str], "Sequence[Overlay] | None"]
Location = tuple["str | tuple[str, str]", AwsPlace]


def renderable_layers(service: Service, environment: str) -> Sequence[Overlay] | None:
    """The environment's layers, unless they have errors: then the run reports them and describes nothing."""
    layers = service.environments.load(environment)
    return None if has_errors([finding for layer in layers for finding in layer.findings]) else layers


def loaded_layers(service: Service, environment: str) -> Sequence[Overlay]:
    """The environment's layers whatever their findings, as ``snapshot`` reads them."""
    return service.environments.load(environment)


def describe_ahead(
    selected: Sequence[tuple[Service, Sequence[str]]],
    base_options: BaseOptions | None,
    connect: Callable[[], Ecs],
    described: Described | None = None,
    *,
    layers: LayersOf = renderable_layers,
    wanted: Callable[[Service, str], bool] | None = None,
) -> None:
    """Describe the live bases of a ``--services`` run's ``selected`` environments (those ``wanted``) into
    its AWS connection, so that the run finds each one there; ``described`` hears as each service is done.

    A base that cannot be located or described is left to the run, which meets the same fault for that
    environment where it always did. With one service (no ``--services``), a file base or no base, nothing
    happens; nor with ECS_OVERLAY_AWS_CONCURRENCY=1.
    """
    if base_options is None or not any(service.name for service, _ in selected):
        return
    bases: dict[Location, int] = {}  # each distinct base once, however many environments start from it
    needs: list[tuple[str, set[int]]] = []  # per service: the bases it waits for
    for service, names in selected:
        options = service.base(base_options)
        if options.base_file is not None:
            continue
        waits: set[int] = set()
        for name in names:
            location = _location(options, service, name, layers, wanted)
            if location is not None:
                waits.add(bases.setdefault(location, len(bases)))
        if waits:
            needs.append((service.name, waits))
    if len(bases) < 2:
        return
    from .aws import LiveBase, concurrency

    ecs = connect()
    workers = concurrency()
    if workers == 1:
        return
    waiting_on: dict[int, list[int]] = {}  # base → the services (their positions in needs) waiting for it
    for position, (_, waits) in enumerate(needs):
        for index in waits:
            waiting_on.setdefault(index, []).append(position)
    done = [0]

    def finished(index: int) -> None:
        for position in waiting_on[index]:
            service, waits = needs[position]
            waits.discard(index)
            if not waits:
                done[0] += 1
                if described is not None:
                    described(service, done[0], len(needs))

    ecs.describe_bases([LiveBase(reference, *place) for reference, place in bases], workers, finished)


def _location(
    options: BaseOptions,
    service: Service,
    environment: str,
    layers: LayersOf,
    wanted: Callable[[Service, str], bool] | None,
) -> Location | None:
    try:
        if wanted is not None and not wanted(service, environment):
            return None
        options.check()
        found = layers(service, environment)
        return None if found is None else live_location(options, found, environment)
    except EcsOverlayError:  # the run meets it again for this environment, and reports it there
        return None
