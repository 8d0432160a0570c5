"""What counts as a secret, and how a value is printed with every secret in it masked.

One home for the decision, so that every command and format masks the same things: ``diff``,
``drift``, ``explain`` and error messages call :func:`mask` (or :func:`reveals`) on whatever they
are about to print, a single value or a whole task definition. ``--show-values`` is the only way
around it. The checks are pure and cheap: names, provenance, and a few regular expressions.

Besides secrets recognised where they stand, a run collects the *values* it knows are secret
(:class:`KnownSecrets`): whatever field such a value lands in, whatever message echoes it, the
output boundary (output.py's masked streams) replaces it, so a new message inherits the masking.
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .keyed import Item, KeyedList, Path, spec_for
from .provenance import Origin, Provenance

if TYPE_CHECKING:
    from .overlay import Overlay

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


# ---------------------------------------------------------------------------------------------
# Values a run knows are secret, masked wherever they appear in what it prints

MIN_KNOWN_LENGTH = 4
"""Known secret values shorter than this are not masked inside other text. Replacing every ``1``,
``on`` or ``dev`` in the output would make it unreadable (paths, counts, JSON), and a value that
short is no secret: anyone can try all of them. Such a value is still masked where it stands, by
:func:`mask`. 4 characters is the length of the mask itself."""

# Flags, never secrets, that would otherwise mask every boolean and null of a JSON report.
_NOT_SECRETS = frozenset({"true", "false", "null", "none"})
# What the reporters put where they cut a long value: a known value cut there is masked by its prefix.
_CUT_MARKS = ("...", "…")
_LONGEST_CUT_PREFIX = 120  # the reporters cut values at 100 characters or fewer


def _escapes() -> tuple[Callable[[str], str], ...]:
    """How the formats escape text: backslashes (Markdown, terminal), JSON and Python string literals,
    HTML/XML entities, percent-encoding (GitHub workflow commands, URIs)."""

    def each(encode: Callable[[str], str]) -> Callable[[str], str]:
        return lambda text: "".join(char if char.isascii() and char.isalnum() else encode(char) for char in text)

    return (
        lambda text: text,
        each(lambda char: "\\" + char),
        lambda text: json.dumps(text)[1:-1],
        lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
        html.escape,
        each(lambda char: f"&#{ord(char)};"),
        each(lambda char: f"&#x{ord(char):x};"),
        each(lambda char: f"&#x{ord(char):X};"),
        lambda text: repr(text)[1:-1],
        each(lambda char: "".join(f"%{byte:02X}" for byte in char.encode())),
        each(lambda char: "".join(f"%{byte:02x}" for byte in char.encode())),
    )


@functools.cache
def _spellings(char: str) -> tuple[str, ...]:
    """``char`` as the formats may print it: escaped once, or twice (a JSON message inside XML, …)."""
    if char.isascii() and char.isalnum():
        return (char,)
    escapes = _escapes()
    forms = {outer(inner(char)) for inner in escapes for outer in escapes}
    return tuple(sorted(forms, key=lambda form: (-len(form), form)))


def _spelled(char: str) -> str:
    forms = _spellings(char)
    return re.escape(char) if len(forms) == 1 else "(?:" + "|".join(map(re.escape, forms)) + ")"


def _value_pattern(value: str) -> str:
    return "".join(map(_spelled, value))


def _cut_pattern(value: str) -> str:
    """The value's first :data:`MIN_KNOWN_LENGTH` characters or more, where a reporter cut it (``...``)."""
    rest = value[MIN_KNOWN_LENGTH : MIN_KNOWN_LENGTH + _LONGEST_CUT_PREFIX]
    return _value_pattern(value[:MIN_KNOWN_LENGTH]) + _chain(rest) + f"(?={_cut_marks()})"


def _chain(chars: str, whole: bool = False) -> str:
    """Any first characters of ``chars``, none to all, each in its spellings: ``(?:a(?:b(?:c)?)?)?``. With
    ``whole``, the last character is the group ``whole``: it took part only where all of them matched."""
    openers = ["(?:"] * len(chars)
    if whole and chars:
        openers[-1] = "(?P<whole>"
    return "".join(opener + _spelled(char) for opener, char in zip(openers, chars, strict=True)) + ")?" * len(chars)


