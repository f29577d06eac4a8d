"""The site's days (S10, S14, S20): pure rules, every instant pinned (no test depends on today)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.onsite.presence.domain import days_without_sign_in, sign_out_day
from services.onsite.settings import OnsiteSettings
from services.onsite.work.domain import TaskView, check_day_safety
from shared.api.problems import GateRefused
from shared.site_calendar import SiteCalendar, local_day, working_days

BEIJING = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 16)  # a Monday
SIGN_IN = datetime(2026, 11, 16, 7, 30, tzinfo=BEIJING)  # 2026-11-15 23:30 UTC
SIGN_OUT = datetime(2026, 11, 16, 17, 30, tzinfo=BEIJING)
EVERY_DAY = frozenset(range(7))


def test_s10_sign_in_0730_and_sign_out_1730_beijing_fall_on_one_site_day():
    assert SIGN_IN.astimezone(UTC).date() == date(2026, 11, 15)  # the UTC day would split them
    assert local_day(SIGN_IN, BEIJING) == local_day(SIGN_OUT, BEIJING) == DAY
    assert local_day(SIGN_IN.astimezone(UTC), BEIJING) == DAY  # whatever offset the instant is written in


def test_local_day_refuses_an_instant_without_a_time_zone():
    with pytest.raises(ValueError, match="no day"):
        local_day(datetime(2026, 11, 16, 7, 30), BEIJING)


def test_the_calendar_picks_the_regions_zone_else_the_default():
    calendar = SiteCalendar(default_zone=BEIJING, zones={"west": ZoneInfo("Asia/Urumqi")})
    late = datetime(2026, 11, 16, 17, 30, tzinfo=UTC)  # 01:30 in Beijing, 23:30 in Urumqi (UTC+6)
    assert calendar.day(late, "north") == date(2026, 11, 17)
    assert calendar.day(late, "west") == DAY


def test_settings_configure_the_calendar_and_refuse_unknown_zones_and_weekdays():
    settings = OnsiteSettings(site_timezones={"west": "Asia/Urumqi"}, site_working_weekdays=[5, 0, 0])
    calendar = SiteCalendar.from_settings(settings)
    assert calendar.zone("north") == ZoneInfo("Asia/Shanghai") and calendar.zone("west") == ZoneInfo("Asia/Urumqi")
    assert calendar.working_weekdays == frozenset({0, 5})
    assert SiteCalendar.from_settings(OnsiteSettings()).working_weekdays == EVERY_DAY
    with pytest.raises(ValidationError, match="invalid timezone"):
        OnsiteSettings(site_timezone="Asia/Beijing")
    with pytest.raises(ValidationError, match="invalid timezone"):
        OnsiteSettings(site_timezones={"west": "Mars/Olympus"})
    with pytest.raises(ValidationError, match="weekdays"):
        OnsiteSettings(site_working_weekdays=[7])


def test_working_days_run_up_to_but_not_including_the_end_on_the_configured_weekdays():
    assert working_days(DAY, DAY, EVERY_DAY) == []
    assert working_days(DAY, DAY + timedelta(days=3), EVERY_DAY) == [DAY, DAY + timedelta(days=1),
                                                                      DAY + timedelta(days=2)]
    saturday, monday = date(2026, 11, 21), date(2026, 11, 23)
    assert working_days(saturday, monday + timedelta(days=1), frozenset(range(5))) == [monday]


def test_s10_a_sign_out_closes_its_days_sign_in_or_the_open_one_of_the_day_before():
    before = DAY - timedelta(days=1)
    assert sign_out_day(DAY, {DAY: False}) == DAY
    assert sign_out_day(DAY, {DAY: True}) == DAY  # the caller refuses: already signed out
    assert sign_out_day(DAY, {before: False}) == before  # work past midnight
    assert sign_out_day(DAY, {before: True}) is None
    assert sign_out_day(DAY, {}) is None


def test_s10_past_working_days_without_sign_in_are_flagged_once():
    today = DAY + timedelta(days=4)
    missing = days_without_sign_in(first_day=DAY, today=today, signed_in={DAY, DAY + timedelta(days=2)},
                                   flagged={DAY + timedelta(days=1)}, weekdays=EVERY_DAY)
    assert missing == [DAY + timedelta(days=3)]  # today is not over; day 2 is already flagged
    assert days_without_sign_in(first_day=today, today=today, signed_in=set(), flagged=set(),
                                weekdays=EVERY_DAY) == []
    weekend = days_without_sign_in(first_day=date(2026, 11, 21), today=date(2026, 11, 23), signed_in=set(),
                                   flagged=set(), weekdays=frozenset(range(5)))
    assert weekend == []  # Saturday and Sunday are not working days there


HV_STARTED = TaskView(title="Energise bay 2", permit_scope="cs-hv", live_hv=True, primary_test=True,
                      status="started")
FULL = {"ppe": True, "helmet": True, "insulated_gloves": True, "insulated_tools": True,
        "tools_test_valid_until": "2027-06-30", "gloves_test_valid_until": "2027-06-30", "barriers": True,
        "safety_watcher": "Li Ming"}


def test_s14_a_task_continuing_on_a_later_day_needs_that_days_checklist():
    later = DAY + timedelta(days=1)
    check_day_safety(task=HV_STARTED, started_on=DAY, day=DAY, safety_answers=None, gate="process data")
    with pytest.raises(GateRefused) as exc:
        check_day_safety(task=HV_STARTED, started_on=DAY, day=later, safety_answers=None, gate="process data")
    assert exc.value.extra["gate"] == "process data"
    assert exc.value.extra["missing_conditions"] == ["S14: no safety checklist for 2026-11-17"]
    with pytest.raises(GateRefused) as exc:
        check_day_safety(task=HV_STARTED, started_on=DAY, day=later, safety_answers={**FULL, "barriers": False},
                         gate="sign-off")
    assert exc.value.extra["missing_conditions"] == ["S14: barriers not confirmed (primary-equipment test)"]
    check_day_safety(task=HV_STARTED, started_on=DAY, day=later, safety_answers=FULL, gate="sign-off")
    done = TaskView(**{**HV_STARTED.__dict__, "status": "done"})
    check_day_safety(task=done, started_on=DAY, day=later, safety_answers=None, gate="sign-off")
