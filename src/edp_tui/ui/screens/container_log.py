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
    # Priority: the log view inside has the focus and binds escape itself (clear its search), which would
    # otherwise keep the screen open for good. While its search/filter input is open the keys are the
    # input's (check_action); a search or filter still shown is cleared first, then the screen closes.
    BINDINGS = [Binding("escape,q", "close", "Close", id="container_log.close", priority=True)]

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close" and self.query_one(LogView).input_mode is not None:
            return False  # typing a search (q is a letter) or leaving it with escape: the input's keys
        return True

    def action_close(self) -> None:
        view = self.query_one(LogView)
        if view.lines_widget.search or view.lines_widget.filter:
            view.action_clear_search()
            return
        self.dismiss(None)
