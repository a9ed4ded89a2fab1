"""`DagsterHealthProbe`: an invisible poller of daemon heartbeats that keeps the header's webserver and daemon
states current (an answer also proves that the webserver is up)."""

from __future__ import annotations

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.dagster.models import DaemonHealth
from edp_tui.ui.messages import BackendStateChanged
from edp_tui.ui.widgets.polling import PollingPanel


class DagsterHealthProbe(PollingPanel):
    """Posts `BackendStateChanged` for "webserver" and "daemon"; the App shows them in the header."""

    DEFAULT_CSS = "DagsterHealthProbe { display: none; }"
    poll_interval = 5.0
    max_backoff = 5.0

    def __init__(
        self, client: DagsterApi, *, webserver_label: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.client = client
        self.webserver_label = webserver_label or client.graphql_url.removesuffix("/graphql")
        self.health: DaemonHealth | None = None
        self.webserver_ok: bool | None = None

    @property
    def needs_polling_offscreen(self) -> bool:
        return True

    def _post(self, name: str, level: str, text: str) -> None:
        self.post_message(BackendStateChanged(name, level, text))

    async def poll_once(self) -> None:
        try:
            health = await self.client.daemon_health(now=self.clock())
        except DagsterError as exc:
            self.webserver_ok = False
            if isinstance(exc, DagsterUnreachable):
                what = f"unreachable: {exc.reason}"
            else:
                what = f"{type(exc).__name__}: {str(exc)[:80]}"
            self._post("webserver", "error", f"{self.webserver_label} {what} (retrying)")
            self._post("daemon", "unknown", "unknown (webserver down)")
            raise
        self.webserver_ok = True
        self.health = health
        self._post("webserver", "ok", self.webserver_label)
        level = {"ok": "ok", "errors": "warn"}.get(health.state, "error")
        self._post("daemon", level, f"{health.state}: {health.detail}")

    def show_error(self, error: Exception | None, retry_in: float | None = None) -> None:
        # Invisible: the header shows the state; nothing to draw here.
        self.last_error = error
