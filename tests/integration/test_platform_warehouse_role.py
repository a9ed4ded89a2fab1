"""The warehouse's own role (edp_platform.warehouse_role) on the process stack's PostgreSQL: created with its
limits, a runaway query of it cancelled, no way into Dagster's database, at most its share of connections,
and a warehouse made by another role before it existed given to it; applying it again changes nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import pytest
from edp_platform.warehouse_role import WarehouseRole, admin_from_env, ensure

from tests.support.process_stack import DAGSTER_DB, PG_USER, ProcessStack


@pytest.fixture
def role(process_stack: ProcessStack) -> Iterator[WarehouseRole]:
    name = f"wh_{uuid.uuid4().hex[:8]}"
    role = WarehouseRole(
        user=name,
        password="pw-" + name,
        database=name,
        dagster_database=DAGSTER_DB,
        statement_timeout="1s",
        work_mem="2MB",
        temp_file_limit="10MB",
        connection_limit=2,
    )
    yield role
    conn = admin(process_stack, DAGSTER_DB)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'drop role if exists "{name}"')
    conn.close()


def admin_params(stack: ProcessStack) -> dict[str, object]:
    return admin_from_env({**stack.env, "DAGSTER_PG_USERNAME": PG_USER})


def admin(stack: ProcessStack, db: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(**admin_params(stack), dbname=db)


def as_role(
    stack: ProcessStack, role: WarehouseRole, db: str | None = None
) -> psycopg2.extensions.connection:
    return psycopg2.connect(
        host="127.0.0.1",
        port=stack.pg_port,
        user=role.user,
        password=role.password,
        dbname=db or role.database,
    )


def test_the_role_carries_its_limits_and_a_runaway_query_is_cancelled(
    process_stack: ProcessStack, role: WarehouseRole
) -> None:
    done = ensure(role, admin_params(process_stack))
    assert done[:2] == [f"role {role.user} created", f"database {role.database} created"]
    conn = as_role(process_stack, role)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select current_setting('statement_timeout'), current_setting('work_mem'), "
                "current_setting('temp_file_limit')"
            )
            assert cur.fetchone() == ("1s", "2MB", "10MB")
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cur.execute("select pg_sleep(30)")
        conn.rollback()
        with conn.cursor() as cur:  # a spill past temp_file_limit is cut as well
            cur.execute("set statement_timeout = 0")
            with pytest.raises(psycopg2.errors.ConfigurationLimitExceeded):
                cur.execute(
                    "select count(*) from (select g from generate_series(1, 3e6) g order by random()) s"
                )
        conn.rollback()
        with conn.cursor() as cur:  # and it may build its warehouse
            cur.execute("create schema marts; create table marts.t as select 1 as x")
        conn.commit()
    finally:
        conn.close()


def test_no_way_into_dagsters_database_and_at_most_its_share_of_connections(
    process_stack: ProcessStack, role: WarehouseRole
) -> None:
    ensure(role, admin_params(process_stack))
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        as_role(process_stack, role, DAGSTER_DB)
    held = [as_role(process_stack, role) for _ in range(role.connection_limit)]
    try:
        with pytest.raises(psycopg2.OperationalError, match="too many connections for role"):
            as_role(process_stack, role)
        admin(process_stack, DAGSTER_DB).close()  # Dagster's own user still gets in
    finally:
        for conn in held:
            conn.close()


def test_a_warehouse_made_before_the_role_existed_is_given_to_it(
    process_stack: ProcessStack, role: WarehouseRole
) -> None:
    conn = admin(process_stack, DAGSTER_DB)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'create database "{role.database}"')
    conn.close()
    conn = admin(process_stack, role.database)
    with conn.cursor() as cur:
        cur.execute(
            "create schema retail_raw; create table retail_raw.orders (id int); "
            "create view retail_raw.v as select * from retail_raw.orders"
        )
    conn.commit()
    conn.close()
    done = ensure(role, admin_params(process_stack))
    assert f"database {role.database} given to {role.user}" in done
    assert f"schema retail_raw given to {role.user}" in done
    mine = as_role(process_stack, role)
    try:
        with mine.cursor() as cur:
            cur.execute("truncate retail_raw.orders; drop view retail_raw.v")
        mine.commit()
    finally:
        mine.close()
    again = ensure(role, admin_params(process_stack))  # idempotent: nothing left to move
    assert again == [f"role {role.user} updated"]
