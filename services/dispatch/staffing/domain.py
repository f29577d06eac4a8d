"""Pure rules of S3 (and S12): what the staffing policy requires and whether a team meets it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.messages import msg
from shared.problems import GateRefused

LEVEL_SCORE = {"low": 0, "medium": 1, "high": 2}
# S14: live high-voltage work is done by engineers holding this certificate, whatever the stored policy says.
LIVE_WORK_CERTIFICATE = "hv_live_work"
LEVELS = tuple(LEVEL_SCORE)


@dataclass(frozen=True)
class Requirement:
    min_grade: int
    head_count: int
    certificates: tuple[str, ...] = ()
    # what the policy asks of the project manager of a team of two or more (S3), beyond every member's rules
    project_manager_min_grade: int = 0
    project_manager_certificates: tuple[str, ...] = ()


def default_rules() -> list[dict]:
    """The built-in table (policy version 0) until someone stores one: harder, more urgent and more
    important jobs need more senior and more engineers."""
    rules = []
    for u in LEVELS:
        for d in LEVELS:
            for i in LEVELS:
                score = LEVEL_SCORE[u] + LEVEL_SCORE[d] + LEVEL_SCORE[i]
                rules.append({"urgency": u, "difficulty": d, "customer_importance": i,
                              "min_grade": 1 + score // 2, "head_count": 1 if score <= 3 else (2 if score <= 5 else 3)})
    return rules


def has_live_hv_work(sheets: Sequence[dict]) -> bool:
    """S14: whether the case's specification pack (S5) holds live high-voltage work."""
    return any(item.get("live_hv") for sheet in sheets for item in sheet.get("items", []))


def requirement_for(rules: Sequence[dict], certificates: Sequence[dict], *, urgency: str, difficulty: str,
                    customer_importance: str, equipment_type: str, live_hv: bool = False) -> Requirement:
    """S3: look up the minimum grade and head count; a combination the table lacks uses the default.

    Wherever the standard's live-HV rules apply (S14: the pack holds live-HV work), every engineer needs
    the live-work certificate, in the built-in policy and in every stored one."""
    key = (urgency, difficulty, customer_importance)
    table = {(r["urgency"], r["difficulty"], r["customer_importance"]): r for r in rules}
    rule = table.get(key) or {(r["urgency"], r["difficulty"], r["customer_importance"]): r
                              for r in default_rules()}[key]
    certs = {c["certificate_type"] for c in certificates if c["equipment_type"] == equipment_type}
    if live_hv:
        certs.add(LIVE_WORK_CERTIFICATE)
    return Requirement(rule["min_grade"], rule["head_count"], tuple(sorted(certs)),
                       rule.get("project_manager_min_grade", 0),
                       tuple(sorted(rule.get("project_manager_certificates", ()))))


def live_work_missing(team: Sequence[tuple[str, date | None]], *, until: date | None) -> list[str]:
    """S3/S14 at dispatch: with live-HV work in the pack, each engineer's live-work certificate (its latest
    expiry, None when they have none) is valid to the planned end."""
    missing: list[str] = []
    for engineer_id, expiry in team:
        if expiry is None:
            missing.append(msg("S3: engineer {engineer_id} has no {live_work_certificate} certificate (the pack "
                "holds live-HV work)",
                engineer_id=engineer_id, live_work_certificate=LIVE_WORK_CERTIFICATE))
        elif until is not None and expiry < until:
            missing.append(msg("S3: engineer {engineer_id}'s {live_work_certificate} certificate expires on "
                "{expiry}, before the planned end {until}",
                engineer_id=engineer_id, live_work_certificate=LIVE_WORK_CERTIFICATE, expiry=expiry, until=until))
    return missing


@dataclass(frozen=True)
class EngineerFacts:
    """Who an engineer is to the S3 rules, wherever they are weighed (the gate, the board, suggestions)."""

    engineer_id: str
    name: str
    grade: int


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    what: str


