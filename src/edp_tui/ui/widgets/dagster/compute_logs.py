"""Compute logs (stdout and stderr of a step) tailed live with the byte cursor, shown literally.

Log keys come from the run's LOGS_CAPTURED events (``[runId, "compute_logs", fileKey]``, fileKey is random),
handed over by the run detail panel. Tailing polls ``capturedLogs`` with the ``"<out>:<err>"`` byte cursor:
it sees new bytes within one poll interval (0.5 s), where the subscription only pushes every 2.5 s (the
compute log manager's watchdog) and never completes for killed steps. Polling stops once the run is finished
and a last read brought nothing new. The log of a finished run is read in large chunks back to back
(`ComputeLogTail.read_all`): an 8 MB log loads in a few calls.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import LogKey, RunSummary
from edp_tui.dagster.tail import ComputeLogTail
from edp_tui.text import make_line, message_line, printable
from edp_tui.ui.widgets.log_view import LogView
from edp_tui.ui.widgets.polling import PollingPanel

STREAM_NUMBER = {"stdout": 1, "stderr": 2}
# Lines and bytes kept for one step; LogView's buffer enforces them.
MAX_LINES = 20_000
MAX_BYTES = 8 * 1024 * 1024


class ComputeLogsPanel(PollingPanel):
    """stdout + stderr of the selected step of the selected run."""

    HELP = """\
## Compute logs

stdout and stderr of the step highlighted in the run detail (first step by default), tailed live while the run
is going and stopping once it has finished. Text is shown literally: markup and control characters in the
output are never interpreted. stderr lines are tagged `stderr`. The pane keeps the last 20,000 lines.
"""

    DEFAULT_CSS = """
    ComputeLogsPanel > #compute-title { height: auto; padding: 0 1; }
    ComputeLogsPanel > #compute-view { height: 1fr; }
    """

    poll_interval = 0.5

    def __init__(self, client: DagsterApi, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.run_id: str | None = None
        self.keys: tuple[LogKey, ...] = ()
        self.step_key: str | None = None
        self.key: LogKey | None = None
        self.tail: ComputeLogTail | None = None
        self.run_finished = False
        self.done = False
        self.lines_shown = 0

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(Text("no step selected", style="dim"), id="compute-title")
        yield LogView(max_lines=MAX_LINES, max_bytes=MAX_BYTES, timestamps=False, id="compute-view")

    def on_mount(self) -> None:
        self.border_title = "Compute logs"

    # ---- inputs from the other run panels -----------------------------------------------------------------
    def show_run(self, run: RunSummary | None) -> None:
        if run is None or run.run_id != self.run_id:
            self.run_id = run.run_id if run else None
            self.keys = ()
            self.step_key = None
            self._switch(None)

    def set_log_keys(self, run_id: str, keys: tuple[LogKey, ...], finished: bool) -> None:
        if run_id != self.run_id:
            return
        self.keys = keys
        self.run_finished = finished
        if self.key is None:
            self._switch(self._key_for(self.step_key))
        self.wake()

    def select_step(self, run_id: str, step_key: str) -> None:
        if run_id != self.run_id or step_key == self.step_key:
            return
        self.step_key = step_key
        key = self._key_for(step_key)
        if key != self.key:
            self._switch(key)

    def _key_for(self, step_key: str | None) -> LogKey | None:
        if not self.keys:
            return None
        if step_key is None:
            return self.keys[0]
        # In-process runs share one key for all steps; pick the key whose steps include this one.
        return next((k for k in self.keys if step_key in k.step_keys), None)

    def _switch(self, key: LogKey | None) -> None:
        self.key = key
        self.tail = ComputeLogTail(key) if key is not None else None
        self.done = False
        self.lines_shown = 0
        self.view.clear()
        self._title()
        self.wake()

    def _title(self) -> None:
        title = self.query_one("#compute-title", Static)
        if self.key is None:
            msg = "no run selected" if self.run_id is None else "no compute logs captured for this step (yet)"
            title.update(Text(msg, style="dim"))
            return
        steps = ", ".join(self.key.step_keys) or "?"
        state = "complete" if self.done else "tailing…"
        title.update(Text(f"{printable(steps)} · {self.key.file_key} · {self.lines_shown} lines · {state}"))

    @property
    def view(self) -> LogView:
        return self.query_one("#compute-view", LogView)

    # ---- tailing -------------------------------------------------------------------------------------------
    async def poll_once(self) -> None:
        tail = self.tail
        if tail is None or self.done:
            return
        finished = self.run_finished
        read = await (tail.read_all(self.client) if finished else tail.read(self.client))
        if tail is not self.tail:
            return  # another step was selected meanwhile
        pieces = list(read.lines)
        # read_all stops on a read that brought nothing: a finished run's log is complete after it.
        if finished:
            # The run is over and nothing new came: the partial last lines, and stop polling this key.
            pieces += tail.flush()
            self.done = True
        lines = [
            make_line(text, stream=STREAM_NUMBER[stream], service=stream_tag(stream))
            for stream, text in pieces
        ]
        if self.done:
            lines.append(message_line("— end of compute log —"))
        if lines:
            self.view.append_lines(lines)
            self.lines_shown += len(lines)
        self._title()


def stream_tag(stream: str) -> str | None:
    """stderr lines carry a tag; stdout lines none."""
    return "stderr" if stream == "stderr" else None
