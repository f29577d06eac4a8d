"""S30: the service report as a reader sees it, its integrity, and plausible reported times, over HTTP.

The report of a completed visit is read with poppler (`make debian-packages` installs poppler-utils):
`pdftotext` finds the Chinese labels, the site's local times with their offset and the values written
to their item's precision; `pdffonts` shows every font embedded; `pdftoppm` renders the first page
(SERVICE_REPORT_PNG=path keeps it, e.g. docs/service-report-page1.png). The signed report's SHA-256
is on ServiceCompleted, regenerating it gives the same bytes, and the verification endpoint tells the
signed PDF from a modified one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.onsite.closing.report import local_time
from shared.events.dispatch import CheckSheet, CheckSheetItem
from tests.integration.onsite.conftest import NOW, events_of

pytestmark = pytest.mark.integration

POPPLER = ("pdftotext", "pdffonts", "pdftoppm", "pdfimages")
SITE_ZONE = ZoneInfo("Asia/Shanghai")  # region "north" has no entry in SITE_TIMEZONES


def poppler() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    assert not missing, f"{missing} missing: `make debian-packages` installs poppler-utils"


def png(width: int = 120, height: int = 40) -> bytes:
    """A real (tiny) PNG: a dark stroke on white, as a captured signature."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(0 if abs(y - height // 2 - (x % 16 - 8)) < 2 else 255 for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def sheets() -> list[CheckSheet]:
    """An SF6 pressure with two-decimal limits, and an insulation resistance that fails once then passes."""
    return [CheckSheet(sheet_id="cs-gis", kind="check_sheet", title="GIS 气室试验 / gas compartment tests",
                       template_id="t-gis", template_version=1, items=[
                           CheckSheetItem(item_id="p1", text="SF6 气体压力 / SF6 pressure", kind="value", unit="MPa",
                                          lower_limit=0.50, upper_limit=0.75),
                           CheckSheetItem(item_id="r1", text="绝缘电阻 / insulation resistance", kind="value",
                                          unit="MΩ", lower_limit=1000),
                       ])]


def now() -> str:
    return datetime.now(UTC).isoformat()


async def completed_visit(new_site, client) -> tuple:
    """A one-engineer visit worked, closed out and signed with a captured signature image."""
    site = await new_site(1, sheets=sheets())
    task = (await site.tasks())["cs-gis"]
    await site.brief()
    await site.permit(["all"])
    assert (await site.safe(task["id"])).status_code == 201
    assert (await site.post(f"/tasks/{task['id']}/start")).status_code == 200
    base = f"/tasks/{task['id']}/items"
    pressure = await site.put(f"{base}/p1", {"value": 0.1 * 6, "unit": "MPa"})  # 0.6000000000000001
    assert pressure.status_code == 200, pressure.text
    assert (await site.put(f"{base}/r1", {"value": 800, "unit": "MΩ"})).json()["passed"] is False
    assert (await site.put(f"{base}/r1", {"value": 1500, "unit": "MΩ"})).json()["disposition"] == "remeasured"
    r = await site.post("/witnesses", {"subject_kind": "process_data", "subject_id": pressure.json()["id"],
                                       "name": "张伟", "role": "客户试验工程师", "signature": {
                                           "kind": "typed", "typed_name": "张伟", "signed_at": now()}})
    assert r.status_code == 201, r.text
    assert (await site.upload("process_data", pressure.json()["id"])).status_code == 201
    for item in ("p1", "r1"):
        assert (await site.post(f"{base}/{item}/sign-off")).status_code == 200
    assert (await site.post(f"/tasks/{task['id']}/completion")).status_code == 200
    head = site.as_("head-1", "department_head")
    code = f"M-{uuid.uuid4().hex[:6]}"
    assert (await client.post("/training-materials", json={"code": code, "title": "GIS 操作", "approved": True},
                              headers=head)).status_code == 201
    r = await site.post("/trainings", {"topics": ["use", "maintenance"], "materials": [code],
                                       "attendees": ["刘工", "Li"], "demonstration": True,
                                       "evaluation_scores": [5, 4], "test_scores": [92.5], "delivered_at": now()})
    assert r.status_code == 201, r.text
    assert (await site.post("/checks", {})).status_code == 201
    assert (await site.post("/cleanup", {"site_clean": True, "equipment_clean": True,
                                         "customer_confirmed_by": "刘"})).status_code < 300
    r = await site.post("/handovers", {"items": [{"name": "备用保险丝 / spare fuse", "kind": "spare_part",
                                                  "quantity": 6}], "received_by": "刘", "signature": {
        "kind": "typed", "typed_name": "刘", "signed_at": now()}})
    assert r.status_code == 201, r.text
    assert (await site.post("/no-drawing-deviations")).status_code < 300
    signature = (await site.upload("signature", None, data=png())).json()["id"]
    done_at = (await site.tasks())["cs-gis"]["done_at"]
    # S30 in the order of the standard: no receipt signed before the tasks were done.
    early = {"receipt_signed_by": "王芳", "receipt_signature": {
        "kind": "image", "evidence_id": signature,
        "signed_at": (datetime.fromisoformat(done_at) - timedelta(milliseconds=1)).isoformat()}}
    r = await site.post("/completion", early)
    assert r.status_code == 422 and r.json()["field"] == "body.receipt_signature.signed_at", r.text
    assert "the last task done" in r.json()["detail"]
    r = await site.post("/completion", {
        "work_done": "GIS 间隔 1-2 安装调试完成", "operating_advice": "每月检查 SF6 密度",
        "aspect_ratings": [{"aspect": "quality", "score": 5}], "receipt_signed_by": "王芳", "receipt_rating": 5,
        "receipt_signature": {"kind": "image", "evidence_id": signature, "signed_at": now()}})
    assert r.status_code == 200, r.text
    return site, task


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


