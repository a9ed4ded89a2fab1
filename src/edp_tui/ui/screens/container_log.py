"""The last lines of one run container's log (run containers are not Compose services: no follower)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen

from edp_tui.text import lines_from_text
from edp_tui.ui.notify import literal
from edp_tui.ui.widgets.log_view import LogView


class ContainerLogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close", id="container_log.close")]

    HELP = "## Run container log\n\nThe container's last lines, shown literally. **escape** closes."

    DEFAULT_CSS = """
    ContainerLogScreen { align: center middle; }
    ContainerLogScreen > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; }
    """

    def __init__(self, title: str, data: bytes) -> None:
        super().__init__()
        self.title_text = title
        self.data = data

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = literal(self.title_text)
            yield LogView(max_lines=5_000, max_bytes=4 << 20, id="container-log")

    def on_mount(self) -> None:
        view = self.query_one(LogView)
        view.append_lines(lines_from_text(self.data) or lines_from_text("(no output)"))
        view.flush_now()
        view.focus()

    def action_close(self) -> None:
        self.dismiss(None)
