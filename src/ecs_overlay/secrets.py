"""What counts as a secret, and how a value is printed with every secret in it masked.

One home for the decision, so that every command and format masks the same things: ``diff``,
``drift``, ``explain`` and error messages call :func:`mask` (or :func:`reveals`) on whatever they
are about to print, a single value or a whole task definition. ``--show-values`` is the only way
around it. The checks are pure and cheap: names, provenance, and a few regular expressions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from .keyed import Item, Path, spec_for
from .provenance import Origin, Provenance

MASK = "****"

CREDENTIAL_WORDS = (
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
    "CLIENT_KEY",
)

# Free-form string maps of a task definition: a credential-like key there names a credential
# (`logConfiguration.options.splunk-token`, `dockerLabels.API_TOKEN`).
FREE_FORM_MAPS = frozenset({"dockerLabels", "options", "driverOpts", "labels"})


def looks_like_credential(name: str) -> bool:
    """Names that usually hold credentials (DB_PASSWORD, GITHUB_TOKEN, splunk-token, …)."""
    upper = name.upper().replace("-", "_")
    return any(word in upper for word in CREDENTIAL_WORDS)


class SecretShape(NamedTuple):
    """A kind of secret recognisable by its text; the ``secret`` group (else the whole match) is masked."""

    description: str
    pattern: re.Pattern[str]


_CREDENTIAL_NAME = "|".join(word.replace("_", "[_-]?") for word in CREDENTIAL_WORDS)


@functools.cache
def shapes() -> tuple[SecretShape, ...]:
    """The secret shapes, compiled on first use: a run that prints no value never needs them."""
    return tuple(
        SecretShape(description, re.compile(pattern, flags))
        for description, pattern, flags in (
            # scheme://user:PASSWORD@host — userinfo cannot hold an unescaped / ? # (RFC 3986)
            (
                "a password in a URL",
                r"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s/:@]{0,256}:(?P<secret>[^\s/?#@]{1,256})@",
                0,
            ),
            ("an AWS access key ID", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", 0),
            # a 40-character AWS secret access key: said so by its name, or the whole value
            (
                "an AWS secret access key",
                r"(?i:secret_?access_?key)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
                0,
            ),
            ("an AWS secret access key", r"\A(?=[^/])(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[A-Za-z0-9/+]{40}\Z", 0),
            ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})", 0),
            ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
            ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
            ("a Slack webhook", r"hooks\.slack\.com/services/(?P<secret>[A-Za-z0-9/_-]+)", 0),
            ("a Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 0),
            ("a Google API key", r"\bAIza[A-Za-z0-9_-]{35}", 0),
            ("an npm token", r"\bnpm_[A-Za-z0-9]{36}", 0),
            ("a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
            (
                "a private key",
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
                re.DOTALL,
            ),
            # NAME=value inside a longer string: `--db-password=…`, `?token=…`, `export API_KEY=…`
            (
                "a credential assignment",
                rf"(?i)(?:{_CREDENTIAL_NAME})[A-Za-z0-9_.-]{{0,40}}=(?P<secret>[^\s&;,\"']+)",
                0,
            ),
        )
    )


def _spans(text: str) -> Iterator[tuple[int, int, str]]:
    for shape in shapes():
        for match in shape.pattern.finditer(text):
            group = "secret" if "secret" in shape.pattern.groupindex else 0
            yield match.start(group), match.end(group), shape.description


def shapes_in(text: str) -> list[str]:
    """What kinds of secret ``text`` holds by its shape ("a password in a URL", …), each once."""
    return list(dict.fromkeys(description for _, _, description in _spans(text)))


def mask_text(text: str) -> str:
    """``text`` with every secret recognisable by its shape replaced: ``postgres://app:****@db/app``."""
    spans = sorted((start, end) for start, end, _ in _spans(text))
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        if end <= position:
            continue
        pieces.append(text[position : max(start, position)] + MASK)
        position = end
    return "".join(pieces) + text[position:]


def _environment_name(path: Path) -> str | None:
    """The variable's name when ``path`` is an environment variable (``environment[X]`` or its ``.value``)."""
    if len(path) >= 2 and path[-2] == "environment" and isinstance(path[-1], Item):
        return path[-1].key
    if len(path) >= 3 and path[-1] == "value" and path[-3] == "environment" and isinstance(path[-2], Item):
        return path[-2].key
    return None


