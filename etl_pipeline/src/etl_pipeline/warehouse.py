"""The warehouse database WAREHOUSE_DB, reached as the platform's warehouse role (WAREHOUSE_USER, with the
limits edp_platform.warehouse_role sets on it), on the server of Dagster's storage unless configured
otherwise: the same variables as the platform's dbt profile, so the ingestion and dbt connect alike.

The demo writes only tables it created itself: each carries OWNER_MARK as its comment, and a table of the same
name that lacks it (a user's project's, say) is refused with a message instead of truncated
(`own_table`). Its raw tables live in a schema of their own, RAW_SCHEMA.
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

RAW_SCHEMA = "retail_raw"
OWNER_MARK = "created by the etl_pipeline demo (edp): its runs replace this table's rows"


class NotOurTable(RuntimeError):
    """A table the demo would write exists and was not created by the demo."""


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
        "host": os.environ.get("WAREHOUSE_HOST") or os.environ.get("DAGSTER_PG_HOST", "localhost"),
        "port": int(os.environ.get("WAREHOUSE_PORT") or os.environ.get("DAGSTER_PG_PORT", "5432")),
        "user": os.environ.get("WAREHOUSE_USER") or os.environ.get("DAGSTER_PG_USERNAME", "dagster"),
        "password": os.environ.get("WAREHOUSE_PASSWORD") or os.environ.get("DAGSTER_PG_PASSWORD", ""),
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
    if os.environ.get("WAREHOUSE_HOST"):
        return name  # a server of its own: the database is that server's (its POSTGRES_DB)
    # Dagster's own user (the warehouse role cannot create databases, nor connect to Dagster's).
    admin = {
        **connection_params(os.environ.get("DAGSTER_PG_DB", "postgres")),
        "user": os.environ.get("DAGSTER_PG_USERNAME", "dagster"),
        "password": os.environ.get("DAGSTER_PG_PASSWORD", ""),
    }
    conn = psycopg2.connect(**admin)
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


def own_table(cur, schema: str, table: str, ddl: str) -> sql.Composed:
    """The demo's table schema.table, created with OWNER_MARK when missing; NotOurTable when it exists without
    the mark, so that nothing the demo runs touches a table it did not create."""
    ident = sql.Identifier(schema, table)
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    cur.execute(
        "select obj_description(c.oid, 'pg_class') from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
        (schema, table),
    )
    found = cur.fetchone()
    if found is None:
        cur.execute(sql.SQL("create table {} ({})").format(ident, sql.SQL(ddl)))
        cur.execute(sql.SQL("comment on table {} is {}").format(ident, sql.Literal(OWNER_MARK)))
    elif found[0] != OWNER_MARK:
        raise NotOurTable(
            f"{schema}.{table} exists in the warehouse and was not created by the demo: the demo leaves it "
            f"alone. Drop or rename it if it is the demo's from before, or turn the demo location off "
            "(EDP_CODE_LOCATIONS in stack/.env)."
        )
    return ident


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
        idents = {table: own_table(cur, RAW_SCHEMA, table, RAW_DDL[table]) for table in TABLE_COLUMNS}
        for table, columns in TABLE_COLUMNS.items():
            ident = idents[table]
            cur.execute(sql.SQL("truncate {}").format(ident))
            copy = sql.SQL("copy {} ({}) from stdin").format(
                ident, sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            cur.copy_expert(copy.as_string(cur), _copy_text(data.tables[table]))
            counts[table] = cur.rowcount
    return counts
