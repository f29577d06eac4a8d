"""S10, S14, S20: a site's days are calendar days in the site's time zone, not UTC days.

Sign-in 07:30 in Beijing is 23:30 UTC the day before: judged in UTC it would fall on another day
than the sign-out at 17:30. Every "day" of the work on site (sign-in and sign-out, the daily log,
the day's safety checklist, a board's or an agenda's day) is the site's calendar day. The zone
comes from the site's region (`SITE_TIMEZONES`), else `SITE_TIMEZONE` (decision 0072). Pure rules:
onsite and dispatch read the same settings and use the same functions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.messages import msg
from shared.problems import InvalidInput

MAX_PERIOD_DAYS = 62
# the calendar a period may span (the site-day arithmetic stays clear of date.min and date.max)
EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """S10/S14/S20: the calendar day an instant falls on at the site (in its time zone), not the UTC day.

    A naive datetime has no defined day anywhere and is refused (ValueError).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an instant without a time zone has no day")
    return moment.astimezone(zone).date()


def local_days(start: datetime, end: datetime, zone: tzinfo) -> list[date]:
    """The site-local calendar days an interval [start, end) touches (an instant ending at midnight does
    not touch the next day)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date() if end > start else first
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def working_days(first: date, until: date, weekdays: Collection[int]) -> list[date]:
    """S10: the site's working days from `first` up to, not including, `until` (weekdays 0=Monday)."""
    days, day = [], first
    while day < until:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def period_days(first: date, last: date, *, max_days: int = MAX_PERIOD_DAYS) -> list[date]:
    """The days of a shown period (a board, an agenda), `first` to `last` inclusive; a period outside the
    calendar, reversed or too long is refused naming the field (`from`, `to`)."""
    for name, day in (("from", first), ("to", last)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput(msg("`{name}` must be between {earliest} and {latest}",
                name=name, earliest=EARLIEST, latest=LATEST), field=name)
    if last < first:
        raise InvalidInput(msg("`to` is before `from`"), field="to")
    count = (last - first).days + 1
    if count > max_days:
        raise InvalidInput(msg("the period is {count} days, at most {max_days} are shown",
            count=count, max_days=max_days), field="to")
    return [first + timedelta(days=i) for i in range(count)]


class CalendarSettings(Protocol):
    """The settings a site calendar is read from (`SITE_TIMEZONE`, `SITE_TIMEZONES`)."""

    site_timezone: ZoneInfo
    site_timezones: dict[str, ZoneInfo]


@dataclass(frozen=True)
class SiteCalendar:
    """The sites' calendars: a time zone per region (a default for the others) and the working weekdays."""

    default_zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    zones: Mapping[str, tzinfo] = field(default_factory=dict)
    working_weekdays: frozenset[int] = frozenset(range(7))

    def zone(self, region: str) -> tzinfo:
        """The time zone of the sites of a region."""
        return self.zones.get(region, self.default_zone)

    def day(self, moment: datetime, region: str) -> date:
        """S10/S14/S20: the site's calendar day of an instant, for a site of `region`."""
        return local_day(moment, self.zone(region))

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> SiteCalendar:
        """The calendar of a service's settings; working weekdays where it has `SITE_WORKING_WEEKDAYS`
        (onsite), else every day."""
        weekdays = getattr(settings, "site_working_weekdays", range(7))
        return cls(default_zone=settings.site_timezone, zones=dict(settings.site_timezones),
                   working_weekdays=frozenset(weekdays))
