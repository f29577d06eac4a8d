"""S10, S14, S20: a site's days are calendar days in the site's time zone, not UTC days.

Sign-in 07:30 in Beijing is 23:30 UTC the day before: judged in UTC it would fall on another day
than the sign-out at 17:30. Every "day" of the work on site (sign-in and sign-out, the daily log,
the day's safety checklist, "yesterday" of the morning check) is the site's calendar day.
The zone comes from the visit's region (`SITE_TIMEZONES`), else `SITE_TIMEZONE`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.onsite.settings import OnsiteSettings, get_settings


def local_day(moment: datetime, zone: tzinfo) -> date:
    """S10/S14/S20: the calendar day an instant falls on at the site (in its time zone), not the UTC day.

    A naive datetime has no defined day anywhere and is refused (ValueError).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an instant without a time zone has no day")
    return moment.astimezone(zone).date()


def working_days(first: date, until: date, weekdays: Collection[int]) -> list[date]:
    """S10: the site's working days from `first` up to, not including, `until` (weekdays 0=Monday)."""
    days, day = [], first
    while day < until:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


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
    def from_settings(cls, settings: OnsiteSettings) -> SiteCalendar:
        return cls(default_zone=settings.site_timezone, zones=dict(settings.site_timezones),
                   working_weekdays=frozenset(settings.site_working_weekdays))


@lru_cache
def site_calendar() -> SiteCalendar:
    """The calendar the service's settings configure (`SITE_TIMEZONE`, `SITE_TIMEZONES`, `SITE_WORKING_WEEKDAYS`)."""
    return SiteCalendar.from_settings(get_settings())
