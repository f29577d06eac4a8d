"""Chinese and English for what a client reads: problems and enumerated labels (decision 0094).

The English text is in the code (`shared.messages.msg` templates, enum values, pydantic's error
templates); the Chinese is in the gettext catalogue `shared/locale/zh/LC_MESSAGES/messages.po`,
read once with Babel. Catalogue keys:

- a `msg()` template: no context;
- an enumeration's value: context `enum:<EnumClass>`;
- a value of a `Literal[...]` choice of the models and routers: context `label`;
- a pydantic validation error: context `validation:<error type>`, key pydantic's English template.

`python -m devstack.cli messages` extracts the keys from the code and updates the catalogue.
"""

from __future__ import annotations

import logging
import string
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from babel import negotiate_locale
from babel.messages.pofile import read_po

from shared.messages import Joined, Msg

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SUPPORTED_LANGUAGES = ("zh", "en")
ENGLISH = "en"
ENUM_CONTEXT = "enum:"
LABEL_CONTEXT = "label"
VALIDATION_CONTEXT = "validation:"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> dict[tuple[str | None, str], str]:
    """The catalogue of a language as (context, English) -> translation; empty for English."""
    path = catalogue_path(language)
    if language == ENGLISH or not path.exists():
        return {}
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    return {(m.context, str(m.id)): str(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}


@cache
def _labels_by_value(language: str) -> dict[str, str]:
    """An enumeration value's label when every enumeration having that value agrees on it
    (so a status kept as a plain string in a message is still shown in the reader's words)."""
    found: dict[str, set[str]] = {}
    for (context, key), text in translations(language).items():
        if context and (context.startswith(ENUM_CONTEXT) or context == LABEL_CONTEXT):
            found.setdefault(key, set()).add(text)
    return {key: next(iter(texts)) for key, texts in found.items() if len(texts) == 1}


def placeholders(template: str) -> set[str]:
    """The `{name}` fields of a template (what a translation must keep)."""
    try:
        return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template)
                if field}
    except ValueError:
        return set()


def humanize(value: str) -> str:
    """The English label of an enumeration value: `in_progress` -> `In progress`."""
    text = value.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def label(enum_name: str | None, value: str, language: str) -> str:
    """The label of one value of an enumeration (a StrEnum by its name, or a `Literal` choice: None)."""
    if language == ENGLISH:
        return humanize(value)
    table = translations(language)
    if enum_name is not None and (found := table.get((ENUM_CONTEXT + enum_name, value))):
        return found
    return table.get((LABEL_CONTEXT, value)) or humanize(value)


def has_labels(values: list[str]) -> bool:
    """Whether every value of a `Literal` choice has a label in the catalogue."""
    table = translations("zh")
    return bool(values) and all((LABEL_CONTEXT, v) in table for v in values)


@cache
def enum_names() -> frozenset[str]:
    """The enumerations the catalogue labels (their class names)."""
    return frozenset(context.removeprefix(ENUM_CONTEXT) for context, _key in translations("zh")
                     if context and context.startswith(ENUM_CONTEXT))


def enum_labels(enum_name: str | None, values: list[str]) -> dict[str, dict[str, str]]:
    """Every value's label in every language: `{"en": {...}, "zh": {...}}`."""
    return {language: {v: label(enum_name, v, language) for v in values} for language in SUPPORTED_LANGUAGES}


def _parameter(value: Any, language: str) -> Any:
    if isinstance(value, (Msg, Joined)):
        return translate(value, language)
    if isinstance(value, Enum) and isinstance(value.value, str):
        return translations(language).get((ENUM_CONTEXT + type(value).__name__, value.value), value.value)
    if isinstance(value, str) and not isinstance(value, Enum):
        return _labels_by_value(language).get(value, value)
    return value


def translate(text: str, language: str) -> str:
    """A message in a language: a `msg()` has its template translated and its parameters
    (messages, enumeration values) rendered in that language; a plain string is looked up as it is."""
    if language == ENGLISH or not text:
        return str(text)
    if isinstance(text, Joined):
        sep = {"; ": "\uff1b", ", ": "\u3001"}.get(text.sep, text.sep)  # Chinese semicolon, enumeration comma
        return sep.join(translate(item, language) for item in text.items)
    table = translations(language)
    if isinstance(text, Msg):
        template = table.get((None, text.template))
        if template is None:
            return str(text)
        try:
            return template.format(**{k: _parameter(v, language) for k, v in text.params.items()})
        except (KeyError, IndexError, ValueError):
            log.warning("translation of %r does not fit its parameters", text.template)
            return str(text)
    return table.get((None, str(text)), str(text))


def validation_message(error_type: str | None, english: str, context: dict[str, Any] | None,
                       language: str) -> str:
    """A pydantic validation error's message, by its type, in a language."""
    if language == ENGLISH or not error_type:
        return english
    params = dict(context or {})
    error = params.get("error")
    if isinstance(error, Exception) and error.args and isinstance(error.args[0], str):
        # A validator's own message (`ValueError(msg(...))`) is translated like any other.
        params["error"] = translate(error.args[0], language)
    text = _validation_table(language).get(error_type)
    if text is None:
        return english
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return english


@cache
def _validation_table(language: str) -> dict[str, str]:
    return {ctx.removeprefix(VALIDATION_CONTEXT): text for (ctx, _template), text in translations(language).items()
            if ctx and ctx.startswith(VALIDATION_CONTEXT)}


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an `Accept-Language` header, most wanted first (RFC 9110 q-values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None, default: str = ENGLISH) -> str:
    """The supported language that best fits `Accept-Language` (`zh-CN` -> zh), else the default."""
    chosen = negotiate_locale(parse_accept_language(header), list(SUPPORTED_LANGUAGES), sep="-")
    if chosen is None:
        # Babel matches `zh-CN` to `zh`; `zh-Hans-CN` and the like by their language part.
        for tag in parse_accept_language(header):
            if tag.split("-")[0].lower() in SUPPORTED_LANGUAGES:
                return tag.split("-")[0].lower()
    return chosen or default
