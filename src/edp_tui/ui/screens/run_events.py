"""One run's event log and step timeline on a screen of their own (`v` in the runs list or the run detail).

The **Events** tab: every event as a row (time, type, step, level, message), filtered by event type, step and
minimum level and searched (a case-insensitive substring of the message, error, step or type) with Textual's
own Input and Selects; the highlighted event's full message, error and, for a failed dbt step, each failed
model's error and compiled SQL (the metadata the platform attaches: edp_platform/dbt/failures.py) below it.
The **Timeline** tab: a bar per step on the run's span (start, length, outcome).

Polled every second while the run goes, from a cursor; at most MAX_EVENTS events are kept (the oldest dropped,
the title says how many). Every value is outside text: shown literally.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Select, Static, TabbedContent, TabPane

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.event_log import LEVELS, MAX_EVENTS, EventFilter, EventLog, kind_of
from edp_tui.dagster.metadata import failed_nodes
from edp_tui.dagster.models import RunDetail, RunEvent, RunSummary
from edp_tui.dagster.timeline import step_timeline
from edp_tui.text import printable
from edp_tui.ui.notify import literal, report
from edp_tui.ui.widgets.dagster.status import status_text
from edp_tui.ui.widgets.dagster.timeline import timeline_table
from edp_tui.ui.widgets.polling import error_banner_text
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key
from edp_tui.util.fmt import clock
from edp_tui.util.poll import PollLoop

# Pages of 1000 events read per poll at most (a huge backlog comes in over several polls).
MAX_PAGES_PER_POLL = 5
MESSAGE_CELL_CHARS = 300
LEVEL_STYLE = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow", "DEBUG": "dim"}


def event_cells(event: RunEvent) -> tuple[Text, ...]:
    first_line = event.message.split("\n", 1)[0][:MESSAGE_CELL_CHARS]
    level = event.level or "-"
    return (
        Text(clock(event.timestamp), style="dim"),
        Text(printable(kind_of(event))),
        Text(printable(event.step_key or "-"), style="cyan"),
        Text(level, style=LEVEL_STYLE.get(level, "")),
        literal(first_line),
    )


def sql_syntax(sql: str) -> Syntax:
    return Syntax(
        "\n".join(printable(line) for line in sql.split("\n")), "sql", word_wrap=True, theme="ansi_dark"
    )


def event_detail(event: RunEvent) -> RenderableType:
    """The whole event: message, each failed dbt model's error and SQL, the error (the user's exception)."""
    head = Text.assemble(
        (f"{clock(event.timestamp)} ", "dim"),
        (kind_of(event), "bold"),
        " ",
        (printable(event.step_key or ""), "cyan"),
        " ",
        (event.level or "", LEVEL_STYLE.get(event.level or "", "")),
    )
    parts: list[RenderableType] = [head, literal(event.message)]
    for node in failed_nodes(event.metadata):
        parts.append(Text.assemble(("dbt ", "bold underline"), (printable(node.unique_id), "bold underline")))
        if node.file:
            parts.append(Text.assemble(("file ", "dim"), literal(node.file)))
        parts.append(Text(literal(node.error).plain, style="red"))
        if node.compiled_sql:
            parts += [Text("compiled SQL", style="bold"), sql_syntax(node.compiled_sql)]
    if event.error:  # after the failed models: dbt's own words say more than the wrapper's
        parts += [Text("error", style="bold underline"), Text(literal(event.error).plain, style="red")]
    shown = {
        f"dbt/{kind}/{n.unique_id}"
        for n in failed_nodes(event.metadata)
        for kind in ("error", "compiled_sql", "file")
    }
    for label, value in event.metadata:
        if label not in shown:
            parts.append(Text.assemble((printable(label), "bold"), " ", literal(value)))
    return Group(*parts)


class RunEventsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="run_events.close"),
        Binding("slash", "search", "Search", id="run_events.search"),
        Binding("t", "toggle_timeline", "Events/timeline", id="run_events.timeline"),
        Binding("x", "clear_filters", "Clear filters", id="run_events.clear"),
    ]

    HELP = """\
## Event log

