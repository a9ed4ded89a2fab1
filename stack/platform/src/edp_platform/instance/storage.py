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
AUTOCOMMIT as before, without a statement timeout (as the stock classes), and with `pool_pre_ping`: a kept
connection that the server dropped (PostgreSQL restarted) is noticed at checkout and replaced, so a query
after a database restart succeeds as it did with a new connection each time (one `SELECT 1` per checkout,
about 0.2 ms, against 10-18 ms for a new connection). dagster-webserver's own `optimize_for_webserver` call
gives all three storages the engine it gives the stock classes (its statement timeout, one connection kept)
with pre-ping as well: without it, the first query of each storage after a PostgreSQL restart failed with
"server closed the connection unexpectedly", a user's launch or terminate among them. Queries, tables and
migrations are those of the stock classes.

The schedule storage (instigator states and ticks, which the daemon's sensor and scheduler loops read all
the time) keeps a connection open the same way: with a new connection per query, the idle daemon had
PostgreSQL fork and authenticate a backend several times a second (bench/idle_stack_cpu.py). The instance
does not dispose it: its one idle connection goes with its process (a run worker's, a sensor tick's).

The price: every Dagster process holds up to two idle connections while its instance lives; an instance
that ends (a sensor tick's, a run worker's) closes them, since `DagsterInstance.dispose` disposes its run and
event-log storages and `dispose` here disposes the engine. The schedule storage stays dagster-postgres' own:
the instance does not dispose it, and runs hardly use it.

Every Dagster process imports this module (the instance names it): user-code and run containers from the
bind-mounted code, dagster-webserver and dagster-daemon from the image's copy (rebuild to change it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
    set_pg_statement_timeout,
)
from sqlalchemy import event

# dagster-webserver's defaults (--db-pool-recycle, --db-pool-max-overflow).
POOL_RECYCLE_S = 3600
MAX_OVERFLOW = 20


def pooled_engine(
    storage: Any, pool_recycle: int, max_overflow: int, statement_timeout: int | None = None
) -> Any:
    """A pooled engine for a dagster-postgres storage, as its `optimize_for_webserver` builds one, with
    `pool_pre_ping` (and the webserver's statement timeout when given). `_engine` and `_token_provider` are
    the stock classes' own attributes; dagster-postgres has no public way to choose the pool."""
    engine_kwargs: dict[str, Any] = {
        "isolation_level": "AUTOCOMMIT",
        "pool_size": 1,
        "max_overflow": max_overflow,
        "pool_recycle": pool_recycle,
        "pool_pre_ping": True,
    }
    options = storage._engine.url.query.get("options")
    if options:  # as optimize_for_webserver: libpq options given in the URL's params
        engine_kwargs["connect_args"] = {"options": options}
    engine = create_pg_engine(storage.postgres_url, storage._token_provider, **engine_kwargs)
    if statement_timeout is not None:
        event.listen(engine, "connect", lambda conn, _: set_pg_statement_timeout(conn, statement_timeout))
    return engine


class PrePingsInWebserver:
    """Mixin: dagster-webserver's engine (optimize_for_webserver) with pre-ping; the engine it replaces is
    disposed instead of left to the garbage collector."""

    _engine: Any

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        previous = self._engine
        self._engine = pooled_engine(self, pool_recycle, max_overflow, statement_timeout)
        previous.dispose()

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> Any:
        # The stock classes build their own class here, not `cls` (a mixin: `cls` is the storage class).
        return cls(  # type: ignore[call-arg]
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class KeepsConnectionOpen(PrePingsInWebserver):
    """Mixin for a dagster-postgres storage class: a pooled engine from the start, disposed with the storage.
    tests/integration/test_platform_instance_storage.py checks the behaviour against PostgreSQL."""

    _engine: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # a fresh database gets its tables here (unpooled engine)
        previous = self._engine
        self._engine = pooled_engine(self, POOL_RECYCLE_S, MAX_OVERFLOW)
        previous.dispose()

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledPostgresRunStorage(KeepsConnectionOpen, PostgresRunStorage):
    pass


class PooledPostgresEventLogStorage(KeepsConnectionOpen, PostgresEventLogStorage):
    pass


class PooledPostgresScheduleStorage(KeepsConnectionOpen, PostgresScheduleStorage):
    pass
