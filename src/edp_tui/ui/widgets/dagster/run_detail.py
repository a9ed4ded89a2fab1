"""One run: its tags, steps and run config (``runOrError`` for this run only) and a cursor-based tail of its
events."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, RichLog, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.metadata import failed_nodes
from edp_tui.dagster.models import LogKey, RunDetail, RunEvent, RunSummary, log_keys_from_events
from edp_tui.text import printable, safe_text
from edp_tui.text.secrets import masked_tag, masked_yaml
from edp_tui.ui.notify import literal
from edp_tui.ui.widgets.dagster.status import status_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key
from edp_tui.util.fmt import duration, timestamp

# Events kept on screen; older ones scroll out (the run's full log stays in Dagster).
MAX_EVENT_LINES = 1000
# Pages of 1000 events fetched per poll at most, so a huge backlog cannot stall the loop.
MAX_PAGES_PER_POLL = 5
LEVEL_STYLE = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow", "DEBUG": "dim"}


def event_text(event: RunEvent) -> Text:
    """One event as a line; the message comes from user code, so it is shown literally."""
    stamp = timestamp(event.timestamp)[-8:] if event.timestamp else "--:--:--"
    kind = event.event_type or (event.level or "LOG")
    line = Text.assemble((stamp + " ", "dim"), (f"{kind:<14} ", LEVEL_STYLE.get(event.level or "", "bold")))
    if event.step_key:
        line.append(f"{printable(event.step_key)} ", style="cyan")
    line.append_text(safe_text(event.message.splitlines()[0] if event.message else ""))
    if event.error:
        line.append("\n    ")
        line.append_text(safe_text(event.error.replace("\n", "\n    ")))
        line.stylize("red", len(line) - len(event.error) - 4)
    for node in failed_nodes(event.metadata):
        # A failed dbt model: dbt's own error (the compiled SQL is in the event log, `v`).
        line.append("\n    dbt ", style="bold red")
        line.append(printable(node.unique_id), style="bold red")
        line.append(": ")
        line.append_text(safe_text(node.error.replace("\n", "\n      ")))
        if node.compiled_sql:
            line.append("\n      compiled SQL: v (event log)", style="dim")
    return line


def tags_text(tags: tuple[tuple[str, str], ...]) -> Text:
    """``key=value`` pairs on a line, the user's first and Dagster's own (``dagster/...``) dimmed after; the
    value of a tag whose name says secret is ``***``."""
    if not tags:
        return Text("no tags", style="dim")
    ordered = sorted(tags, key=lambda kv: kv[0].startswith("dagster/"))
    text = Text("tags ", style="bold")
    for i, (key, value) in enumerate(ordered):
        if i:
            text.append(" · ", style="dim")
        start = len(text)
        text.append_text(safe_text(f"{key}={masked_tag(key, value)}"))
        if key.startswith("dagster/"):
            text.stylize("dim", start)
    return text


class RunDetailPanel(PollingPanel):
    """Tags, steps table above the event tail (or the run config). Polls only while a non-finished run is
    shown."""

    BINDINGS = [
        Binding("c", "toggle_config", "Run config", id="dagster.run_config"),
        Binding("v", "event_log", "Event log", id="dagster.run_detail_events"),
        Binding("t", "step_timeline", "Step timeline", id="dagster.step_timeline"),
    ]

    HELP = """\
## Run detail

The highlighted run's tags (system `dagster/` tags dimmed), its steps with their status and duration, and the
run's event log as it grows (errors with the user's exception). Highlight a step to see its stdout/stderr in
the compute-log pane; **e** in the runs list then offers to re-execute just that step.

