"""HTTP: communication log and customer reports (S15, S16), process records (S18), leaving mid-way (S21),
raised items (S22-S24), training (S31), customer information (S32)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
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
from services.onsite.visit_routes import WRITE, VisitReader, add_route, page_route
from shared.api.app import Sessions
from shared.api.auth import Principal, Requires, Role
from shared.api.problems import PROBLEM_RESPONSES
from shared.db import transaction

router = APIRouter(tags=["records on site"])

CatalogueOwner = Annotated[Principal, Depends(Requires(Role.DEPARTMENT_HEAD))]
V = "/visits/{visit_id}"
Read = TypeVar("Read", bound=BaseModel)


def _visit_records(path: str, *, create: type[BaseModel], read: type[Read], table: type[service.VisitRecord],
                   at: Any, add: Callable[..., Awaitable[Any]], add_name: str, add_summary: str, list_name: str,
                   list_summary: str) -> None:
    """One kind of record on a visit: an engineer of its team adds one (201, the record); whoever reads the
    visit lists them, oldest first. The operations keep their names (`add_name`, `list_name`: the operation ids)."""

    add_route(router, f"{V}/{path}", create=create, read=read, add=add, name=add_name, summary=add_summary)
    page_route(router, f"{V}/{path}", read=read, rows=partial(service.list_of, model=table, at=at), name=list_name,
               summary=list_summary)


_visit_records("communications", create=CommunicationCreate, read=CommunicationRead, table=CommunicationEntry,
               at=CommunicationEntry.logged_at, add=service.log_communication,
               add_name="log_communication", add_summary="S15: communication log entry -> CommunicationLogged",
               list_name="list_communications", list_summary="S15: communication log")
_visit_records("customer-reports", create=CustomerReportCreate, read=CustomerReportRead, table=CustomerReport,
               at=CustomerReport.sent_at, add=service.send_customer_report,
               add_name="send_customer_report",
               add_summary="S16: periodic report with the customer's opinion -> CustomerReportSent",
               list_name="list_customer_reports", list_summary="S16: reports to the customer")
_visit_records("process-records", create=ProcessRecordCreate, read=ProcessRecordRead, table=ProcessRecord,
               at=ProcessRecord.recorded_at, add=service.add_process_record,
               add_name="add_process_record",
               add_summary="S18: drawing modification, problem handling, minutes, design change",
               list_name="list_process_records", list_summary="S18: process records")
_visit_records("leave-requests", create=LeaveCreate, read=LeaveRead, table=LeaveRequest,
               at=LeaveRequest.decided_at, add=service.decide_leave,
               add_name="decide_leave",
               add_summary="S21: leaving mid-way (site manager's consent, or refusal and approved exception)",
               list_name="list_leave", list_summary="S21: leave decisions")


@router.post(f"{V}/leave-requests/{{leave_id}}/exception-approval", response_model=LeaveRead, responses=WRITE,
             summary="S21: a department head approves the exception of a refused leave -> LeaveExceptionApproved")
async def approve_leave_exception(visit_id: UUID, leave_id: UUID, principal: CatalogueOwner,
                                  sessions: Sessions) -> LeaveRead:
    async with transaction(sessions) as session:
        return LeaveRead.model_validate(await service.approve_leave_exception(
            session=session, visit_id=visit_id, leave_id=leave_id, principal=principal))


_visit_records("raised-items", create=RaisedItemCreate, read=RaisedItemRead, table=RaisedItem,
               at=RaisedItem.raised_at, add=service.raise_item,
               add_name="raise_item",
               add_summary="S22-S24: referral, abnormal request or internal disagreement, routed by dispatch -> "
                           "ReferralRaised / CustomerRequestEscalated / InternalDisagreementRaised",
               list_name="list_raised_items", list_summary="S22-S24: raised items with their routing and answers")


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


_visit_records("trainings", create=TrainingCreate, read=TrainingRead, table=TrainingSession,
               at=TrainingSession.delivered_at, add=service.deliver_training,
               add_name="deliver_training",
               add_summary="S31: customer training with approved materials -> TrainingDelivered",
               list_name="list_trainings", list_summary="S31: trainings delivered")
_visit_records("customer-information", create=CustomerInformationCreate, read=CustomerInformationRead,
               table=CustomerInformation, at=CustomerInformation.captured_at,
               add=service.capture_customer_information, add_name="capture_customer_information",
               add_summary="S32: opinion, suggestion or business lead -> CustomerInformationCaptured",
               list_name="list_customer_information", list_summary="S32: customer information captured on site")
