"""Pure rules of the dispatcher's board (no I/O): engineers x site-local days, with what the S3 gate knows.

The service reads rows (engineers with their certificates and calendar, their bookings, the cases
waiting for staff) in a few set-based queries; these functions turn them into the grid. Every rule
names the step of the standard it comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.dispatch.staffing.domain import EngineerFacts
from shared.site_calendar import SiteCalendar, local_days


@dataclass(frozen=True)
class CertificateRow:
    type: str
    number: str
    valid_until: date  # valid up to and including this day


@dataclass(frozen=True)
class LeaveRow:
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class EngineerRow(EngineerFacts):
    home_region: str
    certificates: tuple[CertificateRow, ...] = ()
    leave: tuple[LeaveRow, ...] = ()


@dataclass(frozen=True)
class BookingRow:
    """One current (not released) assignment of an engineer to a case's planned window (S3)."""

    engineer_id: str
    case_id: str
    crm_reference: str
    case_status: str
    region: str
    planned_start: datetime
    planned_end: datetime
    is_project_manager: bool = False
    required_certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class WaitingCase:
    """A case in the period that may lack staff: its window (or required arrival), head count and team size."""

    case_id: str
    crm_reference: str
    region: str
    status: str
    start: datetime
    end: datetime
    head_count: int
    assigned: int
    requested: int = 0  # S12: engineers asked for by open staffing requests


@dataclass(frozen=True)
class Conflict:
    kind: str  # "double_booking" | "booking_during_leave" | "certificate_expired"
    case_ids: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class DayCell:
    day: date
    bookings: tuple[BookingRow, ...] = ()
    leave: tuple[LeaveRow, ...] = ()
    certificates_expiring: tuple[CertificateRow, ...] = ()  # whose last valid day is this day
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True)
class EngineerLine:
    engineer: EngineerRow
    expiring_certificates: tuple[CertificateRow, ...]
    days: tuple[DayCell, ...]


@dataclass(frozen=True)
class UnstaffedCase:
    case_id: str
    crm_reference: str
    region: str
    status: str
    start: datetime
    end: datetime
    head_count: int
    assigned: int
    missing: int
    reason: str


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """S3: the same rule as the gate's double-booking check (touching windows do not overlap)."""
    return a_start < b_end and b_start < a_end


def expiring(certificates: Iterable[CertificateRow], first: date, last: date) -> tuple[CertificateRow, ...]:
    """S3: certificates whose last valid day falls in the period (a dispatcher renews or plans around them)."""
    return tuple(sorted((c for c in certificates if first <= c.valid_until <= last),
                        key=lambda c: (c.valid_until, c.type)))


def latest_certificates(certificates: Iterable[CertificateRow]) -> dict[str, date]:
    """S3: an engineer's certificate of a type is valid until its latest expiry (as the gate reads it)."""
    latest: dict[str, date] = {}
    for c in certificates:
        latest[c.type] = max(c.valid_until, latest.get(c.type, c.valid_until))
    return latest


