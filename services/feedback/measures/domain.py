"""Pure arithmetic of the follow-up measures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return round(100 * (promoters - detractors) / len(values), 1)


def csat_percent(scores: Iterable[int]) -> float | None:
    """CSAT: % of 1-5 answers that are satisfied (4 or 5)."""
    values = list(scores)
    if not values:
        return None
    return round(100 * sum(1 for s in values if s >= 4) / len(values), 1)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class GroupBy(StrEnum):
    ALL = "all"
    MONTH = "month"
    REGION = "region"
    ENGINEER = "engineer"
    EQUIPMENT_TYPE = "equipment_type"


@dataclass(frozen=True)
class Grouped:
    """What a call or a response is grouped by (besides its month): where, which equipment, which team."""

    region: str
    equipment_type: str
    engineer_ids: tuple[str, ...]


@dataclass(frozen=True)
class CallFact(Grouped):
    """A closed call: when, where, who, whether it was answered."""

    closed_at: datetime
    unreachable: bool
    answered: bool
    completed_at: datetime | None
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class ResponseFact(Grouped):
    answered_at: datetime
    csat: int | None
    nps: int | None


@dataclass
class MeasureRow:
    group: str
    calls_closed: int = 0
    unreachable: int = 0
    answered_calls: int = 0
    responses: int = 0
    csat_scores: list[int] = field(default_factory=list)
    nps_scores: list[int] = field(default_factory=list)
    hours_to_call: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        promoters = sum(1 for s in self.nps_scores if s >= 9)
        detractors = sum(1 for s in self.nps_scores if s <= 6)
        return {
            "group": self.group, "calls_closed": self.calls_closed, "responses": self.responses,
            "response_rate": rate(self.answered_calls, self.calls_closed),
            "unreachable_rate": rate(self.unreachable, self.calls_closed),
            "csat_percent": csat_percent(self.csat_scores),
            "csat_mean": round(sum(self.csat_scores) / len(self.csat_scores), 2) if self.csat_scores else None,
            "nps": nps(self.nps_scores), "promoters": promoters, "detractors": detractors,
            "passives": len(self.nps_scores) - promoters - detractors,
            "mean_hours_completion_to_call": (round(sum(self.hours_to_call) / len(self.hours_to_call), 1)
                                              if self.hours_to_call else None),
        }


def _keys(group_by: GroupBy, at: datetime, fact: Grouped) -> list[str]:
    if group_by is GroupBy.MONTH:
        return [at.strftime("%Y-%m")]
    if group_by is GroupBy.REGION:
        return [fact.region or "unknown"]
    if group_by is GroupBy.EQUIPMENT_TYPE:
        return [fact.equipment_type or "unknown"]
    if group_by is GroupBy.ENGINEER:
        return list(fact.engineer_ids) or ["unknown"]  # a call counts for every engineer of the team
    return ["all"]


def summarise(calls: Iterable[CallFact], responses: Iterable[ResponseFact], group_by: GroupBy) -> list[dict]:
    """Measures per group: rates over closed calls, CSAT / NPS over responses in the period."""
    rows: dict[str, MeasureRow] = defaultdict(lambda: MeasureRow(group=""))
    for c in calls:
        for key in _keys(group_by, c.closed_at, c):
            row = rows[key]
            row.group = key
            row.calls_closed += 1
            row.unreachable += c.unreachable
            row.answered_calls += c.answered
            if c.completed_at is not None and c.first_attempt_at is not None:
                row.hours_to_call.append((c.first_attempt_at - c.completed_at).total_seconds() / 3600)
    for r in responses:
        for key in _keys(group_by, r.answered_at, r):
            row = rows[key]
            row.group = key
            row.responses += 1
            if r.csat is not None:
                row.csat_scores.append(r.csat)
            if r.nps is not None:
                row.nps_scores.append(r.nps)
    return [rows[k].summary() for k in sorted(rows)]
