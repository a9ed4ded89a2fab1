"""The warehouse database: same PostgreSQL server and credentials as Dagster's storage, database WAREHOUSE_DB.

The same variables feed dagster.yaml and dbt's profiles.yml, so one environment configures all three.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from etl_pipeline.generator import TABLE_COLUMNS, RetailData

RAW_SCHEMA = "raw"

RAW_DDL: dict[str, str] = {
    "customers": "customer_id integer primary key, full_name text not null, email text not null, "
    "country text not null, signup_date date not null",
    "products": "product_id integer primary key, product_name text not null, category text not null, "
    "unit_price_cents integer not null",
    "orders": "order_id integer primary key, customer_id integer not null, order_date date not null, "
    "status text not null",
    "order_items": "order_id integer not null, line_number integer not null, product_id integer not null, "
    "quantity integer not null, unit_price_cents integer not null, primary key (order_id, line_number)",
    "payments": "payment_id integer primary key, order_id integer not null, method text not null, "
    "amount_cents bigint not null",
}


def connection_params(database: str | None = None) -> dict[str, object]:
    return {
        "host": os.environ.get("DAGSTER_PG_HOST", "localhost"),
        "port": int(os.environ.get("DAGSTER_PG_PORT", "5432")),
        "user": os.environ.get("DAGSTER_PG_USERNAME", "dagster"),
        "password": os.environ.get("DAGSTER_PG_PASSWORD", ""),
        "dbname": database or os.environ.get("WAREHOUSE_DB", "warehouse"),
        "connect_timeout": 10,
    }


@contextmanager
def connect(database: str | None = None) -> Iterator[Connection]:
    """A connection that commits on success and rolls back on error."""
    conn = psycopg2.connect(**connection_params(database))
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def ensure_database() -> str:
    """Create the warehouse database when it is missing (a fresh server only has Dagster's own database)."""
    name = str(connection_params()["dbname"])
    conn = psycopg2.connect(**connection_params(os.environ.get("DAGSTER_PG_DB", "postgres")))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
                except psycopg2.errors.DuplicateDatabase:
                    pass  # created concurrently by another run
    finally:
        conn.close()
    return name


def _copy_text(rows: Iterable[tuple[object, ...]]) -> io.StringIO:
    """Rows as PostgreSQL COPY text. Generated values never hold tabs, newlines or backslashes."""
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(v.isoformat() if isinstance(v, date) else str(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    return buf


def load_raw(data: RetailData) -> dict[str, int]:
    """Replace the raw tables with `data` in one transaction (readers see old or new, never half)."""
    counts: dict[str, int] = {}
    ensure_database()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA)))
        for table, columns in TABLE_COLUMNS.items():
            ident = sql.Identifier(RAW_SCHEMA, table)
            cur.execute(sql.SQL("create table if not exists {} ({})").format(ident, sql.SQL(RAW_DDL[table])))
            cur.execute(sql.SQL("truncate {}").format(ident))
            copy = sql.SQL("copy {} ({}) from stdin").format(
                ident, sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            cur.copy_expert(copy.as_string(cur), _copy_text(data.tables[table]))
            counts[table] = cur.rowcount
    return counts
