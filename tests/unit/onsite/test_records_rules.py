"""Pure rules of records on site: S21 leaving mid-way, S22-S24 raised items, S31 approved materials."""

from __future__ import annotations

import pytest

from services.onsite.site_records.domain import check_training_materials, may_leave, raised_subject
from shared.api.problems import GateRefused


def test_leaving_mid_way_needs_consent_or_an_approved_exception():
    assert may_leave(consent=True, exception_reason=None, exception_approved_by=None)
    assert not may_leave(consent=False, exception_reason=None, exception_approved_by=None)
    assert not may_leave(consent=False, exception_reason="family emergency", exception_approved_by=" ")
    assert may_leave(consent=False, exception_reason="family emergency", exception_approved_by="dept head Sun")


def test_each_raised_item_names_its_subject():
    assert raised_subject(kind="referral", product="transformer", topic=None, units=[]) == "transformer"
    assert raised_subject(kind="abnormal_request", product=None, topic="delivery_time", units=[]) == "delivery_time"
    assert raised_subject(kind="internal_disagreement", product=None, topic=None, units=["GIS", "HV"]) == "GIS / HV"
    for kind in ("referral", "abnormal_request", "internal_disagreement"):
        with pytest.raises(GateRefused):
            raised_subject(kind=kind, product=None, topic=None, units=["one"])


def test_training_uses_approved_materials_only():
    with pytest.raises(GateRefused) as exc:
        check_training_materials(["M1", "M2", "M3"], {"M1": True, "M2": False})
    assert exc.value.extra["missing_conditions"] == ["S31: material M3 is not in the catalogue",
                                                     "S31: material M2 is not approved"]
    check_training_materials(["M1"], {"M1": True})
