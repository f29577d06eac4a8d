"""Pure rules of the records kept on site (no I/O): S16 reports, S18 process records, S21 leaving mid-way,
S22-S24 items, S31 training."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from shared.messages import msg
from shared.problems import GateRefused


def may_leave(*, consent: bool, exception_reason: str | None, exception_approved_by: str | None) -> bool:
    """S21: with the site manager's consent the engineer may leave; a refusal means staying,
    unless an exception (with its reason) is approved (by a department head, see `check_exception_approval`)."""
    if consent:
        return True
    return bool((exception_reason or "").strip() and (exception_approved_by or "").strip())


def check_exception_approval(*, consent: bool, exception_reason: str | None, already_approved: bool) -> None:
    """S21: an exception is approved only after the site manager refused, for a stated reason, once."""
    missing: list[str] = []
    if consent:
        missing.append(msg("S21: the site manager consented; no exception is needed"))
    if not (exception_reason or "").strip():
        missing.append(msg("S21: the engineer stated no reason for an exception (exception_reason)"))
    if already_approved:
        missing.append(msg("S21: the exception is already approved"))
    if missing:
        raise GateRefused(msg("leave exception"), missing)


def refused_leave_breach(*, decided_on: date, today: date, signed_in_days: Iterable[date],
                         elsewhere_days: Iterable[date] = ()) -> tuple[str, date] | None:
    """S21: an engineer refused leave stays. After the refusal, signing in at another site is a departure,
    and a day (before today) without a sign-in here is a breach: the first of either, with how it happened.
    None while the engineer signs in here every day."""
    present = set(signed_in_days)
    away = sorted(d for d in elsewhere_days if d > decided_on)
    day = decided_on + timedelta(days=1)
    while day < today:
        if away and away[0] <= day:
            return "departed", away[0]
        if day not in present:
            return "no_sign_in", day
        day += timedelta(days=1)
    if away and away[0] <= today:
        return "departed", away[0]
    return None


def report_overdue(*, period_days: int | None, since: datetime | None, now: datetime) -> datetime | None:
    """S16: a report to the customer is due `period_days` (the plan's period) after the last report, or after
    arrival when none was sent yet. The moment it became due when that has passed, else None."""
    if not period_days or since is None:
        return None
    due = since + timedelta(days=period_days)
    return due if now > due else None


def check_training_evaluation(*, evaluation_scores: Sequence[int], evaluation_declined: bool) -> None:
    """S31: the customer is asked to evaluate the training: the evaluation forms, or their recorded refusal."""
    if not evaluation_scores and not evaluation_declined:
        raise GateRefused(msg("training"), [
            msg("S31: the customer's evaluation of the training is not recorded (evaluation_scores, "
            "or evaluation_declined when the customer declined the form)")])
    if evaluation_scores and evaluation_declined:
        raise GateRefused(msg("training"),
                          [msg("S31: evaluation forms are recorded, so the evaluation was not declined")])


def raised_subject(*, kind: str, product: str | None, topic: str | None, units: Sequence[str]) -> str:
    """S22-S24: what the raised item is about; each kind needs its own subject."""
    if kind == "referral":
        if not product:
            raise GateRefused(msg("raised item"), [msg("S22: a referral names the product the customer asked about "
                "(product)")])
        return product
    if kind == "abnormal_request":
        if not topic:
            raise GateRefused(msg("raised item"), [msg("S23: an abnormal request names its topic (topic)")])
        return topic
    if len(units) < 2:
        raise GateRefused(msg("raised item"), [msg("S24: an internal disagreement names at least two units (units)")])
    return " / ".join(units)


def check_training_materials(materials: Sequence[str], catalogue: Mapping[str, bool]) -> None:
    """S31: approved materials only (the catalogue maps code -> approved)."""
    missing = [msg("S31: material {m} is not in the catalogue", m=m) for m in materials if m not in catalogue]
    missing += [msg("S31: material {m} is not approved", m=m) for m in materials if catalogue.get(m) is False]
    if missing:
        raise GateRefused(msg("training"), missing)


def check_customer_report(*, customer_agrees: bool | None, escalate_to: str | None) -> None:
    """S16: a disagreement of the customer is escalated rather than argued; nothing else is escalated."""
    if escalate_to and customer_agrees is not False:
        raise GateRefused(msg("customer report"), [
            msg("S16: only a disagreement of the customer is escalated (customer_agrees: false)")])


def check_process_record(*, kind: str, reason: str | None, approved_by: str | None, participants: Sequence[str],
                         change_document: str | None, change_document_evidence: bool | None) -> None:
    """S18: a drawing modification says why and who approved it; minutes list the departments' participants;
    a design change has its change document (a reference, or evidence of this visit).

    `change_document_evidence` is None when no evidence was named, else whether it is a file of this visit.
    """
    missing: list[str] = []
    if kind == "drawing_modification":
        if not reason:
            missing.append(msg("S18: a drawing modification records why it was made (reason)"))
        if not approved_by:
            missing.append(msg("S18: a drawing modification records who approved it (approved_by)"))
    if kind == "meeting_minutes" and len(participants) < 2:
        missing.append(msg("S18: minutes of a multi-department meeting list at least two participants"))
    if kind == "design_change":
        if change_document_evidence is False:
            missing.append(msg("S18: the change document's evidence is not a file of this visit"))
        elif not change_document and not change_document_evidence:
            missing.append(msg("S18: a design change needs its change document "
                           "(change_document reference or change_document_evidence_id)"))
    if missing:
        raise GateRefused(msg("process record"), missing)
