"""The dashboard shell: header with backend states, services panel, main tabbed area, footer.

All I/O runs in thread workers; message handlers only update widgets. Sources (Docker, later Dagster) are
plain Python objects handed in by the caller, so tests drive the screen with in-memory fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from edp_tui.config import Config
from edp_tui.docker_models import EngineStatus, ServiceState
from edp_tui.docker_source import DockerError, ServiceSource, StatusSink
from edp_tui.ui.confirm import ConfirmScreen
from edp_tui.ui.header import BackendHeader, Level
from edp_tui.ui.help import HelpScreen, help_for
from edp_tui.ui.logs_panel import LogsPanel
from edp_tui.ui.service_detail import ServiceDetailScreen
from edp_tui.ui.services_panel import ServicesPanel, ServicesTable

ACTIONS = {
    "restart": ("Restart", "restarting", "restarted"),
    "stop": ("Stop", "stopping", "stopped"),
    "start": ("Start", "starting", "started"),
}
UPTIME_REFRESH_SECONDS = 1.0


class DockerStatusChanged(Message):
    def __init__(self, status: EngineStatus) -> None:
        super().__init__()
        self.status = status


class ServiceStatesChanged(Message):
    def __init__(self, states: Sequence[ServiceState]) -> None:
        super().__init__()
        self.states = tuple(states)


class _AppSink(StatusSink):
    """Hands what the watcher thread learns to the app as messages (post_message is thread-safe)."""

    def __init__(self, app: EdpApp) -> None:
        self._app = app

    def on_status(self, status: EngineStatus) -> None:
        self._app.post_message(DockerStatusChanged(status))

    def on_states(self, states: Sequence[ServiceState]) -> None:
        self._app.post_message(ServiceStatesChanged(states))


class EdpApp(App[None]):
    # Absolute, so that subclasses defined elsewhere (tests, benches) find it too.
    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "edp-tui"

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+l", "refresh_services", "Refresh", id="app.refresh", show=False),
        # The tab bar is hard to reach with the keyboard: a digit jumps straight to a tab.
        Binding("1", "show_tab('tab-logs')", "Logs tab", id="app.tab_logs", show=False),
        Binding("2", "show_tab('tab-runs')", "Runs tab", id="app.tab_runs", show=False),
        Binding("3", "show_tab('tab-locations')", "Code locations tab", id="app.tab_locations", show=False),
        Binding("4", "show_tab('tab-schedules')", "Schedules tab", id="app.tab_schedules", show=False),
    ]

    HELP = """\
## Dashboard

