"""S30: the printable service report (服务报告), in Chinese and English.

Uses reportlab's built-in CID font `STSong-Light` for Chinese, so no font file is needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.onsite.closing.models import Departure, ServiceReport
from services.onsite.visits.models import SiteVisit, ThreeCallsRecord
from services.onsite.work.models import ProcessDataRecord, SiteTask, WitnessRecord

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class ReportData:
    """Everything printed on the report, gathered from the visit's records."""

    visit: dict[str, Any]
    arrivals: list[tuple[str, datetime]] = field(default_factory=list)
    departures: list[tuple[str, datetime]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    witnesses: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] | None = None


async def gather(*, session: AsyncSession, visit: SiteVisit) -> ReportData:
    """Collect arrival/departure times, check-sheet values, witnesses and the signed receipt."""
    arrivals = (await session.execute(select(ThreeCallsRecord).where(ThreeCallsRecord.visit_id == visit.id)
                                      .order_by(ThreeCallsRecord.arrived_at))).scalars()
    departures = (await session.execute(select(Departure).where(Departure.visit_id == visit.id)
                                        .order_by(Departure.departed_at))).scalars()
    tasks = {t.id: t for t in (await session.execute(select(SiteTask).where(SiteTask.visit_id == visit.id))).scalars()}
    records = (await session.execute(select(ProcessDataRecord).where(ProcessDataRecord.visit_id == visit.id)
                                     .order_by(ProcessDataRecord.recorded_at))).scalars()
    witnesses = (await session.execute(select(WitnessRecord).where(WitnessRecord.visit_id == visit.id)
                                       .order_by(WitnessRecord.signed_at))).scalars()
    report = await session.get(ServiceReport, visit.id)
    values = []
    for r in records:
        task = tasks.get(r.task_id)
        item = next((i for i in (task.items if task else []) if i["item_id"] == r.item_id), {})
        values.append({"task": task.title if task else "", "item": f"{r.item_id} {item.get('text', '')}",
                       "value": f"{r.value} {r.unit or ''}".strip(), "passed": r.passed, "by": r.recorded_by})
    return ReportData(
        visit={"crm_reference": visit.crm_reference, "customer_name": visit.customer_name,
               "site_name": visit.site_name, "equipment_type": visit.equipment_type, "region": visit.region,
               "team": [m.get("name", m.get("engineer_id")) for m in visit.team], "status": visit.status},
        arrivals=[(a.engineer_id, a.arrived_at) for a in arrivals],
        departures=[(d.engineer_id, d.departed_at) for d in departures],
        values=values,
        witnesses=[{"name": w.name, "role": w.role, "subject": w.subject_kind,
                    "signature": w.typed_name if w.signature_kind == "typed" else "[image]",
                    "at": w.signed_at} for w in witnesses],
        report=None if report is None else {
            "work_done": report.work_done, "operating_advice": report.operating_advice,
            "unfinished": report.unfinished_items, "ratings": report.aspect_ratings,
            "comment": report.customer_comment, "signed_by": report.receipt_signed_by,
            "signature": report.receipt_signature, "signed_at": report.signed_off_at},
    )


def _t(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def render_pdf(data: ReportData) -> bytes:
    """The report as PDF bytes: headings and labels in Chinese and English."""
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
    head = ParagraphStyle("head", parent=body, fontSize=15, leading=20, spaceAfter=6)
    sub = ParagraphStyle("sub", parent=body, fontSize=11, leading=16, spaceBefore=8, spaceAfter=4)

    def p(text: object) -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"), body)

    def table(rows: list[list[object]], widths: list[float]) -> Table:
        t = Table([[p(c) for c in row] for row in rows], colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    v = data.visit
    story: list[Any] = [
        Paragraph("安装调试服务报告 / Installation and Commissioning Service Report", head),
        table([["项目 / Field", "内容 / Value"],
               ["CRM编号 / CRM reference", v["crm_reference"]], ["客户 / Customer", v["customer_name"]],
               ["现场 / Site", v["site_name"]], ["设备 / Equipment", v["equipment_type"]],
               ["服务人员 / Engineers", ", ".join(v["team"])]], [55, 115]),
        Paragraph("到达与离开 / Arrival and departure", sub),
        table([["服务人员 / Engineer", "到达 / Arrived", "离开 / Departed"]] + [
            [eng, _t(at), _t(next((d for e, d in data.departures if e == eng), None))]
            for eng, at in data.arrivals], [60, 55, 55]),
        Paragraph("点检表数据 / Check-sheet values", sub),
        table([["任务 / Task", "项目 / Item", "数值 / Value", "结果 / Result"]] + [
            [r["task"], r["item"], r["value"], "合格 / passed" if r["passed"] else "不合格 / FAILED"]
            for r in data.values], [45, 65, 30, 30]),
        Paragraph("见证 / Witnesses", sub),
        table([["姓名 / Name", "职务 / Role", "见证内容 / Witnessed", "签名 / Signature", "时间 / Time"]] + [
            [w["name"], w["role"], w["subject"], w["signature"], _t(w["at"])] for w in data.witnesses],
            [30, 30, 30, 40, 40]),
    ]
    r = data.report
    if r is not None:
        story += [
            Paragraph("服务结果 / Result", sub),
            p(f"完成工作 / Work done: {r['work_done']}"),
            p(f"运行建议 / Operating advice: {r['operating_advice']}"),
            p("未完成事项 / Unfinished items: " + ("; ".join(
                f"{u['description']} ({u['planned_date']})" for u in r["unfinished"]) or "无 / none")),
            p("客户评价 / Customer rating: " + (", ".join(
                f"{a['aspect']}: {a['score']}/5" for a in r["ratings"]) or "-")),
            p(f"客户意见 / Customer comment: {r['comment'] or '-'}"),
            Spacer(1, 6 * mm),
            p(f"服务回执单签字 / Service receipt signed by: {r['signed_by']} "
              f"({r['signature'].get('typed_name') or '[image]'}) {_t(r['signed_at'])}"),
        ]
    else:
        story += [Spacer(1, 4 * mm), p("服务尚未签收 / The service receipt is not signed yet.")]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"Service report {v['crm_reference']}",
                      leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    return buffer.getvalue()
