"""The demo's own service report (S30), as the customer keeps it: rendered with poppler to text and an
image, its Chinese labels, site-local times and formatted values present, every font embedded, and
the signed document recognised by the verification endpoint while a modified copy is not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devstack.demo import Journey, complete_on_site, prepare_and_dispatch, raise_quality_issue, work_on_site

pytestmark = pytest.mark.e2e


def _poppler(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True, timeout=60).stdout


def test_the_demos_report_renders_anywhere_in_the_sites_time_and_proves_itself(client, tmp_path: Path):
    j = Journey(client, 90, lambda _line: None)
    for phase in (prepare_and_dispatch, work_on_site, raise_quality_issue, complete_on_site):
        phase(j)
    onsite, vid = client.http["onsite"], j.ids["visit"]
    pdf = onsite.get(f"/visits/{vid}/report.pdf", headers=j.dispatcher)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)

    text = _poppler("pdftotext", "-layout", str(path), "-")
    for label in ("安装调试服务报告", "点检表数据", "见证", "移交", "Check-sheet values"):
        assert label in text, label
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+08:00\)", text), "times in the site's zone, offset shown"
    assert not re.search(r"\d\.\d{7,}", text), "values formatted to their item's precision"

    fonts = _poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts), fonts  # the `emb` column

    _poppler("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    (page,) = tmp_path.glob("page*.png")
    assert page.stat().st_size > 5_000  # a page with content, not a blank

    again = onsite.get(f"/visits/{vid}/report.pdf", headers=j.dispatcher)
    assert again.content == pdf.content  # the signed report is the same document every time
    signed = onsite.post(f"/visits/{vid}/report-verification", headers={**j.dispatcher,
                         "Content-Type": "application/pdf"}, content=pdf.content)
    assert signed.status_code == 200 and signed.json()["matches"] is True, signed.text
    tampered = onsite.post(f"/visits/{vid}/report-verification", headers={**j.dispatcher,
                           "Content-Type": "application/pdf"}, content=pdf.content.replace(b"%%EOF", b"%%EOF\n% x"))
    assert tampered.status_code == 200 and tampered.json()["matches"] is False
