"""Pure rules of the site visit (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.events.onsite import ThreeCallEntry
from shared.messages import msg
from shared.problems import Forbidden

THREE_CALLS_ORDER = ("account_manager", "customer_contact", "site_interface")


def three_call_findings(calls: Sequence[ThreeCallEntry]) -> list[str]:
    """S8: the calls go account manager -> customer contact -> site interface person.

    Missing or out-of-order calls do not block arrival; they are compliance findings.
    """
    findings: list[str] = []
    parties = [c.party for c in sorted(calls, key=lambda c: c.called_at)]
    for party in THREE_CALLS_ORDER:
        if party not in parties:
            findings.append(msg("S8: no call to the {party}", party=party.replace('_', ' ')))
    made = [p for p in parties if p in THREE_CALLS_ORDER]
    first_seen = list(dict.fromkeys(made))
    expected = [p for p in THREE_CALLS_ORDER if p in first_seen]
    if first_seen != expected:
        findings.append(msg("S8: calls out of order ({first_seen})", first_seen=' -> '.join(first_seen)))
    return findings


def require_team_member(engineer_ids: Sequence[str], subject: str) -> None:
    """Only the engineers of the dispatched team work on a visit."""
    if subject not in engineer_ids:
        raise Forbidden(msg("only engineers of this visit's team may do this"))