def _cut_marks() -> str:
    return "|".join(map(re.escape, _CUT_MARKS))


class KnownSecrets:
    """The values one run knows are secret, collected as it reads its inputs, and masked in any text.

    A value is known secret when it is: the value of a ``${VAR}`` an overlay interpolates (anywhere but
    a ``valueFrom`` reference) whose name looks like a credential or is listed under ``secretNames:``;
    the value of an environment variable or free-form map entry (``dockerLabels``, log ``options`` …)
    of a base or overlay with such a name; the part of any of their values shaped like a secret (see
    :func:`shapes`); and, for each name a container takes from ``secrets``, the value the environment
    of the run gives that name. Values shorter than :data:`MIN_KNOWN_LENGTH` are left out.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = environ if environ is not None else {}
        self.enabled = True
        self._named: dict[str, set[str]] = {}  # name -> values seen under it
        self._marked: set[str] = set()  # secretNames
        self._values: set[str] = set()  # secret whatever their name
        self._known: list[tuple[str, str | None]] | None = None  # (value, anchor), decided on first use
        self._lock = threading.Lock()

    # -- learning --------------------------------------------------------------------------

    def learn_names(self, names: Iterable[str]) -> None:
        """Names (``secretNames:``) whose values are secret though they do not look like credentials."""
        with self._lock:
            self._marked.update(names)
            self._known = None

    def learn_variables(self, names: Iterable[str], environ: Mapping[str, str]) -> None:
        """``${VARS}`` an overlay interpolated, with the values ``environ`` gave them."""
        with self._lock:
            for name in names:
                if name in environ:  # not a value a review run keeps as written
                    self._named.setdefault(name, set()).add(environ[name])
            self._known = None

    def learn_document(self, document: Any) -> None:
        """Every secret a task definition (or an overlay's keyed data) holds: credential-named entries,
        secret shapes in them, and the run environment's values of names taken from ``secrets``."""
        named: list[tuple[str, str]] = []
        values: list[str] = []
        for leaf_path, value in _leaves(document):
            name = _environment_name(leaf_path)
            if name is None and len(leaf_path) >= 2 and leaf_path[-2] in FREE_FORM_MAPS:
                name = str(leaf_path[-1])
            if name is not None:
                named.append((name, value))
                values.extend(_secret_parts(value))
            elif (declared := _declared_secret(leaf_path)) is not None and declared in self.environ:
                values.append(self.environ[declared])
        with self._lock:
            for name, value in named:
                self._named.setdefault(name, set()).add(value)
            self._values.update(values)
            self._known = None

    def learn_overlay(self, overlay: Overlay, environ: Mapping[str, str]) -> None:
        """What one overlay file marks secret, the ``${VARS}`` it read from ``environ``, and the secrets it sets."""
        self.learn_names(overlay.secret_names)
        self.learn_variables(
            (name for path, names in overlay.variables_read if not _written_reference(path) for name in names), environ
        )
        self.learn_document(overlay.data)

    # -- masking ---------------------------------------------------------------------------

    def values(self) -> frozenset[str]:
        """The values masked: long enough, and not a flag."""
        with self._lock:
            return frozenset(value for value, _ in self._compile())

    def mask(self, text: str) -> str:
        """``text`` with every known secret value in it, in any of the spellings a format gives it
        (:func:`_spellings`), replaced by ``****``; a value cut short by a reporter (``...``) as well."""
        if not self.enabled or not text:
            return text
        with self._lock:
            known = self._compile()
        for value, anchor in known:  # the longest first: a value inside another goes with it
            if anchor is None or anchor in text:  # a value's pattern is compiled only once its text is there
                text = _known_pattern(value).sub(MASK, text)
        return text

    def _compile(self) -> list[tuple[str, str | None]]:
        if self._known is None:
            candidates = set(self._values)
            for name, seen in self._named.items():
                if name in self._marked or looks_like_credential(name):
                    candidates |= seen
            candidates |= {value.strip() for value in candidates}
            kept = [
                value
                for value in candidates
                if len(value) >= MIN_KNOWN_LENGTH and value.lower() not in _NOT_SECRETS and MASK not in value
            ]
            self._known = [(value, _anchor(value)) for value in sorted(kept, key=lambda value: (-len(value), value))]
        return self._known


def _anchor(value: str) -> str | None:
    """Letters and digits every spelling of the value, cut or whole, shows as they are: the longest
    run of at least two in its first characters; None when there is none."""
    runs = re.findall(r"[A-Za-z0-9]{2,}", value[:MIN_KNOWN_LENGTH])
    return max(runs, key=len) if runs else None


@functools.cache
def _known_pattern(value: str) -> re.Pattern[str]:
    """``value`` whole, or its first characters where a reporter cut it, in each of its spellings.

    A value no longer than a cut is its first characters and one chain of the rest, the last captured: the whole
    value when that matched, else a cut mark must follow. That is half the pattern of the whole value beside its
    cut forms, compiled 1.4-1.8 times faster (5.6 ms instead of 7.8 for a 20-character password of symbols)."""
    rest = value[MIN_KNOWN_LENGTH:]
    if not rest or len(rest) > _LONGEST_CUT_PREFIX:
        return re.compile(_value_pattern(value) + "|" + _cut_pattern(value))
    start = _value_pattern(value[:MIN_KNOWN_LENGTH])
    return re.compile(start + _chain(rest, whole=True) + f"(?(whole)|(?={_cut_marks()}))")


@functools.lru_cache(maxsize=4096)
def _secret_parts(value: str) -> tuple[str, ...]:
    """The parts of ``value`` shaped like a secret; bases and layers read again repeat their values."""
    return tuple(value[start:end] for start, end, _ in _spans(value))


# Where a task definition holds named entries (environment, secrets, dockerLabels, log and volume options).
_HOLDING_ENTRIES = ("containerDefinitions", "volumes")


def _leaves(document: Any) -> Iterator[tuple[Path, str]]:
    """The text leaves of a task definition's containers and volumes, plain or keyed, with their keyed paths."""
    if not isinstance(document, dict):
        return
    stack: list[tuple[Path, Any]] = [((key,), document[key]) for key in _HOLDING_ENTRIES if key in document]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, KeyedList):
            stack.extend(((*path, Item(key)), item) for key, item in value.items())
        elif isinstance(value, dict):
            stack.extend(((*path, key), child) for key, child in value.items())
        elif isinstance(value, list):
            spec = spec_for(path)
            for index, item in enumerate(value):
                key = spec.item_key(item) if spec is not None and isinstance(item, dict) else None
                stack.append(((*path, Item(key) if key is not None else index), item))


