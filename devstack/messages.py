"""The message catalogue: what a client reads, extracted from the code (decision 0094).

`python -m devstack.cli messages` (or `make messages`) gathers every key the services can show
and brings `shared/locale/zh/LC_MESSAGES/messages.po` up to date: new keys are added without a
translation (the catalogue test then names them), keys no longer in the code are dropped, the
translations of the others are kept. Keys:

- every `msg("...")` template in `shared/` and `services/` (Babel's Python extractor, keyword `msg`);
- every value of every `StrEnum` (context `enum:<Class>`), found in the source;
- every value of a `Literal[...]` choice in `services/` and `shared/`, settings aside (context
  `label`: the choices a client sees inline in the OpenAPI document);
- pydantic's validation errors a request can produce (context `validation:<type>`, key its English
  template).
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from pydantic_core import PydanticKnownError

from shared.i18n import ENUM_CONTEXT, LABEL_CONTEXT, VALIDATION_CONTEXT, catalogue_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("shared", "services")
METHOD_MAP = [("**/migrations/**", "ignore"), ("**.py", "python")]
Key = tuple[str | None, str]

# The validation errors a JSON/query/path request can meet (pydantic's error types); the others
# (Python-object checks such as `is_instance_of`, `callable_type`) cannot come from a request.
VALIDATION_TYPES = (
    "missing", "extra_forbidden", "json_invalid", "json_type", "model_attributes_type", "dict_type", "list_type",
    "tuple_type", "set_type", "string_type", "string_unicode", "string_too_short", "string_too_long",
    "string_pattern_mismatch", "string_not_ascii", "too_short", "too_long", "int_type", "int_parsing",
    "int_parsing_size", "int_from_float", "float_type", "float_parsing", "finite_number", "bool_type",
    "bool_parsing", "greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of",
    "enum", "literal_error", "value_error", "assertion_error", "none_required", "date_type", "date_parsing",
    "date_from_datetime_parsing", "date_from_datetime_inexact", "date_past", "date_future", "time_type",
    "time_parsing", "datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid",
    "datetime_past", "datetime_future", "timezone_naive", "timezone_aware", "timezone_offset", "time_delta_type",
    "time_delta_parsing", "uuid_type", "uuid_parsing", "uuid_version", "decimal_type", "decimal_parsing",
    "decimal_max_digits", "decimal_max_places", "decimal_whole_digits", "url_type", "url_parsing",
    "url_syntax_violation", "url_too_long", "url_scheme", "union_tag_invalid", "union_tag_not_found",
    "bytes_type", "bytes_too_short", "bytes_too_long",
)


def validation_templates() -> dict[str, str]:
    """Pydantic's English template of each validation error type."""
    templates = {}
    for error_type in VALIDATION_TYPES:
        context: dict[str, object] = {}
        for _ in range(8):  # fill the context values the error type requires, one at a time
            try:
                templates[error_type] = PydanticKnownError(error_type, context or None).message_template  # type: ignore[arg-type]  # a literal type checked at run time
                break
            except (KeyError, TypeError) as exc:
                found = re.search(r"'(\w+)'", str(exc))
                if found is None:
                    raise
                name = found.group(1)
                context[name] = 1 if name in context else str(name)
    return templates


def _is_str_enum(node: ast.ClassDef) -> bool:
    names = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases}
    return "StrEnum" in names or {"str", "Enum"} <= names


def enumerations(root: Path = ROOT) -> dict[str, list[str]]:
    """Every `StrEnum` of the services and shared code: class name -> its values, in order."""
    found: dict[str, list[str]] = {}
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ClassDef) and _is_str_enum(node):
                    values = found.setdefault(node.name, [])
                    for item in node.body:
                        if (isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant)
                                and isinstance(item.value.value, str) and item.value.value not in values):
                            values.append(item.value.value)
    return found


_CHOICE = re.compile(r"[a-z][a-z0-9_\-]*")


def literal_choices(root: Path = ROOT) -> list[str]:
    """The values of the `Literal[...]` choices of the services and the shared models (events, API),
    settings aside (an operator's choices, not a client's)."""
    found: list[str] = []
    for path in sorted(p for source in SOURCES for p in (root / source).rglob("*.py")):
        if "migrations" in path.parts or path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Subscript) and (
                    (isinstance(node.value, ast.Name) and node.value.id == "Literal")
                    or (isinstance(node.value, ast.Attribute) and node.value.attr == "Literal")):
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                for item in items:
                    if (isinstance(item, ast.Constant) and isinstance(item.value, str)
                            and _CHOICE.fullmatch(item.value) and item.value not in found):
                        found.append(item.value)
    return found


def _messages(root: Path) -> Iterator[tuple[Key, str]]:
    for source in SOURCES:
        for filename, _lineno, message, _comments, context in extract_from_dir(
                root / source, METHOD_MAP, keywords={"msg": None}, comment_tags=(), strip_comment_tags=True):
            if isinstance(message, str) and message:
                yield (context, message), f"{source}/{filename}"


def extract(root: Path = ROOT) -> dict[Key, list[str]]:
    """Every catalogue key, with the files it comes from."""
    keys: dict[Key, list[str]] = {}
    for key, where in _messages(root):
        places = keys.setdefault(key, [])
        if where not in places:
            places.append(where)
    for name, values in enumerations(root).items():
        for value in values:
            keys[(ENUM_CONTEXT + name, value)] = []
    for value in literal_choices(root):
        keys[(LABEL_CONTEXT, value)] = []
    for error_type, template in validation_templates().items():
        keys[(VALIDATION_CONTEXT + error_type, template)] = []
    return keys


def read_catalogue(language: str = "zh") -> Catalog:
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def update(language: str = "zh", root: Path = ROOT) -> tuple[Catalog, list[Key], list[Key]]:
    """The catalogue brought up to date with the code: (catalogue, keys added, keys dropped)."""
    path = catalogue_path(language)
    old = read_catalogue(language) if path.exists() else Catalog(locale=language)
    known = {(m.context, str(m.id)): m for m in old if m.id}
    keys = extract(root)
    new = Catalog(locale=language, domain="messages", project="fieldservice", version="0.1.0",
                  creation_date=old.creation_date, revision_date=old.revision_date, fuzzy=False)
    for (context, key), places in sorted(keys.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        before = known.get((context, key))
        new.add(key, before.string if before else "", locations=[(p, 0) for p in places], context=context,
                flags=() if before is None else tuple(f for f in before.flags if f != "python-format"))
    added = [k for k in keys if k not in known]
    dropped = [k for k in known if k not in keys]
    return new, added, dropped


def render(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalogue, width=0, include_lineno=False, sort_output=False, omit_header=False)
    return out.getvalue()


def write(catalogue: Catalog, language: str = "zh") -> Path:
    path = catalogue_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(catalogue))
    return path
