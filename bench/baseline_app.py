"""The baseline: the least a receiver can do — insert the raw body into one table.

Served by gunicorn with the same settings as the real app (`gunicorn bench.baseline_app:app`),
against the same database, so the ratio to it shows what our pipeline costs.
"""

from __future__ import annotations

import os
from functools import cache

from flask import Flask, request
from sqlalchemy import Column, LargeBinary, MetaData, Table, insert
from sqlalchemy.engine import Engine

from receiver.db import BigIntId, make_engine
from receiver.settings import Settings

# The bench's own scratch table, created by the harness (bench/ingest.py) before serving.
metadata = MetaData()
raw_bodies = Table(
    "bench_raw_bodies",
    metadata,
    Column("id", BigIntId, primary_key=True),
    Column("body", LargeBinary, nullable=False),
)

app = Flask(__name__)


@cache
def engine() -> Engine:
    # The same engine set-up (pool, SQLite pragmas) as the real app.
    return make_engine(Settings(database_url=os.environ["DATABASE_URL"], secret_key="x" * 32))


@app.post("/hooks/<vendor>")
def receive(vendor: str):
    with engine().begin() as connection:
        connection.execute(insert(raw_bodies).values(body=request.get_data()))
    return {"status": "accepted"}, 202
