"""A poll that reads what is already on screen repaints nothing: Textual repaints a widget at every border
title set and every Static update, even of the same text, and the panels poll every few seconds at rest (a
live run's detail twice a second). Counted per widget over several polls of unchanged fake data."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeServices, fake_backends  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import DataTable, Static  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.backfills import BackfillsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.partitions_panel import PartitionsOverview  # noqa: E402
from edp_tui.ui.widgets.dagster.queue_panel import QueuePanel  # noqa: E402
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from edp_tui.ui.widgets.polling import PollingPanel  # noqa: E402
from tests.support.pilot import until  # noqa: E402


def count_repaints(widgets: Iterable[Widget]) -> Counter[str]:
    """Every refresh of these widgets from now on, by widget (its id, else its class)."""
    counts: Counter[str] = Counter()
    for widget in widgets:
        original = widget.refresh

        def counted(*args: Any, _widget: Widget = widget, _original: Any = original, **kwargs: Any) -> Any:
            counts[_widget.id or type(_widget).__name__] += 1
            return _original(*args, **kwargs)

        widget.refresh = counted  # type: ignore[method-assign]
    return counts


def make_app(fake: FakeDagster) -> EdpApp:
    return EdpApp(Config(compose_file=Path("/nonexistent/compose.yaml")), fake_backends(FakeServices(), fake))


async def polled(pilot: Any, panels: list[PollingPanel], times: int) -> None:
    before = [p.polls for p in panels]
    await until(
        pilot,
        lambda: all(p.polls >= n + times for p, n in zip(panels, before, strict=True)),
        timeout=30,
        what=f"{times} more polls of {[type(p).__name__ for p in panels]}",
    )


async def test_the_runs_list_and_a_queued_runs_detail_are_not_repainted_by_unchanged_polls() -> None:
    fake = FakeDagster()
    app = make_app(fake)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        runs, detail = app.query_one(RunsPanel), app.query_one(RunDetailPanel)
        # The first run is queued: its detail is polled twice a second for as long as it waits.
        await until(pilot, lambda: runs.populated and detail.run is not None and not detail.finished)
        assert detail.run is not None and not detail.run.is_terminal
        await polled(pilot, [runs, detail], 2)
        repaints = count_repaints([runs, detail, detail.query_one("#run-title", Static)])
        await polled(pilot, [runs, detail], 3)
        assert repaints == Counter()


async def test_the_backfills_tab_is_not_repainted_by_unchanged_polls() -> None:
    fake = FakeDagster()
    app = make_app(fake)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        overview, backfills, queue = (
            app.query_one(PartitionsOverview),
            app.query_one(BackfillsPanel),
            app.query_one(QueuePanel),
        )
        panels: list[PollingPanel] = [overview, backfills, queue]
        await until(pilot, lambda: all(p.populated for p in (overview, backfills, queue)))
        await polled(pilot, panels, 1)
        watched = [*overview.query(DataTable), *overview.query(Static)]
        watched += [*backfills.query(DataTable), *backfills.query(Static)]
        watched += [*queue.query(DataTable), *queue.query(Static)]
        repaints = count_repaints(w for w in watched if w.id != "banner" and "banner" not in w.classes)
        await polled(pilot, panels, 2)
        assert repaints == Counter()
