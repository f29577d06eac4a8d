"""Personal data over HTTP, the same in every service (decision 0093): export and erasure of what a service
holds about a customer contact or an engineer, the audit of reads of personal data, the retention purge.

Everything is driven by the service's `PrivacyDeclaration` (`services/<s>/privacy.py`); the SQL below only
interpolates the declaration's own table and column names, never a request's values (those are bound).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, cast
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, CursorResult, Index, Result, String, UniqueConstraint, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.api.app import PeriodicJob, ServiceRuntime, Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.pagination import Cursor, Page, PageSize, keyset_page, page_of
from shared.api.shapes import RowRead, StrictBody
from shared.clock import utcnow
from shared.db import timestamptz, transaction
from shared.privacy import (
    PersonalField,
    PrivacyDeclaration,
    Retention,
    SubjectKind,
    addresses_of,
    is_pseudonym,
    json_pattern,
    names_of,
    normalise,
    pseudonym,
    scrub,
    scrub_keys,
    scrub_text,
    text_pattern,
    value_pseudonym,
)
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

PRIVACY_ROLES = (Role.PRIVACY_OFFICER,)  # admin is accepted too (Requires adds it)
PrivacyOfficer = Annotated[Principal, Depends(Requires(*PRIVACY_ROLES))]


# ---------------------------------------------------------------- tables (in every service's database)

class PersonalDataAccess(SQLModel, table=True):
    """A read of personal data by someone other than its owner: who, with which role, about whom, where."""

    __tablename__ = "personal_data_access"
    __table_args__ = (Index("ix_personal_data_access_at", "at", "id"),
                      Index("ix_personal_data_access_subject", "subject_kind", "subject"))

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    actor: str = SQLField(sa_column=Column(String(128), nullable=False))
    roles: str = SQLField(sa_column=Column(String(256), nullable=False))
    subject_kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    subject: str = SQLField(sa_column=Column(String(200), nullable=False))
    endpoint: str = SQLField(sa_column=Column(String(300), nullable=False))


class PersonalDataErasure(SQLModel, table=True):
    """An erasure done on request: the subject's pseudonym (never the original values), who asked, when, and
    how many values each field lost; one row per subject, repeated requests update it."""

    __tablename__ = "personal_data_erasure"
    __table_args__ = (UniqueConstraint("subject_kind", "pseudonym", name="uq_personal_data_erasure_subject"),)

    id: UUID = SQLField(default_factory=uuid4, primary_key=True)
    subject_kind: str = SQLField(sa_column=Column(String(32), nullable=False))
    pseudonym: str = SQLField(sa_column=Column(String(64), nullable=False))
    requested_by: str = SQLField(sa_column=Column(String(128), nullable=False))
    first_erased_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    last_erased_at: datetime = SQLField(sa_column=Column(timestamptz(), nullable=False))
    requests: int = 1
    erased: dict[str, Any] = SQLField(sa_column=Column(JSONB, nullable=False))


# ---------------------------------------------------------------- API shapes

class PersonalValue(BaseModel):
    key: str = Field(description="The key of the row holding it")
    value: Any


class PersonalFieldExport(BaseModel):
    table: str
    column: str
    kind: str
    purpose: str
    records: list[PersonalValue]


class PersonalDataExport(BaseModel):
    """Everything one service holds about a subject."""

    service: str
    subject_kind: SubjectKind
    subject: str
    known_as: list[str] = Field(description="The names the subject is known by here (or were passed)")
    cases: list[str] = Field(description="The cases the subject appears on here (or were passed)")
    fields: list[PersonalFieldExport]


class ErasureCreate(StrictBody):
    """Erase a subject here: names and cases learnt elsewhere (dispatch's fan-out) may be passed along."""

    subject_kind: SubjectKind
    subject: str = Field(min_length=1, max_length=200, description="An engineer's id, or a contact's e-mail or "
                         "phone")
    known_as: list[str] = Field(default_factory=list, max_length=50,
                                description="Names the subject is known by (matched within their cases)")
    cases: list[str] = Field(default_factory=list, max_length=1000, description="Case ids the subject appears on")


class ErasureRead(BaseModel):
    """The erasure's record: the pseudonym now standing for the subject, never the original values."""

    model_config = ConfigDict(from_attributes=True)
    service: str = ""
    subject_kind: str
    pseudonym: str
    requested_by: str
    first_erased_at: datetime
    last_erased_at: datetime
    requests: int
    erased: dict[str, int] = Field(description="Values replaced or cleared per `table.column`, over all requests")
    changed_now: int = Field(default=0, description="Values changed by this request (0: it had been done)")


class AccessRead(RowRead):
    at: datetime
    actor: str
    roles: str
    subject_kind: str
    subject: str
    endpoint: str


# ---------------------------------------------------------------- the subject and where it is found

@dataclass
class Subject:
    kind: SubjectKind
    id: str
    names: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)  # the subject's other addresses (a contact's phone)

    @property
    def identifiers(self) -> list[str]:
        return sorted({self.id, *self.addresses, *self.names})

    @property
    def ids(self) -> list[str]:
        """What identifies the subject anywhere: the subject and their other addresses."""
        return sorted({normalise(self.id), *(normalise(a) for a in self.addresses)})


