"""The dashboard shell: header with backend states, services panel, main tabbed area, footer.

All I/O runs in workers; message handlers only update widgets. Every backend comes in one `Backends` object
built by the composition root (`edp_tui.cli.dashboard`), so tests drive the screen with in-memory fakes and no
widget ever constructs a client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from edp_tui.backends import Backends
from edp_tui.config import Config
from edp_tui.ui.alerts import DashboardAlerts
from edp_tui.ui.container_shell import Terminal, palette_commands
from edp_tui.ui.keymap import known_binding_ids
from edp_tui.ui.messages import BackendStateChanged, DockerStatusChanged, MessageSink, ServiceStatesChanged
from edp_tui.ui.notify import report
from edp_tui.ui.palette import panel_commands
from edp_tui.ui.widgets.dagster.health import DaemonHealthWatch
from edp_tui.ui.widgets.dagster.tabs import dagster_panes
from edp_tui.ui.widgets.footer import KeysFooter
from edp_tui.ui.widgets.header import BackendHeader, Level
from edp_tui.ui.widgets.logs_panel import LogsPanel
from edp_tui.ui.widgets.run_containers import RunContainersPanel
from edp_tui.ui.widgets.services_panel import ACTIONS, CONFIRM, ServicesPanel, ServicesTable
from edp_tui.util import fmt

# Below this many rows the services panel is a one-line strip (the table opens while it has the focus), so
# that an 80x24 terminal keeps its rows for the tabs.
COMPACT_BELOW_ROWS = 40


class EdpApp(App[None]):
    # Absolute, so that subclasses defined elsewhere (tests, benches) find it too.
    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "edp-tui"
    # `m` restores a maximized panel; escape keeps its meaning inside panels (clear a search, close a dialog).
    ESCAPE_TO_MINIMIZE = False

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+l", "refresh_services", "Refresh", id="app.refresh", show=False),
        # The tab bar is hard to reach with the keyboard: a digit jumps straight to a tab.
        Binding("1", "show_tab('tab-logs')", "Logs tab", id="app.tab_logs", show=False),
        Binding("2", "show_tab('tab-runs')", "Runs tab", id="app.tab_runs", show=False),
        Binding("3", "show_tab('tab-locations')", "Code locations tab", id="app.tab_locations", show=False),
        Binding("4", "show_tab('tab-schedules')", "Schedules tab", id="app.tab_schedules", show=False),
        Binding("5", "show_tab('tab-assets')", "Assets tab", id="app.tab_assets", show=False),
        Binding("6", "show_tab('tab-backfills')", "Backfills tab", id="app.tab_backfills", show=False),
        Binding("m", "toggle_maximize", "Maximize", id="app.maximize"),
    ]

    HELP = """\
## Dashboard

