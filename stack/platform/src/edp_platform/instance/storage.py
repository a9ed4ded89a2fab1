"""Dagster's PostgreSQL run and event-log storages, keeping a connection open (named in stack/dagster.yaml).

dagster-postgres 0.29 gives every storage a SQLAlchemy engine without a pool (NullPool), except in
dagster-webserver, which calls `optimize_for_webserver` to hold one connection open. Everywhere else (the
run worker, the daemon, the code server's sensor ticks) each storage call opens a new PostgreSQL connection:
TCP, a backend process forked by the server, SCRAM authentication, then closed again. Measured on the compose
stack (docs/scaling.md): 10-18 ms per connection, about 330 connections per run of full_refresh_job at the
test size (every event the run writes is one or two of them), i.e. seconds of each run spent connecting.

The run and event-log storages carry nearly all of a run's queries. These subclasses replace that
engine, as soon as they are created, by one with a pool, as `optimize_for_webserver` does for the webserver:
one connection kept open and reused (`pool_recycle`, `max_overflow` as dagster-webserver's defaults; a thread
that needs a second connection at the same moment gets an extra one, closed once it is returned), in
AUTOCOMMIT as before, without a statement timeout (as the stock classes), and a kept connection that the
server dropped (PostgreSQL restarted, the backend terminated) is noticed at checkout and replaced, so a query
after a database restart succeeds as it did with a new connection each time. The check is a look at the
connection's socket (`closed_by_server`: a server that ends a connection says so, or closes it, and the
socket turns readable while no query is pending), not SQLAlchemy's `pool_pre_ping`, whose `SELECT 1` round
trip on every checkout was a sixth of a run worker's CPU at 1,000 dbt models (three checkouts per stored
event; bench/dbt_scale.py). dagster-webserver's own `optimize_for_webserver` call
still gives it the stock engine (its statement timeout, no pre-ping). Queries, tables and migrations are
those of the stock classes.

The price: every Dagster process holds up to two idle connections while its instance lives; an instance
that ends (a sensor tick's, a run worker's) closes them, since `DagsterInstance.dispose` disposes its run and
event-log storages and `dispose` here disposes the engine. The schedule storage stays dagster-postgres' own:
the instance does not dispose it, and runs hardly use it.

Every Dagster process imports this module (the instance names it): user-code and run containers from the
bind-mounted code, dagster-webserver and dagster-daemon from the image's copy (rebuild to change it there).
"""

from __future__ import annotations

import select
from collections.abc import Mapping
from typing import Any

from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy import event, exc

# dagster-webserver's defaults (--db-pool-recycle, --db-pool-max-overflow).
POOL_RECYCLE_S = 3600
MAX_OVERFLOW = 20
# Connections kept open: two, because the event-log storage asks for a second one while it holds the first
# (`_store_asset_event_tags` calls `has_table` inside its index transaction): with one kept, that second
# connection was opened and closed again for every asset event of a run (bench/dbt_scale.py, py-spy of the
# run worker at 1,000 dbt models: a tenth of its CPU, 10-18 ms of connecting per event on the compose stack).
POOL_SIZE = 2


def closed_by_server(dbapi_connection: Any) -> bool:
    """Whether the server has ended this idle connection: its socket is readable (a termination notice, or
    the end of the stream) although no query is pending. One system call, no round trip."""
    if dbapi_connection.closed:
        return True
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def replace_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # SQLAlchemy's documented way for a checkout listener to refuse a dead connection: the pool replaces it
    # with a new one and checks out again.
    if closed_by_server(dbapi_connection):
        raise exc.DisconnectionError("the server closed the kept connection")


class KeepsConnectionOpen:
    """Mixin for a dagster-postgres storage class: a pooled engine from the start, disposed with the storage.

    `_engine` and `_token_provider` are the stock classes' own attributes, used as their
    `optimize_for_webserver` uses them; dagster-postgres has no public way to choose the pool.
    tests/integration/test_platform_instance_storage.py checks the behaviour against PostgreSQL.
    """

    _engine: Any
    _token_provider: Any
    postgres_url: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # a fresh database gets its tables here (unpooled engine)
        self._use_pool(POOL_RECYCLE_S, MAX_OVERFLOW)

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        # dagster-webserver's own engine, exactly as with the stock classes (no pre-ping: after a PostgreSQL
        # restart each of its storages fails its first query, which is how the dashboard sees the outage);
        # only the engine it replaces is disposed instead of left to the garbage collector.
        previous = self._engine
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)  # type: ignore[misc]
        if previous is not self._engine:
            previous.dispose()

    def _use_pool(self, pool_recycle: int, max_overflow: int) -> None:
        engine_kwargs: dict[str, Any] = {
            "isolation_level": "AUTOCOMMIT",
            "pool_size": POOL_SIZE,
            "max_overflow": max_overflow,
            "pool_recycle": pool_recycle,
        }
        options = self._engine.url.query.get("options")
        if options:  # as optimize_for_webserver: libpq options given in the URL's params
            engine_kwargs["connect_args"] = {"options": options}
        previous = self._engine
        self._engine = create_pg_engine(self.postgres_url, self._token_provider, **engine_kwargs)
        event.listen(self._engine, "checkout", replace_if_closed_by_server)
        previous.dispose()

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()

    def has_table(self, table_name: str) -> bool:
        """dagster-postgres asks the catalog whether a table exists before every asset event it stores; a
        table that exists stays (its migrations add, never drop, tables), so a yes is remembered."""
        seen: set[str] = self.__dict__.setdefault("_tables_seen", set())
        if table_name in seen:
            return True
        found = bool(super().has_table(table_name))  # type: ignore[misc]
        if found:
            seen.add(table_name)
        return found

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> Any:
        # The stock classes build their own class here, not `cls`.
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class PooledPostgresRunStorage(KeepsConnectionOpen, PostgresRunStorage):
    pass


class PooledPostgresEventLogStorage(KeepsConnectionOpen, PostgresEventLogStorage):
    pass