async def resolve(session: AsyncSession, decl: PrivacyDeclaration, kind: SubjectKind, subject: str,
                  names: Iterable[str] = (), cases: Iterable[str] = ()) -> Subject:
    """The subject with the names and cases this service knows them by (added to those passed in)."""
    found = Subject(kind, subject, {n for n in names if n.strip()}, set(cases))
    for src in decl.aliases:
        if src.subject_kind != kind:
            continue
        case = f"CAST({src.case} AS text)" if src.case else "NULL"
        if src.subject_column:
            rows = (await session.execute(text(
                f"SELECT {src.column}, {case} FROM {src.table} WHERE {src.subject_column} = :subject"),
                {"subject": subject})).all()
            found.names |= {r[0] for r in rows if isinstance(r[0], str) and not is_pseudonym(r[0])}
            found.cases |= {r[1] for r in rows if r[1]}
        else:
            rows = (await session.execute(text(
                f"SELECT {src.column}, {case} FROM {src.table} WHERE CAST({src.column} AS text) ILIKE :p"),
                {"p": json_pattern(subject)})).all()
            for document, case_id in rows:
                known = names_of(document, subject)
                found.addresses |= addresses_of(document, subject)
                if known:
                    found.names |= known
                    if case_id:
                        found.cases.add(case_id)
    return found


def _where(f: PersonalField, subject: Subject) -> tuple[str, dict[str, Any]]:
    """The rows of `f.table` whose `f.column` is about the subject: ids anywhere, names within their cases."""
    params: dict[str, Any] = {"ids": subject.ids, "names": sorted(subject.names), "cases": sorted(subject.cases)}
    scope = f" AND CAST({f.case} AS text) = ANY(:cases)" if f.case else ""
    names = bool(subject.names)
    c = f.column
    if f.match == "subject":
        return f"lower(CAST({c} AS text)) = ANY(:lids)", {"lids": [i.lower() for i in subject.ids]}
    if f.match == "owner":
        return f"{f.owner} = ANY(:ids)", params
    if f.match == "alias":
        return (f"({c} = ANY(:names){scope})" if names else "false"), params
    # free text inside a document (a survey's comment) holds a name anywhere, not as a whole value
    pattern = json_pattern if f.match == "json" and f.kind != "free_text" else text_pattern
    params["id_patterns"] = [pattern(i) for i in subject.ids]
    params["name_patterns"] = [pattern(n) for n in sorted(subject.names)]
    by_name = f" OR (CAST({c} AS text) LIKE ANY(:name_patterns){scope})" if names else ""
    return f"(CAST({c} AS text) ILIKE ANY(:id_patterns){by_name})", params


def _rows(result: Result[Any]) -> int:
    """Rows an UPDATE changed (its result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if f":{k}" in sql}


async def export(session: AsyncSession, decl: PrivacyDeclaration, subject: Subject) -> PersonalDataExport:
    """Everything the declaration's fields hold about the subject."""
    fields: list[PersonalFieldExport] = []
    seen: set[str] = set()
    for f in decl.for_subject(subject.kind):
        if f.name in seen:
            continue  # a column declared for two kinds (names and locations in one payload) is exported once
        seen.add(f.name)
        where, params = _where(f, subject)
        sql = f"SELECT CAST({f.key} AS text), {f.column} FROM {f.table} WHERE {where} ORDER BY 1"
        rows = (await session.execute(text(sql), _used(sql, params))).all()
        records = [PersonalValue(key=r[0], value=r[1]) for r in rows if r[1] is not None]
        if records:
            fields.append(PersonalFieldExport(table=f.table, column=f.column, kind=f.kind, purpose=f.purpose,
                                              records=records))
    return PersonalDataExport(service=decl.service, subject_kind=subject.kind, subject=subject.id,
                              known_as=sorted(subject.names), cases=sorted(subject.cases), fields=fields)