The header shows each backend; the services panel lists the compose services; the tabs below show logs and,
with a webserver, Dagster. Focus a panel (tab / click) and press **?** for what it shows.
Keys **1**-**6** switch to the Logs, Runs, Code locations, Schedules & sensors, Assets and Backfills tabs
and focus the tab's main panel (the bright heavy border). **m** maximizes the focused panel and restores it.
On a short terminal the services panel is a one-line strip: focus it (**shift+tab**, a click).
"""

    def __init__(
        self,
        config: Config,
        backends: Backends,
        *,
        now: Callable[[], datetime] | None = None,
        logs_panel_factory: Callable[[], Widget] | None = None,
    ) -> None:
        """``logs_panel_factory``: a stand-in for the container-logs panel (tests of other panels)."""
        super().__init__()
        self.config = config
        self.backends = backends
        self.project = backends.project
        self.source = backends.services
        self.webserver_url = fmt.url_shown(backends.webserver_url)  # what the header shows
        self.read_only = config.read_only
        self._now = now or (lambda: datetime.now(UTC))
        self._logs_panel_factory = logs_panel_factory
        self._stop = threading.Event()
        self._engine_connected: bool | None = None
        self.unknown_keymap_ids: list[str] = []
        self._header: BackendHeader | None = None
        self.daemon_health = DaemonHealthWatch(backends.dagster, self, webserver_label=self.webserver_url)
        self.alerts = DashboardAlerts(self, backends, config.alerts)
        self.terminal = Terminal()  # runs a shell or a command with the app suspended (tests: a recorder)

    # --- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield BackendHeader(self.project, read_only=self.read_only, id="header")
        yield ServicesPanel(self.source, read_only=self.read_only, now=self._now, id="services")
        yield RunContainersPanel(self.backends.run_containers, id="run-containers")
        with TabbedContent(id="main"):
            yield from self.compose_main_panes()
        yield KeysFooter()

    def compose_main_panes(self) -> Iterable[TabPane]:
        """The tabs of the main area in the order of the digit keys, each with an id ``tab-<name>`` that a
        ``show_tab('tab-<name>')`` binding names: 1 Logs, 2 Runs, 3 Code locations, 4 Schedules, 5 Assets,
        6 Backfills."""
        yield TabPane("Logs", self.make_logs_panel(), id="tab-logs")
        yield from dagster_panes(self.backends.dagster, self.backends.reload_status, read_only=self.read_only)

    def make_logs_panel(self) -> Widget:
        if self._logs_panel_factory is not None:
            return self._logs_panel_factory()
        panel = LogsPanel(self.backends.logs)
        panel.border_title = "Container logs"
        return panel

    @property
    def header(self) -> BackendHeader:
        # Looked up once: every backend state (one every few seconds) would walk the whole DOM for it.
        if self._header is None:
            self._header = self.query_one(BackendHeader)
        return self._header

    @property
    def services_panel(self) -> ServicesPanel:
        return self.query_one(ServicesPanel)

    def on_mount(self) -> None:
        self.header.set_backend("docker", Level.UNKNOWN, f"{self.source.engine_url} (connecting…)")
        self.header.set_backend("webserver", Level.UNKNOWN, self.webserver_url)
        self.header.set_backend("daemon", Level.UNKNOWN, "not checked")
        self.apply_keymap(self.config.keymap)
        self._fit_height()
        self.query_one(ServicesTable).focus()
        self._watch_docker()
        # After the first refresh, as the panels' polls (the header's initial states are set by then).
        health = self.daemon_health.loop
        self.call_after_refresh(lambda: self.run_worker(health.run(), group="health", exit_on_error=False))
        self.run_worker(self.alerts.run(), group="alerts", exit_on_error=False)

    def _fit_height(self, height: int | None = None) -> None:
        """Short terminal: the services panel becomes a strip and the tab bar loses its underline row."""
        short = (height if height is not None else self.size.height) < COMPACT_BELOW_ROWS
        try:
            self.services_panel.compact = short
            self.query_one("#main", TabbedContent).set_class(short, "-short")
        except NoMatches:  # resized before the panels are mounted
            pass

    def on_resize(self, event: events.Resize) -> None:
        self._fit_height(event.size.height)  # self.size follows a little later (debounced)

    def apply_keymap(self, keymap: Mapping[str, str]) -> None:
        """Rebind keys by binding id (from the config file); unknown ids are reported."""
        mapping = dict(keymap)
        if not mapping:
            return
        known = known_binding_ids()
        self.unknown_keymap_ids = sorted(set(mapping) - known)
        if self.unknown_keymap_ids:
            report(
                self,
                f"keymap: unknown binding id(s) {', '.join(self.unknown_keymap_ids)}; "
                f"known: {', '.join(sorted(known))}",
                title="Configuration",
                severity="warning",
                timeout=10,
            )
        self.set_keymap({k: v for k, v in mapping.items() if k in known})

    # --- backend states (API for other panels) --------------------------------------------------------------
    def set_backend_state(self, name: str, level: Level | str, text: str, label: str | None = None) -> None:
        """Show a backend's state in the header. Call on the UI thread (from a worker: call_from_thread)."""
        self.header.set_backend(name, level, text, label)

    def on_backend_state_changed(self, message: BackendStateChanged) -> None:
        self.set_backend_state(message.name, message.level, message.text)
        self.alerts.daemon_health(self.daemon_health.health)

    # --- Docker ---------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="docker-watch", exit_on_error=False)
    def _watch_docker(self) -> None:
        self.source.run_watch(MessageSink(self), self._stop)

    def on_docker_status_changed(self, message: DockerStatusChanged) -> None:
        if not self.query(ServicesPanel):  # a last message from the watcher while the app shuts down
            return
        status = message.status
        endpoint = status.endpoint
        if status.connected:
            self.header.set_backend("docker", Level.OK, f"{endpoint} · {status.summary}")
            if self._engine_connected is False:
                report(self, f"Docker engine at {endpoint} is reachable again", title="Docker")
        else:
            self.header.set_backend("docker", Level.ERROR, f"{endpoint} · {status.summary}")
            if self._engine_connected is not False:
                report(
                    self,
                    f"Docker engine at {endpoint} unreachable: {status.message}. Retrying with backoff.",
                    title="Docker",
                    severity="error",
                )
        self._engine_connected = status.connected
        self.services_panel.set_engine_status(status)

    def on_service_states_changed(self, message: ServiceStatesChanged) -> None:
        try:
            self.services_panel.update_states(message.states)
        except NoMatches:  # the watcher thread's last message can arrive while the app shuts down
            return
        self.alerts.service_states(message.states)

    def on_services_panel_service_highlighted(self, message: ServicesPanel.ServiceHighlighted) -> None:
        panels = self.query("#tab-logs > *")
        show = getattr(panels.first(), "show_service", None) if panels else None
        if callable(show):
            show(message.service)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything unexpected in a worker becomes a visible notification instead of a crash.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            report(self, event.worker.error, title=f"{event.worker.name} failed")

    def action_details(self, service: str | None = None) -> None:
        self.services_panel.show_details(service)

    def action_refresh_services(self) -> None:
        self.services_panel.refresh_services()

    def action_show_tab(self, tab_id: str) -> None:
        tabs = self.query_one("#main", TabbedContent)
        try:
            tabs.get_pane(tab_id)
        except NoMatches:
            report(self, f"no {tab_id.removeprefix('tab-')} tab in this dashboard", severity="warning")
            return
        tabs.active = tab_id
        # The tab's main panel takes the focus (a digit pressed on the services would leave it there).
        self.call_after_refresh(self._focus_tab, tab_id)

    def _focus_tab(self, tab_id: str) -> None:
        pane = self.query_one("#main", TabbedContent).get_pane(tab_id)
        target = next((w for w in pane.query("*") if w.focusable), None)
        if target is not None:
            target.focus()

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif screen.focused is not None:
            # The panel around the focus fills the screen: the nearest ancestor that sets ALLOW_MAXIMIZE.
            screen.maximize(screen.focused)

    def action_help(self) -> None:
        # Imported when asked for: the help's Markdown (markdown-it, pygments) would cost every start.
        from edp_tui.ui.screens.help import HelpScreen, help_for

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
        # Every key of the shell and of the panels on screen (their own checks, read-only included, apply).
        yield from panel_commands(self, screen)
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
                suffix = " (asks first)" if action in CONFIRM else ""
                yield SystemCommand(
                    f"{verb} {service}",
                    f"{verb} the container of {service}{suffix}",
                    partial(self.services_panel.request_action, action, service),
                )
        yield from palette_commands(self, self.services_panel_services())

    def services_panel_services(self) -> list[str]:
        """Services with a row (expected ones plus any extra the engine reported)."""
        try:
            table = self.services_panel.table
        except NoMatches:  # palette opened before the panel is mounted
            return list(self.source.services)
        return [str(key.value) for key in table.rows if key.value is not None]

    # --- shutdown -------------------------------------------------------------------------------------------
    async def on_unmount(self) -> None:
        self._stop.set()
        await self.backends.aclose()
