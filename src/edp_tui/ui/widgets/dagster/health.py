"""`DaemonHealthWatch`: polls the daemon's heartbeats and keeps the header's webserver and daemon states
current (an answer also proves that the webserver is up). Not a widget: the App runs its loop."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.dagster.models import DaemonHealth
from edp_tui.ui.messages import BackendStateChanged
from edp_tui.util.poll import PollLoop

# Heartbeats come every 30 s (the scheduler's every 60 s): a look every 5 s says "stale" in time.
POLL_S = 5.0


class DaemonHealthWatch:
    """Posts `BackendStateChanged` for "webserver" and "daemon" to ``target`` (the App shows them in the
    header) after every poll of ``loop``; polls whatever is on screen."""

    def __init__(
        self,
        client: DagsterApi,
        target: MessagePump,
        *,
        webserver_label: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.target = target
        self.clock = clock
        self.webserver_label = webserver_label or client.graphql_url.removesuffix("/graphql")
        self.health: DaemonHealth | None = None
        self.webserver_ok: bool | None = None
        self.loop = PollLoop(
            self.poll_once, interval=lambda: POLL_S, max_backoff=POLL_S, name="daemon health"
        )

    def _post(self, name: str, level: str, text: str) -> None:
        self.target.post_message(BackendStateChanged(name, level, text))

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