async def test_the_signed_report_renders_anywhere_in_the_sites_time_and_proves_itself(new_site, onsite, tmp_path):
    poppler()
    app, client = onsite
    site, _ = await completed_visit(new_site, client)
    pdf = (await site.get("/report.pdf", who="disp-1", role="dispatcher"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)

    # Every font embedded (no reader-supplied font; what PDF/A asks of fonts).
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    # What a reader shows: Chinese labels, local times with the offset, values to the item's precision.
    text = run("pdftotext", "-layout", str(path), "-")
    for label in ("安装调试服务报告", "点检表数据", "见证", "证据", "移交", "培训", "问题与升级", "服务回执单签字",
                  "张伟", "王芳", "备用保险丝"):
        assert label in text, label
    arrival = (await site.get()).json()["arrivals"][0]["arrived_at"]
    assert local_time(datetime.fromisoformat(arrival), SITE_ZONE) in text
    assert "(UTC+08:00)" in text and " UTC\n" not in text
    assert "0.60 MPa" in text and "0.50 - 0.75 MPa" in text and "0.6000000000000001" not in text
    assert "1500 MΩ" in text and "800 MΩ" in text and "复测合格" in text  # the failed reading and its disposition
    upload = (await site.get("/evidence")).json()["items"]
    assert all(e["sha256"][:32] in text.replace("\n", "").replace(" ", "") for e in upload)
    assert len(run("pdfimages", "-list", str(path)).splitlines()) == 3  # the captured signature image
    # The first page as a picture.
    run("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path), str(tmp_path / "page1"))
    page = tmp_path / "page1.png"
    assert page.read_bytes().startswith(b"\x89PNG") and page.stat().st_size > 20_000
    if os.environ.get("SERVICE_REPORT_PNG"):
        shutil.copyfile(page, Path(os.environ["SERVICE_REPORT_PNG"]))

    # Integrity: the hash on the timeline event, the same bytes when regenerated, verification.
    (completed,) = await events_of(app, site.case_id, "ServiceCompleted")
    assert completed["report_sha256"] == hashlib.sha256(pdf.content).hexdigest()
    again = await site.get("/report.pdf")
    assert again.content == pdf.content
    verify = await client.post(f"/visits/{site.visit_id}/report-verification", content=pdf.content,
                               headers={**site.as_(), "Content-Type": "application/pdf"})
    assert verify.status_code == 200 and verify.json()["matches"] is True, verify.text
    assert verify.json()["signed_sha256"] == completed["report_sha256"]
    modified = pdf.content.replace(b"/Title (Service report", b"/Title (Service rep0rt")
    assert modified != pdf.content
    verify = await client.post(f"/visits/{site.visit_id}/report-verification", content=modified,
                               headers={**site.as_(), "Content-Type": "application/pdf"})
    assert verify.status_code == 200 and verify.json()["matches"] is False
    assert verify.json()["sha256"] == hashlib.sha256(modified).hexdigest()


async def test_reported_times_are_plausible_and_a_refusal_names_the_field_and_rule(new_site, onsite):
    _, client = onsite
    site = await new_site(1, sheets=[], arrive=False)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    calls = [{"party": p, "called_at": (NOW - timedelta(minutes=3 - i)).isoformat(), "outcome": "reached"}
             for i, p in enumerate(["account_manager", "customer_contact", "site_interface"])]
    r = await site.post("/arrivals", {"arrived_at": future, "calls": calls})
    assert r.status_code == 422 and r.json()["field"] == "body.arrived_at" and "in the future" in r.json()["detail"]
    r = await site.post("/arrivals", {"arrived_at": "2026-09-01T08:00:00+08:00", "calls": calls})
    assert r.status_code == 422 and "before the visit was dispatched" in r.json()["detail"], r.text
    await site.arrive()  # at NOW
    here = {"latitude": 39.9, "longitude": 116.4, "accuracy_m": 10.0}
    r = await site.post("/check-ins", {"at": future, **here})
    assert r.status_code == 422 and r.json()["field"] == "body.at"
    milestone = (await site.post("/milestones", {"title": "Bay 1 energised"})).json()
    r = await site.post("/witnesses", {"subject_kind": "milestone", "subject_id": milestone["id"], "name": "Z",
                                       "role": "customer", "signature": {"kind": "typed", "typed_name": "Z",
                                                                         "signed_at": future}})
    assert r.status_code == 422 and r.json()["field"] == "signature.signed_at", r.text

    site, _ = await completed_visit(new_site, client)
    leave = {"regional_centre_informed_at": now(), "department_head_informed_at": now(),
             "site_manager_agreed_by": "刘"}
    r = await site.post("/departures", {**leave, "departed_at": (NOW - timedelta(minutes=1)).isoformat()})
    assert r.status_code == 422 and r.json()["field"] == "body.departed_at"
    assert "before the engineer's arrival" in r.json()["detail"], r.text
    r = await site.post("/departures", {**leave, "departed_at": future})
    assert r.status_code == 422 and "in the future" in r.json()["detail"]
    r = await site.post("/departures", {**leave, "departed_at": now()})
    assert r.status_code == 201, r.text
