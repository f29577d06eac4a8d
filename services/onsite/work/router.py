"""HTTP: briefing (S9), permits (S11), tasks and plan (S12, S13), safety (S14), witness (S17)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Path, Request, Response, status

from services.onsite.visit_routes import WRITE, Engineer, VisitReader, add_route, list_route, page_route
from services.onsite.visits import service as visits
from services.onsite.work import service
from services.onsite.work.models import (
    BriefingCreate,
    BriefingRead,
    DispositionCreate,
    DisputeEscalation,
    DisputeRead,
    MilestoneCreate,
    MilestoneRead,
    PermitCreate,
    PermitRead,
    ProcessDataCreate,
    ProcessDataRead,
    ReadingRead,
    SafetyChecklistCreate,
    SafetyChecklistRead,
    TaskCreate,
    TaskDone,
    TaskProgress,
    TaskRead,
    WitnessCreate,
    WitnessRead,
)
from shared.api.app import Sessions
from shared.api.concurrency import with_etag
from shared.api.pagination import Cursor, Page, PageSize, page_of
from shared.api.personal_data import audit_read
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(prefix="/visits/{visit_id}", tags=["work on site"])

IfMatch = Annotated[str | None, Header(description="ETag of the task as read; a stale one gives 412")]
ItemId = Annotated[str, Path(min_length=1, max_length=100)]
GATED: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (404, 409, 412)}


# ---- S9

@router.post("/briefings", response_model=BriefingRead, status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S9: technical briefing (disputed points kept open) -> TechnicalBriefingHeld")
async def hold_briefing(visit_id: UUID, body: BriefingCreate, principal: Engineer, sessions: Sessions) -> BriefingRead:
    async with transaction(sessions) as session:
        briefing, disputes = await service.hold_briefing(session=session, visit_id=visit_id, body=body,
                                                         principal=principal)
        out = BriefingRead.model_validate(briefing)
        out.disputes = [DisputeRead.model_validate(d) for d in disputes]
        return out


@router.get("/briefings", response_model=list[BriefingRead], summary="S9: briefings with their disputed points")
async def list_briefings(visit_id: UUID, principal: VisitReader, sessions: Sessions) -> list[BriefingRead]:
    async with sessions() as session:
        visit = await visits.get(session=session, visit_id=visit_id, principal=principal)
        result = []
        for briefing, disputes in await service.briefings(session=session, visit=visit):
            out = BriefingRead.model_validate(briefing)
            out.disputes = [DisputeRead.model_validate(d) for d in disputes]
            result.append(out)
        return result


@router.post("/disputes/{dispute_id}/escalation", response_model=DisputeRead, responses=WRITE,
             summary="S9: escalate a disputed point -> BriefingDisputeEscalated")
async def escalate_dispute(visit_id: UUID, dispute_id: UUID, body: DisputeEscalation, principal: Engineer,
                           sessions: Sessions) -> DisputeRead:
    async with transaction(sessions) as session:
        dispute = await service.escalate_dispute(session=session, visit_id=visit_id, dispute_id=dispute_id,
                                                 escalated_to=body.escalated_to, principal=principal)
        return DisputeRead.model_validate(dispute)


# ---- S11

add_route(router, "/permits", create=PermitCreate, read=PermitRead, add=service.record_permit, name="record_permit",
          summary="S11: customer work permit with scope and validity -> PermitRecorded")
list_route(router, "/permits", read=PermitRead, rows=service.permits, name="list_permits",
           summary="S11: the visit's permits")


# ---- S12 / S13 tasks

list_route(router, "/tasks", read=TaskRead, rows=service.tasks, name="list_tasks",
           summary="S12: the site work plan (tasks from the check sheets)")
add_route(router, "/tasks", create=TaskCreate, read=TaskRead, add=service.add_task, name="add_task",
          summary="S12: add a task to the work plan -> WorkPlanUpdated (ScheduleAtRisk past the deadline)")


@router.post("/tasks/{task_id}/progress", response_model=TaskRead, responses=GATED,
             summary="S12: progress and planned end -> WorkPlanUpdated (ScheduleAtRisk once per risk)")
async def update_progress(visit_id: UUID, task_id: UUID, body: TaskProgress, principal: Engineer,
                          sessions: Sessions, response: Response, if_match: IfMatch = None) -> TaskRead:
    async with transaction(sessions) as session:
        task = await service.update_progress(session=session, visit_id=visit_id, task_id=task_id, body=body,
                                             principal=principal, if_match=if_match)
        return with_etag(TaskRead, task, response)


@router.post("/tasks/{task_id}/safety-checklists", response_model=SafetyChecklistRead,
             status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S14: today's safety checklist of a task (complete -> SafetyCheckCompleted)")
async def record_safety_checklist(visit_id: UUID, task_id: UUID, body: SafetyChecklistCreate, principal: Engineer,
                                  sessions: Sessions) -> SafetyChecklistRead:
    async with transaction(sessions) as session:
        return SafetyChecklistRead.model_validate(await service.record_safety_checklist(
            session=session, visit_id=visit_id, task_id=task_id, body=body, principal=principal))


@router.post("/tasks/{task_id}/start", response_model=TaskRead, responses=GATED,
             summary="S13: start a task (gates: S9 briefing, S11 valid permit covering it, S14 checklist)")
async def start_task(visit_id: UUID, task_id: UUID, principal: Engineer, sessions: Sessions, response: Response,
                     if_match: IfMatch = None) -> TaskRead:
    async with transaction(sessions) as session:
        task = await service.start_task(session=session, visit_id=visit_id, task_id=task_id, principal=principal,
                                        if_match=if_match)
        return with_etag(TaskRead, task, response)


@router.post("/tasks/{task_id}/completion", response_model=TaskRead, responses=GATED,
             summary="S13: finish a task (every item recorded and signed off)")
async def complete_task(visit_id: UUID, task_id: UUID, principal: Engineer, sessions: Sessions, response: Response,
                        if_match: IfMatch = None, body: TaskDone | None = None) -> TaskRead:
    async with transaction(sessions) as session:
        task = await service.complete_task(session=session, visit_id=visit_id, task_id=task_id,
                                           principal=principal, if_match=if_match,
                                           occurred_at=body.occurred_at if body else None)
        return with_etag(TaskRead, task, response)


@router.put("/tasks/{task_id}/items/{item_id}", response_model=ProcessDataRead, responses=WRITE,
            summary="S13: record a check-sheet value (outside the limits -> failed) -> ProcessDataRecorded")
async def record_process_data(visit_id: UUID, task_id: UUID, item_id: ItemId, body: ProcessDataCreate,
                              principal: Engineer, sessions: Sessions) -> ProcessDataRead:
    async with transaction(sessions) as session:
        return ProcessDataRead.model_validate(await service.record_process_data(
            session=session, visit_id=visit_id, task_id=task_id, item_id=item_id, body=body, principal=principal))


@router.post("/tasks/{task_id}/items/{item_id}/sign-off", response_model=ProcessDataRead, responses=WRITE,
             summary="S13/S17: sign off an entry (a witness first where the item needs one)")
async def sign_off_process_data(visit_id: UUID, task_id: UUID, item_id: ItemId, principal: Engineer,
                                sessions: Sessions) -> ProcessDataRead:
    async with transaction(sessions) as session:
        return ProcessDataRead.model_validate(await service.sign_off_process_data(
            session=session, visit_id=visit_id, task_id=task_id, item_id=item_id, principal=principal))


@router.post("/tasks/{task_id}/items/{item_id}/disposition", response_model=ProcessDataRead, responses=WRITE,
             summary="S25: a failed entry's disposition: a linked logged issue, or the customer's signed concession")
async def record_disposition(visit_id: UUID, task_id: UUID, item_id: ItemId, body: DispositionCreate,
                             principal: Engineer, sessions: Sessions) -> ProcessDataRead:
    async with transaction(sessions) as session:
        return ProcessDataRead.model_validate(await service.record_disposition(
            session=session, visit_id=visit_id, task_id=task_id, item_id=item_id, body=body, principal=principal))


@router.get("/tasks/{task_id}/items/{item_id}/readings", response_model=list[ReadingRead], responses=WRITE,
            summary="S13: every reading of an entry, oldest first (failed readings are kept)")
async def list_readings(visit_id: UUID, task_id: UUID, item_id: ItemId, principal: VisitReader,
                        sessions: Sessions) -> list[ReadingRead]:
    async with sessions() as session:
        await visits.get(session=session, visit_id=visit_id, principal=principal)
        return [ReadingRead.model_validate(r) for r in await service.readings(
            session=session, visit_id=visit_id, task_id=task_id, item_id=item_id)]


page_route(router, "/process-data", read=ProcessDataRead, rows=service.process_data, name="list_process_data",
           summary="S13: the recorded check-sheet values")


# ---- S13 milestones, S17 witness

add_route(router, "/milestones", create=MilestoneCreate, read=MilestoneRead, add=service.add_milestone,
          name="add_milestone", summary="S13: a milestone of the work (optionally needing a witness)")
list_route(router, "/milestones", read=MilestoneRead, rows=service.milestones, name="list_milestones",
           summary="S13: milestones")


@router.post("/milestones/{milestone_id}/sign-off", response_model=MilestoneRead, responses=WRITE,
             summary="S13/S17: sign off a milestone (witness first where needed) -> MilestoneReached")
async def sign_off_milestone(visit_id: UUID, milestone_id: UUID, principal: Engineer,
                             sessions: Sessions) -> MilestoneRead:
    async with transaction(sessions) as session:
        return MilestoneRead.model_validate(await service.sign_off_milestone(
            session=session, visit_id=visit_id, milestone_id=milestone_id, principal=principal))


@router.post("/witnesses", response_model=WitnessRead, status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S17: a witness's name, role and signature on an entry or milestone -> WitnessRecorded")
async def record_witness(visit_id: UUID, body: WitnessCreate, principal: Engineer, sessions: Sessions) -> WitnessRead:
    async with transaction(sessions) as session:
        return WitnessRead.model_validate(await service.record_witness(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get("/witnesses", response_model=Page[WitnessRead], summary="S17: the witnesses on this visit")
async def list_witnesses(request: Request, visit_id: UUID, principal: VisitReader, sessions: Sessions,
                         limit: PageSize = 50, cursor: Cursor = None) -> Page[WitnessRead]:
    async with sessions() as session:
        await visits.get(session=session, visit_id=visit_id, principal=principal)
        rows, next_cursor = await service.witnesses(session=session, visit_id=visit_id, limit=limit, cursor=cursor)
    await audit_read(sessions, request, principal, "customer_contact", [w.name for w in rows])  # and signatures
    return page_of(WitnessRead, rows, next_cursor)