@dataclass(frozen=True)
class Candidate(EngineerFacts):
    """What the gate knows of one engineer proposed for the team."""

    active: bool = True
    certificates: dict[str, date] = field(default_factory=dict)  # type -> latest expiry
    busy: tuple[Busy, ...] = ()
    is_project_manager: bool = False


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def project_manager_problems(managers: Sequence[Candidate], requirement: Requirement, end: datetime) -> list[str]:
    """S3: what the policy asks of the project manager (a grade, certificates valid to the planned end)."""
    problems: list[str] = []
    for c in managers:
        if c.grade < requirement.project_manager_min_grade:
            problems.append(msg("S3: project manager {engineer_id} has grade {grade}, below the policy's "
                "{min_grade} for a project manager",
                engineer_id=c.engineer_id, grade=c.grade, min_grade=requirement.project_manager_min_grade))
        for cert in requirement.project_manager_certificates:
            expiry = c.certificates.get(cert)
            if expiry is None or expiry < end.date():
                problems.append(msg("S3: project manager {engineer_id} holds no {cert} certificate valid to the "
                    "planned end {end}", engineer_id=c.engineer_id, cert=cert, end=end.date()))
    return problems


def team_problems(team: Sequence[Candidate], unknown: Sequence[str], requirement: Requirement,
                  start: datetime, end: datetime) -> list[str]:
    """S3: every reason the team cannot be assigned (empty when it can)."""
    problems = [msg("S3: engineer {e} is not on the roster", e=e) for e in unknown]
    ids = [c.engineer_id for c in team] + list(unknown)
    if len(ids) != len(set(ids)):
        problems.append(msg("S3: an engineer is listed twice in the team"))
    if len(ids) < requirement.head_count:
        problems.append(msg("S3: head count {count_ids} is below the required {head_count}",
            count_ids=len(ids), head_count=requirement.head_count))
    managers = sum(1 for c in team if c.is_project_manager)
    if len(ids) >= 2 and managers != 1:
        problems.append(msg("S3: a team of {count_ids} needs exactly one project manager (has {managers})",
            count_ids=len(ids), managers=managers))
    if len(ids) >= 2:
        problems += project_manager_problems([c for c in team if c.is_project_manager], requirement, end)
    for c in team:
        if not c.active:
            problems.append(msg("S3: engineer {engineer_id} is not active", engineer_id=c.engineer_id))
        if c.grade < requirement.min_grade:
            problems.append(msg("S3: engineer {engineer_id} has grade {grade}, below the minimum grade {min_grade}",
                engineer_id=c.engineer_id, grade=c.grade, min_grade=requirement.min_grade))
        for b in c.busy:
            if overlaps(start, end, b.start, b.end):
                problems.append(msg("S3: engineer {engineer_id} is double-booked in the planned window ({what})",
                    engineer_id=c.engineer_id, what=b.what))
        for cert in requirement.certificates:
            expiry = c.certificates.get(cert)
            if expiry is None:
                problems.append(msg("S3: engineer {engineer_id} has no {cert} certificate",
                    engineer_id=c.engineer_id, cert=cert))
            elif expiry < end.date():
                problems.append(msg("S3: engineer {engineer_id}'s {cert} certificate expires on {expiry}, before the "
                    "planned end {end}",
                    engineer_id=c.engineer_id, cert=cert, expiry=expiry, end=end.date()))
    return problems


def check_assignment(team: Sequence[Candidate], unknown: Sequence[str], requirement: Requirement,
                     start: datetime, end: datetime) -> None:
    """S3 gate: refuses naming every failing rule."""
    problems = team_problems(team, unknown, requirement, start, end)
    if problems:
        raise GateRefused(msg("assignment"), problems)


def check_added_staff(existing: Sequence[Candidate], added: Sequence[Candidate], unknown: Sequence[str],
                      requirement: Requirement, requested: int, start: datetime, end: datetime) -> None:
    """S12: added engineers meet the same rules; the whole team still has exactly one project manager."""
    problems = [p for p in team_problems([*existing, *added], unknown, requirement, start, end)
                if "head count" not in p]
    existing_ids = {c.engineer_id for c in existing}
    problems += [msg("S12: engineer {engineer_id} is already on the team", engineer_id=c.engineer_id)
                 for c in added if c.engineer_id in existing_ids]
    if len(added) + len(unknown) < requested:
        problems.append(msg("S12: {requested} engineers were requested, {value} added",
            requested=requested, value=len(added) + len(unknown)))
    if problems:
        raise GateRefused(msg("staff addition"), problems)
