"""A timeline of the runs the runs list shows, across jobs (`t` in the runs list): a bar per run on their
common span (start, length, outcome), oldest first, so overlaps and the queue show at a glance. A live run's
bar grows every second; the list itself is the runs panel's page at the time of opening."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.timeline import runs_timeline
from edp_tui.ui.widgets.dagster.timeline import timeline_table


class RunsTimelineScreen(Screen[None]):
    BINDINGS = [Binding("escape,q,t", "close", "Close", id="runs_timeline.close")]

    HELP = """\
## Runs timeline

The runs of the runs list (its current page and filter) as bars on their common span, oldest first: where
each started, how long it took and how it ended (green success, red failure, cyan running, magenta
canceled); a queued run has no bar yet. **escape** returns.
"""

    DEFAULT_CSS = """
    RunsTimelineScreen #runs-timeline-title { height: 1; padding: 0 1; }
    RunsTimelineScreen VerticalScroll { height: 1fr; }
    """

    def __init__(
        self, client: DagsterApi, runs: list[RunSummary], *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.client = client
        self.runs = runs
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("Runs timeline ", "bold"), f"· {len(self.runs)} runs of the runs list"),
            id="runs-timeline-title",
        )
        with VerticalScroll():
            yield Static(id="runs-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()
        if any(not run.is_terminal for run in self.runs):
            self.set_interval(1.0, self.redraw)

    def redraw(self) -> None:
        now = self.clock()
        target = self.query_one("#runs-timeline", Static)
        if not self.runs:
            target.update(Text("no runs listed", style="dim"))
            return
        timeline = runs_timeline(self.runs, now)
        # The job and the run's short id: several runs of one job are told apart.
        spans = tuple(replace(s, label=f"{s.label} {s.key[:8]}") for s in timeline.spans)
        target.update(timeline_table(replace(timeline, spans=spans), now, label="run", label_width=32))

    def action_close(self) -> None:
        self.dismiss(None)