def _written_reference(path: tuple[str | int, ...]) -> bool:
    """A ``valueFrom`` as the overlay writes it: ``secrets: [{valueFrom: …}]`` or ``secrets: {NAME: …}``."""
    return path[-1:] == ("valueFrom",) or (len(path) >= 2 and path[-2] == "secrets" and isinstance(path[-1], str))


def _declared_secret(path: Path) -> str | None:
    """``NAME`` for ``containerDefinitions[x].secrets[NAME].valueFrom``: the variable a container gets from it."""
    if len(path) >= 3 and path[-1] == "valueFrom" and path[-3] == "secrets" and isinstance(path[-2], Item):
        return path[-2].key
    return None


_run: KnownSecrets | None = None


def start_run(environ: Mapping[str, str]) -> KnownSecrets:
    """The known secrets of the run starting now (one command), which the readers of its inputs feed."""
    global _run
    _run = KnownSecrets(environ)
    return _run


def end_run(previous: KnownSecrets | None = None) -> None:
    global _run
    _run = previous


def current_run() -> KnownSecrets | None:
    """The run's known secrets; None outside a command (the Python API), where nothing is collected."""
    return _run


def show_values() -> None:
    """``--show-values``: this run prints secret values as they are."""
    if _run is not None:
        _run.enabled = False
