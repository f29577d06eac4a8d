"""Personal data under China's PIPL (decision 0093): what each service holds, and the pure rules of
pseudonymisation and retention.

Each service declares its personal data once (`services/<s>/privacy.py`: a `PrivacyDeclaration`); the
export, the erasure, the retention purge and the inventory in docs/personal-data.md are all read from it,
so none of them can forget a field the others know.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

SubjectKind = Literal["customer_contact", "engineer"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("customer_contact", "engineer")
# Whose a personal field is, as the services' declarations name it.
CONTACT: tuple[SubjectKind, ...] = ("customer_contact",)
ENGINEER: tuple[SubjectKind, ...] = ("engineer",)
BOTH: tuple[SubjectKind, ...] = SUBJECT_KINDS

# What a value says about a person: how to reach them, who they are, their signature, where they were,
# or free text that may name them.
PersonalKind = Literal["contact", "identity", "signature", "location", "free_text"]
PERSONAL_KINDS: tuple[PersonalKind, ...] = ("contact", "identity", "signature", "location", "free_text")

# How a field is found for a subject:
#   subject  the column holds the subject itself (an engineer's id, a contact's address)
#   alias    the column holds a name the subject is known by (matched within the subject's cases)
#   json     a JSON document holding the subject or their names anywhere in it
#   text     free text that may contain the subject or their names
#   owner    the row belongs to the subject named by `owner` (e.g. an engineer's location fix)
Match = Literal["subject", "alias", "json", "text", "owner"]

# What erasure does: the standard's record stays and the person is replaced by a pseudonym; a value that is
# no record of the standard is cleared (a location fix: null) or emptied (a calendar, certificates: `[]`).
Erasure = Literal["pseudonymised", "cleared", "emptied"]

PSEUDONYM_PREFIX = "erased-"


@dataclass(frozen=True)
class PersonalField:
    """One column of one table that holds personal data, and what may be done with it."""

    table: str
    column: str
    kind: PersonalKind
    purpose: str  # the step of the standard it serves
    match: Match
    subjects: tuple[SubjectKind, ...]
    erasure: Erasure = "pseudonymised"
    key: str = "id"  # the row's key, named in exports
    owner: str | None = None  # match="owner": the column naming the subject
    case: str | None = None  # SQL expression of the row's case id: scopes matches on names
    at: str | None = None  # SQL expression of the row's time: retention counts from it
    json_keys: tuple[str, ...] = ()  # json: the keys whose values are personal (retention); "*": all of it

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class AliasSource:
    """Where a service learns the names a subject is known by, and the cases they appear on.

    `column` is a JSON document holding person objects (`{"name": ..., "email": ...}`,
    `{"engineer_id": ..., "name": ...}`); or, with `subject_column`, a plain name column of the
    row whose `subject_column` is the subject.
    """

    table: str
    column: str
    subject_kind: SubjectKind
    case: str | None = None
    subject_column: str | None = None


@dataclass(frozen=True)
class PrivacyDeclaration:
    """A service's personal data: the fields, and where subjects' names and cases are learnt."""

    service: str
    fields: tuple[PersonalField, ...]
    aliases: tuple[AliasSource, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def for_subject(self, kind: SubjectKind) -> tuple[PersonalField, ...]:
        return tuple(f for f in self.fields if kind in f.subjects)

    def with_retention(self) -> tuple[PersonalField, ...]:
        return tuple(f for f in self.fields if f.at is not None)


@dataclass(frozen=True)
class Retention:
    """Days each kind of personal data is kept after its record's time (settings, per kind)."""

    days: Mapping[PersonalKind, int]

    def cutoff(self, kind: PersonalKind, now: datetime) -> datetime | None:
        """Records older than this are past retention; None keeps the kind without limit (0 days)."""
        days = self.days.get(kind, 0)
        return now - timedelta(days=days) if days > 0 else None


def pseudonym(key: bytes, kind: SubjectKind | str, subject: str) -> str:
    """The stable pseudonym of a subject: the same subject gets the same one in every service (they share
    the key), so the records of one erased person still belong together, yet the name cannot be recovered."""
    digest = hmac.new(key, f"{kind}:{normalise(subject)}".encode(), hashlib.sha256).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:16]}"


def value_pseudonym(key: bytes, value: str) -> str:
    """The pseudonym of a value erased by retention (no request names its subject)."""
    return pseudonym(key, "value", value)


def normalise(subject: str) -> str:
    """Addresses compare without case and surrounding blanks (`Li@Grid.cn ` is `li@grid.cn`)."""
    return subject.strip().lower() if "@" in subject else subject.strip()


def is_pseudonym(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX)


ADDRESS_KEYS = ("phone", "email")


def names_of(document: Any, subject: str) -> set[str]:
    """The names a subject is known by in a JSON document: the `name` of every object in which one of the
    values is the subject (a contact person holding the address, a team member holding the engineer id)."""
    return {v for k, v in _person_values(document, subject) if k == "name"}


def addresses_of(document: Any, subject: str) -> set[str]:
    """The subject's other addresses in a JSON document (the phone of the contact found by e-mail)."""
    return {v for k, v in _person_values(document, subject) if k in ADDRESS_KEYS and normalise(v) != normalise(subject)}


