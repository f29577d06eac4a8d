"""S5 operations: templates and their versions, packs for cases, revisions after preventive actions."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.cases import service as cases
from services.dispatch.cases.models import CaseStatus
from services.dispatch.events import emit
from services.dispatch.specifications import domain
from services.dispatch.specifications.models import (
    PackCreate,
    SpecificationPack,
    SpecificationTemplate,
    TemplateContent,
    TemplateCreate,
)
from shared.api.concurrency import check_if_match
from shared.api.problems import Conflict, GateRefused, NotFound
from shared.clock import utcnow
from shared.events.dispatch import SpecificationPackAttached, SpecificationTemplateRevised
from shared.events.quality import PreventiveActionDefined
from shared.messages import msg


async def latest(*, session: AsyncSession, template_id: str, for_update: bool = False) -> SpecificationTemplate:
    stmt = (select(SpecificationTemplate).where(col(SpecificationTemplate.template_id) == template_id)
            .order_by(col(SpecificationTemplate.version).desc()).limit(1))
    if for_update:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(msg("specification template {template_id} does not exist", template_id=template_id))
    return found


async def version_of(*, session: AsyncSession, template_id: str, version: int) -> SpecificationTemplate:
    stmt = select(SpecificationTemplate).where(col(SpecificationTemplate.template_id) == template_id,
                                               col(SpecificationTemplate.version) == version)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(msg("specification template {template_id} has no version {version}",
            template_id=template_id, version=version))
    return found


async def create_template(*, session: AsyncSession, body: TemplateCreate, actor: str) -> SpecificationTemplate:
    exists = (await session.execute(select(col(SpecificationTemplate.id)).where(
        col(SpecificationTemplate.template_id) == body.template_id))).first()
    if exists:
        raise Conflict(msg("template {template_id} exists; revise it with a new version", template_id=body.template_id))
    template = SpecificationTemplate(**body.model_dump(mode="json"), version=1, created_by=actor,
                                     created_at=utcnow())
    session.add(template)
    return template


async def revise_template(*, session: AsyncSession, template_id: str, body: TemplateContent, actor: str,
                          if_match: str | None, issue_id: UUID | None = None,
                          case_id: UUID | None = None) -> SpecificationTemplate:
    """S5: a new version (never an edit of an old one) -> SpecificationTemplateRevised."""
    current = await latest(session=session, template_id=template_id, for_update=True)
    check_if_match(if_match, current.version)
    template = SpecificationTemplate(**body.model_dump(mode="json"), template_id=template_id,
                                     version=current.version + 1, issue_id=issue_id, created_by=actor,
                                     created_at=utcnow())
    session.add(template)
    emit(session, SpecificationTemplateRevised(
        template_id=template_id, version=template.version, equipment_type=template.equipment_type,
        revised_by=actor, issue_id=issue_id, case_id=case_id,
    ), case_id=case_id or template.id, actor=actor)  # without a case, keyed by the template version's id
    return template


async def list_templates(*, session: AsyncSession, equipment_type: str | None,
                         difficulty: str | None) -> list[SpecificationTemplate]:
    """The newest version of each template, optionally those fitting an equipment type / difficulty."""
    stmt = select(SpecificationTemplate)
    if equipment_type:
        stmt = stmt.where(col(SpecificationTemplate.equipment_type) == equipment_type)
    rows = domain.newest(list((await session.execute(stmt)).scalars()))
    if difficulty:
        rows = [t for t in rows if t.difficulty in (None, difficulty)]
    return rows


async def attach_pack(*, session: AsyncSession, case_id: UUID, body: PackCreate, actor: str,
                      if_match: str | None) -> SpecificationPack:
    """S5: instantiate the templates for the case -> SpecificationPackAttached (replaces an earlier pack)."""
    case = await cases.get(session=session, case_id=case_id, for_update=True)
    check_if_match(if_match, case.version)
    if case.status not in (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED):
        raise GateRefused(msg("specification pack"),
                          [msg("S5: the specification pack is attached before dispatch (the case is {status})",
                              status=case.status)])
    fitting = await list_templates(session=session, equipment_type=case.equipment_type,
                                   difficulty=case.difficulty)
    if body.template_ids is not None:
        chosen = {t.template_id: t for t in fitting}
        missing = [msg("S5: template {t} does not exist for {equipment_type} / {difficulty}",
            t=t, equipment_type=case.equipment_type, difficulty=case.difficulty)
                   for t in body.template_ids if t not in chosen]
        if missing:
            raise GateRefused(msg("specification pack"), missing)
        fitting = [chosen[t] for t in body.template_ids]
    if not fitting:
        raise GateRefused(msg("specification pack"), [
            msg("S5: no template exists for equipment type {equipment_type} and difficulty {difficulty}",
                equipment_type=case.equipment_type, difficulty=case.difficulty)])
    now = utcnow()
    for old in (await session.execute(select(SpecificationPack).where(
            col(SpecificationPack.case_id) == case.id, col(SpecificationPack.superseded_at).is_(None)))).scalars():
        old.superseded_at = now
    pack_id = uuid4()
    sheets = domain.instantiate(fitting, pack_id)
    pack = SpecificationPack(id=pack_id, case_id=case.id, sheets=[s.model_dump(mode="json") for s in sheets],
                             templates=[f"{t.template_id}@{t.version}" for t in fitting], created_by=actor,
                             created_at=now)
    session.add(pack)
    cases.touch(case, actor)
    emit(session, SpecificationPackAttached(case_id=case.id, pack_id=pack.id, templates=pack.templates),
         case_id=case.id, actor=actor)
    return pack


async def current_pack(*, session: AsyncSession, case_id: UUID) -> SpecificationPack | None:
    stmt = select(SpecificationPack).where(col(SpecificationPack.case_id) == case_id,
                                           col(SpecificationPack.superseded_at).is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def apply_preventive_action(*, session: AsyncSession, action: PreventiveActionDefined,
                                  actor: str) -> list[SpecificationTemplate]:
    """Quality's preventive action becomes a new template version with a check for it (once per issue)."""
    if action.template_id:
        targets = [await latest(session=session, template_id=action.template_id)]
    elif action.equipment_type:
        targets = [t for t in await list_templates(session=session, equipment_type=action.equipment_type,
                                                   difficulty=None) if t.kind == "check_sheet"]
    else:
        return []
    revised = []
    for t in targets:
        done = (await session.execute(select(col(SpecificationTemplate.id)).where(
            col(SpecificationTemplate.template_id) == t.template_id,
            col(SpecificationTemplate.issue_id) == action.issue_id))).first()
        if done:
            continue  # the same preventive action arrived again
        item = domain.preventive_item(action.issue_id, action.action)
        content = TemplateContent(kind=t.kind, title=t.title, equipment_type=t.equipment_type,
                                  difficulty=t.difficulty,
                                  items=[*[i for i in t.items if i["item_id"] != item["item_id"]], item],
                                  revision_note=action.revision_note or f"preventive action: {action.action}"[:2000])
        revised.append(await revise_template(session=session, template_id=t.template_id, body=content, actor=actor,
                                             if_match=None, issue_id=action.issue_id, case_id=action.case_id))
    return revised