A failed dbt step also shows each failed model's error here; **v** opens the run's event log on a screen of
its own (filtered by type, step and level, searchable, with each failed model's compiled SQL) and **t** its
step timeline (a bar per step: start, length, outcome).

Keys: **c** shows the run config (YAML) in place of the events, and back. The values of config keys and tags
whose name says secret (password, token, api key, credentials...) are shown as `***`.
"""

    DEFAULT_CSS = """
    RunDetailPanel > #run-title { height: auto; padding: 0 1; }
    RunDetailPanel > #run-tags { height: auto; max-height: 3; padding: 0 1; }
    RunDetailPanel > #steps-table { height: auto; max-height: 40%; overflow-x: hidden; }
    RunDetailPanel > RichLog { height: 1fr; }
    RunDetailPanel > #run-config { display: none; }
    RunDetailPanel.-config > #run-config { display: block; }
    RunDetailPanel.-config > #run-events { display: none; }
    """

    poll_interval = 0.5
    # The run config shown in place of the events.
    show_config: var[bool] = var(False, toggle_class="-config")

    @dataclass
    class LogKeys(Message):
        """Every log key of the run found so far (a newer message of the same run holds them all)."""

        run_id: str
        keys: tuple[LogKey, ...]
        finished: bool

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunDetailPanel.LogKeys) and message.run_id == self.run_id

    @dataclass
    class StepSelected(Message):
        run_id: str
        step_key: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunDetailPanel.StepSelected)

    def __init__(self, client: DagsterApi, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.run: RunSummary | None = None
        self.detail: RunDetail | None = None
        self.events_cursor: str | None = None
        self.events_seen = 0
        self.log_keys: list[LogKey] = []
        self.finished = False
        # Bumped on every change of run: a poll started for an earlier selection drops what it read.
        self.generation = 0
        self.detail_shown: RunDetail | None = None
        self._title_shown: tuple[str, str, str, int] | None = None

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(Text("no run selected", style="dim"), id="run-title")
        yield Static(id="run-tags")
        yield NavTable(cursor_type="row", id="steps-table")
        yield RichLog(max_lines=MAX_EVENT_LINES, markup=False, highlight=False, wrap=False, id="run-events")
        yield RichLog(markup=False, highlight=False, wrap=False, id="run-config")

    def on_mount(self) -> None:
        self.border_title = "Run"
        steps: DataTable[Text] = self.query_one("#steps-table", DataTable)
        for key, label, width in (
            ("step", "Step", 28),
            ("status", "Status", 9),
            ("started", "Started", 14),
            ("took", "Took", 8),
        ):
            steps.add_column(label, key=key, width=width)

    def show_run(self, run: RunSummary | None) -> None:
        if run is not None and self.run is not None and run.run_id == self.run.run_id:
            self.run = run
            if not run.is_terminal:
                self.finished = False
            self.wake()
            return
        self.run = run
        self.generation += 1
        self.detail = None
        self.detail_shown = None
        self.events_cursor = None
        self.events_seen = 0
        self.log_keys = []
        self.finished = False
        self.query_one("#steps-table", DataTable).clear()
        self.query_one("#run-events", RichLog).clear()
        self.query_one("#run-config", RichLog).clear()
        self.query_one("#run-tags", Static).update("")
        self._title()
        self.wake()

    def action_event_log(self) -> None:
        from edp_tui.ui.screens.run_events import open_run_events  # its Syntax (pygments): when opened

        open_run_events(self, self.client, self.run)

    def action_step_timeline(self) -> None:
        from edp_tui.ui.screens.run_events import open_run_events

        open_run_events(self, self.client, self.run, timeline=True)

    def action_toggle_config(self) -> None:
        self.show_config = not self.show_config

    def _title(self) -> None:
        run = self.run
        # Set only when it changed: Textual repaints the panel at every set, even of the same text, and a live
        # (or queued) run's detail is polled twice a second.
        shown = None if run is None else (run.run_id, run.job_name, run.status, self.events_seen)
        if shown == self._title_shown and self.border_title is not None:
            return
        self._title_shown = shown
        title = self.query_one("#run-title", Static)
        if run is None:
            self.border_title = "Run"
            title.update(Text("no run selected", style="dim"))
            return
        # The full id in the border (cut on a narrow pane), the short one on the title line.
        self.border_title = literal(f"Run {run.run_id}")
        title.update(
            Text.assemble(
                (printable(run.job_name), "bold"),
                f" {run.run_id[:8]} ",
                status_text(run.status),
                f" · {self.events_seen} events",
            )
        )

    async def poll_once(self) -> None:
        run = self.run
        if run is None or self.finished:
            return
        generation = self.generation
        detail = await self.client.run(run.run_id)
        pages = 0
        new_events: list[RunEvent] = []
        while pages < MAX_PAGES_PER_POLL:
            if generation != self.generation:
                return  # another selection meanwhile (even A -> B -> A): its cursor is not ours
            page = await self.client.run_events(run.run_id, self.events_cursor)
            pages += 1
            if generation != self.generation:
                return
            self.events_cursor = page.cursor or self.events_cursor
            new_events.extend(page.events)
            if not page.has_more:
                break
        self.detail = detail
        self.run = detail.run
        self._show_detail(detail)
        self._append_events(new_events)
        # Finished: a terminal status seen together with a drained event log; nothing more to poll.
        drained = pages < MAX_PAGES_PER_POLL
        self.finished = detail.run.is_terminal and drained
        keys = log_keys_from_events(run.run_id, new_events)
        known = {k.file_key for k in self.log_keys}
        added = [k for k in keys if k.file_key not in known]
        if added or self.finished:
            self.log_keys.extend(added)
            self.post_message(self.LogKeys(run.run_id, tuple(self.log_keys), self.finished))
        self._title()

    def _show_detail(self, detail: RunDetail) -> None:
        self._show_tags_and_config(detail)
        steps: DataTable[Text] = self.query_one("#steps-table", DataTable)
        for step in detail.steps:
            took = None
            if step.start_time is not None:
                took = (step.end_time or self.clock()) - step.start_time
            cells = {
                "step": Text(printable(step.step_key)),
                "status": status_text(step.status or "-"),
                "started": Text(timestamp(step.start_time)),
                "took": Text(duration(took)),
            }
            if step.step_key in steps.rows:
                for key, value in cells.items():
                    steps.update_cell(step.step_key, key, value, update_width=True)
            else:
                steps.add_row(*cells.values(), key=step.step_key)

    def _show_tags_and_config(self, detail: RunDetail) -> None:
        previous = self.detail_shown
        if previous is not None and (previous.tags, previous.run_config_yaml) == (
            detail.tags,
            detail.run_config_yaml,
        ):
            return
        self.detail_shown = detail
        self.query_one("#run-tags", Static).update(tags_text(detail.tags))
        config = self.query_one("#run-config", RichLog)
        config.clear()
        yaml_text = masked_yaml(detail.run_config_yaml.strip()) or "{}  # no run config"
        for line in yaml_text.splitlines():
            config.write(safe_text(line))

    def _append_events(self, events: list[RunEvent]) -> None:
        log = self.query_one("#run-events", RichLog)
        for event in events:
            log.write(event_text(event))
        self.events_seen += len(events)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.run is None or event.row_key.value is None:
            return
        self.post_message(self.StepSelected(self.run.run_id, event.row_key.value))

    @property
    def selected_step(self) -> str | None:
        return cursor_row_key(self.query_one("#steps-table", DataTable))