def _person_values(document: Any, subject: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    wanted = normalise(subject)
    for obj in _objects(document):
        values = {normalise(v) for v in obj.values() if isinstance(v, str)}
        if wanted not in values:
            continue
        found |= {(k, v) for k, v in obj.items()
                  if k in ("name", *ADDRESS_KEYS) and isinstance(v, str) and v.strip() and not is_pseudonym(v)}
    return found


def _objects(document: Any) -> Iterable[dict[str, Any]]:
    if isinstance(document, dict):
        yield document
        for value in document.values():
            yield from _objects(value)
    elif isinstance(document, list):
        for value in document:
            yield from _objects(value)


def scrub(document: Any, identifiers: Iterable[str], replacement: str, *, within_text: bool = False) -> Any:
    """A copy of a JSON document with every string equal to one of `identifiers` replaced (event payloads
    on the timeline, contacts, teams), or, `within_text`, every occurrence in its strings (survey comments):
    the structure, times and values of the record stay."""
    given = sorted({i for i in identifiers if i})
    wanted = {normalise(i) for i in given}
    if isinstance(document, dict):
        return {k: scrub(v, given, replacement, within_text=within_text) for k, v in document.items()}
    if isinstance(document, list):
        return [scrub(v, given, replacement, within_text=within_text) for v in document]
    if isinstance(document, str):
        if normalise(document) in wanted:
            return replacement
        return scrub_text(document, given, replacement) if within_text else document
    return document


def scrub_text(text: str, identifiers: Iterable[str], replacement: str) -> str:
    """Free text with every occurrence of an identifier replaced (a complaint naming its caller)."""
    for identifier in sorted({i for i in identifiers if i}, key=len, reverse=True):
        if identifier.isascii():
            # an id, address or Latin name is replaced whole: `eng-1` is not part of `eng-10`
            text = re.sub(rf"(?<![\w.@-]){re.escape(identifier)}(?![\w@-]|\.\w)", replacement, text)
        else:
            text = text.replace(identifier, replacement)  # Chinese runs on without spaces
    return text


def scrub_keys(document: Any, keys: Iterable[str], key: bytes, *, clear: bool = False) -> Any:
    """A copy of a JSON document with the values under `keys` replaced by their value pseudonyms (strings),
    or nulled with `clear` (coordinates): the retention purge of documents holding people."""
    wanted = frozenset(keys)
    if "*" in wanted:  # the document is a list of people (attendees, participants)
        return _purged(document, key, clear)
    if isinstance(document, dict):
        return {k: (_purged(v, key, clear) if k in wanted else scrub_keys(v, wanted, key, clear=clear))
                for k, v in document.items()}
    if isinstance(document, list):
        return [scrub_keys(v, wanted, key, clear=clear) for v in document]
    return document


def _purged(value: Any, key: bytes, clear: bool) -> Any:
    if clear or value is None:
        return None
    if isinstance(value, str):
        return value if not value or is_pseudonym(value) else value_pseudonym(key, value)
    if isinstance(value, list):
        return [_purged(v, key, clear) for v in value]
    return value


def json_pattern(value: str) -> str:
    """A LIKE pattern finding a JSON string value in a document's text (`"li@grid.cn"`)."""
    return "%" + like_escape(json.dumps(value, ensure_ascii=False)) + "%"


def text_pattern(value: str) -> str:
    """A LIKE pattern finding a value inside free text."""
    return "%" + like_escape(value) + "%"


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def inventory_markdown(declarations: Iterable[PrivacyDeclaration], retention_settings: Mapping[str, str]) -> str:
    """docs/personal-data.md's tables, from the declarations (a test keeps the document equal to this)."""
    lines: list[str] = []
    for decl in declarations:
        lines += [f"### {decl.service}", "",
                  "| table | field | kind | purpose | subjects | retention | erasure |",
                  "|---|---|---|---|---|---|---|"]
        for f in decl.fields:
            retention = (f"`{retention_settings[f.kind]}` from `{f.at}`" if f.at else "with its record")
            how = f.erasure
            subjects = ", ".join(s.replace("_", " ") for s in f.subjects) or "(retention only)"
            lines.append(f"| `{f.table}` | `{f.column}` | {f.kind.replace('_', ' ')} | {f.purpose} | {subjects} "
                         f"| {retention} | {how} |")
        for note in decl.notes:
            lines += ["", note]
        lines.append("")
    return "\n".join(lines)


# Keys of event payloads and documents whose values name or locate a person (the retention purge of JSON).
PERSON_KEYS = ("name", "phone", "email", "witness_name", "witnessed_by", "received_by", "receipt_signed_by",
               "customer_confirmed_by", "customer_attendees", "typed_name", "counterpart", "site_manager",
               "participants", "attendees")
CONTACT_KEYS = ("phone", "email")  # kept shorter than names (CONTACT_RETENTION_DAYS)
LOCATION_KEYS = ("latitude", "longitude", "accuracy_m")


def case_through(table: str, column: str) -> str:
    """The case of a row that names its case only through its parent row (`column` is the parent's id)."""
    return f"(SELECT CAST(p.case_id AS text) FROM {table} p WHERE p.id = {column})"


def outbox_fields() -> tuple[PersonalField, ...]:
    """Every service's outbox keeps its published events' payloads: people's names and engineers' locations."""
    return (
        PersonalField("outbox_message", "payload", "identity", "events of every step (outbox, kept after "
                      "publication)", "json", BOTH, case="aggregate_id",
                      at="created_at", json_keys=PERSON_KEYS),
        PersonalField("outbox_message", "payload", "contact", "contacts in events (outbox)", "json", (),
                      at="created_at", json_keys=CONTACT_KEYS),
        PersonalField("outbox_message", "payload", "location", "S10 sign-in/out events (outbox)", "json", (),
                      erasure="cleared", at="created_at", json_keys=LOCATION_KEYS),
    )
