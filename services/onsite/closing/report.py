"""S30: the printable service report (服务报告), Chinese and English side by side: what the customer signs.

The font (Noto Sans CJK SC, SIL OFL 1.1) is embedded as a subset (`pdf_font`), so any reader shows
the Chinese. Times are the site's local times with their UTC offset; values are written to the
precision and unit of their check-sheet item. At signing, the report's content is frozen as a snapshot
with the receipt and the PDF's SHA-256 recorded; the signed report is always rendered from that
snapshot with reportlab's invariant mode and the signing time as its date, so it is byte-identical
whenever it is regenerated.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, tzinfo
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.closing import pdf_font
from services.onsite.closing.models import Departure, Handover, RepairTakeBack, ServiceReport
from services.onsite.evidence.models import EvidenceFile
from services.onsite.site_records.models import TrainingSession
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord, VisitQualityIssue
from services.onsite.work.models import ProcessDataReading, ProcessDataRecord, SiteTask, WitnessRecord

# ---------------------------------------------------------------- what the report says


class Reading(BaseModel):
    value: Any
    unit: str | None = None
    at: datetime


class ValueLine(BaseModel):
    """S13/S25: one check-sheet value with its item's limits, its result and (if it failed) its disposition."""

    task: str
    item_id: str
    item_text: str = ""
    value: Any
    unit: str | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    passed: bool
    recorded_by: str
    recorded_at: datetime
    disposition: str | None = None
    issue_id: str | None = None
    concession_reason: str | None = None
    failed_readings: list[Reading] = Field(default_factory=list)


class WitnessLine(BaseModel):
    name: str
    role: str
    subject: str
    signature: str
    at: datetime


class EvidenceLine(BaseModel):
    filename: str
    attached_kind: str
    sha256: str
    size: int
    uploaded_at: datetime


class HandoverLine(BaseModel):
    items: list[str]
    received_by: str
    at: datetime


class RepairLine(BaseModel):
    receipt_number: str
    equipment: str
    fault: str
    at: datetime


class TrainingLine(BaseModel):
    topics: list[str]
    attendees: list[str]
    materials: list[str]
    demonstration: bool
    evaluation_scores: list[int]
    evaluation_declined: bool
    test_scores: list[float]
    at: datetime


class IssueLine(BaseModel):
    severity: str
    failure_mode: str
    description: str
    status: str
    escalated: bool


class Receipt(BaseModel):
    work_done: str
    operating_advice: str
    unfinished: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    comment: str | None = None
    signed_by: str
    signature_kind: str = "typed"
    typed_name: str | None = None
    signature_evidence_id: str | None = None
    signature_sha256: str | None = None
    signed_at: datetime


class ReportData(BaseModel):
    """Everything printed on the report (also the snapshot kept with a signed receipt)."""

    crm_reference: str
    customer_name: str
    site_name: str
    equipment_type: str
    region: str
    team: list[str]
    time_zone: str = "Asia/Shanghai"
    arrivals: list[tuple[str, datetime]] = Field(default_factory=list)
    departures: list[tuple[str, datetime]] = Field(default_factory=list)
    values: list[ValueLine] = Field(default_factory=list)
    witnesses: list[WitnessLine] = Field(default_factory=list)
    evidence: list[EvidenceLine] = Field(default_factory=list)
    handovers: list[HandoverLine] = Field(default_factory=list)
    repairs: list[RepairLine] = Field(default_factory=list)
    training: list[TrainingLine] = Field(default_factory=list)
    issues: list[IssueLine] = Field(default_factory=list)
    receipt: Receipt | None = None


