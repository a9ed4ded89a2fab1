"""`DashboardAlerts`: the alerts of `edp_tui.alerts` on the dashboard: a toast (literal text), the terminal
bell, a desktop notification escape where the terminal is known to show one, and the config file's command.

The daemon's health and the service states come from what the dashboard already polls (the header's watch,
the Docker watcher); runs, checks and reload statuses from a slow look of its own (`POLL_S`), cheap at rest:
failed runs since the last look, and the asset graph only when a run changed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from textual.app import App

from edp_tui.alerts.command import run_alert_command
from edp_tui.alerts.desktop import desktop_escape, desktop_protocols
from edp_tui.alerts.events import AlertEvent
from edp_tui.alerts.feed import AlertFeed, Offered
from edp_tui.alerts.monitor import AlertMonitor
from edp_tui.alerts.settings import AlertSettings
from edp_tui.backends import Backends
from edp_tui.dagster.models import DaemonHealth
from edp_tui.docker.models import ServiceState
from edp_tui.ui.notify import report
from edp_tui.util.poll import PollLoop

POLL_S = 10.0
TOAST_S = 12.0


def write_to_terminal(app: App[Any], text: str) -> None:
    """An escape straight to the terminal, through the driver as `App.bell` writes its BEL (private
    `App._driver`, pinned in tests/unit/test_platform_contracts.py); nothing when headless."""
    driver = app._driver
    if driver is not None and not app.is_headless:
        driver.write(text)


class DashboardAlerts:
    def __init__(
        self,
        app: App[Any],
        backends: Backends,
        settings: AlertSettings,
        *,
        clock: Callable[[], float] = time.time,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.monitor = AlertMonitor(
            backends.dagster, since=clock(), reload_status=backends.reload_status, clock=clock
        )
        self.feed = AlertFeed(settings)
        self.protocols = desktop_protocols(os.environ if env is None else env) if settings.desktop else ()
        self.shown: list[AlertEvent] = []  # every event told, oldest first (tests and the help read it)
        self._health: DaemonHealth | None = None
        self.loop = PollLoop(self.poll_once, interval=lambda: POLL_S, max_backoff=60.0, name="alerts")

    async def run(self) -> None:
        """The looks, the first one a `POLL_S` after the start (nothing could be new before that)."""
        if not self.settings.kinds:
            return
        await asyncio.sleep(POLL_S)
        await self.loop.run()

    async def poll_once(self) -> None:
        look = await self.monitor.look()
        self.deliver(self.feed.offer(look.events))
        # Unreadable sources show elsewhere (header, panels' banners); an alert is about the stack's events.

    def daemon_health(self, health: DaemonHealth | None) -> None:
        if health is not None and health is not self._health:
            self._health = health
            self.deliver(self.feed.offer(self.monitor.observe_daemon(health)))

    def service_states(self, states: Sequence[ServiceState]) -> None:
        self.deliver(self.feed.offer(self.monitor.observe_services(states)))

    def deliver(self, offered: Offered) -> None:
        for event in offered.shown:
            self.shown.append(event)
            report(self.app, event.text, title=event.title, severity="error", timeout=TOAST_S)
            if self.settings.bell:
                self.app.bell()
            for protocol in self.protocols:
                write_to_terminal(self.app, desktop_escape(protocol, f"edp-tui: {event.title}", event.text))
            if self.settings.command:
                self.app.run_worker(
                    lambda event=event: self._run_command(event),
                    thread=True,
                    group="alert-command",
                    exit_on_error=False,  # a bug in it is reported (App.on_worker_state_changed), not fatal
                )
        if offered.suppressed:
            report(
                self.app,
                f"{len(offered.suppressed)} more alert(s) over the limit of "
                f"{self.settings.max_per_minute} a minute: not shown",
                title="Alerts",
                severity="warning",
            )

    def _run_command(self, event: AlertEvent) -> None:
        problem = run_alert_command(self.settings.command, event)
        if problem is not None:
            self.app.call_from_thread(report, self.app, problem, title="Alert command", severity="warning")