async def erase(session: AsyncSession, decl: PrivacyDeclaration, subject: Subject, replacement: str) -> dict[str, int]:
    """Replace the subject by `replacement` in every declared field (clear those that are no record of the
    standard); what each field lost. A second run finds nothing left to change."""
    changed: dict[str, int] = {}
    identifiers = subject.identifiers
    # the columns holding the subject itself last: the rows they own are found through them
    for f in sorted(decl.for_subject(subject.kind), key=lambda f: f.match == "subject"):
        where, params = _where(f, subject)
        if f.erasure == "cleared":
            sql = f"UPDATE {f.table} SET {f.column} = NULL WHERE {where} AND {f.column} IS NOT NULL"
            count = _rows(await session.execute(text(sql), _used(sql, params)))
        elif f.erasure == "emptied":
            sql = f"UPDATE {f.table} SET {f.column} = '[]'::jsonb WHERE {where} AND {f.column} <> '[]'::jsonb"
            count = _rows(await session.execute(text(sql), _used(sql, params)))
        elif f.match in ("subject", "alias", "owner"):
            sql = f"UPDATE {f.table} SET {f.column} = :replacement WHERE {where}"
            count = _rows(await session.execute(text(sql), {**_used(sql, params), "replacement": replacement}))
        else:
            sql = f"SELECT CAST({f.key} AS text), {f.column} FROM {f.table} WHERE {where}"
            rows = (await session.execute(text(sql), _used(sql, params))).tuples().all()
            count = await _rewrite(session, f, rows, lambda field, value: (
                scrub(value, identifiers, replacement, within_text=field.kind == "free_text") if field.match == "json"
                else scrub_text(value, identifiers, replacement)))
        if count:
            changed[f.name] = count
    return changed


async def _rewrite(session: AsyncSession, f: PersonalField, rows: Iterable[tuple[str, Any]],
                   change: Callable[[PersonalField, Any], Any]) -> int:
    """Store the value of each (key, value) row of field `f` as `change` makes it; how many rows changed."""
    count = 0
    for key, value in rows:
        new = change(f, value)
        if new != value:
            await _store(session, f, key, new)
            count += 1
    return count


async def _store(session: AsyncSession, f: PersonalField, key: str, value: Any) -> None:
    if f.match == "json":
        await session.execute(text(f"UPDATE {f.table} SET {f.column} = CAST(:v AS jsonb) "
                                   f"WHERE CAST({f.key} AS text) = :k"), {"v": json.dumps(value), "k": key})
    else:
        await session.execute(text(f"UPDATE {f.table} SET {f.column} = :v WHERE CAST({f.key} AS text) = :k"),
                              {"v": value, "k": key})


async def record_erasure(session: AsyncSession, *, kind: SubjectKind, alias: str, actor: str,
                         changed: dict[str, int], now: datetime) -> PersonalDataErasure:
    """One record per erased subject: created by the first request, counted up by the next ones."""
    row = (await session.execute(select(PersonalDataErasure).where(
        col(PersonalDataErasure.subject_kind) == kind, col(PersonalDataErasure.pseudonym) == alias
    ).with_for_update())).scalar_one_or_none()
    if row is None:
        row = PersonalDataErasure(subject_kind=kind, pseudonym=alias, requested_by=actor, first_erased_at=now,
                                  last_erased_at=now, requests=1, erased=dict(changed))
        session.add(row)
    else:
        total = dict(row.erased)
        for name, count in changed.items():
            total[name] = total.get(name, 0) + count
        row.erased, row.last_erased_at, row.requests = total, now, row.requests + 1
    await session.flush()
    return row


async def erase_subject(session: AsyncSession, decl: PrivacyDeclaration, settings: ServiceSettings, *,
                        body: ErasureCreate, actor: str, now: datetime) -> ErasureRead:
    """Erase a subject from this service and record it (with the access log's rows about them)."""
    subject = await resolve(session, decl, body.subject_kind, body.subject, body.known_as, body.cases)
    alias = pseudonym(settings.personal_data_key.get_secret_value().encode(), body.subject_kind, body.subject)
    changed = await erase(session, decl, subject, alias)
    # the access log keeps who read what, but no longer names the erased person
    result = await session.execute(text("UPDATE personal_data_access SET subject = :p WHERE subject_kind = :k "
                                        "AND lower(subject) = :s"),
                                   {"p": alias, "k": body.subject_kind, "s": normalise(body.subject).lower()})
    if _rows(result):
        changed["personal_data_access.subject"] = _rows(result)
    row = await record_erasure(session, kind=body.subject_kind, alias=alias, actor=actor, changed=changed, now=now)
    return ErasureRead.model_validate(row).model_copy(update={"service": decl.service,
                                                              "changed_now": sum(changed.values())})


