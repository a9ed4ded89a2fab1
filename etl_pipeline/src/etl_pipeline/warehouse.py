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

from etl_pipeline.generator import DAY_TABLES, REFERENCE_TABLES, TABLE_COLUMNS, Reference, RetailData

RAW_SCHEMA = "retail_raw"
OWNER_MARK = "created by the etl_pipeline demo (edp): its runs replace this table's rows"


# The advisory lock key of the demo's loads (any number no other code of the warehouse uses).
LOAD_LOCK = 0x65647072  # "edpr"


class NotOurTable(RuntimeError):
    """A table the demo would write exists and was not created by the demo."""


class MissingReference(RuntimeError):
    """A day's orders were to be loaded before any customers and products."""


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


def _lock_loads(cur) -> None:
    """Serialise the demo's loads for the rest of the transaction. Runs of several days go side by side (a
    backfill); `create schema/table if not exists` is not safe against itself in PostgreSQL (two at once: a
    unique-violation on the catalog), and a load takes milliseconds."""
    cur.execute("select pg_advisory_xact_lock(%s)", (LOAD_LOCK,))


def _copy(cur, ident: sql.Composable, table: str, rows: list[tuple[object, ...]]) -> int:
    copy = sql.SQL("copy {} ({}) from stdin").format(
        ident, sql.SQL(", ").join(map(sql.Identifier, TABLE_COLUMNS[table]))
    )
    cur.copy_expert(copy.as_string(cur), _copy_text(rows))
    return int(cur.rowcount)


def load_reference(data: RetailData) -> dict[str, int]:
    """Upsert the reference rows (customers, products) of `data` in one transaction; the rows each table
    then holds.

    No id is ever deleted: earlier days' orders point at customers and products of the reference data they
    were loaded with, so a smaller load (or one with another seed) updates the ids it has and leaves the
    others in place. Any job, for any day, after any other with any sizes keeps dbt's relationships tests
    green (truncating here broke every later build on a shared warehouse)."""
    counts: dict[str, int] = {}
    ensure_database()
    with connect() as conn, conn.cursor() as cur:
        _lock_loads(cur)
        for table in REFERENCE_TABLES:
            ident = own_table(cur, RAW_SCHEMA, table, RAW_DDL[table])
            key, *rest = TABLE_COLUMNS[table]
            columns = sql.SQL(", ").join(map(sql.Identifier, TABLE_COLUMNS[table]))
            incoming = sql.Identifier(f"incoming_{table}")
            cur.execute(sql.SQL("create temporary table {} (like {}) on commit drop").format(incoming, ident))
            _copy(cur, incoming, table, data.tables[table])
            cur.execute(
                sql.SQL("insert into {} ({}) select {} from {} on conflict ({}) do update set {}").format(
                    ident,
                    columns,
                    columns,
                    incoming,
                    sql.Identifier(key),
                    sql.SQL(", ").join(
                        sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in rest
                    ),
                )
            )
            cur.execute(sql.SQL("select count(*) from {}").format(ident))
            counts[table] = int(cur.fetchone()[0])
    return counts


def read_reference() -> Reference:
    """The customer ids and product prices in the warehouse; MissingReference when there are none."""
    ensure_database()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select to_regclass(%s), to_regclass(%s)", (f"{RAW_SCHEMA}.customers", f"{RAW_SCHEMA}.products")
        )
        row = cur.fetchone()
        customers: list[int] = []
        prices: dict[int, int] = {}
        if row is not None and None not in row:
            cur.execute(
                sql.SQL("select customer_id from {} order by 1").format(
                    sql.Identifier(RAW_SCHEMA, "customers")
                )
            )
            customers = [int(r[0]) for r in cur.fetchall()]
            cur.execute(
                sql.SQL("select product_id, unit_price_cents from {}").format(
                    sql.Identifier(RAW_SCHEMA, "products")
                )
            )
            prices = {int(p): int(c) for p, c in cur.fetchall()}
    if not customers or not prices:
        raise MissingReference(
            f"{RAW_SCHEMA}.customers and {RAW_SCHEMA}.products hold no rows yet: materialize "
            f"{RAW_SCHEMA}/customers and {RAW_SCHEMA}/products (the raw_reference_data step) first"
        )
    return Reference(customer_ids=customers, prices=prices)


def load_days(data: RetailData, days: Iterable[date]) -> dict[str, int]:
    """Replace the given days' orders, order lines and payments with `data` in one transaction (readers see
    the old days or the new ones, never half)."""
    day_list = sorted(set(days))
    counts: dict[str, int] = {}
    ensure_database()
    with connect() as conn, conn.cursor() as cur:
        _lock_loads(cur)
        idents = {table: own_table(cur, RAW_SCHEMA, table, RAW_DDL[table]) for table in DAY_TABLES}
        of_days = sql.SQL("select order_id from {} where order_date = any(%s)").format(idents["orders"])
        for table in ("order_items", "payments"):
            cur.execute(
                sql.SQL("delete from {} where order_id in ({})").format(idents[table], of_days), (day_list,)
            )
        cur.execute(
            sql.SQL("delete from {} where order_date = any(%s)").format(idents["orders"]), (day_list,)
        )
        for table in DAY_TABLES:
            counts[table] = _copy(cur, idents[table], table, data.tables[table])
    return counts
