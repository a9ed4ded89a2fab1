"""Alerts on the dashboard: a failed run, a service that turns unhealthy: a toast (literal text), the bell,
once; the kinds switched off in the config file stay quiet."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster
from shell_fakes import FakeServices, fake_backends, fixed_now, running  # noqa: E402

from edp_tui.alerts.events import KINDS, RUN_FAILED
from edp_tui.alerts.settings import AlertSettings
from edp_tui.config import Config
from edp_tui.dagster.models import RunSummary
from edp_tui.docker.models import Health
from edp_tui.ui.app import EdpApp
from edp_tui.ui.messages import ServiceStatesChanged
from tests.support.pilot import until

SIZE = (120, 40)


def make_app(fake: FakeDagster, settings: AlertSettings | None = None) -> tuple[EdpApp, list[str]]:
    config = Config(compose_file=Path("/nonexistent/compose.yaml"), alerts=settings or AlertSettings())
    app = EdpApp(config, fake_backends(FakeServices(), fake), now=fixed_now)
    bells: list[str] = []
    app.bell = lambda: bells.append("bell")  # type: ignore[method-assign]
    return app, bells


def failed_run(run_id: str) -> RunSummary:
    ended = time.time() + 1  # after the dashboard started
    return RunSummary(
        run_id, "ingestion_[bold]job[/]", "FAILURE", ended - 9, ended - 8, ended, update_time=ended
    )


def toasts(app: EdpApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def test_a_failed_run_is_a_toast_and_a_bell_once() -> None:
    fake = FakeDagster()
    app, bells = make_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await app.alerts.poll_once()
        assert not [t for t in toasts(app) if t[0] == "Run failed"]  # the fake's old failure is history
        fake.runs_list.append(failed_run("e" * 36))
        await app.alerts.poll_once()
        await app.alerts.poll_once()
        alerts = [t for t in toasts(app) if t[0] == "Run failed"]
        # Literal: the job name's brackets are text, not markup.
        assert alerts == [("Run failed", f"ingestion_[bold]job[/] run {'e' * 8} failed")]
        assert bells == ["bell"]
        assert [e.kind for e in app.alerts.shown] == [RUN_FAILED]


async def test_a_service_that_turns_unhealthy_is_told_and_a_kind_switched_off_is_not() -> None:
    fake = FakeDagster(silent=True)
    settings = AlertSettings(kinds=frozenset(KINDS) - {RUN_FAILED}, bell=False)
    app, bells = make_app(fake, settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        app.post_message(ServiceStatesChanged((running("postgres", health=Health.UNHEALTHY),)))
        await until(pilot, lambda: any(t[0] == "Service unhealthy" for t in toasts(app)))
        assert ("Service unhealthy", "service postgres: unhealthy") in toasts(app)
        app.post_message(ServiceStatesChanged((running("postgres", health=Health.UNHEALTHY),)))
        await pilot.pause()
        assert sum(t[0] == "Service unhealthy" for t in toasts(app)) == 1
        assert bells == []  # bell: false
        # run_failed is switched off: a failed run (read straight from the monitor) is not told.
        fake.silent = False
        fake.runs_list.append(failed_run("f" * 36))
        look = await app.alerts.monitor.look()
        assert [e.kind for e in look.events] == [RUN_FAILED]
        app.alerts.deliver(app.alerts.feed.offer(look.events))
        assert not [t for t in toasts(app) if t[0] == "Run failed"]