async def gather(*, session: AsyncSession, visit: SiteVisit, zone: tzinfo,
                 report: ServiceReport | None = None) -> ReportData:
    """Collect what the report shows from the visit's records (`report`: the signed receipt, if any)."""
    def rows(model: Any, order: Any) -> Any:
        return select(model).where(model.visit_id == visit.id).order_by(order)

    arrivals = (await session.execute(rows(ThreeCallsRecord, ThreeCallsRecord.arrived_at))).scalars()
    departures = (await session.execute(rows(Departure, Departure.departed_at))).scalars()
    tasks = {t.id: t for t in (await session.execute(rows(SiteTask, SiteTask.created_at))).scalars()}
    records = (await session.execute(rows(ProcessDataRecord, ProcessDataRecord.recorded_at))).scalars().all()
    failed: dict[Any, list[Reading]] = {}
    for reading in (await session.execute(rows(ProcessDataReading, ProcessDataReading.recorded_at).where(
            col(ProcessDataReading.passed).is_(False)))).scalars():
        failed.setdefault(reading.record_id, []).append(
            Reading(value=reading.value, unit=reading.unit, at=reading.recorded_at))
    witnesses = (await session.execute(rows(WitnessRecord, WitnessRecord.signed_at))).scalars()
    evidence = (await session.execute(rows(EvidenceFile, EvidenceFile.uploaded_at))).scalars().all()
    handovers = (await session.execute(rows(Handover, Handover.handed_over_at))).scalars()
    repairs = (await session.execute(rows(RepairTakeBack, RepairTakeBack.taken_at))).scalars()
    training = (await session.execute(rows(TrainingSession, TrainingSession.delivered_at))).scalars()
    issues = (await session.execute(rows(VisitQualityIssue, VisitQualityIssue.logged_at))).scalars()

    values = []
    for r in records:
        task = tasks.get(r.task_id)
        item: dict[str, Any] = next((i for i in (task.items if task else []) if i["item_id"] == r.item_id), {})
        values.append(ValueLine(
            task=task.title if task else "", item_id=r.item_id, item_text=item.get("text", ""), value=r.value,
            unit=r.unit or item.get("unit"), lower_limit=item.get("lower_limit"), upper_limit=item.get("upper_limit"),
            passed=r.passed, recorded_by=r.recorded_by, recorded_at=r.recorded_at, disposition=r.disposition,
            issue_id=str(r.issue_id) if r.issue_id else None, concession_reason=r.concession_reason,
            failed_readings=failed.get(r.id, [])))
    receipt = None
    if report is not None:
        signature = report.receipt_signature or {}
        image_id = signature.get("evidence_id")
        image = next((e for e in evidence if str(e.id) == str(image_id)), None) if image_id else None
        receipt = Receipt(
            work_done=report.work_done, operating_advice=report.operating_advice,
            unfinished=report.unfinished_items, ratings=report.aspect_ratings, comment=report.customer_comment,
            signed_by=report.receipt_signed_by, signature_kind=signature.get("kind", "typed"),
            typed_name=signature.get("typed_name"), signature_evidence_id=str(image_id) if image_id else None,
            signature_sha256=image.sha256 if image else None, signed_at=report.signed_off_at)
    return ReportData(
        crm_reference=visit.crm_reference, customer_name=visit.customer_name, site_name=visit.site_name,
        equipment_type=visit.equipment_type, region=visit.region,
        team=[m.get("name", m.get("engineer_id")) for m in visit.team],
        time_zone=getattr(zone, "key", str(zone)),
        arrivals=[(a.engineer_id, a.arrived_at) for a in arrivals],
        departures=[(d.engineer_id, d.departed_at) for d in departures],
        values=values,
        witnesses=[WitnessLine(name=w.name, role=w.role, subject=w.subject_kind,
                               signature=w.typed_name if w.signature_kind == "typed" and w.typed_name
                               else "[签名图像 / signature image]", at=w.signed_at) for w in witnesses],
        evidence=[EvidenceLine(filename=e.filename, attached_kind=e.attached_kind, sha256=e.sha256, size=e.size,
                               uploaded_at=e.uploaded_at) for e in evidence],
        handovers=[HandoverLine(items=[f"{i['name']} x {i['quantity']} ({i['kind']})" for i in h.items],
                                received_by=h.received_by, at=h.handed_over_at) for h in handovers],
        repairs=[RepairLine(receipt_number=r.receipt_number, equipment=r.equipment, fault=r.fault, at=r.taken_at)
                 for r in repairs],
        training=[TrainingLine(topics=t.topics, attendees=t.attendees, materials=t.materials,
                               demonstration=t.demonstration, evaluation_scores=t.evaluation_scores,
                               evaluation_declined=t.evaluation_declined, test_scores=t.test_scores,
                               at=t.delivered_at) for t in training],
        issues=[IssueLine(severity=i.severity, failure_mode=i.failure_mode, description=i.description,
                          status=i.status, escalated=i.escalated) for i in issues],
        receipt=receipt,
    )


