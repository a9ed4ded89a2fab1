"""Compute logs (stdout and stderr of a step), pushed by the ``capturedLogs`` subscription while the run is
live, polled when the subscription is unavailable, shown literally.

Log keys come from the run's LOGS_CAPTURED events (``[runId, "compute_logs", fileKey]``, fileKey is random),
handed over by the run detail panel. While the run is live the selected key is followed with
`follow_live` (dagster/tail.py, shared with the CLI): the subscription from the current byte cursor, each
pushed chunk split into lines and appended in arrival order. The webserver pushes at most its compute log
manager's ``polling_timeout`` late (stack/dagster.yaml: 0.2 s). If the subscription fails (socket refused or
closed, a bad frame, an error payload, no websockets) the key is polled every 0.5 s, the title says
"polling (push unavailable: <reason>)" and the subscription is retried with backoff. Following stops when the
panel is hidden (it resumes from the cursor when shown) and when the run is finished: then the rest is read by
query in large chunks (`ComputeLogTail.read_all`, an 8 MB log in a few calls) and the partial last lines
flushed; the subscription itself never completes for a killed step. A finished run's log is only ever read
that way.
"""

from __future__ import annotations

import asyncio
import logging

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.widgets import Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import LogKey, RunSummary
from edp_tui.dagster.tail import (
    PUSH_RETRY_S,
    ComputeLogTail,
    FollowState,
    Lines,
    follow_live,
    stop_followers,
)
from edp_tui.text import make_line, message_line, printable
from edp_tui.ui.widgets.log_view import LogView
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.util.backoff import Backoff

STREAM_NUMBER = {"stdout": 1, "stderr": 2}
# Lines and bytes kept for one step; LogView's buffer enforces them.
MAX_LINES = 20_000
MAX_BYTES = 8 * 1024 * 1024
log = logging.getLogger("edp_tui")


class ComputeLogsPanel(PollingPanel):
    """stdout + stderr of the selected step of the selected run."""

    HELP = """\
## Compute logs

stdout and stderr of the step highlighted in the run detail (first step by default), followed live while the
run is going and read to the end once it has finished. While live, new output is pushed by the webserver
(the title says `push`) and appended in the order it arrived, stdout and stderr interleaved; output that
arrives in one push (written within about 0.2 s) shows its stdout lines before its stderr lines, as the
order between the two streams is not known there. When push is unavailable the title says `polling` and why,
the log is read every 0.5 s and push is tried again. Text is shown literally: markup and control characters
in the output are never interpreted. stderr lines are tagged `stderr`. The pane keeps the last 20,000 lines.
"""

    DEFAULT_CSS = """
    ComputeLogsPanel > #compute-title { height: auto; padding: 0 1; }
    ComputeLogsPanel > #compute-view { height: 1fr; }
    """

    poll_interval = 0.5
    # Resubscribing after a failed subscription (tests shorten it).
    push_retry = PUSH_RETRY_S

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
        # The live follower of `tail` (push, or polling while push is unavailable), and what it reported.
        self.follower: asyncio.Task[None] | None = None
        self.follow_state: FollowState | None = None
        self.log_complete = False  # the subscription completed: the step's log is whole

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(Text("no step selected", style="dim"), id="compute-title")
        yield LogView(max_lines=MAX_LINES, max_bytes=MAX_BYTES, timestamps=False, id="compute-view")

    def on_mount(self) -> None:
        self.border_title = "Compute logs"

    def on_hide(self, event: events.Hide) -> None:
        # Nobody sees the log: no socket held open for it; shown again, following resumes from the cursor.
        self._cancel_follower()

    def on_unmount(self) -> None:
        self._cancel_follower()

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
        self._cancel_follower()
        self.key = key
        self.tail = ComputeLogTail(key) if key is not None else None
        self.done = False
        self.log_complete = False
        self.follow_state = None
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
        if not self.done and self.follow_state is not None:
            state += f" · {self.follow_state.describe()}"
        key = printable(self.key.file_key)  # a file key is the webserver's text: shown literally
        title.update(Text(f"{printable(steps)} · {key} · {self.lines_shown} lines · {state}"))

    @property
    def view(self) -> LogView:
        return self.query_one("#compute-view", LogView)

    # ---- following -----------------------------------------------------------------------------------------
    async def poll_once(self) -> None:
        tail = self.tail
        if tail is None or self.done:
            return
        if not (self.run_finished or self.log_complete):
            if self.is_on_screen:  # the first poll runs in a hidden tab too: no socket for it there
                self._start_follower(tail)
            state = self.follow_state
            if state is not None and state.poll_error is not None:
                # The webserver is down altogether: the banner says so (a fresh traceback on every raise).
                raise state.poll_error.with_traceback(None)
            return
        # The run is over (or the log complete): no more pushes; the rest by query, then the partial lines.
        await self._stop_follower()
        read = await tail.read_all(self.client)
        if tail is not self.tail:
            return  # another step was selected meanwhile
        self.done = True
        self._append(tail, [*read.lines, *tail.flush()])

    def _start_follower(self, tail: ComputeLogTail) -> None:
        if self.follower is not None and not self.follower.done():
            return
        self.follower = asyncio.create_task(self._follow(tail), name=f"compute-log {tail.key.file_key}")
        self.follower.add_done_callback(follower_ended)

    async def _follow(self, tail: ComputeLogTail) -> None:
        await follow_live(
            tail,
            self.client,
            lambda lines: self._append(tail, lines),
            lambda state: self._followed(tail, state),
            poll_interval=self.poll_interval,
            retry=Backoff(*self.push_retry),
        )
        if tail is self.tail:
            self.log_complete = True
            self.wake()

    def _followed(self, tail: ComputeLogTail, state: FollowState) -> None:
        if tail is not self.tail:
            return
        if self.follow_state is not None and self.follow_state.poll_error and state.poll_error is None:
            self.show_error(None)
        self.follow_state = state
        self._title()

    def _cancel_follower(self) -> None:
        if self.follower is not None:
            self.follower.cancel()
            self.follower = None

    async def _stop_follower(self) -> None:
        """Cancel the follower and wait until it is gone: nothing it reads may land after the final read."""
        task, self.follower = self.follower, None
        if task is not None:
            await stop_followers([task])

    def _append(self, tail: ComputeLogTail, pieces: Lines | list[tuple[str, str]]) -> None:
        if tail is not self.tail:
            return  # a late batch of a step no longer shown
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


def follower_ended(task: asyncio.Task[None]) -> None:
    """A follower only ends by completing or being cancelled; anything else is a bug: in the log file."""
    if not task.cancelled() and task.exception() is not None:
        log.error("compute-log follower failed: %s", task.exception(), exc_info=task.exception())


def stream_tag(stream: str) -> str | None:
    """stderr lines carry a tag; stdout lines none."""
    return "stderr" if stream == "stderr" else None