def _names_a_credential(path: Path) -> bool:
    name = _environment_name(path)
    if name is None and len(path) >= 2 and path[-2] in FREE_FORM_MAPS and isinstance(path[-1], str):
        name = path[-1]
    return name is not None and looks_like_credential(name)


def _is_reference(path: Path) -> bool:
    """``secrets[X].valueFrom`` (and ``secretOptions``): an ARN or parameter name, not the secret itself."""
    if path and path[-1] == "valueFrom":
        return True
    spec = spec_for(path[:-1]) if path and isinstance(path[-1], Item) else None
    return spec is not None and spec.value == "valueFrom"


def _secret_origins(path: Path, provenances: Iterable[Provenance]) -> Iterator[Origin]:
    """The origins of the value at ``path`` that interpolated a credential-like ``${VAR}``."""
    candidates = [path]
    spec = spec_for(path[:-1]) if path and isinstance(path[-1], Item) else None
    if spec is not None and spec.value:  # a pair read as one value: its origin is its value field's
        candidates.append((*path, spec.value))
    for provenance in provenances:
        for candidate in candidates:
            origin = provenance.origin(candidate)
            if any(looks_like_credential(name) for name in origin.variables):
                yield origin


def secret_variables(path: Path, provenances: Iterable[Provenance]) -> list[str]:
    """Credential-like ``${VARS}`` the value at ``path`` was built from, by any of ``provenances``."""
    found = [
        name
        for origin in _secret_origins(path, provenances)
        for name in origin.variables
        if looks_like_credential(name)
    ]
    return list(dict.fromkeys(found))


# One plain ``${NAME}``, ``${NAME:-word}``, ``${NAME?word}``, ``${NAME:+word}`` … with nothing nested in it.
_SIMPLE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?+][^${}]*)?\}")


def _masked_by_template(value: Any, origins: Iterable[Origin]) -> Any:
    """``value`` with the part a credential ``${VAR}`` supplied masked, when the text as written has
    exactly one simple ``${…}`` (``postgres://app:${DB_PASSWORD}@db/app`` → ``postgres://app:****@db/app``);
    otherwise all of it: with two variables, where one ends and the next begins is a guess."""
    for origin in origins:
        template = origin.template
        if template is None or not isinstance(value, str):
            continue
        reference = _SIMPLE_REFERENCE.search(template)
        if reference is not None and template.count("${") == 1 and "$${" not in template:
            before, after = template[: reference.start()], template[reference.end() :]
            if value.startswith(before) and value.endswith(after) and len(value) >= len(before) + len(after):
                return mask_text(before + MASK + after)
        return MASK
    return MASK


def mask(path: Path, value: Any, provenances: Sequence[Provenance] = ()) -> Any:
    """``value``, found at the keyed ``path`` of a task definition, with every secret inside it replaced
    by ``****``. ``value`` may be any part of the task definition, from one string to all of it.

    Secrets are: values of environment variables (and free-form map entries) with credential-like
    names; values built from a credential-like ``${VAR}`` (by any of ``provenances``); and text
    shaped like a secret (:func:`shapes`). Names, and ``valueFrom`` references, are shown.
    """
    if isinstance(value, dict):
        return {key: mask((*path, key), child, provenances) for key, child in value.items()}
    if isinstance(value, list):
        spec = spec_for(path)
        masked = []
        for index, item in enumerate(value):
            key = spec.item_key(item) if spec is not None and isinstance(item, dict) else None
            masked.append(mask((*path, Item(key) if key is not None else index), item, provenances))
        return masked
    if value is None or value == "" or isinstance(value, bool) or _is_reference(path):
        return value
    if _names_a_credential(path):
        return MASK
    origins = list(_secret_origins(path, provenances))
    if origins:
        return _masked_by_template(value, origins)
    return mask_text(value) if isinstance(value, str) else value


def reveals(path: Path, value: Any, provenances: Sequence[Provenance] = ()) -> bool:
    """Would printing ``value`` (at ``path``) show a secret? Stricter than :func:`mask`: for a value
    that is wrong where it stands (an error message), any credential-like key inside it counts too."""
    return bool(mask(path, value, provenances) != value) or _has_credential_key(value)


def _has_credential_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            looks_like_credential(str(key)) or (key == "name" and looks_like_credential(str(child)))
            for key, child in value.items()
        ) or any(_has_credential_key(child) for child in value.values())
    return isinstance(value, list) and any(_has_credential_key(item) for item in value)