# ---------------------------------------------------------------- the audit of reads

def endpoint_of(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def audit_read(sessions: async_sessionmaker[AsyncSession], request: Request, principal: Principal,
                     subject_kind: SubjectKind, subjects: Iterable[str | None]) -> None:
    """Record a read of personal data about each subject, unless the reader is that subject (their own
    data) or the subject is already a pseudonym. Its own short transaction: a read has no other."""
    now = utcnow()
    rows = [PersonalDataAccess(at=now, actor=principal.actor, roles=" ".join(sorted(principal.roles)),
                               subject_kind=subject_kind, subject=s[:200], endpoint=endpoint_of(request))
            for s in sorted({s for s in subjects if s})
            if s != principal.subject and not is_pseudonym(s)]
    if not rows:
        return
    async with transaction(sessions) as session:
        session.add_all(rows)


def contact_subjects(contacts: Any) -> list[str]:
    """The subjects of the contact persons in a contacts document: each one's e-mail, else phone, else name
    (how a privacy officer finds them again in the access log)."""
    found: list[str] = []
    people = contacts.values() if isinstance(contacts, dict) else contacts if isinstance(contacts, list) else []
    for person in people:
        if isinstance(person, dict):
            subject = person.get("email") or person.get("phone") or person.get("name")
            if isinstance(subject, str):
                found.append(normalise(subject))
    return found


# ---------------------------------------------------------------- retention

def retention_of(settings: ServiceSettings) -> Retention:
    return Retention({"contact": settings.contact_retention_days, "identity": settings.identity_retention_days,
                      "signature": settings.signature_retention_days,
                      "free_text": settings.free_text_retention_days,
                      "location": settings.location_trace_retention_days})


RETENTION_SETTINGS = {"contact": "CONTACT_RETENTION_DAYS", "identity": "IDENTITY_RETENTION_DAYS",
                      "signature": "SIGNATURE_RETENTION_DAYS", "free_text": "FREE_TEXT_RETENTION_DAYS",
                      "location": "LOCATION_TRACE_RETENTION_DAYS"}


async def purge_past_retention(session: AsyncSession, decl: PrivacyDeclaration, retention: Retention,
                               key: bytes, now: datetime) -> dict[str, int]:
    """Clear or pseudonymise every declared value older than its kind's retention (counted from the field's
    `at`); values already pseudonymised are left alone, so a second run changes nothing."""
    changed: dict[str, int] = {}
    for f in decl.with_retention():
        cutoff = retention.cutoff(f.kind, now)
        if cutoff is None:
            continue
        old = f"({f.at}) < :cutoff AND {f.column} IS NOT NULL"
        if f.erasure == "cleared" and f.match != "json":
            result = await session.execute(text(f"UPDATE {f.table} SET {f.column} = NULL WHERE {old}"),
                                           {"cutoff": cutoff})
            count = _rows(result)
        else:
            not_done = "" if f.match == "json" else f" AND CAST({f.column} AS text) NOT LIKE 'erased-%'"
            rows = (await session.execute(text(
                f"SELECT CAST({f.key} AS text), {f.column} FROM {f.table} WHERE {old}{not_done}"),
                {"cutoff": cutoff})).tuples().all()
            count = await _rewrite(session, f, rows, lambda field, value: (
                scrub_keys(value, field.json_keys, key, clear=field.erasure == "cleared") if field.match == "json"
                else value if is_pseudonym(value) else value_pseudonym(key, str(value))))
        if count:
            changed[f.name] = count
    return changed


def retention_job(decl: PrivacyDeclaration, clock: Callable[[], datetime] = utcnow) -> PeriodicJob:
    """The periodic purge of personal data past its retention (the clock is a parameter so tests pin it)."""

    async def purge_personal_data(runtime: ServiceRuntime) -> None:
        settings = runtime.settings
        async with transaction(runtime.sessions) as session:
            changed = await purge_past_retention(session, decl, retention_of(settings),
                                                 settings.personal_data_key.get_secret_value().encode(), clock())
        if changed:
            log.info("personal data past retention purged", extra={"purged": changed})

    return purge_personal_data


def retention_periodic(decl: PrivacyDeclaration, settings: ServiceSettings) -> list[tuple[float, PeriodicJob]]:
    return [(settings.personal_data_purge_interval_s, retention_job(decl))]


# ---------------------------------------------------------------- the router every service includes

SubjectKindQuery = Annotated[SubjectKind, Query(description="Whom the request is about")]
SubjectQuery = Annotated[str, Query(min_length=1, max_length=200, description="An engineer's id, or a customer "
                                    "contact's e-mail or phone")]


# GET /personal-data takes many names and cases in its query: a request line past what the HTTP server reads
# (64 KiB) is refused by the server itself, before the service, as plain text. Dispatch's fan-out sends fewer.
REQUEST_LINE_TOO_LONG: dict[str, Any] = {
    "description": "The request line is longer than the server reads (64 KiB): fewer or shorter `known_as` and "
                   "`case` values", "content": {"text/plain": {"schema": {"type": "string"}}},
    # not the service's problem document: the HTTP server answers before the service is reached
    "x-answered-by": "http-server"}


def personal_data_router(decl: PrivacyDeclaration) -> APIRouter:
    """GET /personal-data, POST /personal-data/erasures and GET /personal-data/access-log of a service."""
    router = APIRouter(prefix="/personal-data", tags=["personal data"])

    @router.get("", response_model=PersonalDataExport, summary="Everything this service holds about a person",
                responses={400: REQUEST_LINE_TOO_LONG})
    async def get_personal_data(
        request: Request, principal: PrivacyOfficer, sessions: Sessions, subject_kind: SubjectKindQuery,
        subject: SubjectQuery,
        # Lists default to empty, not null: a query value is text either way, and OpenAPI then names no null.
        known_as: Annotated[list[str], Query(max_length=50, description="Names the subject is known by "
                                             "elsewhere (matched within their cases)")] = [],  # noqa: B006
        case: Annotated[list[str], Query(max_length=1000, description="Cases the subject appears on "
                                         "elsewhere")] = [],  # noqa: B006
    ) -> PersonalDataExport:
        async with sessions() as session:
            found = await resolve(session, decl, subject_kind, subject, known_as, case)
            result = await export(session, decl, found)
        await audit_read(sessions, request, principal, subject_kind, [normalise(subject)])
        return result

    @router.post("/erasures", response_model=ErasureRead, status_code=status.HTTP_201_CREATED,
                 summary="Erase a person here: pseudonymise their records, clear their location traces",
                 responses={200: {"model": ErasureRead, "description": "Erased before: the same record"}})
    async def erase_personal_data(request: Request, body: ErasureCreate, principal: PrivacyOfficer,
                                  sessions: Sessions, response: Response) -> ErasureRead:
        async with transaction(sessions) as session:
            result = await erase_subject(session, decl, request.app.state.settings, body=body,
                                         actor=principal.actor, now=utcnow())
        if result.requests > 1:
            response.status_code = status.HTTP_200_OK
        return result

    @router.get("/access-log", response_model=Page[AccessRead],
                summary="Reads of personal data by others than its owner (newest first, keyset paged)")
    async def list_personal_data_reads(
        principal: PrivacyOfficer, sessions: Sessions, limit: PageSize = 50, cursor: Cursor = None,
        subject_kind: Annotated[SubjectKind | None, Query(description="Only reads about this kind")] = None,
        subject: Annotated[str | None, Query(max_length=200, description="Only reads about this subject")] = None,
        actor: Annotated[str | None, Query(max_length=128, description="Only reads by this principal")] = None,
    ) -> Page[AccessRead]:
        stmt = select(PersonalDataAccess)
        if subject_kind:
            stmt = stmt.where(col(PersonalDataAccess.subject_kind) == subject_kind)
        if subject:
            stmt = stmt.where(col(PersonalDataAccess.subject) == normalise(subject))
        if actor:
            stmt = stmt.where(col(PersonalDataAccess.actor) == actor)
        async with sessions() as session:
            rows, next_cursor = await keyset_page(session, stmt, model=PersonalDataAccess,
                                                  at=col(PersonalDataAccess.at), limit=limit, cursor=cursor,
                                                  newest_first=True)
        return page_of(AccessRead, rows, next_cursor)

    return router