# ---------------------------------------------------------------- formatting (pure)

def local_time(moment: datetime | None, zone: tzinfo) -> str:
    """A time as the site reads it: local date and time with the UTC offset, e.g. `2026-11-29 19:47 (UTC+08:00)`."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def decimals(number: float) -> int:
    """Decimal places a number needs (float noise beyond 9 places ignored): 0.6000000000000001 -> 1."""
    text = f"{float(number):.9f}".rstrip("0")
    return len(text.split(".")[1])


def format_number(number: float, places: int) -> str:
    return f"{float(number):.{places}f}"


def item_precision(lower: float | None, upper: float | None) -> int:
    """The precision of a check-sheet item: as many decimals as its limits are written with."""
    return max([decimals(x) for x in (lower, upper) if x is not None], default=0)


def format_value(value: Any, unit: str | None, lower: float | None = None, upper: float | None = None) -> str:
    """A recorded value in its item's unit, to the item's precision (never fewer places than were measured)."""
    if isinstance(value, bool):
        return "是 / yes" if value else "否 / no"
    if isinstance(value, int | float):
        shown = format_number(value, max(item_precision(lower, upper), min(decimals(value), 6)))
        return f"{shown} {unit}".strip() if unit else shown
    return "-" if value is None else str(value)


def format_limits(unit: str | None, lower: float | None, upper: float | None) -> str:
    """The acceptance limits of an item, to its precision: `0.50 - 0.70 MPa`, `≥ 0.5 MPa`, `-`."""
    places = item_precision(lower, upper)
    suffix = f" {unit}" if unit else ""
    if lower is not None and upper is not None:
        return f"{format_number(lower, places)} - {format_number(upper, places)}{suffix}"
    if lower is not None:
        return f"≥ {format_number(lower, places)}{suffix}"
    if upper is not None:
        return f"≤ {format_number(upper, places)}{suffix}"
    return "-"


DISPOSITIONS = {"remeasured": "复测合格 / re-measured within limits", "issue": "已登记问题 / logged issue",
                "concession": "客户让步接收 / customer concession"}


def disposition_text(line: ValueLine, zone: tzinfo) -> str:
    """S25: what happened to a failed value (the failed readings are listed, never dropped)."""
    earlier = "; ".join(f"{format_value(r.value, r.unit or line.unit, line.lower_limit, line.upper_limit)} "
                        f"@ {local_time(r.at, zone)}" for r in line.failed_readings)
    parts = []
    if line.disposition:
        parts.append(DISPOSITIONS.get(line.disposition, line.disposition))
    if line.issue_id:
        parts.append(f"问题 / issue {line.issue_id}")
    if line.concession_reason:
        parts.append(f"理由 / reason: {line.concession_reason}")
    if earlier:
        parts.append(f"不合格读数 / failed readings: {earlier}")
    if not line.passed and not line.disposition:
        parts.append("未处置 / no disposition")
    return "; ".join(parts) or "-"


# ---------------------------------------------------------------- the document

Block = tuple[str, Any]


def blocks(data: ReportData) -> list[Block]:
    """The report as headings, paragraphs and tables of plain text (the font is cut to exactly this text)."""
    zone = ZoneInfo(data.time_zone)
    offset = local_time(data.receipt.signed_at if data.receipt else None, zone)
    out: list[Block] = [
        ("head", "安装调试服务报告 / Installation and Commissioning Service Report"),
        ("table", ([["项目 / Field", "内容 / Value"],
                    ["CRM编号 / CRM reference", data.crm_reference], ["客户 / Customer", data.customer_name],
                    ["现场 / Site", data.site_name], ["设备 / Equipment", data.equipment_type],
                    ["服务人员 / Engineers", ", ".join(data.team)],
                    ["时区 / Time zone", f"{data.time_zone}" + (f" {offset.split(' ', 2)[2]}"
                                                                if data.receipt else "")]], [55, 119])),
        ("sub", "到达 / Arrival"),
        ("table", ([["服务人员 / Engineer", "到达 / Arrived", "离开 / Departed"]] + [
            [eng, local_time(at, zone), local_time(next((d for e, d in data.departures if e == eng), None), zone)]
            for eng, at in data.arrivals], [58, 58, 58])),
        ("sub", "点检表数据 / Check-sheet values"),
        ("table", ([["任务 / Task", "项目 / Item", "数值 / Value", "限值 / Limits", "结果 / Result",
                     "处置 / Disposition"]] + [
            [v.task, f"{v.item_id} {v.item_text}".strip(),
             format_value(v.value, v.unit, v.lower_limit, v.upper_limit),
             format_limits(v.unit, v.lower_limit, v.upper_limit),
             "合格 / passed" if v.passed else "不合格 / FAILED", disposition_text(v, zone)]
            for v in data.values], [26, 32, 22, 26, 26, 42])),
        ("sub", "见证 / Witnesses"),
        ("table", ([["姓名 / Name", "职务 / Role", "见证内容 / Witnessed", "签名 / Signature", "时间 / Time"]] + [
            [w.name, w.role, w.subject, w.signature, local_time(w.at, zone)] for w in data.witnesses],
            [28, 30, 36, 38, 42])),
        ("sub", "证据 / Evidence (SHA-256)"),
        ("table", ([["文件 / File", "类别 / Kind", "SHA-256", "上传 / Uploaded"]] + [
            [f"{e.filename} ({e.size} B)", e.attached_kind, e.sha256, local_time(e.uploaded_at, zone)]
            for e in data.evidence], [36, 24, 72, 42])),
        ("sub", "移交 / Hand-over (S28)"),
        ("table", ([["物品 / Items", "接收人 / Received by", "时间 / Time"]] + [
            ["; ".join(h.items) or "无 / nothing to hand over", h.received_by, local_time(h.at, zone)]
            for h in data.handovers] + [
            [f"返修 / taken back for repair: {r.equipment} ({r.fault}), 收据 / receipt {r.receipt_number}", "-",
             local_time(r.at, zone)] for r in data.repairs], [96, 36, 42])),
        ("sub", "培训 / Training (S31)"),
        ("table", ([["内容 / Topics", "学员 / Attendees", "评价 / Evaluation", "考核 / Test", "时间 / Time"]] + [
            [", ".join(t.topics) + (" (演示 / demonstrated)" if t.demonstration else ""), ", ".join(t.attendees),
             "客户拒绝评价 / declined" if t.evaluation_declined else
             (", ".join(f"{s}/5" for s in t.evaluation_scores) or "-"),
             ", ".join(format_value(s, None) for s in t.test_scores) or "-", local_time(t.at, zone)]
            for t in data.training], [40, 40, 32, 20, 42])),
        ("sub", "问题与升级 / Issues and escalation (S25)"),
        ("table", ([["问题 / Issue", "严重度 / Severity", "状态 / Status", "升级 / Escalated"]] + [
            [f"{i.failure_mode}: {i.description}", i.severity, i.status, "是 / yes" if i.escalated else "否 / no"]
            for i in data.issues], [90, 28, 28, 28])),
    ]
    r = data.receipt
    if r is None:
        return [*out, ("space", 4), ("p", "服务尚未签收 / The service receipt is not signed yet.")]
    signature = (r.typed_name or r.signed_by) if r.signature_kind == "typed" else "[签名图像 / signature image]"
    out += [
        ("sub", "服务结果 / Result"),
        ("p", f"完成工作 / Work done: {r.work_done}"),
        ("p", f"运行建议 / Operating advice: {r.operating_advice}"),
        ("p", "未完成事项 / Unfinished items: " + ("; ".join(
            f"{u['description']} ({u['planned_date']})" for u in r.unfinished) or "无 / none")),
        ("p", "客户评价 / Customer rating: " + (", ".join(f"{a['aspect']}: {a['score']}/5" for a in r.ratings)
                                               or "-")),
        ("p", f"客户意见 / Customer comment: {r.comment or '-'}"),
        ("space", 6),
        ("p", f"服务回执单签字 / Service receipt signed by: {r.signed_by} ({signature}), "
              f"{local_time(r.signed_at, zone)}"),
    ]
    if r.signature_sha256:
        out += [("signature", r.signature_sha256), ("p", f"签名图像 SHA-256 / signature image SHA-256: "
                                                         f"{r.signature_sha256}")]
    return out


def _text(block: Block) -> str:
    kind, content = block
    if kind == "table":
        return "".join(str(c) for row in content[0] for c in row)
    return str(content) if kind in ("head", "sub", "p") else ""


def _pdf_date(moment: datetime | None) -> Any:
    """reportlab's date formatter giving the signing time (UTC) as the document's dates."""
    def formatter(*_: int) -> str:
        return f"D:{moment:%Y%m%d%H%M%S}+00'00'" if moment else "D:20000101000000+00'00'"
    return formatter


def _canvas(*args: Any, signed_at: datetime | None, **kwargs: Any) -> Canvas:
    canvas = Canvas(*args, **{**kwargs, "invariant": 1})
    # reportlab has no public setter (and its stubs do not declare the document)
    cast(Any, canvas)._doc.setDateFormatter(_pdf_date(signed_at))
    return canvas


def render_pdf(data: ReportData, signature_image: bytes | None = None) -> bytes:
    """The report as PDF bytes; the same data (and signature image) always give the same bytes."""
    content = blocks(data)
    with pdf_font.registered_for("".join(_text(b) for b in content) + "无 / none0123456789-") as font:
        return _build(content, font, data, signature_image)


def _build(content: list[Block], font: str, data: ReportData, signature_image: bytes | None) -> bytes:
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=20, spaceAfter=6)
    sub = ParagraphStyle("sub", parent=body, fontSize=10.5, leading=15, spaceBefore=8, spaceAfter=4, keepWithNext=1)

    def p(text: object, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), style)

    story: list[Any] = []
    for kind, value in content:
        if kind == "table":
            rows, widths = value
            if len(rows) == 1:
                rows = [*rows, ["无 / none"] + [""] * (len(widths) - 1)]
            table = Table([[p(c) for c in row] for row in rows], colWidths=[w * mm for w in widths], repeatRows=1)
            table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),
                                       ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
        elif kind == "space":
            story.append(Spacer(1, value * mm))
        elif kind == "signature":
            story.append(_signature(signature_image, value) or p("[签名图像不可用 / signature image unavailable]"))
        else:
            story.append(p(value, {"head": head, "sub": sub}.get(kind, body)))
    buffer = io.BytesIO()
    signed_at = data.receipt.signed_at if data.receipt else None
    SimpleDocTemplate(buffer, pagesize=A4, title=f"Service report {data.crm_reference}", author="fieldservice",
                      subject="S30 service report", creator="fieldservice onsite", leftMargin=18 * mm,
                      rightMargin=18 * mm, invariant=1, initialFontName=font).build(
        story, canvasmaker=partial(_canvas, signed_at=signed_at))
    return buffer.getvalue()


def _signature(image: bytes | None, sha256: str) -> Image | None:
    """The captured signature image, if its bytes are the ones recorded and readable as an image."""
    if image is None or hashlib.sha256(image).hexdigest() != sha256:
        return None
    try:
        width, height = ImageReader(io.BytesIO(image)).getSize()
    except Exception:  # any unreadable image is shown as unavailable, never fails the report
        return None
    scale = min(60 * mm / max(width, 1), 20 * mm / max(height, 1))
    return Image(io.BytesIO(image), width=width * scale, height=height * scale, hAlign="LEFT")


def sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()
