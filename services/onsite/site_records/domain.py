"""Pure rules of the records kept on site (no I/O): S21 leaving mid-way, S22-S24 items, S31 training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.api.problems import GateRefused, InvalidInput


def may_leave(*, consent: bool, exception_reason: str | None, exception_approved_by: str | None) -> bool:
    """S21: with the site manager's consent the engineer may leave; a refusal means staying,
    unless an exception (with its reason) is approved."""
    if consent:
        return True
    return bool((exception_reason or "").strip() and (exception_approved_by or "").strip())


def raised_subject(*, kind: str, product: str | None, topic: str | None, units: Sequence[str]) -> str:
    """S22-S24: what the raised item is about; each kind needs its own subject."""
    if kind == "referral":
        if not product:
            raise InvalidInput("a referral (S22) names the product the customer asked about", field="product")
        return product
    if kind == "abnormal_request":
        if not topic:
            raise InvalidInput("an abnormal request (S23) names its topic", field="topic")
        return topic
    if len(units) < 2:
        raise InvalidInput("an internal disagreement (S24) names at least two units", field="units")
    return " / ".join(units)


def check_training_materials(materials: Sequence[str], catalogue: Mapping[str, bool]) -> None:
    """S31: approved materials only (the catalogue maps code -> approved)."""
    missing = [f"S31: material {m} is not in the catalogue" for m in materials if m not in catalogue]
    missing += [f"S31: material {m} is not approved" for m in materials if catalogue.get(m) is False]
    if missing:
        raise GateRefused("training", missing)
