"""One exception family; each error knows its exit code and says what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings import Finding

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_AWS_OR_IO = 3
EXIT_DIFFERENCES = 4
EXIT_DEPLOYMENT = 5


class EcsOverlayError(Exception):
    """Base of every foreseeable failure; the CLI prints ``message`` and exits with ``exit_code``."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(EcsOverlayError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = EXIT_USAGE


class InvalidInputError(EcsOverlayError):
    """An overlay, a base or the rendered task definition is wrong; ``findings`` says where."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


class AwsError(EcsOverlayError):
    """AWS could not be reached or refused the call."""

    exit_code = EXIT_AWS_OR_IO


class OutputError(EcsOverlayError):
    """A file could not be read or written."""

    exit_code = EXIT_AWS_OR_IO


class NoBaseError(OutputError):
    """``--base DIR`` holds no snapshot for the environment: a run over many environments reports it and goes on."""


class DeploymentError(EcsOverlayError):
    """The service's deployment failed or did not complete in time (rolled back, when asked)."""

    exit_code = EXIT_DEPLOYMENT
