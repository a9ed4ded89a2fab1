"""Why queued runs wait, and the concurrency pools: limit, slots in use, steps waiting, slots still held by
runs that ended; set a pool's limit (or remove it), free the slots of ended runs."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.partitions import partition_of
from edp_tui.dagster.queue import Pool, QueueState, removal_refusal, why_queued
from edp_tui.errors import EdpError
from edp_tui.text import printable
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import report
from edp_tui.ui.screens.pool_dialog import PoolChoice, PoolLimitDialog
from edp_tui.ui.widgets.dagster.partitions_panel import BUSY_S, REST_FAST_S, REST_SLOW_S  # noqa: E402
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.static_text import show_text
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util.cadence import Cadence

POOL_COLUMNS = ("pool", "limit", "in use", "waiting", "ended")


def queue_summary(state: QueueState, now: float, stale_after_s: float) -> Text:
    limit = "no limit" if state.max_concurrent_runs in (None, -1) else str(state.max_concurrent_runs)
    text = Text.assemble(
        ("runs in progress ", "bold"),
        f"{state.in_progress_count} of {limit}",
        (" · queued ", "bold"),
        str(state.queued_count),
    )
    for tag_limit, used in state.tag_usage():
        full = used >= tag_limit.limit
        text.append(
            f"\ntag limit {printable(tag_limit.describe())}: {used} of {tag_limit.limit}",
            style="bold yellow" if full else "",
        )
    for run in state.queued:
        partition = partition_of(run.tags.items())
        text.append(f"\n{run.run_id[:8]} ", style="yellow")
        if partition:
            text.append(f"[{printable(partition)}] ")
        text.append(printable("; ".join(why_queued(run, state, now, stale_after_s))), style="italic")
    return text


def pool_cells(pool: Pool, state: QueueState) -> list[Text]:
    limit = "-" if pool.limit is None else str(pool.limit) + (" (default)" if pool.using_default else "")
    ended = state.held_by_ended_runs(pool)
    return [
        Text(printable(pool.name)),
        Text(limit),
        Text(str(pool.in_use), style="bold yellow" if pool.full else ""),
        Text(str(pool.pending)),
        Text(f"{len(ended)} held by ended runs" if ended else "", style="bold red"),
    ]


class QueuePanel(PollingPanel):
    """Why queued runs wait, and the concurrency pools with their limits."""

    BINDINGS = [
        Binding("p", "pool_limit", "Pool limit", id="queue.pool_limit"),
        Binding("F", "free_ended", "Free slots of ended runs", id="queue.free_ended"),
    ]

    HELP = """\
## Queue and pools

The runs in progress against `max_concurrent_runs`, each tag concurrency limit, and every queued run (the
newest 50) with what holds it: the daemon's run coordinator not running, the run limit, a tag limit, or a
concurrency pool whose slots are all taken (with Dagster's default `op` granularity: every step the run
starts with is in a full pool). Below, the pools: limit, slots in use, steps waiting, and slots still held by
runs that have ended (a run canceled while its step held a slot). **p** sets the highlighted pool's limit
(or removes it), **F** frees the slots its ended runs hold; both ask first and are refused in read-only mode.
"""

    DEFAULT_CSS = """
    QueuePanel { height: auto; max-height: 35%; }
    QueuePanel > #queue-summary { height: auto; max-height: 6; padding: 0 1; overflow-y: auto; }
    QueuePanel > #pools-table { height: auto; max-height: 5; }
    """

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.state: QueueState | None = None
        self.populated = False
        self.cadence = Cadence(REST_FAST_S, REST_SLOW_S)
        self.actions = ActionGuard(self, read_only=read_only)

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(Text("loading the queue…", style="dim"), id="queue-summary")
        yield NavTable(cursor_type="row", id="pools-table")

    @property
    def pools_table(self) -> DataTable[Text]:
        return self.query_one("#pools-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Queue and pools"
        for key, width in (("pool", 18), ("limit", 12), ("in use", 7), ("waiting", 8), ("ended", 22)):
            self.pools_table.add_column(key, key=key, width=width)

    def current_interval(self) -> float:
        busy = self.state is not None and (self.state.queued_count or self.state.in_progress_count)
        return BUSY_S if busy else self.cadence.interval

    async def poll_once(self) -> None:
        state = await self.client.run_queue()
        self.cadence.observe(state != self.state)
        self.state = state
        self.populated = True
        self.redraw()

    def redraw(self) -> None:
        state = self.state
        if state is None:
            return
        show_text(
            self.query_one("#queue-summary", Static),
            queue_summary(state, time.time(), self.client.stale_after_s),
        )
        table = self.pools_table
        names = [p.name for p in state.pools]
        if names != [str(k.value) for k in table.rows]:
            selected = cursor_row_key(table)
            table.clear()
            for pool in state.pools:
                table.add_row(*pool_cells(pool, state), key=pool.name)
            if selected in names:
                table.move_cursor(row=names.index(selected))
        else:
            for pool in state.pools:
                cells = dict(zip(POOL_COLUMNS, pool_cells(pool, state), strict=True))
                update_changed_cells(table, pool.name, cells)

    @property
    def selected_pool(self) -> Pool | None:
        key = cursor_row_key(self.pools_table)
        return self.state.pool(key) if self.state is not None and key else None

    def action_pool_limit(self) -> None:
        pool, state = self.selected_pool, self.state
        if pool is None or state is None:
            report(
                self,
                "no pool with a limit or in use yet: `edp-tui pool NAME LIMIT` sets one",
                severity="warning",
            )
            return

        async def apply(choice: PoolChoice) -> int | None:
            limit = choice.limit
            if limit is None and (refusal := removal_refusal(state, pool.name)) is not None:
                raise PoolRefused(refusal)
            await self.client.set_pool_limit(pool.name, limit)
            return limit

        def done(limit: int | None) -> None:
            self._done(f"pool {pool.name}: " + ("limit removed" if limit is None else f"limit {limit}"))

        dialog = PoolLimitDialog(pool, low=state.min_limit, high=state.max_limit or None)
        self.actions.choose(f"setting pool {pool.name}", dialog, apply, key=pool.name, done=done)

    def action_free_ended(self) -> None:
        pool, state = self.selected_pool, self.state
        if pool is None or state is None:
            return
        ended = state.held_by_ended_runs(pool)
        if not ended:
            if not self.actions.refused(f"freeing slots of pool {pool.name}", pool.name):
                report(
                    self, f"no slot of pool {pool.name} is held by a run that has ended", severity="warning"
                )
            return

        async def free() -> int:
            for run_id in ended:
                await self.client.free_pool_slots(run_id)
            return len(ended)

        self.actions.start(
            f"freeing slots of pool {pool.name}",
            free,
            key=pool.name,
            confirm=f"Free the slots of pool {pool.name} held by {len(ended)} run(s) that ended?",
            done=lambda n: self._done(f"pool {pool.name}: freed the slots of {n} ended run(s)"),
        )

    def _done(self, message: str) -> None:
        report(self, message, title="Queue")
        self.wake()


class PoolRefused(EdpError):
    """A pool change refused before it was sent (see queue.removal_refusal)."""

    title = "Pools"
