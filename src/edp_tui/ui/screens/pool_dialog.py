"""Set a concurrency pool's limit, or remove it: the number is checked against the instance's bounds before
anything is sent."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from edp_tui.dagster.queue import Pool
from edp_tui.text import printable


@dataclass(frozen=True)
class PoolChoice:
    """The dialog's answer: the new limit, None to remove it (a cancel dismisses with no choice)."""

    limit: int | None


class PoolLimitDialog(ModalScreen[PoolChoice | None]):
    """Dismisses with a PoolChoice, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="pool.cancel"),
        Binding("ctrl+s", "submit", "Set", id="pool.submit"),
    ]

    HELP = """\
## Pool limit

The most steps of this pool that run at once, across all runs. **ctrl+s** sets it, the Remove button takes
the limit away (the pool is then unlimited, or at the instance's default limit); **escape** cancels.
"""

    DEFAULT_CSS = """
    PoolLimitDialog { align: center middle; }
    PoolLimitDialog > Vertical {
        width: 60; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    PoolLimitDialog #pool-error { height: auto; color: $error; }
    PoolLimitDialog Horizontal { height: auto; }
    PoolLimitDialog Button { margin: 0 1; }
    """

    def __init__(self, pool: Pool, *, low: int, high: int | None) -> None:
        super().__init__()
        self.pool = pool
        self.low = low
        self.high = high

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble(("Pool ", "bold"), (printable(self.pool.name), "bold")))
            yield Static(Text(self.pool.describe(), style="dim"))
            bounds = f"{self.low} to {self.high}" if self.high is not None else f"{self.low} or more"
            value = "" if self.pool.limit is None else str(self.pool.limit)
            yield Input(value=value, placeholder=f"limit ({bounds})", id="pool-limit")
            yield Static(id="pool-error")
            with Horizontal():
                yield Button("Set (ctrl+s)", variant="primary", id="pool-set")
                yield Button("Remove the limit", variant="warning", id="pool-remove")
                yield Button("Cancel (esc)", id="pool-cancel")

    def action_submit(self) -> None:
        text = self.query_one("#pool-limit", Input).value.strip()
        try:
            limit = int(text)
        except ValueError:
            self._error(f"{printable(text)!r} is not a whole number")
            return
        if limit < self.low or (self.high is not None and limit > self.high):
            bounds = (
                f"between {self.low} and {self.high}" if self.high is not None else f"at least {self.low}"
            )
            self._error(f"a pool limit is {bounds}; got {limit}")
            return
        self.dismiss(PoolChoice(limit))

    def _error(self, message: str) -> None:
        self.query_one("#pool-error", Static).update(Text(message))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#pool-set")
    def set_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#pool-remove")
    def remove_pressed(self) -> None:
        self.dismiss(PoolChoice(None))

    @on(Button.Pressed, "#pool-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()
