"""What one unauthenticated sender can add to the database: bytes per stored refusal, worst case.

    python -m bench.refused_storage --database-url postgresql://postgres@127.0.0.1/refusals

Posts refusals of the largest kind (a 1 MiB body, a hundred 1 KB headers, no token, all random
so nothing compresses) through the
real app in-process, each from a sender address of its own (so the rate limit stores them
all), and measures how much the database grew: PostgreSQL's table, index and TOAST sizes
(``pg_total_relation_size``), or SQLite's file after a checkpoint. Times the default limit
(60 a minute per address and endpoint) that is the most one address can add per hour and
endpoint. The database should be a fresh, migrated one (it is written to).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from pathlib import Path

from sqlalchemy import text

from receiver import create_app
from receiver.db import get_database
from receiver.migrate import upgrade
from receiver.settings import Settings, database_url

ROWS = 500
PER_HOUR = 60 * 60  # RECEIVER_REFUSED_LIMIT's default, 60 per minute


def database_bytes(app) -> int:
    engine = get_database(app).engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.scalar(text("SELECT pg_total_relation_size('notifications')"))
    path = Path(engine.url.database)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    return (pages - free) * size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    settings = Settings(
        database_url=database_url("DATABASE_URL", args.database_url),
        secret_key="bench-secret-key-0123456789abcdef",
        vendor_values={"RECEIVER_ZENCODER_TOKEN": "bench-zencoder-token-0123456789"},
    )
    app = create_app(settings)
    upgrade(get_database(app).engine)
    client = app.test_client()
    # Random hex: what compresses (TOAST compresses on PostgreSQL) would flatter the figure.
    body = b'{"padding": "' + os.urandom(settings.max_body_bytes // 2 - 16).hex().encode() + b'"}'
    headers = {f"X-Filler-{n}": os.urandom(500).hex() for n in range(100)}
    before = database_bytes(app)
    for n in range(args.rows):
        response = client.post(
            "/hooks/zencoder",
            data=body,
            headers=headers,
            content_type="application/json",
            environ_base={"REMOTE_ADDR": f"10.{n // 250}.{n % 250}.1"},
        )
        assert response.status_code == 401 and "id" in response.json, response.json
    grown = database_bytes(app) - before
    per_row = grown / args.rows
    print(
        json.dumps(
            {
                "database": get_database(app).engine.dialect.name,
                "rows": args.rows,
                "body_bytes_sent": len(body),
                "bytes_per_refusal": round(per_row),
                "MiB_per_hour_per_address_and_endpoint": round(per_row * PER_HOUR / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
