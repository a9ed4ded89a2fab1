"""A timeline drawn in the terminal: one row per span (a step of a run, or a run), its bar placed on the
common window by Rich's own `Bar` (start to end; a span still going is drawn up to now), its length and
outcome beside it. Readable at 80 columns: the bar takes what the label, length and outcome leave."""

from __future__ import annotations

from rich.bar import Bar
from rich.table import Table
from rich.text import Text

from edp_tui.dagster.timeline import Timeline
from edp_tui.text import printable
from edp_tui.util.fmt import clock, duration

# Bar colours by outcome (steps: SUCCESS, FAILURE, IN_PROGRESS, SKIPPED; runs: their status).
BAR_COLOR = {
    "SUCCESS": "green",
    "FAILURE": "red",
    "IN_PROGRESS": "cyan",
    "STARTED": "cyan",
    "STARTING": "cyan",
    "CANCELING": "magenta",
    "CANCELED": "magenta",
    "SKIPPED": "bright_black",
}
STATUS_STYLE = {"FAILURE": "bold red", "SUCCESS": "green", "IN_PROGRESS": "bold cyan", "STARTED": "bold cyan"}


def timeline_table(timeline: Timeline, now: float, *, label: str = "step", label_width: int = 24) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column(label, no_wrap=True, overflow="ellipsis", max_width=label_width)
    span_text = f"{clock(timeline.begin)} → {clock(timeline.end)} ({duration(timeline.end - timeline.begin)})"
    table.add_column(span_text if timeline.spans else "", ratio=1, no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True, width=7)
    table.add_column("outcome", no_wrap=True, width=11)
    for span in timeline.spans:
        if span.start is None:
            bar: Text | Bar = Text("not started", style="dim")
        else:
            begin = span.start - timeline.begin
            end = (span.end if span.end is not None else now) - timeline.begin
            # At least a sliver: a step of a few milliseconds in a run of minutes still shows where it was.
            end = max(end, begin + timeline.size / 200)
            bar = Bar(timeline.size, begin, end, color=BAR_COLOR.get(span.status, "yellow"))
        table.add_row(
            Text(printable(span.label)),
            bar,
            Text(duration(span.length(now))),
            Text(span.status, style=STATUS_STYLE.get(span.status, "")),
        )
    return table
