"""Pure rules of the conformance view: the standard (shared.standard) applied to a case's timeline.

A step is *done* when one of its `done_by` events exists, *in progress* when only a `started_by`
event does, *not applicable* when it is conditional and nothing that makes it apply happened, and
*missing* otherwise. Steps tracked per item (S22-S24 per routed item, S25 per quality issue) are
done only when every item that was raised has its closing event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.dispatch.record.models import Finding, StepConformance
from shared.standard import STEPS, Step

# Routed-item steps share event types; the item's kind says which step an event belongs to.
ROUTED_KIND = {"S22": "referral", "S23": "abnormal_request", "S24": "internal_disagreement"}
# Steps whose proof is per item: every raised item needs its closing event.
ITEM_KEY = {"S22": "item_id", "S23": "item_id", "S24": "item_id", "S25": "issue_id"}


@dataclass(frozen=True)
class TimelineEvent:
    event_id: UUID
    event_type: str
    actor: str
    occurred_at: datetime
    data: dict[str, Any]


def _belongs(step: Step, e: TimelineEvent) -> bool:
    kind = ROUTED_KIND.get(step.id)
    if kind and e.event_type in ("RoutedItemAssigned", "RoutedItemAnswered"):
        return e.data.get("kind") == kind
    return True


def _findings(step: Step, events: Sequence[TimelineEvent]) -> list[Finding]:
    found: list[Finding] = []
    for e in events:
        if e.event_type not in step.findings_by:
            continue
        notes = e.data.get("compliance_findings")
        if e.event_type in step.done_by:
            # a proving event is a finding only when it reports one (e.g. calls out of order)
            found += [Finding(event_id=e.event_id, event_type=e.event_type, at=e.occurred_at, detail=str(n))
                      for n in notes or []]
        else:
            detail = e.data.get("reason") or e.data.get("day") or e.event_type
            found.append(Finding(event_id=e.event_id, event_type=e.event_type, at=e.occurred_at, detail=str(detail)))
    return found


def _unclosed_items(step: Step, events: Sequence[TimelineEvent]) -> set[str]:
    key = ITEM_KEY.get(step.id)
    if key is None:
        return set()
    opened = {str(e.data.get(key)) for e in events if e.event_type in step.started_by}
    closed = {str(e.data.get(key)) for e in events if e.event_type in step.done_by}
    return opened - closed


def step_conformance(step: Step, timeline: Sequence[TimelineEvent]) -> StepConformance:
    """One step's status, with when, who and the ids of the events that prove it."""
    own = [e for e in timeline if e.event_type in step.events and _belongs(step, e)]
    done = [e for e in own if e.event_type in step.done_by]
    started = [e for e in own if e.event_type in step.started_by]
    applies = any(e.event_type in step.applies_when for e in timeline) or bool(own)
    if done and not _unclosed_items(step, own):
        status, proof, when = "done", done, min(e.occurred_at for e in done)
    elif done or started:
        status, proof, when = "in_progress", [*started, *done], max(e.occurred_at for e in [*started, *done])
    elif step.conditional and not applies:
        status, proof, when = "not_applicable", [], None
    else:
        status, proof, when = "missing", [], None
    return StepConformance(
        step=step.id, title=step.title, phase=step.phase, owner=step.owner, status=status, when=when,
        who=sorted({e.actor for e in proof}), evidence=[e.event_id for e in proof],
        findings=_findings(step, own),
    )


def conformance(timeline: Sequence[TimelineEvent]) -> list[StepConformance]:
    """S1-S34 for one case."""
    ordered = sorted(timeline, key=lambda e: e.occurred_at)
    return [step_conformance(step, ordered) for step in STEPS]


def summary(steps: Sequence[StepConformance]) -> dict[str, int]:
    counts = {"done": 0, "in_progress": 0, "missing": 0, "not_applicable": 0}
    for s in steps:
        counts[s.status] += 1
    counts["findings"] = sum(len(s.findings) for s in steps)
    return counts
