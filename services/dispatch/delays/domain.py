"""Pure rules of S7: a new arrival needs both notifications, for a case not yet on site, and the
team must still be free, certified and available in the moved window (the S3 rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.dispatch.cases.domain import CaseStatus
from services.dispatch.staffing.domain import Candidate, Requirement, team_problems
from shared.messages import msg
from shared.problems import GateRefused


def moved_window(planned_start: datetime | None, planned_end: datetime | None,
                 new_arrival: datetime) -> tuple[datetime, datetime | None]:
    """S7: the planned window starts at the new arrival and keeps its length (no end stays none)."""
    if planned_start is None or planned_end is None:
        return new_arrival, planned_end
    return new_arrival, planned_end + (new_arrival - planned_start)


def reschedule_problems(status: CaseStatus, customer_notified_at: datetime | None,
                        regional_centre_notified_at: datetime | None, *,
                        team: Sequence[Candidate] = (), unknown: Sequence[str] = (),
                        requirement: Requirement | None = None, start: datetime | None = None,
                        end: datetime | None = None, informing: bool = False) -> list[str]:
    """S7: every reason the arrival cannot move (empty when it can).

    Besides both notifications, the staffed team is checked again in the new window under the
    S3 rules (availability, other bookings, certificates valid to the new end, active, grade,
    head count, project manager) of the policy it was staffed under. `informing`: the system is
    asked to send both notifications (decision 0090), so they are not required yet: the arrival
    moves once both messages are sent.
    """
    missing = []
    if status not in (CaseStatus.ACKNOWLEDGED, CaseStatus.DISPATCHED):
        missing.append(msg("S7: only a staffed case not yet on site can be rescheduled (it is {status})",
            status=status))
    if customer_notified_at is None and not informing:
        missing.append(msg("S7: the customer's notification is not recorded"))
    if regional_centre_notified_at is None and not informing:
        missing.append(msg("S7: the regional service centre's notification is not recorded"))
    if (team or unknown) and requirement is not None and start is not None and end is not None:
        missing += team_problems(team, unknown, requirement, start, end)
    return missing


def check_reschedule(status: CaseStatus, customer_notified_at: datetime | None,
                     regional_centre_notified_at: datetime | None, *,
                     team: Sequence[Candidate] = (), unknown: Sequence[str] = (),
                     requirement: Requirement | None = None, start: datetime | None = None,
                     end: datetime | None = None, informing: bool = False) -> None:
    """S7 gate: refuses listing each missing notification and each S3 rule the moved window breaks
    (double-booked engineers by name)."""
    missing = reschedule_problems(status, customer_notified_at, regional_centre_notified_at, team=team,
                                  unknown=unknown, requirement=requirement, start=start, end=end,
                                  informing=informing)
    if missing:
        raise GateRefused(msg("arrival reschedule"), missing)