The run's events, one a row: time, type, step, level, message. **/** searches (case-insensitive, in the
message, error, step and type); the selects keep one event type, one step, or a level and above; **x** clears
every filter. The highlighted event is shown whole below the table: for a failed dbt step, each failed model's
error and compiled SQL. **t** shows the step timeline (a bar per step on the run's span: start, length,
outcome) and back. **escape** returns to the dashboard. The newest events are kept (the title says when older
ones were dropped); the whole log stays in Dagster.
"""

    DEFAULT_CSS = """
    RunEventsScreen TabbedContent { height: 1fr; }
    RunEventsScreen TabPane { height: 1fr; padding: 0; }
    RunEventsScreen #event-filters { height: 3; }
    RunEventsScreen #event-search { width: 1fr; min-width: 16; }
    RunEventsScreen #event-filters Select { width: 20; }
    RunEventsScreen #event-table { height: 1fr; }
    RunEventsScreen #event-detail-scroll { height: 40%; border-top: solid $primary-darken-2; }
    RunEventsScreen #event-status { height: 1; padding: 0 1; }
    RunEventsScreen #events-banner { display: none; background: $error 30%; padding: 0 1; height: auto; }
    RunEventsScreen #events-banner.-failing { display: block; }
    """

    def __init__(
        self,
        client: DagsterApi,
        run: RunSummary,
        *,
        timeline: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.initial_tab = "timeline-tab" if timeline else "events-tab"
        self.client = client
        self.run = run
        self.clock = clock
        self.event_log = EventLog(MAX_EVENTS)
        self.filter = EventFilter()
        self.cursor: str | None = None
        self.detail: RunDetail | None = None
        self.finished = False
        self.poller = PollLoop(
            self.poll_once,
            interval=lambda: 1.0,
            wanted=lambda: self.is_current and not self.finished,
            on_error=self.show_error,
            name="RunEventsScreen",
        )

    def compose(self) -> ComposeResult:
        yield Static(id="events-banner")
        yield Static(id="event-status")
        with TabbedContent(initial=self.initial_tab):
            with TabPane("Events", id="events-tab"):
                with Horizontal(id="event-filters"):
                    yield Input(placeholder="search events", id="event-search")
                    yield Select[str]([], prompt="any type", id="event-kind")
                    yield Select[str]([], prompt="any step", id="event-step")
                    yield Select[str](
                        [(f"{level}+", level) for level in LEVELS], prompt="any level", id="event-level"
                    )
                yield NavTable(cursor_type="row", id="event-table")
                with VerticalScroll(id="event-detail-scroll"):
                    yield Static(Text("no event highlighted", style="dim"), id="event-detail")
            with TabPane("Timeline", id="timeline-tab"):
                with VerticalScroll(id="step-timeline-scroll"):
                    yield Static(Text("loading the steps…", style="dim"), id="step-timeline")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#event-table", DataTable)
        for key, label, width in (
            ("time", "Time", 8),
            ("type", "Type", 15),
            ("step", "Step", 18),
            ("level", "Level", 7),
            ("message", "Message", None),
        ):
            table.add_column(label, key=key, width=width)
        # Focusing a widget of a hidden tab would show that tab.
        self.query_one(
            "#event-table" if self.initial_tab == "events-tab" else "#step-timeline-scroll"
        ).focus()
        self._show_status()
        self.run_worker(self.poller.run(), exclusive=True, group="run-events", exit_on_error=False)

    async def poll_once(self) -> None:
        detail = await self.client.run(self.run.run_id)
        new: list[RunEvent] = []
        pages = 0
        while pages < MAX_PAGES_PER_POLL:
            page = await self.client.run_events(self.run.run_id, self.cursor)
            pages += 1
            self.cursor = page.cursor or self.cursor
            new.extend(page.events)
            if not page.has_more:
                break
        self.detail = detail
        self.run = detail.run
        self.finished = detail.run.is_terminal and pages < MAX_PAGES_PER_POLL
        self._add(new)
        self._show_timeline()
        self._show_status()

    def show_error(self, error: Exception | None, retry_in: float | None = None) -> None:
        banner = self.query_one("#events-banner", Static)
        banner.set_class(error is not None, "-failing")
        if error is not None:
            banner.update(error_banner_text("Event log", error, retry_in))

    # Events and filters

    def _add(self, events: list[RunEvent]) -> None:
        if not events:
            return
        kinds, steps = set(self.event_log.kinds), set(self.event_log.steps)
        added, dropped = self.event_log.add(events)
        table = self.query_one("#event-table", DataTable)
        for number in dropped:
            if str(number) in table.rows:
                table.remove_row(str(number))
        follow = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        for number, event in added:
            if self.filter.matches(event):
                table.add_row(*event_cells(event), key=str(number))
        if follow and table.row_count and not self.filter.search:
            table.move_cursor(row=table.row_count - 1)
        if self.event_log.kinds != kinds:
            self._set_options("#event-kind", sorted(self.event_log.kinds))
        if self.event_log.steps != steps:
            self._set_options("#event-step", sorted(self.event_log.steps))

    def _set_options(self, selector: str, values: list[str]) -> None:
        select: Select[str] = self.query_one(selector, Select)
        value = select.value
        with select.prevent(Select.Changed):
            select.set_options([(literal(v), v) for v in values])
            if isinstance(value, str) and value in values:
                select.value = value

    def _refilter(self) -> None:
        table = self.query_one("#event-table", DataTable)
        table.clear()
        for number, event in self.event_log.matching(self.filter):
            table.add_row(*event_cells(event), key=str(number))
        self._show_status()
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
        else:
            self.query_one("#event-detail", Static).update(Text("no event matches the filters", style="dim"))

    @on(Input.Changed, "#event-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.filter = EventFilter(self.filter.kind, self.filter.step, self.filter.min_level, event.value)
        self._refilter()

    @on(Input.Submitted, "#event-search")
    def _search_submitted(self) -> None:
        self.query_one("#event-table", DataTable).focus()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value if isinstance(event.value, str) else None
        kind, step, level = self.filter.kind, self.filter.step, self.filter.min_level
        if event.select.id == "event-kind":
            kind = value
        elif event.select.id == "event-step":
            step = value
        elif event.select.id == "event-level":
            level = value
        self.filter = EventFilter(kind, step, level, self.filter.search)
        self._refilter()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        number = event.row_key.value
        found = self.event_log.get(int(number)) if number is not None else None
        if found is not None:
            self.query_one("#event-detail", Static).update(event_detail(found))

    @property
    def highlighted(self) -> RunEvent | None:
        number = cursor_row_key(self.query_one("#event-table", DataTable))
        return self.event_log.get(int(number)) if number is not None else None

    @property
    def shown_rows(self) -> int:
        return self.query_one("#event-table", DataTable).row_count

    def _show_status(self) -> None:
        run = self.run
        text = Text.assemble(
            ("Event log ", "bold"),
            literal(run.job_name),
            f" {run.run_id[:8]} ",
            status_text(run.status),
            f" · {self.shown_rows} of {self.event_log.total} events shown",
        )
        if self.event_log.dropped:
            text.append(
                f" · {self.event_log.dropped} oldest dropped (kept: {self.event_log.cap})", style="yellow"
            )
        if not self.finished:
            text.append(" · following", style="dim")
        self.query_one("#event-status", Static).update(text)

    def _show_timeline(self) -> None:
        target = self.query_one("#step-timeline", Static)
        if self.detail is None or not self.detail.steps:
            target.update(Text("no step has started yet", style="dim"))
            return
        target.update(timeline_table(step_timeline(self.detail, self.clock()), self.clock()))

    # Actions

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "events-tab"
        self.query_one("#event-search", Input).focus()

    def action_toggle_timeline(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "timeline-tab" if tabs.active == "events-tab" else "events-tab"
        # The focus follows: a focused widget of the hidden tab would bring that tab back.
        if tabs.active == "events-tab":
            self.query_one("#event-table", DataTable).focus()
        else:
            self.query_one("#step-timeline-scroll").focus()

    def action_clear_filters(self) -> None:
        self.query_one("#event-search", Input).value = ""
        for selector in ("#event-kind", "#event-step", "#event-level"):
            select: Select[str] = self.query_one(selector, Select)
            with select.prevent(Select.Changed):
                select.clear()
        self.filter = EventFilter()
        self._refilter()

    def action_close(self) -> None:
        self.dismiss(None)


def open_run_events(
    node: Widget, client: DagsterApi, run: RunSummary | None, *, timeline: bool = False
) -> None:
    """The event log (or the step timeline) of ``run``, from the runs list or the run detail."""
    if run is None:
        report(node, "no run highlighted", severity="warning")
        return
    node.app.push_screen(RunEventsScreen(client, run, timeline=timeline))
