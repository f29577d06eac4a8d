"""HTTP: self/cross-checks (S26), clean-up (S27), hand-over and repairs (S28), drawings (S29),
completion (S30), the service report PDF, departure (S33)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response, status

from services.onsite.closing import service
from services.onsite.closing.models import (
    CheckCreate,
    CheckRead,
    CleanupCreate,
    ClosingStatus,
    CompletionCreate,
    DepartureCreate,
    DepartureRead,
    DrawingRevisionCreate,
    DrawingRevisionRead,
    DrawingsDispatch,
    HandoverCreate,
    HandoverRead,
    RepairTakeBackCreate,
    RepairTakeBackRead,
    ReportVerification,
)
from services.onsite.evidence.router import Storage
from services.onsite.visit_routes import WRITE, Engineer, VisitReader, add_route, list_route
from services.onsite.visits import service as visits
from services.onsite.visits.models import SiteVisitRead
from services.onsite.visits.router import read_visit
from shared.api.app import Sessions
from shared.api.concurrency import etag
from shared.api.openapi import binary_response
from shared.api.problems import PROBLEM_RESPONSES, PayloadTooLarge
from shared.db import transaction
from shared.messages import msg
from shared.settings import MAX_UPLOAD_BYTES

router = APIRouter(prefix="/visits/{visit_id}", tags=["closing"])

IfMatch = Annotated[str | None, Header(description="ETag of the visit as read; a stale one gives 412")]


add_route(router, "/checks", create=CheckCreate, read=CheckRead, add=service.record_check, name="record_check",
          summary="S26: self-check (no engineer_id) or cross-check of another team engineer")
list_route(router, "/checks", read=CheckRead, rows=service.checks, name="list_checks",
           summary="S26: self- and cross-checks")


@router.post("/cleanup", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE,
             summary="S27: clean-up confirmed -> CleanupConfirmed")
async def confirm_cleanup(visit_id: UUID, body: CleanupCreate, principal: Engineer, sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await service.confirm_cleanup(session=session, visit_id=visit_id, body=body, principal=principal)


add_route(router, "/handovers", create=HandoverCreate, read=HandoverRead, add=service.record_handover,
          name="record_handover",
          summary="S28: accessories and spare parts handed over (receiver's signature) -> HandoverCompleted")
add_route(router, "/repairs", create=RepairTakeBackCreate, read=RepairTakeBackRead, add=service.take_back_for_repair,
          name="take_back_for_repair",
          summary="S28: damaged equipment taken back for repair (receipt left) -> RepairRequested")
add_route(router, "/drawing-revisions", create=DrawingRevisionCreate, read=DrawingRevisionRead,
          add=service.record_drawing_revision, name="record_drawing_revision",
          summary="S29: a drawing deviation, original kept -> DrawingRevisionRecorded")
list_route(router, "/drawing-revisions", read=DrawingRevisionRead, rows=service.drawing_revisions,
           name="list_drawing_revisions", summary="S29: drawing revisions and whether they were sent and mailed")


@router.post("/drawing-revisions/dispatch", response_model=list[DrawingRevisionRead], responses=WRITE,
             summary="S29: revised drawings sent to the company and mailed to the customer -> DrawingsDispatched")
async def dispatch_drawings(visit_id: UUID, body: DrawingsDispatch, principal: Engineer,
                            sessions: Sessions) -> list[DrawingRevisionRead]:
    async with transaction(sessions) as session:
        return [DrawingRevisionRead.model_validate(r) for r in await service.dispatch_drawings(
            session=session, visit_id=visit_id, body=body, principal=principal)]


@router.post("/no-drawing-deviations", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE,
             summary="S29: declare that no drawing deviated (nothing to send)")
async def declare_no_drawing_deviations(visit_id: UUID, principal: Engineer, sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await service.declare_no_drawing_deviations(session=session, visit_id=visit_id, principal=principal)


@router.get("/completion-readiness", response_model=ClosingStatus,
            summary="S30: what the completion gate still needs (empty list: ready)")
async def completion_readiness(visit_id: UUID, principal: VisitReader, sessions: Sessions) -> ClosingStatus:
    async with sessions() as session:
        visit = await visits.get(session=session, visit_id=visit_id, principal=principal)
        return ClosingStatus(missing_conditions=await service.completion_missing(session=session, visit=visit))


@router.post("/completion", response_model=SiteVisitRead,
             summary="S30: report, ratings and signed receipt complete the service -> ServiceCompleted",
             responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412)})
async def complete_visit(visit_id: UUID, body: CompletionCreate, principal: Engineer, sessions: Sessions,
                         response: Response, storage: Storage, if_match: IfMatch = None) -> SiteVisitRead:
    async with transaction(sessions) as session:
        visit = await service.complete(session=session, visit_id=visit_id, body=body, principal=principal,
                                       if_match=if_match, storage=storage)
        response.headers["ETag"] = etag(visit.version)
        return await read_visit(session, visit)


@router.get("/report.pdf", response_class=Response,
            responses={200: binary_response("application/pdf", description="The service report (PDF)"),
                       **{k: PROBLEM_RESPONSES[k] for k in (404, 409)}},
            summary="S30: the printable service report (Chinese and English)")
async def report_pdf(visit_id: UUID, principal: VisitReader, sessions: Sessions, storage: Storage) -> Response:
    async with sessions() as session:
        visit = await visits.get(session=session, visit_id=visit_id, principal=principal)
        pdf = await service.report_pdf(session=session, visit=visit, storage=storage)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="service-report-{visit.crm_reference}.pdf"'})


@router.post("/report-verification", response_model=ReportVerification,
             responses={k: PROBLEM_RESPONSES[k] for k in (404,)},
             openapi_extra={"requestBody": {"required": True, "description": "The PDF to check",
                                            "content": {"application/pdf": {"schema": {"type": "string",
                                                                                        "format": "binary"}}}}},
             summary="S30: is this PDF (the request body) the service report the customer signed?")
async def verify_report(visit_id: UUID, request: Request, principal: VisitReader,
                        sessions: Sessions) -> ReportVerification:
    limit, pdf = MAX_UPLOAD_BYTES, b""
    async for chunk in request.stream():
        pdf += chunk
        if len(pdf) > limit:
            raise PayloadTooLarge(msg("a service report is at most {limit} bytes", limit=limit))
    async with sessions() as session:
        visit = await visits.get(session=session, visit_id=visit_id, principal=principal)
        return await service.verify_report(session=session, visit=visit, pdf=pdf)


add_route(router, "/departures", create=DepartureCreate, read=DepartureRead, add=service.depart, name="depart",
          summary="S33: an engineer leaves the site (the last closes the visit) -> EngineerDeparted")
list_route(router, "/departures", read=DepartureRead, rows=service.departures, name="list_departures",
           summary="S33: departures")
