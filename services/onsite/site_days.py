"""The onsite service's site calendar: the shared rules (`shared/site_calendar.py`) with this service's
settings (`SITE_TIMEZONE`, `SITE_TIMEZONES`, `SITE_WORKING_WEEKDAYS`)."""

from __future__ import annotations

from functools import lru_cache

from services.onsite.settings import get_settings
from shared.site_calendar import SiteCalendar


@lru_cache
def site_calendar() -> SiteCalendar:
    """The calendar the service's settings configure."""
    return SiteCalendar.from_settings(get_settings())
