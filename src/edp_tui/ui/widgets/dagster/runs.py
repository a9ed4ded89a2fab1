"""Runs: a live, paged list (lean fields only) with a filter line, and launch, terminate and re-execute keys.

The Runs tab around it (detail, compute logs) is `runs_tab.RunsTab`. The statuses of the live runs shown are
pushed (`dagster.run_push`); the list is polled for the rest, slowly while nothing changes.

Long module: the list's reads (polls, pushed statuses merged in, paging, filter) and its keys (launch,
terminate, re-execute) act on the same rows and selection; split, each half would reach into the other's
state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.changes import RunChangeProbe
from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.run_push import RunStatusChange, RunStatusWatcher, apply_change
from edp_tui.dagster.runs_query import RunsQuery, parse_runs_query
from edp_tui.dagster.trouble import run_trouble

# The dialogs are imported when opened (the launch dialog's editor is a heavy import for every start).
if TYPE_CHECKING:
    from edp_tui.ui.screens.launch_dialog import JobChoice
    from edp_tui.ui.screens.reexecute import Reexecution
from edp_tui.text import printable
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import literal, report
from edp_tui.ui.widgets.dagster.status import status_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util.fmt import duration, timestamp

# Fixed widths: a column must not jump when a status grows (QUEUED -> SUCCESS) or a start time appears.
COLUMNS = (
    # Most telling first: on an 80-column terminal the columns that do not fit (Created) are the least needed.
    ("run", "Run", 8),
    ("job", "Job", 24),
    ("status", "Status", 9),
    ("duration", "Duration", 8),
    ("started", "Started", 14),
    ("created", "Created", 14),
)
PAGE_SIZE = 50


def run_cells(run: RunSummary, now: float, *, with_location: bool = False) -> dict[str, Text]:
    """``with_location``: the job's code location before its name (two locations may have jobs of the same
    name; the page shows runs of several)."""
    job = Text(printable(run.job_name), style="bold")
    if with_location:
        job = Text.assemble((f"{printable(run.location or '?')}: ", "dim"), job)
    trouble = run_trouble(run, now)
    if trouble is not None:
        # First, so that a narrow column still shows it (the job name is cut instead).
        job = Text.assemble((f"⚠ {trouble.label} ", "bold red"), job)
    return {
        "run": Text(run.run_id[:8]),
        "job": job,
        "status": status_text(run.status),
        "duration": Text(duration(run.duration(now))),
        "started": Text(timestamp(run.start_time)),
        "created": Text(timestamp(run.creation_time)),
    }


class RunsPanel(PollingPanel):
    """The newest runs, ``PAGE_SIZE`` per page, refreshed while on screen."""

    BINDINGS = [
        Binding("l", "launch", "Launch", id="dagster.launch"),
        # Terminate: a capital no viewer uses (a slip of focus must not turn a view key into it); asks first.
        Binding("X", "terminate", "Terminate", id="dagster.terminate"),
        Binding("e", "reexecute", "Re-execute", id="dagster.reexecute"),
        Binding("f,slash", "filter", "Filter/find", id="dagster.runs_filter"),
        Binding("right_square_bracket", "older", "Older", id="dagster.runs_older"),
        Binding("left_square_bracket", "newer", "Newer", id="dagster.runs_newer"),
        Binding("v", "event_log", "Event log", id="dagster.run_events"),
        Binding("t", "runs_timeline", "Timeline", id="dagster.runs_timeline"),
    ]

    HELP = """\
## Runs

The newest runs (50 per page, only lean fields so a long history costs nothing). A live run's status
changes are pushed by the webserver, and the live runs are re-read every 0.3 s while visible; the page
every 2 s (at rest only a tiny "anything new?"). Status colours: green success, red failure, cyan started,
yellow queued, magenta canceled.