The header shows each backend; the services panel lists the compose services; the tabs below show logs and,
with a webserver, Dagster. Focus a panel (tab / click) and press **?** for what it shows.
Keys **1**-**4** switch to the Logs, Runs, Code locations and Schedules & sensors tabs.
"""

    def __init__(
        self,
        config: Config,
        *,
        project: str,
        source: ServiceSource,
        webserver_url: str,
        now: Callable[[], datetime] | None = None,
        logs_panel_factory: Callable[[], Widget] | None = None,
        dagster_client: Any = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.project = project
        self.source = source
        self.webserver_url = webserver_url
        self.read_only = config.read_only
        self._now = now or (lambda: datetime.now(UTC))
        self._logs_panel_factory = logs_panel_factory
        # None: a DagsterClient for webserver_url (tests hand in a fake with the same methods).
        self._dagster_client = dagster_client
        self._stop = threading.Event()
        self._engine_connected: bool | None = None
        self.unknown_keymap_ids: list[str] = []

    # --- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield BackendHeader(self.project, read_only=self.read_only, id="header")
        yield ServicesPanel(self.source.services, now=self._now, id="services")
        with TabbedContent(id="main"):
            yield from self.compose_main_panes()
        yield Footer()

    def compose_main_panes(self) -> Iterable[TabPane]:
        """The tabs of the main area. Other panels (Dagster) add their TabPane here."""
        yield TabPane("Logs", self.make_logs_panel(), id="tab-logs")
        yield from self.make_dagster_panes()

    def make_dagster_panes(self) -> list[TabPane]:
        from edp_tui.ui.dagster_tabs import DagsterPanes

        panes = DagsterPanes(
            self.webserver_url,
            read_only=self.read_only,
            stale_after_s=self.config.daemon_stale_after_s,
            on_webserver=self.set_webserver_state,
            on_daemon=self.set_daemon_state,
            client=self._dagster_client,
        )
        return panes.panes()

    def make_logs_panel(self) -> Widget:
        if self._logs_panel_factory is not None:
            return self._logs_panel_factory()
        # The same engine as the services panel (its endpoint already honours DOCKER_HOST and the context).
        return LogsPanel(project=self.project, docker_host=self.source.endpoint)

    @property
    def header(self) -> BackendHeader:
        return self.query_one(BackendHeader)

    @property
    def services_panel(self) -> ServicesPanel:
        return self.query_one(ServicesPanel)

    def on_mount(self) -> None:
        self.header.set_backend("docker", Level.UNKNOWN, f"{self.source.endpoint} (connecting…)")
        self.header.set_backend("webserver", Level.UNKNOWN, self.webserver_url)
        self.header.set_backend("daemon", Level.UNKNOWN, "not checked")
        self.apply_keymap(self.config.keymap)
        self.query_one(ServicesTable).focus()
        self.set_interval(UPTIME_REFRESH_SECONDS, self.services_panel.refresh_uptimes)
        self._watch_docker()

    def apply_keymap(self, keymap: Mapping[str, str]) -> None:
        """Rebind keys by binding id (from the config file); unknown ids are reported."""
        mapping = dict(keymap)
        if not mapping:
            return
        known = known_binding_ids()
        self.unknown_keymap_ids = sorted(set(mapping) - known)
        if self.unknown_keymap_ids:
            self.notify(
                f"keymap: unknown binding id(s) {', '.join(self.unknown_keymap_ids)}; "
                f"known: {', '.join(sorted(known))}",
                severity="warning",
                timeout=10,
            )
        self.set_keymap({k: v for k, v in mapping.items() if k in known})

    # --- backend states (API for other panels) --------------------------------------------------------------
    def set_backend_state(self, name: str, level: Level | str, text: str, label: str | None = None) -> None:
        """Show a backend's state in the header. Call on the UI thread (from a worker: call_from_thread)."""
        self.header.set_backend(name, level, text, label)

    def set_webserver_state(self, level: Level | str, text: str) -> None:
        self.set_backend_state("webserver", level, text)

    def set_daemon_state(self, level: Level | str, text: str) -> None:
        self.set_backend_state("daemon", level, text)

    # --- Docker ---------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="docker-watch", exit_on_error=False)
    def _watch_docker(self) -> None:
        self.source.run_watch(_AppSink(self), self._stop)

    @work(thread=True, exclusive=True, group="docker-refresh", exit_on_error=False)
    def _refresh_worker(self) -> None:
        try:
            states = self.source.snapshot()
        except DockerError as exc:
            self.call_from_thread(self.notify, f"Refresh failed: {exc}", severity="error")
            return
        self.post_message(ServiceStatesChanged(states))

    def on_docker_status_changed(self, message: DockerStatusChanged) -> None:
        status = message.status
        endpoint = status.endpoint
        if status.connected:
            self.header.set_backend("docker", Level.OK, f"{endpoint} · {status.summary}")
            if self._engine_connected is False:
                self.notify(f"Docker engine at {endpoint} is reachable again", title="Docker")
        else:
            self.header.set_backend("docker", Level.ERROR, f"{endpoint} · {status.summary}")
            if self._engine_connected is not False:
                self.notify(
                    f"Docker engine at {endpoint} unreachable: {status.message}. Retrying with backoff.",
                    title="Docker",
                    severity="error",
                )
        self._engine_connected = status.connected
        self.services_panel.set_engine_status(status)

    def on_service_states_changed(self, message: ServiceStatesChanged) -> None:
        self.services_panel.update_states(message.states)
        screen = self.screen
        if isinstance(screen, ServiceDetailScreen):
            for state in message.states:
                screen.update_state(state)

    def on_services_panel_service_highlighted(self, message: ServicesPanel.ServiceHighlighted) -> None:
        panels = self.query("#tab-logs > *")
        show = getattr(panels.first(), "show_service", None) if panels else None
        if callable(show):
            show(message.service)

    def on_services_panel_details_requested(self, message: ServicesPanel.DetailsRequested) -> None:
        self.action_details(message.service)

    def on_services_panel_action_requested(self, message: ServicesPanel.ActionRequested) -> None:
        self.request_action(message.action, message.service)

    # --- actions --------------------------------------------------------------------------------------------
    def request_action(self, action: str, service: str) -> None:
        """Entry point of every service action (keys, palette): read-only check, confirmation, worker."""
        verb = ACTIONS[action][0]
        if self.read_only:
            self.notify(
                f"Read-only mode: {verb.lower()} {service} refused", title="Read-only", severity="warning"
            )
            return
        if action == "stop":

            def confirmed(answer: bool | None) -> None:
                if answer:
                    self._start_action(action, service)

            self.push_screen(
                ConfirmScreen(f"Stop service {service}? Its container stops until started again."), confirmed
            )
            return
        self._start_action(action, service)

    def _start_action(self, action: str, service: str) -> None:
        self.notify(f"{ACTIONS[action][1].capitalize()} {service}…", timeout=3)
        self._action_worker(action, service)

    @work(thread=True, group="docker-actions", exit_on_error=False)
    def _action_worker(self, action: str, service: str) -> None:
        try:
            state = getattr(self.source, action)(service)
        except DockerError as exc:
            self.call_from_thread(
                self.notify, str(exc), title=f"{ACTIONS[action][0]} {service} failed", severity="error"
            )
            return
        self.post_message(ServiceStatesChanged([state]))
        self.call_from_thread(
            self.notify, f"{service} {ACTIONS[action][2]} ({state.state_label})", title="Done"
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything unexpected in a worker becomes a visible notification instead of a crash.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}", title=f"{event.worker.name} failed", severity="error"
            )

    def action_details(self, service: str | None = None) -> None:
        service = service or self.services_panel.selected_service
        if service is None:
            return
        state = self.services_panel.state_of(service) or ServiceState.missing(service)
        self.push_screen(ServiceDetailScreen(state, now=self._now))

    def action_refresh_services(self) -> None:
        self._refresh_worker()

    def action_show_tab(self, tab_id: str) -> None:
        tabs = self.query_one("#main", TabbedContent)
        try:
            tabs.get_pane(tab_id)
        except NoMatches:
            self.notify(f"no {tab_id.removeprefix('tab-')} tab in this dashboard", severity="warning")
            return
        tabs.active = tab_id

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        focused_help = help_for(self.focused) or self.HELP
        rows = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # Widget internals (cursor keys and the like: hidden, no id) would drown the panel's own keys.
            if not binding.description or (not binding.show and not binding.id):
                continue
            if (binding.id or binding.action) in seen:
                continue
            seen.add(binding.id or binding.action)
            rows.append((self.get_key_display(binding), binding.description, binding.id or ""))
        self.push_screen(HelpScreen(focused_help, rows))

    def action_show_all_logs(self) -> None:
        self.post_message(ServicesPanel.ServiceHighlighted(None))

    # --- command palette ------------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Explain the focused panel and its keys", self.action_help)
        yield SystemCommand(
            "Refresh services", "Ask the engine for every service's state now", self.action_refresh_services
        )
        yield SystemCommand(
            "Logs of all services", "Interleaved logs, each line tagged by service", self.action_show_all_logs
        )
        for service in self.services_panel_services():
            yield SystemCommand(
                f"Details: {service}",
                f"State and health log of {service}",
                partial(self.action_details, service),
            )
            for action, (verb, _, _) in ACTIONS.items():
                suffix = " (asks first)" if action == "stop" else ""
                yield SystemCommand(
                    f"{verb} {service}",
                    f"{verb} the container of {service}{suffix}",
                    partial(self.request_action, action, service),
                )

    def services_panel_services(self) -> list[str]:
        """Services with a row (expected ones plus any extra the engine reported)."""
        try:
            table = self.services_panel.table
        except NoMatches:  # palette opened before the panel is mounted
            return list(self.source.services)
        return [str(key.value) for key in table.rows if key.value is not None]

    # --- shutdown -------------------------------------------------------------------------------------------
    def on_unmount(self) -> None:
        self._stop.set()
        self.source.close()


def known_binding_ids() -> set[str]:
    """Every binding id the keymap may rebind."""
    from edp_tui.ui.confirm import ConfirmScreen as _Confirm
    from edp_tui.ui.help import HelpScreen as _Help

    ids: set[str] = set()
    from edp_tui.ui.launch_dialog import LaunchDialog
    from edp_tui.ui.locations_panel import LocationsPanel
    from edp_tui.ui.runs_panel import RunsPanel
    from edp_tui.ui.schedules_panel import SchedulesPanel

    dagster_classes = (LocationsPanel, RunsPanel, SchedulesPanel, LaunchDialog)
    for cls in (EdpApp, ServicesTable, ServiceDetailScreen, _Confirm, _Help, *dagster_classes):
        for binding in cls.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    try:
        from edp_tui.ui import log_view, logs_panel  # the logs helper's widgets, when present
    except ImportError:
        return ids
    for module in (log_view, logs_panel):
        for obj in vars(module).values():
            for binding in getattr(obj, "BINDINGS", []) if isinstance(obj, type) else []:
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return ids
