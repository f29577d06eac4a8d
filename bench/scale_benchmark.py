"""Benchmark 4: list, search and conformance with many cases and events in dispatch's database.

A database migrated with dispatch's migrations is filled with COPY (asyncpg
`copy_records_to_table`, records streamed from a generator) in steps: each step brings it to the
next size (e.g. 10k, 100k, 1M cases with 10 timeline events each). Before a step the secondary
indexes of `service_case` and all indexes of `case_event` are dropped; after it they are created
again exactly as the migrations define them, then VACUUM ANALYZE (the state autovacuum would
reach). At each size a dispatch process (uvicorn, relay and consumer off) answers the requests;
each request is sent serially from this process, `repeats` times after a warm-up, and timed as
the client sees it (HTTP included). The insight read model (decision 0085: one KPI row and one
conformance summary row per case, one row per engineer of a team) is filled alongside, with random
counts, for the KPI and conformance-report requests.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.common import Infra, ms, percentile, say
from shared.api.auth import issue_dev_token
from shared.api.pagination import encode_cursor
from shared.settings import ServiceSettings

DATABASE = "bench_scale"
EVENTS_PER_CASE = 10
REGIONS = ["north", "south", "east", "west", "central", "northeast", "northwest", "southwest"]
STATUSES = ["received"] * 3 + ["acknowledged"] * 4 + ["dispatched"] * 6 + ["on_site"] * 4 + ["completed"] * 8 + \
    ["closed"] * 75
CUSTOMERS = 5000
ENGINEERS = 2000
LIFECYCLE = ["ServiceRequestReceived", "ServiceRequestAcknowledged", "ServiceConditionsConfirmed",
             "EngineersAssigned", "ServicePlanApproved", "SpecificationPackAttached", "PreparationCompleted",
             "ServiceDispatched", "EngineerArrived", "ServiceCompleted"]
CASE_COLUMNS = ["id", "crm_reference", "customer_name", "site_name", "site_address", "region", "equipment_type",
                "equipment_model", "equipment_quantity", "contract_reference", "requested_work", "urgency",
                "difficulty", "customer_importance", "contacts", "status", "team", "planned_start", "planned_end",
                "version", "created_at", "created_by", "updated_at", "updated_by"]
EVENT_COLUMNS = ["event_id", "case_id", "event_type", "source", "actor", "occurred_at", "data"]
ASSIGNMENT_COLUMNS = ["id", "case_id", "engineer_id", "is_project_manager", "planned_start", "planned_end",
                      "created_by", "created_at"]
CONTACTS = json.dumps({"account_manager": {"name": "Li Wei", "phone": "+86 510 1111 0001"},
                       "customer_contact": {"name": "Zhang Min", "phone": "+86 510 1111 0002"},
                       "site_interface": {"name": "Wang Fang", "phone": "+86 510 1111 0003"}})
SPAN = timedelta(days=3 * 365)
SITE_ZONE = ZoneInfo("Asia/Shanghai")
KPI_COUNTS = ["arrivals", "arrivals_judged", "arrivals_on_time", "arrivals_three_calls_ok", "engineer_days",
              "days_signed_in", "days_signed_out", "days_logged"]
FACT_COLUMNS = ["case_id", "region", "equipment_type", "engineers", "created_at", "period_day", "month",
                *KPI_COUNTS, "completed", "first_visit_complete", "site_days", "issues_logged", "issues_closed",
                "closure_hours", "issues_past_sla", "calls_closed", "calls_answered", "calls_unreachable",
                "csat_responses", "csat_satisfied", "nps_responses", "promoters", "detractors", "receipt_ratings",
                "receipt_rating_sum", "cases_judged", "cases_conformant", "findings_judged", "last_event_at",
                "updated_at"]
ENGINEER_FACT_COLUMNS = ["case_id", "engineer_id", "period_day", *KPI_COUNTS]
SUMMARY_COLUMNS = ["case_id", "region", "equipment_type", "engineers", "created_at", "period_day", "done",
                   "in_progress", "missing", "not_applicable", "findings", "steps", "updated_at"]
INSIGHT_TABLES = ["case_kpi_facts", "engineer_kpi_facts", "case_conformance_summary"]
STEP_STATUSES = ["done"] * 8 + ["not_applicable", "in_progress", "missing"]


def customer(n: int) -> str:
    return f"Customer {n:05d} Power Supply Co."


def engineer(n: int) -> str:
    return f"eng-{n:05d}"


class Generator:
    """Cases with random creation times over three years, and their timelines."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.end = datetime.now(UTC).replace(microsecond=0)
        self.start = self.end - SPAN
        self.made = 0
        self.pending_events: list[tuple] = []
        self.assignments: list[tuple] = []  # the teams' current engineer_assignment rows

    def cases(self, count: int, case_ids: list[uuid.UUID]) -> Iterator[tuple]:
        rng, span_s = self.rng, SPAN.total_seconds()
        for _ in range(count):
            self.made += 1
            n = self.made
            case_id = uuid.uuid4()
            case_ids.append(case_id)
            created = self.start + timedelta(seconds=rng.random() * span_s)
            team = "[]"
            planned_start = planned_end = None
            if rng.random() < 0.4:
                members = [{"engineer_id": engineer(rng.randrange(ENGINEERS)), "name": "Bench Engineer",
                            "grade": rng.randint(1, 5), "is_project_manager": i == 0}
                           for i in range(rng.randint(1, 3))]
                team = json.dumps(members)
                planned_start = created + timedelta(days=rng.randint(3, 30))
                planned_end = planned_start + timedelta(days=rng.randint(1, 10))
                self.assignments += [(uuid.uuid4(), case_id, m["engineer_id"], m["is_project_manager"],
                                      planned_start, planned_end, "bench", created)
                                     for m in {m["engineer_id"]: m for m in members}.values()]
            yield (case_id, f"CRM-{n:09d}", customer(rng.randrange(CUSTOMERS)), f"Site {n % 9973}",
                   "88 Xinhua Road, Wuxi", rng.choice(REGIONS), "GIS-126kV", "ZF11-126", 3, "CT-2026-0042",
                   "Installation and commissioning of three GIS bays", "high", "medium", "high", CONTACTS,
                   rng.choice(STATUSES), team, planned_start, planned_end, 1, created, "crm-system", created,
                   "crm-system")

    def events(self, cases: list[tuple]) -> Iterator[tuple]:
        hours = timedelta(hours=7)
        for case in cases:
            case_id, created = str(case[0]), case[1]
            data = f'{{"case_id": "{case_id}"}}'
            for k, event_type in enumerate(LIFECYCLE[:EVENTS_PER_CASE]):
                yield (uuid.uuid4(), case_id, event_type, "/fieldservice/dispatch", "bench", created + hours * k, data)


    def insight(self, cases: list[tuple]) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Read-model rows of these cases (decision 0085): plausible random counts, not computed from events."""
        rng = self.rng
        facts, per_engineer, summaries = [], [], []
        for c in cases:
            case_id, region, team, created = c[0], c[5], json.loads(c[16]), c[20]
            engineers = sorted({m["engineer_id"] for m in team})
            day = created.astimezone(SITE_ZONE).date()
            rows = []
            for eng in engineers:
                days = rng.randint(1, 12)
                judged = rng.random() < 0.9
                row = [1, int(judged), int(judged and rng.random() < 0.8), int(rng.random() < 0.85), days,
                       days - (rng.random() < 0.1), days - (rng.random() < 0.15), days - (rng.random() < 0.2)]
                rows.append(row)
                per_engineer.append((case_id, eng, day, *row))
            totals = [sum(r[i] for r in rows) for i in range(len(KPI_COUNTS))]
            done = int(bool(engineers) and rng.random() < 0.9)
            issues = rng.choice([0, 0, 0, 1, 2])
            closed = rng.randint(0, issues)
            calls = done
            csat = calls and rng.random() < 0.6
            judged = int(done and rng.random() < 0.8)
            cells = {f"S{n}": {"status": rng.choice(STEP_STATUSES), "findings": rng.choice([0] * 6 + [1, 2])}
                     for n in range(1, 35)}
            findings = sum(v["findings"] for v in cells.values())
            statuses = [v["status"] for v in cells.values()]
            facts.append((case_id, region, "GIS-126kV", engineers, created, day, day.strftime("%Y-%m"), *totals,
                          done, int(done and rng.random() < 0.85), done * rng.randint(1, 12), issues, closed,
                          closed * rng.uniform(4, 200), int(issues and rng.random() < 0.2), calls,
                          int(csat), int(calls and not csat and rng.random() < 0.3), int(csat), int(csat and
                          rng.random() < 0.8), int(csat), int(csat and rng.random() < 0.6),
                          int(csat and rng.random() < 0.1), done, done * rng.randint(3, 5), judged,
                          int(judged and rng.random() < 0.5), judged * findings, created, created))
            summaries.append((case_id, region, "GIS-126kV", engineers, created, day, statuses.count("done"),
                              statuses.count("in_progress"), statuses.count("missing"),
                              statuses.count("not_applicable"), findings, json.dumps(cells), created))
        return facts, per_engineer, summaries


async def _indexes(conn: asyncpg.Connection, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(constraints (name, definition), plain indexes (name, definition)) of a table."""
    constraints = [(r["conname"], r["def"]) for r in await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype IN ('p', 'u')", table)]
    indexes = [(r["indexname"], r["indexdef"]) for r in await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)", table)]
    return constraints, indexes


async def load(dsn: str, gen: Generator, add: int) -> dict:
    """Add `add` cases and their events with COPY; indexes rebuilt after."""
    conn = await asyncpg.connect(dsn)
    timings: dict[str, float] = {}
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        _, case_indexes = await _indexes(conn, "service_case")
        _, assignment_indexes = await _indexes(conn, "engineer_assignment")
        case_indexes += assignment_indexes
        for insight_table in INSIGHT_TABLES:
            case_indexes += (await _indexes(conn, insight_table))[1]
        event_constraints, event_indexes = await _indexes(conn, "case_event")
        for name, _ in case_indexes + event_indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        for name, _ in event_constraints:
            await conn.execute(f'ALTER TABLE case_event DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        chunk = 100_000
        done = 0
        while done < add:
            n = min(chunk, add - done)
            ids: list[uuid.UUID] = []
            cases = list(gen.cases(n, ids))
            await conn.copy_records_to_table("service_case", columns=CASE_COLUMNS, records=cases)
            await conn.copy_records_to_table("case_event", columns=EVENT_COLUMNS,
                                             records=gen.events([(c[0], c[20]) for c in cases]))
            await conn.copy_records_to_table("engineer_assignment", columns=ASSIGNMENT_COLUMNS,
                                             records=gen.assignments)
            gen.assignments = []
            facts, per_engineer, summaries = gen.insight(cases)
            await conn.copy_records_to_table("case_kpi_facts", columns=FACT_COLUMNS, records=facts)
            await conn.copy_records_to_table("engineer_kpi_facts", columns=ENGINEER_FACT_COLUMNS, records=per_engineer)
            await conn.copy_records_to_table("case_conformance_summary", columns=SUMMARY_COLUMNS, records=summaries)
            done += n
        timings["copy_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for name, definition in event_constraints:
            await conn.execute(f'ALTER TABLE case_event ADD CONSTRAINT "{name}" {definition}')
        for _, definition in case_indexes + event_indexes:
            await conn.execute(definition)
        timings["index_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE service_case")
        await conn.execute("VACUUM ANALYZE case_event")
        await conn.execute("VACUUM ANALYZE engineer_assignment")
        for insight_table in INSIGHT_TABLES:
            await conn.execute(f"VACUUM ANALYZE {insight_table}")
        timings["vacuum_s"] = time.perf_counter() - started
        timings["cases"] = await conn.fetchval("SELECT count(*) FROM service_case")
        timings["events"] = await conn.fetchval("SELECT count(*) FROM case_event")
        timings["db_size"] = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    return timings


async def _samples(dsn: str) -> dict:
    """Deep cursors (rows past 90% of the newest-first order), case ids, a customer, an engineer."""
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM service_case")
        deep = []
        for fraction in (0.90, 0.93, 0.96, 0.99):
            row = await conn.fetchrow("SELECT created_at, id FROM service_case ORDER BY created_at DESC, id DESC "
                                      "OFFSET $1 LIMIT 1", int(total * fraction))
            deep.append(encode_cursor(row["created_at"], row["id"]))
        ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM service_case TABLESAMPLE SYSTEM (1) LIMIT 200")]
        if len(ids) < 20:
            ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM service_case LIMIT 200")]
        one_customer = await conn.fetchval("SELECT customer_name FROM service_case LIMIT 1")
        one_engineer = await conn.fetchval(
            "SELECT team->0->>'engineer_id' FROM service_case WHERE team <> '[]'::jsonb LIMIT 1")
        month = (datetime.now(UTC) - timedelta(days=365)).astimezone(SITE_ZONE).date().replace(day=1)
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return {"total": total, "deep": deep, "ids": ids, "customer": one_customer.split(" Power")[0],
                "engineer": one_engineer, "month": (month.isoformat(), month_end.isoformat())}
    finally:
        await conn.close()


def insight_queries(samples: dict) -> dict:
    """Decision 0085: a region-month's KPIs and a region's conformance report pages (target p95 < 100 ms)."""
    first, last = samples["month"]
    month = {"region": "east", "period_from": first, "period_to": last}
    return {
        "KPIs of a region-month": lambda: ("/kpis", {**month, "group_by": "month"}),
        "KPIs of a region-month by engineer": lambda: ("/kpis", {**month, "group_by": "engineer"}),
        "conformance report, a region's first page": lambda: ("/conformance-report", {"region": "east", "limit": 50}),
        "conformance report, a region-month page": lambda: ("/conformance-report", {**month, "limit": 50}),
    }


INSIGHT_TARGET_MS = 100


def measure(port: int, samples: dict, repeats: int) -> dict:
    token = issue_dev_token(ServiceSettings(), subject="bench", roles=["dispatcher"])
    rng = random.Random(3)
    queries = {
        "first page": lambda: ("/cases", {"limit": 50}),
        "deep page (keyset cursor past 90%)": lambda: ("/cases", {"limit": 50, "cursor": rng.choice(samples["deep"])}),
        "status filter": lambda: ("/cases", {"limit": 50, "status": "dispatched"}),
        "region + status filter": lambda: ("/cases", {"limit": 50, "region": "east", "status": "completed"}),
        "customer search (one customer of 5,000)": lambda: ("/cases", {"limit": 50, "customer": samples["customer"]}),
        "engineer filter (one of 2,000)": lambda: ("/cases", {"limit": 50, "engineer": samples["engineer"]}),
        "conformance of one case": lambda: (f"/cases/{rng.choice(samples['ids'])}/conformance", {}),
        **insight_queries(samples),
    }
    out = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as http:
        for name, make in queries.items():
            for _ in range(3):  # warm-up
                path, params = make()
                http.get(path, params=params).raise_for_status()
            times = []
            for _ in range(repeats):
                path, params = make()
                t0 = time.perf_counter()
                r = http.get(path, params=params)
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
            body = r.json()
            items = body.get("items", body.get("groups"))  # a search answering nothing would measure nothing
            out[name] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "max_ms": max(times),
                         "items": len(items) if isinstance(items, list) else None}
    return out


def run(infra: Infra, sizes: list[int], repeats: int) -> dict:
    url = infra.create_database(DATABASE, "dispatch")
    dsn = infra.dsn(DATABASE)
    gen = Generator()
    results: dict = {"sizes": [], "repeats": repeats, "events_per_case": EVENTS_PER_CASE}
    loaded = 0
    for size in sizes:
        say(f"scale: loading up to {size:,} cases")
        timings = asyncio.run(load(dsn, gen, size - loaded))
        loaded = size
        say(f"scale: loaded {timings}")
        port = infra.start_service("dispatch", name="dispatch-scale", env={
            "DISPATCH_DATABASE_URL": url, "RELAY_ENABLED": "false", "CONSUMER_ENABLED": "false"})
        try:
            samples = asyncio.run(_samples(dsn))
            figures = measure(port, samples, repeats)
        finally:
            infra.stop_service("dispatch-scale")
        results["sizes"].append({"cases": size, "load": timings, "queries": figures})
        say("scale: " + ", ".join(f"{k}: p95 {v['p95_ms']:.1f} ms" for k, v in figures.items()))
    return results


def table(res: dict) -> str:
    sizes = res["sizes"]
    header = "| request | " + " | ".join(
        f"{s['load']['cases']:,} cases / {s['load']['events']:,} events" for s in sizes) + " |"
    lines = [
        f"dispatch's database filled with COPY in steps (cases created at random times over three years, "
        f"{res['events_per_case']} timeline events each, 40% with a team of 1-3 of 2,000 engineers and their current "
        "engineer_assignment rows, 5,000 "
        "customers); indexes as the migrations define them, then VACUUM ANALYZE. A dispatch process "
        "(uvicorn; relay and consumer off) answers; each request is sent one at a time, "
        f"{res['repeats']} times after 3 warm-ups, timed at the client (HTTP, token check and JSON "
        "included). Pages hold 50 cases, newest first; the deep page starts from a keyset cursor past "
        "90% of the list. The insight read model (decision 0085) holds one KPI row and one conformance "
        "summary row per case and one row per engineer of a team, with random counts; its requests are "
        "`GET /kpis` for the region `east` and a month a year back (by month, and by engineer) and "
        "`GET /conformance-report` pages of 50 cases (target p95 < 100 ms). Cells: p50 / **p95**.",
        "",
        header,
        "|---|" + "---|" * len(sizes),
    ]
    for name in sizes[0]["queries"]:
        cells = [f"{ms(s['queries'][name]['p50_ms'])} / **{ms(s['queries'][name]['p95_ms'])}**" for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| loading | " + " | ".join(f"{s['cases']:,}" for s in sizes) + " |",
              "|---|" + "---|" * len(sizes)]
    lines.append("| COPY (this step's rows) | " + " | ".join(f"{s['load']['copy_s']:.0f} s" for s in sizes) + " |")
    lines.append("| index build | " + " | ".join(f"{s['load']['index_s']:.0f} s" for s in sizes) + " |")
    lines.append("| VACUUM ANALYZE | " + " | ".join(f"{s['load']['vacuum_s']:.0f} s" for s in sizes) + " |")
    lines.append("| database size | " + " | ".join(s["load"]["db_size"] for s in sizes) + " |")
    return "\n".join(lines)


def targets(res: dict) -> list[tuple[str, bool, str]]:
    biggest = res["sizes"][-1]
    out = []
    insight = set(insight_queries({"month": ("", "")}))
    for name, figure in biggest["queries"].items():
        limit = INSIGHT_TARGET_MS if name in insight else 50
        out.append((f"{name}: p95 < {limit} ms at {biggest['load']['cases']:,} cases", figure["p95_ms"] < limit,
                    f"p95 {figure['p95_ms']:.1f} ms"))
    return out
