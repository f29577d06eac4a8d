"""HTTP: communication log and customer reports (S15, S16), process records (S18), leaving mid-way (S21),
raised items (S22-S24), training (S31), customer information (S32)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel
from sqlalchemy import select

from services.onsite.site_records import service
from services.onsite.site_records.models import (
    CommunicationCreate,
    CommunicationEntry,
    CommunicationRead,
    CustomerInformation,
    CustomerInformationCreate,
    CustomerInformationRead,
    CustomerReport,
    CustomerReportCreate,
    CustomerReportRead,
    LeaveCreate,
    LeaveRead,
    LeaveRequest,
    ProcessRecord,
    ProcessRecordCreate,
    ProcessRecordRead,
    RaisedItem,
    RaisedItemCreate,
    RaisedItemRead,
    TrainingCreate,
    TrainingMaterial,
    TrainingMaterialCreate,
    TrainingMaterialRead,
    TrainingRead,
    TrainingSession,
)
from services.onsite.visits import service as visits
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.pagination import Cursor, Page, PageSize
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["records on site"])

VisitReader = Annotated[Principal, Depends(Requires(
    Role.ENGINEER, Role.DISPATCHER, Role.REGIONAL_CENTRE, Role.DEPARTMENT_HEAD))]
Engineer = Annotated[Principal, Depends(Requires(Role.ENGINEER, admin=False))]
CatalogueOwner = Annotated[Principal, Depends(Requires(Role.DEPARTMENT_HEAD))]
WRITE: dict[int | str, dict[str, Any]] = {k: PROBLEM_RESPONSES[k] for k in (404, 409)}
V = "/visits/{visit_id}"
Read = TypeVar("Read", bound=BaseModel)


async def _listed(sessions: Sessions, principal: Principal, visit_id: UUID, model: type[service.VisitRecord], at: Any,
                  read: type[Read], limit: int, cursor: str | None) -> Page[Read]:
    async with sessions() as session:
        await visits.get(session=session, visit_id=visit_id, principal=principal)
        rows, next_cursor = await service.list_of(session=session, model=model, visit_id=visit_id, at=at,
                                                  limit=limit, cursor=cursor)
        return Page(items=[read.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(f"{V}/communications", response_model=CommunicationRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE, summary="S15: communication log entry -> CommunicationLogged")
async def log_communication(visit_id: UUID, body: CommunicationCreate, principal: Engineer,
                            sessions: Sessions) -> CommunicationRead:
    async with transaction(sessions) as session:
        return CommunicationRead.model_validate(await service.log_communication(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get(f"{V}/communications", response_model=Page[CommunicationRead], summary="S15: communication log")
async def list_communications(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[CommunicationRead]:
    return await _listed(sessions, principal, visit_id, CommunicationEntry, CommunicationEntry.logged_at,
                         CommunicationRead, limit, cursor)


@router.post(f"{V}/customer-reports", response_model=CustomerReportRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE, summary="S16: periodic report with the customer's opinion -> CustomerReportSent")
async def send_customer_report(visit_id: UUID, body: CustomerReportCreate, principal: Engineer,
                               sessions: Sessions) -> CustomerReportRead:
    async with transaction(sessions) as session:
        return CustomerReportRead.model_validate(await service.send_customer_report(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get(f"{V}/customer-reports", response_model=Page[CustomerReportRead], summary="S16: reports to the customer")
async def list_customer_reports(visit_id: UUID, principal: VisitReader,
                                sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[CustomerReportRead]:
    return await _listed(sessions, principal, visit_id, CustomerReport, CustomerReport.sent_at,
                         CustomerReportRead, limit, cursor)


@router.post(f"{V}/process-records", response_model=ProcessRecordRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE, summary="S18: drawing modification, problem handling, minutes, design change")
async def add_process_record(visit_id: UUID, body: ProcessRecordCreate, principal: Engineer,
                             sessions: Sessions) -> ProcessRecordRead:
    async with transaction(sessions) as session:
        return ProcessRecordRead.model_validate(await service.add_process_record(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get(f"{V}/process-records", response_model=Page[ProcessRecordRead], summary="S18: process records")
async def list_process_records(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[ProcessRecordRead]:
    return await _listed(sessions, principal, visit_id, ProcessRecord, ProcessRecord.recorded_at,
                         ProcessRecordRead, limit, cursor)


@router.post(f"{V}/leave-requests", response_model=LeaveRead, status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S21: leaving mid-way (site manager's consent, or refusal and approved exception)")
async def decide_leave(visit_id: UUID, body: LeaveCreate, principal: Engineer, sessions: Sessions) -> LeaveRead:
    async with transaction(sessions) as session:
        return LeaveRead.model_validate(await service.decide_leave(session=session, visit_id=visit_id, body=body,
                                                                   principal=principal))


@router.post(f"{V}/leave-requests/{{leave_id}}/exception-approval", response_model=LeaveRead, responses=WRITE,
             summary="S21: a department head approves the exception of a refused leave -> LeaveExceptionApproved")
async def approve_leave_exception(visit_id: UUID, leave_id: UUID, principal: CatalogueOwner,
                                  sessions: Sessions) -> LeaveRead:
    async with transaction(sessions) as session:
        return LeaveRead.model_validate(await service.approve_leave_exception(
            session=session, visit_id=visit_id, leave_id=leave_id, principal=principal))


@router.get(f"{V}/leave-requests", response_model=Page[LeaveRead], summary="S21: leave decisions")
async def list_leave(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[LeaveRead]:
    return await _listed(sessions, principal, visit_id, LeaveRequest, LeaveRequest.decided_at,
                         LeaveRead, limit, cursor)


@router.post(f"{V}/raised-items", response_model=RaisedItemRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE, summary="S22-S24: referral, abnormal request or internal disagreement, routed "
                                      "by dispatch -> ReferralRaised / CustomerRequestEscalated / "
                                      "InternalDisagreementRaised")
async def raise_item(visit_id: UUID, body: RaisedItemCreate, principal: Engineer,
                     sessions: Sessions) -> RaisedItemRead:
    async with transaction(sessions) as session:
        return RaisedItemRead.model_validate(await service.raise_item(session=session, visit_id=visit_id, body=body,
                                                                      principal=principal))


@router.get(f"{V}/raised-items", response_model=Page[RaisedItemRead],
            summary="S22-S24: raised items with their routing and answers")
async def list_raised_items(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[RaisedItemRead]:
    return await _listed(sessions, principal, visit_id, RaisedItem, RaisedItem.raised_at,
                         RaisedItemRead, limit, cursor)


@router.post("/training-materials", response_model=TrainingMaterialRead, status_code=status.HTTP_201_CREATED,
             responses={409: PROBLEM_RESPONSES[409]}, summary="S31: add a training material to the catalogue")
async def add_training_material(body: TrainingMaterialCreate, principal: CatalogueOwner,
                                sessions: Sessions) -> TrainingMaterialRead:
    async with transaction(sessions) as session:
        return TrainingMaterialRead.model_validate(await service.add_training_material(
            session=session, body=body, principal=principal))


@router.get("/training-materials", response_model=list[TrainingMaterialRead],
            summary="S31: the catalogue of training materials with approval status")
async def list_training_materials(principal: VisitReader, sessions: Sessions) -> list[TrainingMaterialRead]:
    async with sessions() as session:
        rows = (await session.execute(select(TrainingMaterial).order_by(TrainingMaterial.code).limit(500))).scalars()
        return [TrainingMaterialRead.model_validate(m) for m in rows]


@router.post(f"{V}/trainings", response_model=TrainingRead, status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S31: customer training with approved materials -> TrainingDelivered")
async def deliver_training(visit_id: UUID, body: TrainingCreate, principal: Engineer,
                           sessions: Sessions) -> TrainingRead:
    async with transaction(sessions) as session:
        return TrainingRead.model_validate(await service.deliver_training(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get(f"{V}/trainings", response_model=Page[TrainingRead], summary="S31: trainings delivered")
async def list_trainings(visit_id: UUID, principal: VisitReader, sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[TrainingRead]:
    return await _listed(sessions, principal, visit_id, TrainingSession, TrainingSession.delivered_at,
                         TrainingRead, limit, cursor)


@router.post(f"{V}/customer-information", response_model=CustomerInformationRead,
             status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="S32: opinion, suggestion or business lead -> CustomerInformationCaptured")
async def capture_customer_information(visit_id: UUID, body: CustomerInformationCreate, principal: Engineer,
                                       sessions: Sessions) -> CustomerInformationRead:
    async with transaction(sessions) as session:
        return CustomerInformationRead.model_validate(await service.capture_customer_information(
            session=session, visit_id=visit_id, body=body, principal=principal))


@router.get(f"{V}/customer-information", response_model=Page[CustomerInformationRead],
            summary="S32: customer information captured on site")
async def list_customer_information(visit_id: UUID, principal: VisitReader,
                                    sessions: Sessions, limit: PageSize = 50,
        cursor: Cursor = None) -> Page[CustomerInformationRead]:
    return await _listed(sessions, principal, visit_id, CustomerInformation, CustomerInformation.captured_at,
                         CustomerInformationRead, limit, cursor)
