"""The dispatcher's board (decision 0087): site-local days, conflicts, expiring certificates, unstaffed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.dispatch.board import domain
from shared.problems import InvalidInput
from shared.site_calendar import SiteCalendar, period_days

ZONES = SiteCalendar()  # Asia/Shanghai
DAYS = period_days(date(2027, 3, 1), date(2027, 3, 7))


def at(day: int, hour: int) -> datetime:
    return datetime(2027, 3, day, hour, tzinfo=UTC)


def booking(case: str, start: datetime, end: datetime, *certs: str) -> domain.BookingRow:
    return domain.BookingRow("e1", case, f"R-{case}", "acknowledged", "east", start, end, False, certs)


def engineer(**kw) -> domain.EngineerRow:
    return domain.EngineerRow("e1", "Li", 4, "east", **kw)


def cell(line: domain.EngineerLine, day: int) -> domain.DayCell:
    return next(c for c in line.days if c.day == date(2027, 3, day))


def test_the_period_is_bounded_and_names_the_field():
    assert len(period_days(date(2027, 1, 1), date(2027, 3, 3))) == 62
    with pytest.raises(InvalidInput) as too_long:
        period_days(date(2027, 1, 1), date(2027, 3, 4))
    assert too_long.value.extra["field"] == "to"
    with pytest.raises(InvalidInput):
        period_days(date(2027, 1, 2), date(2027, 1, 1))


def test_days_are_the_sites_days_not_utc_days():
    # 23:00 UTC on 1 March is 07:00 on 2 March in Shanghai
    line = domain.engineer_line(engineer(), [booking("c1", at(1, 23), at(2, 9))], DAYS, ZONES)
    assert [c.day.day for c in line.days if c.bookings] == [2]


def test_two_overlapping_bookings_conflict_on_the_days_they_overlap():
    line = domain.engineer_line(engineer(), [booking("c1", at(1, 0), at(4, 0)), booking("c2", at(3, 0), at(6, 0))],
                                DAYS, ZONES)
    kinds = {c.day.day: [k.kind for k in c.conflicts] for c in line.days}
    assert kinds[3] == ["double_booking"] and kinds[4] == ["double_booking"]  # 08:00 on the 4th in Shanghai
    assert kinds[2] == [] and kinds[5] == []
    assert set(cell(line, 3).conflicts[0].case_ids) == {"c1", "c2"}


def test_touching_bookings_do_not_conflict():
    line = domain.engineer_line(engineer(), [booking("c1", at(1, 0), at(3, 0)), booking("c2", at(3, 0), at(5, 0))],
                                DAYS, ZONES)
    assert not any(c.conflicts for c in line.days)


def test_a_booking_during_leave_conflicts():
    leave = domain.LeaveRow(at(4, 0), at(6, 0), "annual leave")
    line = domain.engineer_line(engineer(leave=(leave,)), [booking("c1", at(1, 0), at(5, 0))], DAYS, ZONES)
    assert [k.kind for k in cell(line, 4).conflicts] == ["booking_during_leave"]
    assert "annual leave" in cell(line, 4).conflicts[0].detail
    assert cell(line, 6).leave == (leave,) and not cell(line, 6).conflicts


def test_a_booking_past_a_required_certificates_expiry_conflicts():
    certs = (domain.CertificateRow("hv_live_work", "HV-1", date(2027, 3, 3)),
             domain.CertificateRow("gis", "G-1", date(2027, 3, 2)))
    line = domain.engineer_line(engineer(certificates=certs), [booking("c1", at(1, 0), at(5, 0), "hv_live_work")],
                                DAYS, ZONES)
    assert not cell(line, 3).conflicts  # valid up to and including its last day
    assert [k.kind for k in cell(line, 4).conflicts] == ["certificate_expired"]
    # the gis certificate is not required by the case: it expires, but is no conflict
    assert [c.type for c in line.expiring_certificates] == ["gis", "hv_live_work"]
    assert [c.type for c in cell(line, 2).certificates_expiring] == ["gis"]


def test_a_required_certificate_the_engineer_lacks_conflicts():
    line = domain.engineer_line(engineer(), [booking("c1", at(1, 0), at(2, 0), "hv_live_work")], DAYS, ZONES)
    assert "lacks" in cell(line, 1).conflicts[0].detail


def test_certificates_expiring_outside_the_period_are_not_listed():
    certs = (domain.CertificateRow("hv_live_work", "HV-1", date(2027, 4, 1)),)
    assert domain.engineer_line(engineer(certificates=certs), [], DAYS, ZONES).expiring_certificates == ()


def test_unstaffed_cases_lack_a_team_or_engineers():
    cases = [domain.WaitingCase("none", "R1", "east", "acknowledged", at(2, 0), at(4, 0), 2, 0),
             domain.WaitingCase("few", "R2", "east", "acknowledged", at(1, 0), at(4, 0), 3, 1),
             domain.WaitingCase("full", "R3", "east", "acknowledged", at(1, 0), at(4, 0), 2, 2),
             domain.WaitingCase("s12", "R4", "east", "dispatched", at(3, 0), at(4, 0), 2, 2, 1)]
    out = domain.unstaffed(cases)
    assert [(u.case_id, u.missing) for u in out] == [("few", 2), ("none", 2), ("s12", 1)]
    assert out[0].reason.startswith("S3") and out[2].reason.startswith("S12")


def test_a_period_at_the_calendars_ends_is_refused_not_overflowed():
    with pytest.raises(InvalidInput) as early:
        period_days(date(1, 1, 1), date(1, 1, 2))
    assert early.value.extra["field"] == "from"
    with pytest.raises(InvalidInput) as late:
        period_days(date(9999, 12, 30), date(9999, 12, 31))
    assert late.value.extra["field"] == "from"


def test_leave_and_bookings_reaching_datetimes_limits_cost_a_day_and_do_not_overflow():
    """A leave from year 1 to year 9999 (as a fuzzer enters) is shown on every day of the period, in
    constant work per day, and a booking ending at datetime's last instant does not overflow the zone."""
    forever = domain.LeaveRow(datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "leave")
    endless = booking("c1", at(2, 0), datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    line = domain.engineer_line(engineer(leave=(forever,)), [endless], DAYS, ZONES)
    assert all(c.leave == (forever,) for c in line.days)
    assert cell(line, 1).bookings == () and cell(line, 7).bookings == (endless,)
    assert {k.kind for k in cell(line, 3).conflicts} == {"booking_during_leave"}
