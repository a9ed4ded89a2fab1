"""The header's daemon state: errors that are still happening are a warning; errors older than a heartbeat
that brought no new one are history, shown as such, with the daemon ok (Dagster keeps a daemon's errors in
every heartbeat for five minutes, recovered or not)."""

from __future__ import annotations

from pathlib import Path

from dagster_fake import FakeDagster
from shell_fakes import FakeServices, fake_backends, fixed_now

from edp_tui.config import Config
from edp_tui.ui.app import EdpApp
from edp_tui.ui.widgets.header import Level
from tests.support.pilot import until, wait_shown

PG = "OperationalError: server closed the connection unexpectedly"


async def test_past_daemon_errors_are_history_in_the_header() -> None:
    fake = FakeDagster()
    fake.daemon_errors = {"SENSOR": (PG,)}
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), fake),
        now=fixed_now,
    )
    async with app.run_test(size=(200, 40)) as pilot:
        header = app.header

        def daemon() -> tuple[Level, str] | None:
            state = header.backend("daemon")
            return None if state is None else (state.level, state.text)

        await until(pilot, lambda: daemon() == (Level.WARN, f"errors: SENSOR: {PG}"))
        # The next heartbeat brings no new error (PostgreSQL is back): the error is history.
        fake.heartbeat += 30
        app.daemon_health.loop.wake()
        await until(pilot, lambda: daemon() is not None and daemon()[0] is Level.OK)  # type: ignore[index]
        await wait_shown(pilot, "ok: 3 daemons heartbeating; past errors of SENSOR, none since 11:59:55")
        # A new error is current again, with when it was first seen.
        fake.heartbeat += 30
        fake.daemon_errors = {"SENSOR": ("KeyError: 'x'", PG)}
        app.daemon_health.loop.wake()
        await until(
            pilot, lambda: daemon() == (Level.WARN, "errors: SENSOR: KeyError: 'x' (first seen 12:00:55)")
        )