Keys: **l** launch a job · **X** terminate the highlighted run (asks first) · **e** re-execute a finished run
(from failure, all steps, or the step highlighted in the run detail) · **f** or **/** filter and find ·
**]** / **[** older / newer page · **home**/**g**, **end**/**G** first/last row · **v** the highlighted
run's event log (filtered, searchable) and step timeline · **t** a timeline of the runs listed, across
jobs. Highlighting a run shows its steps, tags, run config, events and compute logs.

The filter line takes words: `status:failure,canceled` · `job:ingestion_job` (or a bare job name) ·
`location:etl_pipeline` (the code location of the run's job; when the page holds runs of several locations,
each job name says its location) ·
`tag:team=data` (or bare `team=data`) · `id:<run id>` (or a bare id; a full id is looked up by the webserver,
a prefix matches among the runs listed). An empty line clears the filter; escape leaves it as it was.
"""

    DEFAULT_CSS = """
    RunsPanel { height: 1fr; }
    /* No sideways scrollbar: it would take a run's row; on a narrow terminal the last column is cut. */
    RunsPanel > DataTable { height: 1fr; overflow-x: hidden; }
    RunsPanel > #runs-filter { display: none; }
    RunsPanel > #runs-filter.-open { display: block; }
    """

    # While a run is live (or the list just changed): a status change is on screen within this (plus a read).
    # While a run is live, these reads ask for the live runs alone, the page is read every quiet_interval.
    poll_interval = 0.3
    # Once every run is terminal and unchanged: one tiny "anything new?" query this often (a key wakes it).
    quiet_interval = 2.0
    # The Duration cells of live runs tick without asking anything.
    clock_tick_s = 1.0

    @dataclass
    class RunSelected(Message):
        """The highlighted run (None: none): the detail and the compute logs follow it."""

        run: RunSummary | None

        def can_replace(self, message: Message) -> bool:
            # The cursor ran over several rows: only where it stopped is read in detail.
            return isinstance(message, RunsPanel.RunSelected)

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only
        # Launch, terminate, re-execute: refused in read-only mode, one at a time.
        self.actions = ActionGuard(self, read_only=read_only)
        self.runs: dict[str, RunSummary] = {}
        self.order: list[str] = []
        # Cursors of the pages before the current one (a cursor is the last run id of the previous page).
        self._page_cursors: list[str | None] = [None]
        self._select_next: str | None = None
        self._announced: RunSummary | None = None
        self.populated = False
        # While every run is terminal and unchanged, each poll only asks whether anything changed.
        self.changes = RunChangeProbe()
        self.query_filter = RunsQuery()
        # The step highlighted in the run detail (offered by re-execute) and the job launched last.
        self.selected_step: str | None = None
        # (location, repository, job): the same job name may be defined by several locations.
        self.last_launched_job: JobChoice | None = None
        # The page holds runs of several code locations: each job name says its location.
        self.with_location = False
        self._subtitle_shown: str | None = None
        # Statuses pushed for the live runs shown; a pushed status stays until a read catches up with it.
        self.push = RunStatusWatcher(client.run_status_changes, self._pushed_change, self._show_subtitle)
        self._pushed: dict[str, RunStatusChange] = {}
        # When the page was last read in full, and whether a key asks for a full read now.
        self._page_read_at = 0.0
        self._page_due = True

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", id="runs-table")
        yield Input(
            placeholder="status:failure job:NAME location:NAME tag:key=value id:RUN  (enter applies, escape)",
            id="runs-filter",
        )

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#runs-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Runs"
        for key, label, width in COLUMNS:
            self.table.add_column(label, key=key, width=width)
        # Paused while no run shown is live: at rest nothing ticks.
        self._clock = self.set_interval(self.clock_tick_s, self._tick_durations, pause=True)

    def on_unmount(self) -> None:
        self.push.close()

    def on_hide(self, event: events.Hide) -> None:
        # Nothing on screen needs pushed statuses: close them (the first poll after Show reopens them).
        self.push.watch([])
        self._clock.pause()

    def current_interval(self) -> float:
        # Pushed statuses do not let the list slow down while a run is live: the webserver's event watcher
        # polls the event log itself, backing off to 16 s while a run is quiet (dagster 1.13), so a status
        # change after a quiet spell (a slow worker start) may be pushed seconds late; this poll bounds it.
        return self.poll_interval if self.changes.needs_full_read(self.clock()) else self.quiet_interval

    @property
    def live_ids(self) -> list[str]:
        """The runs shown that are not terminal yet, newest first."""
        return [r for r in self.order if (run := self.runs.get(r)) is not None and not run.is_terminal]

    async def poll_once(self) -> None:
        started = self.clock()
        live = self.live_ids
        if live and not self._page_due and started - self._page_read_at < self.quiet_interval:
            # Between page reads, only the live runs are asked for (a read of 50 runs costs the webserver
            # several times more); a new run shows at the next page read.
            await self._read_live(live)
            return
        if not self.changes.needs_full_read(started) and not await self.changes.changed(self.client):
            return
        query = self.query_filter
        runs = await self.client.runs(
            limit=PAGE_SIZE,
            cursor=self._page_cursors[-1],
            statuses=list(query.statuses) or None,
            job_name=query.job_name,
            tags=query.run_tags() or None,
            run_ids=list(query.run_ids) or None,
        )
        if query is not self.query_filter:
            return  # the filter changed while this page was on its way
        if query.id_prefix:
            runs = [r for r in runs if r.run_id.startswith(query.id_prefix)]
        runs = [self._merge_pushed(r) for r in runs]
        self.changes.full_read(started, runs)
        self._page_read_at, self._page_due = started, False
        self.show_runs(runs)
        self._follow_live()

    async def _read_live(self, live: list[str]) -> None:
        now = self.clock()
        for run in await self.client.runs(limit=len(live), run_ids=live):
            merged = self._merge_pushed(run)
            if run.run_id in self.runs and merged != self.runs[run.run_id]:
                self.runs[run.run_id] = merged
                self._update_row(merged, now)
        self._follow_live()
        self._announce()

    # ---- pushed statuses -----------------------------------------------------------------------------------
    def _merge_pushed(self, run: RunSummary) -> RunSummary:
        change = self._pushed.get(run.run_id)
        if change is None:
            return run
        merged = apply_change(run, change)
        if merged is run:
            del self._pushed[run.run_id]  # the read has caught up with the push
        return merged

    def _pushed_change(self, change: RunStatusChange) -> None:
        run = self.runs.get(change.run_id)
        if run is None:
            return
        updated = apply_change(run, change)
        if updated is run:
            return
        self._pushed[run.run_id] = change
        self.runs[run.run_id] = updated
        self._update_row(updated, self.clock())
        if updated.is_terminal:
            self._follow_live()
        self._announce()

    def _follow_live(self) -> None:
        """Subscriptions and the Duration clock for the live runs shown; none of either at rest."""
        live = self.live_ids if self.is_on_screen else []
        self.push.watch(live)
        if live:
            self._clock.resume()
        else:
            self._clock.pause()

    def _update_row(self, run: RunSummary, now: float) -> None:
        cells = run_cells(run, now, with_location=self.with_location)
        update_changed_cells(self.table, run.run_id, cells, update_width=True)

    def _tick_durations(self) -> None:
        if not self.is_on_screen:
            return
        now = self.clock()
        for run_id in self.live_ids:
            # The row's cells as a read would show them now: Duration, and any trouble flag that came due.
            self._update_row(self.runs[run_id], now)

    def wake(self) -> None:
        # A key (page, launch, terminate) or a push: read the full page at once.
        self.changes.hurry()
        self._page_due = True
        super().wake()

    def show_runs(self, runs: list[RunSummary]) -> None:
        table = self.table
        now = self.clock()
        ids = [r.run_id for r in runs]
        selected = self._select_next or self.selected_id
        self.runs = {r.run_id: r for r in runs}
        with_location = len({r.location for r in runs}) > 1
        if ids != self.order or with_location != self.with_location:
            self.with_location = with_location
            # Order changed (new run on top): rebuild this page, keep the highlighted run highlighted.
            table.clear()
            for run in runs:
                table.add_row(*run_cells(run, now, with_location=with_location).values(), key=run.run_id)
            self.order = ids
        else:
            for run in runs:
                self._update_row(run, now)
        if selected in self.runs:
            if self._select_next == selected:
                self._select_next = None
            table.move_cursor(row=table.get_row_index(selected))
        self._show_subtitle()
        self.populated = True
        self._announce()

    def _show_subtitle(self) -> None:
        # In the border, not on a line of its own: on a small terminal every row counts.
        shown = f"{self.query_filter.describe()} · " if not self.query_filter.empty else ""
        lost = " · status push lost: polling" if self.push.errors else ""
        text = f"{shown}page {len(self._page_cursors)} · {len(self.order)} runs · ] older [ newer{lost}"
        # Set only when it changed: Textual repaints the whole panel at every border title set, even to the
        # same text, and the list's quiet poll comes every 2 s (most of the Runs tab's cost at rest).
        if text != self._subtitle_shown:
            self._subtitle_shown = text
            # literal: the filter is typed text (a job name like "[/]x" would be read as markup, and raise).
            self.border_subtitle = literal(text)

    @property
    def selected_id(self) -> str | None:
        return cursor_row_key(self.table)

    @property
    def selected(self) -> RunSummary | None:
        return self.runs.get(self.selected_id or "")

    def _announce(self) -> None:
        run = self.selected
        if run != self._announced:
            self._announced = run
            self.post_message(self.RunSelected(run))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()

    # ---- paging --------------------------------------------------------------------------------------------
    def action_older(self) -> None:
        if len(self.order) < PAGE_SIZE:
            return
        self._page_cursors.append(self.order[-1])
        self.wake()

    def action_newer(self) -> None:
        if len(self._page_cursors) > 1:
            self._page_cursors.pop()
            self.wake()

    # ---- filter --------------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.value = self.query_filter.text
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            query = parse_runs_query(event.value)
        except ValueError as exc:
            report(self, exc, title="Runs filter", severity="warning")
            return  # the box stays open with the text, nothing changed
        self.apply_filter(query)

    def apply_filter(self, query: RunsQuery) -> None:
        self.query_filter = query
        self._page_cursors = [None]
        self._close_filter()
        self.wake()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.query_one("#runs-filter", Input).has_class("-open"):
            event.stop()
            self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#runs-filter", Input).remove_class("-open")
        self.table.focus()

    # ---- actions -------------------------------------------------------------------------------------------
    def action_launch(self) -> None:
        if self.actions.refused("launch"):
            return
        from edp_tui.ui.screens.launch_dialog import LaunchDialog

        def launched(run: RunSummary | None) -> None:
            if run is not None:
                self.last_launched_job = run.job_ref
                self.select_run(run)

        # The dialog starts on the job launched last (this session, else the newest run's job).
        newest = self.runs[self.order[0]].job_ref if self.order and not self._filtered_page else None
        self.app.push_screen(
            LaunchDialog(self.client, initial_job=self.last_launched_job or newest), launched
        )

    @property
    def _filtered_page(self) -> bool:
        return not self.query_filter.empty or len(self._page_cursors) > 1

    def select_run(self, run: RunSummary) -> None:
        """Show the first unfiltered page and highlight ``run`` as soon as the list contains it."""
        self._page_cursors = [None]
        self.query_filter = RunsQuery()
        self._select_next = run.run_id
        report(self, f"Launched {run.job_name} ({run.run_id[:8]})", title="Launch")
        self.wake()

    def action_terminate(self) -> None:
        run = self.selected
        if run is None or self.actions.refused("terminate"):
            return
        trouble = run_trouble(run, self.clock())
        # A run whose worker is gone never gets past CANCELING by itself: offer the forced terminate.
        force = (trouble is not None and trouble.force_terminate) or run.status == "CANCELING"
        if not run.can_terminate and not force:
            report(self, f"Run {run.run_id[:8]} is {run.status}: nothing to terminate", severity="warning")
            return
        if force:
            why = trouble.detail if trouble is not None else f"it is {run.status}"
            question = (
                f"Run {run.run_id[:8]} of {run.job_name}: {why}.\n"
                "Force-terminate: mark it CANCELED now (its worker, if alive, is not waited for)?"
            )
        else:
            question = f"Terminate run {run.run_id[:8]} of {run.job_name}?"

        def terminated(_: None) -> None:
            verb = "Marked canceled" if force else "Terminating"
            report(self, f"{verb} {run.run_id[:8]}…", title="Terminate")
            self.wake()

        self.actions.start(
            f"terminate of {run.run_id[:8]}",
            lambda: self.client.terminate_run(run.run_id, force=force),
            confirm=question,
            done=terminated,
        )

    def action_event_log(self) -> None:
        from edp_tui.ui.screens.run_events import open_run_events  # its Syntax (pygments): when opened

        open_run_events(self, self.client, self.selected)

    def action_runs_timeline(self) -> None:
        from edp_tui.ui.screens.runs_timeline import RunsTimelineScreen

        self.app.push_screen(
            RunsTimelineScreen(
                self.client, [self.runs[r] for r in self.order if r in self.runs], clock=self.clock
            )
        )

    def action_reexecute(self) -> None:
        run = self.selected
        if run is None or self.actions.refused("re-execute"):
            return
        if not run.is_terminal:
            report(
                self,
                f"Run {run.run_id[:8]} is {run.status}: re-execute it once it has finished",
                severity="warning",
            )
            return

        from edp_tui.ui.screens.reexecute import ReexecuteDialog

        async def reexecute(choice: Reexecution) -> tuple[Reexecution, RunSummary]:
            steps = list(choice.step_keys) or None
            return choice, await self.client.reexecute_run(run.run_id, choice.strategy, step_keys=steps)

        def reexecuted(outcome: tuple[Reexecution, RunSummary]) -> None:
            choice, new_run = outcome
            report(self, f"Re-executing {run.run_id[:8]} ({choice.describe()})", title="Re-execute")
            self.select_run(new_run)

        self.actions.choose(
            f"re-execution of {run.run_id[:8]}",
            ReexecuteDialog(run, self.selected_step),
            reexecute,
            done=reexecuted,
        )
