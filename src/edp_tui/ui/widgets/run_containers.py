"""Run containers beside the services (run-per-container mode): state, CPU and memory, each mapped to its run;
``enter`` shows the container's last log lines. Hidden while there is none (the default mode has none)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from edp_tui.docker.run_containers import RunContainer, RunContainerSource
from edp_tui.errors import EdpError
from edp_tui.text import printable
from edp_tui.ui.notify import report
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key

COLUMNS = (
    ("name", "Run container", 30),
    ("run", "Run", 8),
    ("job", "Job", 22),
    ("state", "State", 9),
    ("cpu", "CPU", 7),
    ("memory", "Memory", 16),
)
STATE_STYLE = {"running": "bold green", "exited": "dim", "created": "yellow", "dead": "bold red"}


def mebibytes(n: int | None) -> str:
    return "-" if n is None else f"{n / (1 << 20):.0f} MiB"


def cells(container: RunContainer) -> list[Text]:
    memory = mebibytes(container.memory_bytes)
    if container.memory_limit_bytes:
        memory += f" / {container.memory_limit_bytes / (1 << 30):.0f}G"
    return [
        Text(printable(container.name)),
        Text(printable(container.run_id[:8])),
        Text(printable(container.job)),
        Text(container.state, style=STATE_STYLE.get(container.state, "")),
        Text("-" if container.cpu_percent is None else f"{container.cpu_percent:.0f}%"),
        Text(memory),
    ]


class RunContainersPanel(PollingPanel):
    BINDINGS = [Binding("enter", "show_log", "Container log", id="run_containers.log")]

    HELP = """\
## Run containers

In the run-per-container mode (docs/scaling.md) every run is a container of its own; this table lists them
with their run, job, state, CPU (of one core) and memory. **enter** shows the container's last log lines.
The panel hides itself while there are none.
"""

    DEFAULT_CSS = """
    RunContainersPanel { height: auto; max-height: 8; display: none; }
    RunContainersPanel.-present { display: block; }
    RunContainersPanel > DataTable { height: auto; max-height: 6; }
    """

    poll_interval = 3.0

    def __init__(self, source: RunContainerSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.containers: dict[str, RunContainer] = {}

    @property
    def needs_polling_offscreen(self) -> bool:
        return True  # hidden while empty: it must keep looking to appear

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", id="run-containers-table")

    def on_mount(self) -> None:
        self.border_title = "Run containers"
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)

    async def poll_once(self) -> None:
        found = await asyncio.to_thread(self.source.run_containers)
        self.show(found)

    def show(self, found: list[RunContainer]) -> None:
        if found == list(self.containers.values()) and self.polls:
            return  # nothing changed (at rest: none, poll after poll): no rows rebuilt, nothing repainted
        table: DataTable[Text] = self.query_one(DataTable)
        highlighted = self._highlighted_id()
        self.containers = {c.container_id: c for c in found}
        table.clear()
        for container in found:
            table.add_row(*cells(container), key=container.container_id)
        # The rows are rebuilt on every poll: the cursor stays on the container the user chose.
        if highlighted in self.containers:
            table.move_cursor(row=table.get_row_index(highlighted), animate=False)
        self.set_class(bool(found), "-present")

    def _highlighted_id(self) -> str | None:
        return cursor_row_key(self.query_one(DataTable))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # DataTable takes enter itself (select the row): that is the request for the log.
        event.stop()
        self.action_show_log()

    def action_show_log(self) -> None:
        container = self.containers.get(self._highlighted_id() or "")
        if container is not None:
            self._open_log(container)

    @work(group="run-container-log", exclusive=True, exit_on_error=False)
    async def _open_log(self, container: RunContainer) -> None:
        try:
            data = await asyncio.to_thread(self.source.logs, container.container_id)
        except EdpError as exc:
            report(self, exc, title=f"Log of {container.name}")
            return
        from edp_tui.ui.screens.container_log import ContainerLogScreen  # when asked for: not at every start

        title = f"{container.name} · run {container.run_id} · {container.job}"
        self.app.push_screen(ContainerLogScreen(title, data))
