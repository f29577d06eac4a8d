"""The yardstick of the HTTP benchmark: a minimal FastAPI + asyncpg endpoint doing one insert.

POST /items takes the same JSON body as the CRM webhook and inserts it into one table (id, body,
created_at), in its own transaction, and answers 201 with the id. No authentication, no
signature, no ORM, no outbox. Run under uvicorn as its own process, like the services:
`BENCH_MINIMAL_DSN=postgresql://... uvicorn bench.minimal_app:create_app --factory`.
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, status

DDL = """
CREATE TABLE IF NOT EXISTS bench_item (
  id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
)
"""


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_MINIMAL_DSN"]
    pool_size = int(os.environ.get("BENCH_MINIMAL_POOL", "20"))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=pool_size)
        async with app.state.pool.acquire() as conn:
            await conn.execute(DDL)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items", status_code=status.HTTP_201_CREATED)
    async def create_item(body: dict[str, Any], request: Request) -> dict[str, str]:
        item_id = uuid.uuid4()
        async with request.app.state.pool.acquire() as conn:
            await conn.execute("INSERT INTO bench_item (id, body) VALUES ($1, $2::jsonb)", item_id, json.dumps(body))
        return {"id": str(item_id)}

    return app
