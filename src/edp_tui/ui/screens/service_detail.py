"""Details of one service: container facts and the health log (failing streak, the last probes' output)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from edp_tui.docker.models import Health, ServiceState
from edp_tui.text import printable, safe_text
from edp_tui.ui.notify import literal
from edp_tui.ui.widgets.service_rows import row_cells
from edp_tui.util import fmt


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def render_detail(state: ServiceState, now: datetime) -> Group:
    cells = row_cells(state, now)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("service", cells["service"])
    facts.add_row("state", cells["state"])
    facts.add_row("health", cells["health"])
    facts.add_row(
        "failing streak",
        Text(str(state.failing_streak), style="bold red" if state.failing_streak else ""),
    )
    facts.add_row("container", Text(printable(state.container_name or "-")))
    facts.add_row("id", Text((state.container_id or "-")[:12]))
    facts.add_row("image", cells["image"])
    facts.add_row("ports", cells["ports"] or Text("-"))
    facts.add_row("restart count", Text(str(state.restart_count)))
    facts.add_row("started", Text(_when(state.started_at)))
    facts.add_row("uptime", Text(fmt.duration(state.uptime(now), coarse=True)))
    facts.add_row("finished", Text(_when(state.finished_at)))
    if state.replicas > 1:
        facts.add_row("containers", Text(f"{state.replicas} (showing the liveliest)"))
    if state.error:
        facts.add_row("engine error", safe_text(state.error))

    parts: list[Table | Text] = [facts, Text("")]
    if state.probes:
        title = "Health log (oldest first, as kept by Docker)"
        parts.append(Text(title, style="bold underline"))
        log = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
        log.add_column("ended", no_wrap=True)
        log.add_column("exit", no_wrap=True, justify="right")
        log.add_column("output", ratio=1)
        for probe in state.probes:
            log.add_row(
                Text(_when(probe.end or probe.start)),
                Text(str(probe.exit_code), style="green" if probe.passed else "bold red"),
                # Probe output is outside text: sanitized, never parsed as markup.
                safe_text(probe.output.rstrip("\n")),
            )
        parts.append(log)
    elif state.health is Health.NONE:
        parts.append(Text("No healthcheck runs in this container.", style="dim"))
    return Group(*parts)


class ServiceDetailScreen(ModalScreen[None]):
    """Follows the service live while open (the app forwards fresh states to ``update_state``)."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="detail.close")]

    HELP = """\
## Service details

The container behind the service and its **health log**: Docker keeps the last five probes with their exit
code and output. The **failing streak** counts consecutive failed probes; at the healthcheck's `retries` the
container turns unhealthy. The view follows the service live. **escape** closes it.
"""

    DEFAULT_CSS = """
    ServiceDetailScreen {
        align: center middle;
    }
    ServiceDetailScreen > VerticalScroll {
        width: 90%;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, state: ServiceState, now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.state = state
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def service(self) -> str:
        return self.state.service

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = literal(f"Service {self.state.service}")
            yield Static(render_detail(self.state, self._now()), id="detail-body")

    def update_state(self, state: ServiceState) -> None:
        if state.service != self.state.service:
            return
        self.state = state
        self.query_one("#detail-body", Static).update(render_detail(state, self._now()))

    def action_close(self) -> None:
        self.dismiss(None)
