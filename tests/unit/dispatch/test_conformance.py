"""The conformance view: the standard applied to a timeline, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.dispatch.record.domain import TimelineEvent, conformance, summary

T0 = datetime(2026, 11, 27, 8, tzinfo=UTC)


def ev(event_type: str, minute: int, actor: str = "d1", **data) -> TimelineEvent:
    return TimelineEvent(uuid4(), event_type, actor, T0 + timedelta(minutes=minute), data)


def by_step(timeline):
    return {s.step: s for s in conformance(timeline)}


def test_done_in_progress_missing_and_not_applicable():
    received, ack = ev("ServiceRequestReceived", 0, "crm"), ev("ServiceRequestAcknowledged", 1, "d1")
    steps = by_step([received, ack, ev("ServiceRequestReceived", 2, "crm"), ev("PreparationCompleted", 3)])
    s1 = steps["S1"]
    assert s1.status == "done" and s1.when == ack.occurred_at and s1.who == ["d1"] and s1.evidence == [ack.event_id]
    assert steps["S6"].status == "in_progress"
    assert steps["S2"].status == "missing" and steps["S2"].evidence == []
    assert steps["S7"].status == "not_applicable"
    assert steps["S25"].status == "not_applicable"
    counts = summary(list(steps.values()))
    assert counts["done"] == 1 and counts["in_progress"] == 1
    assert sum(counts[k] for k in ("done", "in_progress", "missing", "not_applicable")) == 34


def test_routed_items_count_for_their_own_step_and_every_item_must_be_answered():
    a, b = str(uuid4()), str(uuid4())
    timeline = [ev("ReferralRaised", 0, "eng", item_id=a), ev("ReferralRaised", 1, "eng", item_id=b),
                ev("RoutedItemAssigned", 2, item_id=a, kind="referral"),
                ev("RoutedItemAnswered", 3, "unit", item_id=a, kind="referral")]
    steps = by_step(timeline)
    assert steps["S22"].status == "in_progress"
    assert steps["S23"].status == "not_applicable"
    timeline.append(ev("RoutedItemAnswered", 4, "unit", item_id=b, kind="referral"))
    steps = by_step(timeline)
    assert steps["S22"].status == "done" and steps["S22"].who == ["unit"]
    assert steps["S23"].status == "not_applicable" and steps["S24"].status == "not_applicable"


def test_quality_issue_is_done_when_every_logged_issue_is_resolved_or_closed():
    i1, i2 = str(uuid4()), str(uuid4())
    timeline = [ev("IssueLogged", 0, "eng", issue_id=i1), ev("IssueLogged", 1, "eng", issue_id=i2),
                ev("IssueResolvedOnSite", 2, "eng", issue_id=i1)]
    assert by_step(timeline)["S25"].status == "in_progress"
    timeline.append(ev("IssueClosed", 5, "qe", issue_id=i2))
    assert by_step(timeline)["S25"].status == "done"


def test_findings_are_shown_even_when_the_step_is_done():
    arrived = ev("EngineerArrived", 0, "eng", compliance_findings=["S8: site interface called before customer"])
    missed = ev("SignOutMissed", 1, "service:onsite", day="2026-11-27")
    steps = by_step([arrived, missed, ev("EngineerCheckedOut", 2, "eng")])
    assert steps["S8"].status == "done"
    assert [f.detail for f in steps["S8"].findings] == ["S8: site interface called before customer"]
    # a day flagged without a sign-out is a duty missed: the step is not done, and the flag is its finding
    assert steps["S10"].status == "in_progress" and steps["S10"].findings[0].event_id == missed.event_id
    clean = by_step([ev("EngineerArrived", 0, "eng", compliance_findings=[])])
    assert clean["S8"].findings == []
