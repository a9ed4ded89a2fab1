"""Which partition to materialize, when the assets to materialize are partitioned: one run for one partition
(the unpartitioned assets with it are built as they are), as Dagster's own Materialize does; a range is a
backfill (`b`). The key typed is checked against the asset's partitions before anything is launched."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import AssetKey, key_text
from edp_tui.dagster.errors import DagsterError
from edp_tui.dagster.partitions import PartitionRequestError, check_range
from edp_tui.text import printable


class PartitionPrompt(ModalScreen[str | None]):
    """Dismisses with a partition key of `key`'s partitions, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="partition.cancel"),
        Binding("ctrl+s", "submit", "Materialize", id="partition.submit"),
    ]

    HELP = """\
## Materialize a partition

The assets to materialize are partitioned: one run materializes one partition of them (the unpartitioned
assets with them are built as they are). The newest partition is filled in; type another (completed from the
asset's partitions). **enter** or **ctrl+s** materializes, **escape** cancels; **b** on the Assets tab
backfills a range.
"""

    DEFAULT_CSS = """
    PartitionPrompt { align: center middle; }
    PartitionPrompt > Vertical {
        width: 72; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    PartitionPrompt #partition-error { height: auto; color: $error; }
    PartitionPrompt Horizontal { height: auto; }
    PartitionPrompt Button { margin: 0 1; }
    """

    def __init__(self, client: DagsterApi, key: AssetKey, question: str) -> None:
        super().__init__()
        self.client = client
        self.key = key
        self.question = question
        self.keys: list[str] | None = None  # None until read

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(printable(self.question), style="bold"))
            asked = f"{key_text(self.key)} is partitioned: which partition?"
            yield Static(Text(printable(asked), style="dim"))
            yield Input(placeholder="reading the partitions…", id="partition-key", disabled=True)
            yield Static(id="partition-error")
            with Horizontal():
                yield Button("Materialize (enter)", variant="primary", id="partition-ok")
                yield Button("Cancel (esc)", id="partition-cancel")

    def on_mount(self) -> None:
        self.read_keys()

    @work(exclusive=True)
    async def read_keys(self) -> None:
        try:
            keys = await self.client.partition_keys(self.key)
        except DagsterError as exc:
            self._error(f"cannot read the partitions of {key_text(self.key)}: {exc}")
            return
        self.keys = keys
        field = self.query_one("#partition-key", Input)
        if not keys:
            self._error(f"{key_text(self.key)} has no partitions; nothing launched")
            return
        field.suggester = SuggestFromList(keys, case_sensitive=True)
        field.placeholder = f"{keys[0]} to {keys[-1]}"
        field.value = keys[-1]
        field.disabled = False
        field.focus()

    @on(Input.Submitted, "#partition-key")
    def submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        if not self.keys:
            return
        text = self.query_one("#partition-key", Input).value.strip()
        try:
            check_range(self.key, self.keys, text, text)
        except PartitionRequestError as exc:
            self._error(str(exc))
            return
        self.dismiss(text)

    def _error(self, message: str) -> None:
        self.query_one("#partition-error", Static).update(Text(printable(message)))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#partition-ok")
    def ok_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#partition-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()
