"""stack/dagster.yaml's run and event-log storages keep their connection open and close it when disposed.

Against the process stack's PostgreSQL, with the instance stack/dagster.yaml describes (as a run worker builds
it). This process's connections are told apart from the stack's by their application_name (PGAPPNAME).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import dagster as dg
import psycopg2
import pytest
from edp_platform.instance.storage import PooledPostgresEventLogStorage, PooledPostgresRunStorage

from tests.support.process_stack import DAGSTER_DB, PG_USER, ProcessStack

EVENTS = 30


@pytest.fixture
def app_name(process_stack: ProcessStack, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in process_stack.env.items():
        if key.startswith("DAGSTER_"):
            monkeypatch.setenv(key, value)
    name = f"edp-storage-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # libpq's own variable: every connection of this process
    return name


@pytest.fixture
def instance(process_stack: ProcessStack, app_name: str) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(process_stack.dagster_home)) as inst:
        yield inst
    # The runs these tests add by hand stay STARTED: deleted again, or they would hold the shared stack's
    # run queue slots (max_concurrent_runs) and every later test's run would stay QUEUED.
    with dg.DagsterInstance.from_config(str(process_stack.dagster_home)) as inst:
        for run in inst.get_runs(filters=dg.RunsFilter(tags={HAND_MADE_TAG: "1"})):
            inst.delete_run(run.run_id)


HAND_MADE_TAG = "edp-test-hand-made-run"


def started_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    """A run added straight to the storage as STARTED (no worker), tagged for the fixture to delete."""
    return instance.add_run(
        dg.DagsterRun(
            job_name="full_refresh_job", status=dg.DagsterRunStatus.STARTED, tags={HAND_MADE_TAG: "1"}
        )
    )


def observer(stack: ProcessStack) -> Any:
    return psycopg2.connect(
        host="127.0.0.1",
        port=stack.pg_port,
        user=PG_USER,
        password=stack.pg_password,
        dbname=DAGSTER_DB,
        application_name="observer",  # not counted itself
    )


def open_connections(stack: ProcessStack, app_name: str) -> list[float]:
    """backend_start (epoch seconds) of this process's open connections to Dagster's database."""
    conn = observer(stack)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select extract(epoch from backend_start) from pg_stat_activity where application_name = %s",
                (app_name,),
            )
            return [float(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


def test_a_run_worker_writes_its_events_over_connections_it_keeps(
    process_stack: ProcessStack, instance: dg.DagsterInstance, app_name: str
) -> None:
    assert isinstance(instance.run_storage, PooledPostgresRunStorage)
    assert isinstance(instance.event_log_storage, PooledPostgresEventLogStorage)
    run = started_run(instance)
    instance.report_engine_event("first", run)
    before = time.time()
    for i in range(EVENTS):
        instance.report_engine_event(f"event {i}", run)
        instance.get_run_by_id(run.run_id)
    kept = open_connections(process_stack, app_name)
    # One connection per pooled storage, opened before the loop and reused by its 2 x 30 calls (the stock
    # classes open and close one per call: none would be left open, each of them younger than `before`).
    assert 1 <= len(kept) <= 2
    assert all(started < before for started in kept)
    assert len(instance.all_logs(run.run_id)) == EVENTS + 1

    instance.dispose()
    assert open_connections(process_stack, app_name) == []


def drop_connections(stack: ProcessStack, app_name: str) -> None:
    """What a PostgreSQL restart does to every connection of this process."""
    conn = observer(stack)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
                (app_name,),
            )
        conn.commit()
    finally:
        conn.close()
    deadline = time.monotonic() + 10
    while open_connections(stack, app_name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_connections(stack, app_name) == []


def test_the_webservers_own_pool_replaces_the_kept_connection(
    process_stack: ProcessStack, instance: dg.DagsterInstance, app_name: str
) -> None:
    instance.get_runs(limit=1)
    assert len(open_connections(process_stack, app_name)) >= 1
    instance.optimize_for_webserver(statement_timeout=15000, pool_recycle=3600, max_overflow=20)
    assert open_connections(process_stack, app_name) == []  # the replaced engine's connection is closed
    instance.get_runs(limit=1)
    assert len(open_connections(process_stack, app_name)) >= 1


def test_a_kept_connection_the_server_dropped_is_replaced_without_an_error(
    process_stack: ProcessStack, instance: dg.DagsterInstance, app_name: str
) -> None:
    run = started_run(instance)
    instance.report_engine_event("before", run)
    assert open_connections(process_stack, app_name)
    drop_connections(process_stack, app_name)
    instance.report_engine_event("after", run)  # noticed at checkout: a new connection, no error
    assert instance.get_run_by_id(run.run_id) is not None
    assert [e.message for e in instance.all_logs(run.run_id)][-2:] == ["before", "after"]


def test_the_webservers_first_write_after_the_server_dropped_its_connections_succeeds(
    process_stack: ProcessStack, instance: dg.DagsterInstance, app_name: str
) -> None:
    """dagster-webserver's own engines (optimize_for_webserver: statement timeout, a pool of its own) of
    all three storages: after a PostgreSQL restart the first query of each must not fail."""
    instance.optimize_for_webserver(statement_timeout=15000, pool_recycle=3600, max_overflow=20)
    run = started_run(instance)
    instance.report_engine_event("before", run)
    instance.all_instigator_state()
    assert open_connections(process_stack, app_name)
    drop_connections(process_stack, app_name)
    instance.report_engine_event("after", run)  # the event-log storage's first write
    instance.add_run_tags(run.run_id, {"after": "restart"})  # the run storage's
    instance.all_instigator_state()  # the schedule storage's
    assert [e.message for e in instance.all_logs(run.run_id)][-2:] == ["before", "after"]
    # Still the webserver's engine: its statement timeout holds.
    with instance.run_storage.connect() as conn:  # type: ignore[attr-defined]
        assert conn.exec_driver_sql("show statement_timeout").scalar() == "15s"
