"""Plugs the Dagster side into the dashboard shell: the tabs and the header's webserver/daemon states."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import TabPane

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.dagster.models import DEFAULT_STALE_AFTER_S, DaemonHealth
from edp_tui.ui.dagster_common import PollingPanel
from edp_tui.ui.locations_panel import LocationsPanel
from edp_tui.ui.runs_panel import RunsTab
from edp_tui.ui.schedules_panel import SchedulesPanel

# name -> (level, text); the shell's header API: App.set_webserver_state / set_daemon_state
StateSink = Callable[[str, str], None]


def graphql_url(webserver_url: str) -> str:
    return webserver_url.rstrip("/") + "/graphql"


class DagsterHealthProbe(PollingPanel):
    """Invisible: polls daemon heartbeats (which also proves the webserver answers) for the header.

    Owns the client of the Dagster panels and closes it on unmount.
    """

    DEFAULT_CSS = "DagsterHealthProbe { display: none; }"
    poll_interval = 5.0
    max_backoff = 5.0

    def __init__(
        self,
        client: DagsterClient,
        *,
        on_webserver: StateSink | None = None,
        on_daemon: StateSink | None = None,
        webserver_label: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.client = client
        self.webserver_label = webserver_label or client.graphql_url.removesuffix("/graphql")
        self.on_webserver = on_webserver
        self.on_daemon = on_daemon
        self.health: DaemonHealth | None = None
        self.webserver_ok: bool | None = None

    @property
    def needs_polling_offscreen(self) -> bool:
        return True

    async def poll_once(self) -> None:
        try:
            health = await self.client.daemon_health(now=self.clock())
        except DagsterError as exc:
            self.webserver_ok = False
            if self.on_webserver:
                if isinstance(exc, DagsterUnreachable):
                    what = f"unreachable: {exc.reason}"
                else:
                    what = f"{type(exc).__name__}: {str(exc)[:80]}"
                self.on_webserver("error", f"{self.webserver_label} {what} (retrying)")
            if self.on_daemon:
                self.on_daemon("unknown", "unknown (webserver down)")
            raise
        self.webserver_ok = True
        self.health = health
        if self.on_webserver:
            self.on_webserver("ok", self.webserver_label)
        if self.on_daemon:
            level = {"ok": "ok", "errors": "warn"}.get(health.state, "error")
            self.on_daemon(level, f"{health.state}: {health.detail}")

    def show_error(self, error: Exception | None, retry_in: float | None = None) -> None:
        self.last_error = error

    async def on_unmount(self) -> None:
        await self.client.aclose()


class DagsterPanes:
    """Builds the Dagster tabs for the shell (``App.compose_main_panes``) around one shared client."""

    def __init__(
        self,
        webserver_url: str,
        *,
        read_only: bool = False,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        on_webserver: StateSink | None = None,
        on_daemon: StateSink | None = None,
        client: DagsterClient | None = None,
    ) -> None:
        self.client = client or DagsterClient(
            graphql_url(webserver_url), read_only=read_only, stale_after_s=stale_after_s
        )
        self.read_only = read_only
        self.webserver_url = webserver_url
        self.on_webserver = on_webserver
        self.on_daemon = on_daemon

    def panes(self) -> list[TabPane]:
        probe = DagsterHealthProbe(
            self.client,
            on_webserver=self.on_webserver,
            on_daemon=self.on_daemon,
            webserver_label=self.webserver_url,
            id="dagster-health",
        )
        return [
            TabPane(
                "Runs", RunsTab(self.client, read_only=self.read_only, id="runs-tab"), probe, id="tab-runs"
            ),
            TabPane(
                "Code locations",
                LocationsPanel(self.client, read_only=self.read_only, id="locations"),
                id="tab-locations",
            ),
            TabPane(
                "Schedules & sensors",
                SchedulesPanel(self.client, read_only=self.read_only, id="schedules"),
                id="tab-schedules",
            ),
        ]