def day_conflicts(engineer: EngineerRow, bookings: Sequence[BookingRow], day: date,
                  day_of: Callable[[datetime, datetime, str], list[date]]) -> tuple[Conflict, ...]:
    """S3's gate rules applied to what is already booked, for one engineer on one site-local day.

    - double_booking (S3: no engineer on two cases at once): two bookings whose windows overlap, on a
      day their overlap touches;
    - booking_during_leave (S3: the engineer's calendar): a booking overlapping an unavailability, on a
      day the overlap touches;
    - certificate_expired (S3/S14: required certificates valid to the planned end): a booking on a day
      after the last valid day of a certificate its case requires (or that the engineer lacks).
    `day_of(start, end, region)` gives the site-local days an interval touches in a region."""
    found: list[Conflict] = []
    ordered = sorted(bookings, key=lambda b: (b.planned_start, b.case_id))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if a.case_id != b.case_id and overlaps(a.planned_start, a.planned_end, b.planned_start, b.planned_end):
                start, end = max(a.planned_start, b.planned_start), min(a.planned_end, b.planned_end)
                if day in day_of(start, end, a.region):
                    found.append(Conflict("double_booking", (a.case_id, b.case_id),
                                          f"S3: double-booked on cases {a.crm_reference} and {b.crm_reference}"))
    for a in ordered:
        for leave in engineer.leave:
            if overlaps(a.planned_start, a.planned_end, leave.start, leave.end):
                start, end = max(a.planned_start, leave.start), min(a.planned_end, leave.end)
                if day in day_of(start, end, engineer.home_region):
                    found.append(Conflict("booking_during_leave", (a.case_id,),
                                          f"S3: booked on case {a.crm_reference} during {leave.reason}"))
    latest = latest_certificates(engineer.certificates)
    for a in ordered:
        if day not in day_of(a.planned_start, a.planned_end, a.region):
            continue
        for cert in a.required_certificates:
            valid_until = latest.get(cert)
            if valid_until is None:
                found.append(Conflict("certificate_expired", (a.case_id,),
                                      f"S3: case {a.crm_reference} requires {cert}, which the engineer lacks"))
            elif valid_until < day:
                found.append(Conflict("certificate_expired", (a.case_id,),
                                      f"S3: booked on case {a.crm_reference} after {cert} expired on {valid_until}"))
    return tuple(found)


def engineer_line(engineer: EngineerRow, bookings: Sequence[BookingRow], days: Sequence[date],
                  zones: SiteCalendar) -> EngineerLine:
    """S3: one engineer's row of the board: per site-local day the bookings (in the case's site zone),
    the leave (in the engineer's home region's zone), certificates ending that day and the conflicts."""

    # Intervals are cut to the shown period first: a leave of years (or one ending in 9999) costs
    # the same as a day, and no instant near datetime's limits is moved into a zone (overflow).
    period_start = datetime.combine(days[0], time.min, tzinfo=UTC) - timedelta(days=2)
    period_end = datetime.combine(days[-1], time.min, tzinfo=UTC) + timedelta(days=3)

    def day_of(start: datetime, end: datetime, region: str) -> list[date]:
        if end <= period_start or start >= period_end:
            return []
        return local_days(max(start, period_start), min(end, period_end), zones.zone(region))

    mine = [b for b in bookings if b.engineer_id == engineer.engineer_id]
    cells = []
    for day in days:
        booked = tuple(b for b in mine if day in day_of(b.planned_start, b.planned_end, b.region))
        away = tuple(u for u in engineer.leave if day in day_of(u.start, u.end, engineer.home_region))
        ending = tuple(c for c in engineer.certificates if c.valid_until == day)
        cells.append(DayCell(day, booked, away, ending, day_conflicts(engineer, mine, day, day_of)))
    return EngineerLine(engineer, expiring(engineer.certificates, days[0], days[-1]), tuple(cells))


def board(engineers: Sequence[EngineerRow], bookings: Sequence[BookingRow], days: Sequence[date],
          zones: SiteCalendar) -> list[EngineerLine]:
    """S3: the grid, one line per engineer in the given order."""
    by_engineer: dict[str, list[BookingRow]] = {}
    for b in bookings:
        by_engineer.setdefault(b.engineer_id, []).append(b)
    return [engineer_line(e, by_engineer.get(e.engineer_id, []), days, zones) for e in engineers]


def unstaffed(cases: Iterable[WaitingCase]) -> list[UnstaffedCase]:
    """S3/S12: the cases of the period short of engineers: an acknowledged case without a team or with fewer
    engineers than the policy's head count (S3), and a dispatched case with an open staffing request (S12)."""
    out = []
    for c in cases:
        missing = max(c.head_count - c.assigned, 0) + c.requested
        if missing <= 0:
            continue
        if c.requested:
            reason = f"S12: {c.requested} more engineers requested on site"
        elif c.assigned == 0:
            reason = f"S3: no engineer assigned, {c.head_count} needed"
        else:
            reason = f"S3: {c.assigned} engineers assigned, head count {c.head_count}"
        out.append(UnstaffedCase(c.case_id, c.crm_reference, c.region, c.status, c.start, c.end, c.head_count,
                                 c.assigned, missing, reason))
    return sorted(out, key=lambda u: (u.start, u.case_id))
