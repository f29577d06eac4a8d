"""Pure rules of the consequences on site: S16 overdue reports, S18 change documents, S21 leave refused,
S27 clean-up, S31 evaluation (issue 13, items 5 and 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.onsite.closing.domain import check_cleanup
from services.onsite.site_records.domain import (
    check_exception_approval,
    check_process_record,
    check_training_evaluation,
    refused_leave_breach,
    report_overdue,
)
from shared.api.problems import GateRefused

DAY = date(2026, 11, 23)


def refused(call, **kwargs) -> list[str]:
    with pytest.raises(GateRefused) as exc:
        call(**kwargs)
    return exc.value.extra["missing_conditions"]


def test_s21_refused_leave_not_kept_is_found_by_the_first_missing_or_foreign_sign_in():
    assert refused_leave_breach(decided_on=DAY, today=DAY + timedelta(days=1), signed_in_days=[]) is None
    kept = [DAY + timedelta(days=i) for i in (1, 2)]
    assert refused_leave_breach(decided_on=DAY, today=DAY + timedelta(days=3), signed_in_days=kept) is None
    assert refused_leave_breach(decided_on=DAY, today=DAY + timedelta(days=3), signed_in_days=kept[:1]) == (
        "no_sign_in", DAY + timedelta(days=2))
    assert refused_leave_breach(decided_on=DAY, today=DAY + timedelta(days=1), signed_in_days=[],
                                elsewhere_days=[DAY + timedelta(days=1)]) == ("departed", DAY + timedelta(days=1))
    assert refused_leave_breach(decided_on=DAY, today=DAY + timedelta(days=1), signed_in_days=[],
                                elsewhere_days=[DAY]) is None  # signed in elsewhere before the refusal


def test_s21_an_exception_is_approved_once_after_a_refusal_with_a_reason():
    assert refused(check_exception_approval, consent=True, exception_reason=None, already_approved=True) == [
        "S21: the site manager consented; no exception is needed",
        "S21: the engineer stated no reason for an exception (exception_reason)",
        "S21: the exception is already approved"]
    check_exception_approval(consent=False, exception_reason="family emergency", already_approved=False)


def test_s16_a_report_is_overdue_a_period_after_the_last_one():
    since = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert report_overdue(period_days=3, since=since, now=since + timedelta(days=3)) is None
    assert report_overdue(period_days=3, since=since, now=since + timedelta(days=3, seconds=1)) == (
        since + timedelta(days=3))
    assert report_overdue(period_days=None, since=since, now=since + timedelta(days=30)) is None


def test_s18_each_kind_of_process_record_needs_what_the_standard_names():
    base = dict(reason=None, approved_by=None, participants=[], change_document=None, change_document_evidence=None)
    assert refused(check_process_record, kind="design_change", **base) == [
        "S18: a design change needs its change document (change_document reference or change_document_evidence_id)"]
    assert refused(check_process_record, kind="design_change", **{**base, "change_document_evidence": False}) == [
        "S18: the change document's evidence is not a file of this visit"]
    check_process_record(kind="design_change", **{**base, "change_document": "DC-17"})
    check_process_record(kind="design_change", **{**base, "change_document_evidence": True})
    check_process_record(kind="problem_handling", **base)


def test_s27_and_s31_refuse_naming_what_is_missing():
    assert refused(check_cleanup, site_clean=False, equipment_clean=False, already_confirmed=True) == [
        "S27: clean-up is already confirmed", "S27: the work site is not clean", "S27: the equipment is not clean"]
    check_cleanup(site_clean=True, equipment_clean=True, already_confirmed=False)
    assert len(refused(check_training_evaluation, evaluation_scores=[], evaluation_declined=False)) == 1
    check_training_evaluation(evaluation_scores=[], evaluation_declined=True)
    check_training_evaluation(evaluation_scores=[4, 5], evaluation_declined=False)
