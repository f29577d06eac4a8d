"""S19 upload limits and the local-folder storage; the S30 PDF report embeds its Chinese font."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.onsite.closing.report import (
    Reading,
    Receipt,
    ReportData,
    ValueLine,
    WitnessLine,
    format_limits,
    format_value,
    local_time,
    render_pdf,
)
from services.onsite.evidence.service import check_upload
from shared.api.problems import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shared.storage import LocalFolderStorage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 10
ALLOWED = ["image/png", "application/pdf"]


def test_upload_limits_and_hash():
    assert check_upload(data=PNG, content_type="image/png", max_bytes=100, allowed=ALLOWED) == (
        hashlib.sha256(PNG).hexdigest())
    with pytest.raises(PayloadTooLarge):
        check_upload(data=PNG, content_type="image/png", max_bytes=5, allowed=ALLOWED)
    with pytest.raises(UnsupportedMediaType):
        check_upload(data=PNG, content_type="image/gif", max_bytes=100, allowed=ALLOWED)
    with pytest.raises(UnsupportedMediaType, match="not a application/pdf"):
        check_upload(data=PNG, content_type="application/pdf", max_bytes=100, allowed=ALLOWED)
    with pytest.raises(InvalidInput):
        check_upload(data=b"", content_type="image/png", max_bytes=100, allowed=ALLOWED)


async def test_local_folder_storage_round_trip_and_keys_stay_inside(tmp_path):
    storage = LocalFolderStorage(tmp_path)
    await storage.put("visit/file", b"abc")
    assert await storage.get("visit/file") == b"abc"
    with pytest.raises(ValueError):
        await storage.put("../outside", b"x")


def _report(at: datetime) -> ReportData:
    return ReportData(
        crm_reference="CRM-1", customer_name="华北电网", site_name="七号变电站", equipment_type="GIS",
        region="north", team=["陈刚", "Zhao Lei"], arrivals=[("e1", at)], departures=[("e1", at)],
        values=[ValueLine(task="断路器试验", item_id="p1", item_text="SF6 压力", value=0.6000000000000001,
                          unit="MPa", lower_limit=0.5, upper_limit=0.7, passed=True, recorded_by="e1",
                          recorded_at=at, disposition="remeasured",
                          failed_readings=[Reading(value=0.45, unit="MPa", at=at)])],
        witnesses=[WitnessLine(name="张伟", role="客户", subject="process_data", signature="张伟", at=at)],
        receipt=Receipt(work_done="安装调试完成", operating_advice="每月检查SF6密度", unfinished=[
            {"description": "补漆", "planned_date": "2026-12-15"}], ratings=[{"aspect": "overall", "score": 5}],
            signed_by="王芳", typed_name="王芳", signed_at=at),
    )


def test_the_service_report_embeds_its_chinese_font_and_is_reproducible():
    """S30: the font is embedded (a TrueType subset, no reader font needed); the same data give the same bytes."""
    data = _report(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    pdf = render_pdf(data)
    assert pdf.startswith(b"%PDF-") and b"STSong-Light" not in pdf and b"/FontFile2" in pdf
    assert b"Helvetica" not in pdf  # no font a reader would have to supply
    assert render_pdf(ReportData.model_validate(data.model_dump(mode="json"))) == pdf
    other = render_pdf(data.model_copy(update={"customer_name": "备用保险丝"}))  # a font cut for other characters
    assert b"/FontFile2" in other and render_pdf(data) == pdf


def test_values_to_the_items_precision_and_times_in_the_sites_zone():
    """S30: `0.6000000000000001 MPa` is written `0.60 MPa` for limits 0.50-0.70; times local with the offset."""
    assert format_value(0.6000000000000001, "MPa", 0.5, 0.7) == "0.6 MPa"
    assert format_value(0.6000000000000001, "MPa", 0.50, 0.75) == "0.60 MPa"
    assert format_value(35.25, "µΩ", 0, 120) == "35.25 µΩ"
    assert format_value(True, None) == "是 / yes"
    assert format_limits("MPa", 0.5, 0.75) == "0.50 - 0.75 MPa" and format_limits(None, None, None) == "-"
    at = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert local_time(at, ZoneInfo("Asia/Shanghai")) == "2026-11-28 07:30 (UTC+08:00)"
    assert local_time(at, ZoneInfo("Asia/Kathmandu")) == "2026-11-28 05:15 (UTC+05:45)"
