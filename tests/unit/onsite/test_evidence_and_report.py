"""S19 upload limits and the local-folder storage; the S30 PDF report renders Chinese without a font file."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from services.onsite.closing.report import ReportData, render_pdf
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


def test_the_service_report_is_a_pdf_with_the_chinese_font():
    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    data = ReportData(
        visit={"crm_reference": "CRM-1", "customer_name": "华北电网", "site_name": "七号变电站",
               "equipment_type": "GIS", "region": "north", "team": ["陈刚", "Zhao Lei"], "status": "completed"},
        arrivals=[("e1", at)], departures=[("e1", at)],
        values=[{"task": "断路器试验", "item": "r1 回路电阻", "value": "96.0 µΩ", "passed": True, "by": "e1"}],
        witnesses=[{"name": "张伟", "role": "客户", "subject": "process_data", "signature": "张伟", "at": at}],
        report={"work_done": "安装调试完成", "operating_advice": "每月检查SF6密度", "unfinished": [
            {"description": "补漆", "planned_date": "2026-12-15"}], "ratings": [{"aspect": "overall", "score": 5}],
            "comment": None, "signed_by": "王芳", "signature": {"kind": "typed", "typed_name": "王芳"},
            "signed_at": at},
    )
    pdf = render_pdf(data)
    assert pdf.startswith(b"%PDF-") and b"STSong-Light" in pdf and len(pdf) > 2000
