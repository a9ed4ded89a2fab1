"""CPU and memory graphs (`c` on the services panel): a row per running service and run container, fed by
the stats source's history; streams asked for only while the screen is shown; snapshots at 80x24 and
200x60."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeRunContainers, FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.docker.resource_stats import ResourceHistory, Sample  # noqa: E402
from edp_tui.docker.run_containers import RunContainer  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.screens.resources import ResourceRow, ResourcesScreen, Target  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from edp_tui.ui.widgets.polling import PollingPanel  # noqa: E402
from edp_tui.ui.widgets.run_containers import RunContainersPanel  # noqa: E402
from tests.support.pilot import until, wait_shown  # noqa: E402

POSTGRES = "postgres-0123456789abcdef"
USER_CODE = "user-code-0123456789abcdef"
RUN = "f00dfeed" * 8


class FakeStats:
    """What the screen asks of Docker's stats streams, and a history a test fills."""

    def __init__(self) -> None:
        self.history = ResourceHistory(window=30)
        self._followed: set[str] = set()
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def follow(self, container_ids: Iterable[str]) -> None:
        ids = tuple(container_ids)
        self.asked.append(("follow", ids))
        self._followed |= set(ids)

    def retain(self, container_ids: Iterable[str]) -> None:
        ids = tuple(container_ids)
        self.asked.append(("retain", ids))
        self._followed &= set(ids)

    def followed(self) -> set[str]:
        return set(self._followed)

    def close(self) -> None:
        self._followed.clear()


def feed(stats: FakeStats, container_id: str, cpu: list[float], mib: list[int]) -> None:
    for i, (c, m) in enumerate(zip(cpu, mib, strict=True)):
        stats.history.record(container_id, Sample(1000.0 + i, c, m << 20, 2 << 30))


def make_app(stats: FakeStats, run_containers: FakeRunContainers | None = None) -> EdpApp:
    backends = fake_backends(FakeServices(), FakeDagster(), run_containers=run_containers)
    backends.resource_stats = stats
    return EdpApp(Config(compose_file=Path("/nonexistent/compose.yaml")), backends, now=fixed_now)


async def open_graphs(pilot: Pilot[Any], app: EdpApp) -> ResourcesScreen:
    await until(pilot, lambda: app.services_panel.populated)
    app.services_panel.table.focus()
    await pilot.press("c")
    await until(pilot, lambda: isinstance(app.screen, ResourcesScreen))
    screen = app.screen
    assert isinstance(screen, ResourcesScreen)
    return screen


async def test_the_graphs_follow_every_running_container_while_shown() -> None:
    stats = FakeStats()
    run = RunContainer(RUN, "edp-run-f00dfeed", "f00dfeed-1", "ingestion_job", "running", "Up 3 seconds")
    app = make_app(stats, FakeRunContainers([run]))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(RunContainersPanel)
        await until(pilot, lambda: RUN in panel.containers)
        screen = await open_graphs(pilot, app)
        # The running services (the exited webserver and the missing daemon have no stream) and the run.
        await until(pilot, lambda: stats.followed() == {POSTGRES, USER_CODE, RUN})
        assert [row.target.label for row in screen.query(ResourceRow)] == [
            "postgres",
            "user-code",
            "run f00dfeed ingestion_job",
        ]
        redraws = screen.redraws
        feed(stats, POSTGRES, [1.0, 2.0, 80.0], [100, 120, 300])
        await until(pilot, lambda: screen.redraws > redraws, what="a redraw after new samples")
        row = next(r for r in screen.query(ResourceRow) if r.target.container_id == POSTGRES)
        assert list(row.query_one(".cpu-graph", Sparkline).data or []) == [1.0, 2.0, 80.0]
        assert list(row.query_one(".memory-graph", Sparkline).data or []) == [100 << 20, 120 << 20, 300 << 20]
        await wait_shown(pilot, " 80.0%", "300 MiB")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ResourcesScreen))
        assert stats.followed() == set()  # no stream while the graphs are not on screen
        assert stats.history.samples(POSTGRES)  # the history stays for the next look


async def test_the_dashboard_under_the_graphs_is_not_polled_and_is_polled_again_on_return() -> None:
    stats = FakeStats()
    app = make_app(stats)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # the Runs tab: its list polls every few seconds while shown
        runs = app.query_one(RunsPanel)
        await until(pilot, lambda: runs.polls > 0 and runs.poller.wanted())
        await open_graphs(pilot, app)
        # Covered whole by the graphs: nothing under them asks for its data (the graphs' cost at rest).
        panels = [p for p in app.screen_stack[0].query(PollingPanel) if not p.needs_polling_offscreen]
        assert runs in panels and not any(p.poller.wanted() for p in panels)
        # Parked: the loop waits for a wake, which nothing but the return from the graphs sends.
        runs.poll_interval = 0.05
        await until(pilot, lambda: runs.poller.parked, what="the runs loop parked under the graphs")
        polls = runs.polls
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ResourcesScreen))
        assert runs.poller.wanted()
        await until(pilot, lambda: runs.polls > polls, what="the runs list polled on return")


def test_a_row_is_not_redrawn_without_a_new_sample() -> None:
    row = ResourceRow(Target("postgres", POSTGRES))
    drawn: list[int] = []
    row.draw_graphs = lambda samples: drawn.append(len(samples))  # type: ignore[method-assign]
    samples = [Sample(1000.0, 1.0, 1 << 20, 2 << 30)]
    row.show(samples)
    row.show(list(samples))  # the same newest sample: its container's stream has not moved
    row.show([*samples, Sample(1001.0, 2.0, 1 << 20, 2 << 30)])
    assert drawn == [1, 2]


def test_the_history_is_bounded_per_container_and_in_containers() -> None:
    history = ResourceHistory(window=5, max_containers=3)
    for i in range(20):
        history.record("a", Sample(float(i), 1.0, 1, 2))
    assert [s.at for s in history.samples("a")] == [15.0, 16.0, 17.0, 18.0, 19.0]
    for name in ("b", "c", "a", "d"):  # a was updated after b and c: b, the stalest, goes
        history.record(name, Sample(0.0, None, None, None))
    assert sorted(history.containers()) == ["a", "c", "d"]


async def test_without_a_stats_source_the_key_says_so() -> None:
    backends = fake_backends(FakeServices(), FakeDagster())
    app = EdpApp(Config(compose_file=Path("/nonexistent/compose.yaml")), backends, now=fixed_now)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        app.services_panel.table.focus()
        await pilot.press("c")
        await until(pilot, lambda: any("no resource statistics" in n.message for n in app._notifications))
        assert not isinstance(app.screen, ResourcesScreen)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    stats = FakeStats()
    feed(stats, POSTGRES, [0.5, 0.7, 0.6, 12.0, 35.5, 8.0, 0.4], [80, 81, 82, 120, 160, 150, 90])
    feed(stats, USER_CODE, [2.0, 2.0, 3.0, 95.0, 99.0, 60.0, 4.0], [400, 410, 600, 900, 950, 700, 420])

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await open_graphs(pilot, app)
        await wait_shown(pilot, "420 MiB", "90 MiB")
        await pilot.pause()

    assert snap_compare(make_app(stats), terminal_size=size, run_before=run_before)
