"""Benchmark 4: list, search and conformance with many cases and events in dispatch's database.

A database migrated with dispatch's migrations is filled with COPY (asyncpg
`copy_records_to_table`, records streamed from a generator) in steps: each step brings it to the
next size (e.g. 10k, 100k, 1M cases with 10 timeline events each). Before a step the secondary
indexes of `service_case` and all indexes of `case_event` are dropped; after it they are created
again exactly as the migrations define them, then VACUUM ANALYZE (the state autovacuum would
reach). At each size a dispatch process (uvicorn, relay and consumer off) answers the requests;
each request is sent serially from this process, `repeats` times after a warm-up, and timed as
the client sees it (HTTP included).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
        return {"total": total, "deep": deep, "ids": ids, "customer": one_customer.split(" Power")[0],
                "engineer": one_engineer}
    finally:
        await conn.close()


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
            items = r.json().get("items")  # a search answering nothing would measure nothing
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
        "90% of the list. Cells: p50 / **p95**.",
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
    for name, figure in biggest["queries"].items():
        out.append((f"{name}: p95 < 50 ms at {biggest['load']['cases']:,} cases", figure["p95_ms"] < 50,
                    f"p95 {figure['p95_ms']:.1f} ms"))
    return out
