"""Pure rules of the quality issue (S25): the two paths and the closed loop as a state machine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.quality.issues import domain
from services.quality.issues.domain import Stage
from services.quality.issues.models import IssueStatus, RootCause
from shared.api.problems import GateRefused

FULL_LOOP = {
    "containment": {"action": "quarantine"}, "root_cause": {"method": "five_whys"},
    "corrective_action": {"action": "replace relay"}, "preventive_action": {"action": "revise sheet"},
    "verification": {"effective": True},
}


def refused(fn, *args) -> list[str]:
    with pytest.raises(GateRefused) as info:
        fn(*args)
    return info.value.extra["missing_conditions"]


def test_a_stage_that_skips_earlier_ones_names_every_missing_one():
    missing = refused(domain.stage_gate, IssueStatus.ESCALATED, {}, Stage.CORRECTIVE_ACTION)
    assert missing == ["containment", "root cause"]


def test_stages_follow_each_other():
    loop: dict = {}
    status: str = IssueStatus.ESCALATED
    for stage in domain.LOOP_ORDER:
        domain.stage_gate(status, loop, stage)
        loop = domain.record_stage(loop, stage, {"x": 1})
        status = domain.STATUS_AFTER[stage]
    assert status == IssueStatus.VERIFIED and set(loop) == {s.value for s in Stage}


def test_the_loop_applies_only_to_escalated_issues():
    missing = refused(domain.stage_gate, IssueStatus.LOGGED, {}, Stage.CONTAINMENT)
    assert missing == ["escalation: the closed loop applies only to escalated issues"]
    assert refused(domain.stage_gate, IssueStatus.CLOSED, FULL_LOOP, Stage.CONTAINMENT)[0].startswith(
        "an open escalated issue")


def test_redoing_a_stage_drops_the_later_ones():
    loop = domain.record_stage(FULL_LOOP, Stage.ROOT_CAUSE, {"method": "fishbone"})
    assert set(loop) == {"containment", "root_cause"} and loop["root_cause"] == {"method": "fishbone"}


def test_closure_names_every_missing_requirement():
    missing = refused(domain.closure_gate, IssueStatus.CONTAINED, {"containment": {}})
    assert missing == ["root cause", "corrective action", "preventive action",
                       "a positive verification of effectiveness"]


def test_closure_needs_a_positive_verification():
    loop = {**FULL_LOOP, "verification": {"effective": False}}
    missing = refused(domain.closure_gate, IssueStatus.VERIFIED, loop)
    assert len(missing) == 1 and missing[0].startswith("a positive verification of effectiveness")
    domain.closure_gate(IssueStatus.VERIFIED, FULL_LOOP)


def test_the_two_paths_start_only_from_a_logged_issue():
    domain.escalation_gate(IssueStatus.LOGGED)
    domain.on_site_resolution_gate(IssueStatus.LOGGED)
    assert refused(domain.escalation_gate, IssueStatus.RESOLVED_ON_SITE) == [
        "a logged issue not yet escalated or resolved (it is resolved_on_site)"]
    assert refused(domain.on_site_resolution_gate, IssueStatus.ESCALATED) == [
        "a logged issue not yet escalated or resolved (it is escalated)"]


def test_only_closed_issues_reopen_and_where_they_go_back():
    assert domain.reopen_gate(IssueStatus.CLOSED) == IssueStatus.REOPENED
    assert domain.reopen_gate(IssueStatus.RESOLVED_ON_SITE) == IssueStatus.LOGGED
    assert refused(domain.reopen_gate, IssueStatus.VERIFIED) == ["a closed issue (it is verified)"]
    domain.stage_gate(IssueStatus.REOPENED, {}, Stage.CONTAINMENT)


def test_owner_or_unit_may_move_an_issue():
    kw = {"owner": "qe-1", "responsible_unit": "switchgear-quality"}
    assert domain.may_move(subject="qe-1", unit=None, is_admin=False, **kw)
    assert domain.may_move(subject="qe-2", unit="switchgear-quality", is_admin=False, **kw)
    assert domain.may_move(subject="root", unit=None, is_admin=True, **kw)
    assert not domain.may_move(subject="qe-3", unit="transformer-quality", is_admin=False, **kw)
    assert not domain.may_move(subject="qe-3", unit=None, is_admin=False, **kw)


def test_root_cause_method_fields():
    RootCause(method="five_whys", root_cause="seal", whys=["leak", "seal aged"])
    RootCause(method="fishbone", root_cause="seal", categories={"material": ["seal batch"]})
    with pytest.raises(ValidationError, match="five_whys needs 'whys'"):
        RootCause(method="five_whys", root_cause="seal")
    with pytest.raises(ValidationError, match="fishbone needs 'categories'"):
        RootCause(method="fishbone", root_cause="seal", categories={"material": []})
    with pytest.raises(ValidationError):
        RootCause(method="fishbone", root_cause="seal", categories={"weather": ["rain"]})
    with pytest.raises(ValidationError):
        RootCause(method="five_whys", root_cause="seal", whys=["leak", ""])
