"""Generated rosters and case loads for the suggestion tests and the benchmark (seeded, reproducible)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.dispatch.staffing.domain import Busy, Requirement
from services.dispatch.suggestions.domain import CaseNeed, EngineerProfile

REGIONS = ("east", "north", "south", "central", "northeast", "southwest", "northwest")
EQUIPMENT = ("GIS-126kV", "GIS-252kV", "transformer-220kV", "switchgear-12kV", "reactor-35kV")
T0 = datetime(2027, 1, 4, 8, tzinfo=UTC)
PM_CERTIFICATE = "project_management"


def roster(n: int, seed: int) -> list[EngineerProfile]:
    rnd = random.Random(seed)
    engineers = []
    for i in range(n):
        skills = {t: rnd.randint(1, 5) for t in rnd.sample(EQUIPMENT, rnd.randint(1, 3))}
        certs = {"hv_live_work": date(2027, 1, 1) + timedelta(days=rnd.randint(0, 240))} if rnd.random() < 0.7 else {}
        busy = []
        if rnd.random() < 0.3:
            start = T0 + timedelta(days=rnd.randint(0, 80))
            busy.append(Busy(start, start + timedelta(days=rnd.randint(2, 10)), "leave"))
        engineers.append(EngineerProfile(f"e{i:03d}", f"Engineer {i}", rnd.randint(1, 5), rnd.choice(REGIONS),
                                         skills, certs, tuple(busy)))
    # a stream of its own, so the draws above stay as they were: 40% hold a project-management certificate
    lead = random.Random(seed + 7919)
    return [replace(e, certificates={**e.certificates, PM_CERTIFICATE: date(2027, 12, 31)})
            if lead.random() < 0.4 else e for e in engineers]


def case_load(n: int, seed: int, horizon_days: int = 90, *, lead_rules: bool = False) -> list[CaseNeed]:
    """`lead_rules`: a third of the teams of two or more need a project manager of grade 4 or more, and a
    fifth one holding the project-management certificate (S3 policy rules for the project manager)."""
    rnd = random.Random(seed + 1)
    lead = random.Random(seed + 7907)
    cases = []
    for i in range(n):
        start = T0 + timedelta(days=rnd.randint(0, horizon_days), hours=rnd.choice((0, 24)))
        end = start + timedelta(days=rnd.randint(1, 6))
        certs = ("hv_live_work",) if rnd.random() < 0.3 else ()
        requirement = Requirement(min_grade=rnd.randint(1, 4), head_count=rnd.choice((1, 1, 2, 2, 3)),
                                  certificates=certs)
        if lead_rules and requirement.head_count >= 2:
            requirement = replace(requirement, project_manager_min_grade=4 if lead.random() < 1 / 3 else 0,
                                  project_manager_certificates=(PM_CERTIFICATE,) if lead.random() < 0.2 else ())
        cases.append(CaseNeed(f"c{i:03d}", rnd.choice(REGIONS), rnd.choice(EQUIPMENT), start, end, requirement))
    return cases
