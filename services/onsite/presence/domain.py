"""Pure rules of S10 sign-in/out and S20 daily logs (no I/O); days are the site's days (`site_days`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from shared.site_calendar import working_days


def sign_out_day(day: date, signed_in: Mapping[date, bool]) -> date | None:
    """S10: the working day a sign-out on the site's `day` closes.

    That day's sign-in; without one, the sign-in of the day before while it is still open (work
    past midnight). `signed_in` maps the engineer's sign-in days to whether they are signed out.
    None: there is no sign-in to close.
    """
    if day in signed_in:
        return day
    previous = day - timedelta(days=1)
    if previous in signed_in and not signed_in[previous]:
        return previous
    return None


def days_without_sign_in(*, first_day: date, today: date, signed_in: Collection[date], flagged: Collection[date],
                         weekdays: Collection[int]) -> list[date]:
    """S10: the engineer's past working days on site without a sign-in, not flagged yet.

    From the site day of the engineer's arrival up to yesterday (today is not over): each working
    weekday with no sign-in is flagged once.
    """
    return [d for d in working_days(first_day, today, weekdays) if d not in signed_in and d not in flagged]
