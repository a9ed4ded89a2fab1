"""Fit any terminal, focus and keys: the shell at 80x24 and at 200x60, driven through Pilot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster_fake import FakeDagster
from shell_fakes import FakeServices, fake_backends, fixed_now
from textual.widget import Widget
from textual.widgets import TabbedContent

from edp_tui.config import Config
from edp_tui.ui.app import EdpApp
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from edp_tui.ui.widgets.header import BackendHeader
from edp_tui.ui.widgets.log_view import LogView
from edp_tui.ui.widgets.logs_panel import LogsPanel
from edp_tui.ui.widgets.services_panel import ServicesStrip, ServicesTable
from tests.support.pilot import screen_text, until, wait_shown

SMALL, LARGE = (80, 24), (200, 60)
SIZES = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x60"])
# digit, tab id, the panel that must hold the focus afterwards
TABS = [
    ("1", "tab-logs", LogsPanel),
    ("2", "tab-runs", RunsPanel),
    ("3", "tab-locations", LocationsPanel),
    ("4", "tab-schedules", SchedulesPanel),
]


def make_app(fake: FakeDagster | None = None, **config: Any) -> EdpApp:
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml"), **config),
        fake_backends(FakeServices(), fake or FakeDagster()),
        now=fixed_now,
    )


def inside(widget: Widget | None, panel: Widget) -> bool:
    return widget is not None and (widget is panel or panel in widget.ancestors)


async def started(pilot: Any) -> EdpApp:
    app = pilot.app
    await until(pilot, lambda: app.services_panel.populated)
    return app  # type: ignore[no-any-return]


@SIZES
@pytest.mark.parametrize(("key", "tab_id", "panel_class"), TABS, ids=[t[1] for t in TABS])
async def test_digits_switch_tabs_and_focus_the_tabs_panel(
    size: tuple[int, int], key: str, tab_id: str, panel_class: type[Widget]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        assert isinstance(app.focused, ServicesTable)  # the services have the focus at start
        await pilot.press(key)
        panel = app.query_one(panel_class)
        await until(pilot, lambda: inside(app.focused, panel))
        assert app.query_one("#main", TabbedContent).active == tab_id
        # The focused panel stands out: heavy accent border; the services lost theirs.
        assert panel.styles.border_top[0] == "heavy"
        assert app.services_panel.styles.border_top[0] != "heavy"
        # Every tab is usable: its content gets most of the height (on a large screen the services table
        # takes seven rows, on a small one the strip two).
        pane = app.query_one(f"#{tab_id}")
        assert pane.size.height >= size[1] - (6 if size == SMALL else 12)


@SIZES
async def test_the_runs_tab_shows_five_runs_and_a_readable_compute_log(size: tuple[int, int]) -> None:
    fake = FakeDagster()
    fake.runs_list = fake.runs_list * 3  # 12 rows: more than fit at 80x24
    fake.runs_list = [
        r.__class__(f"{i:08x}{r.run_id[8:]}", *list(vars(r).values())[1:])
        for i, r in enumerate(fake.runs_list)
    ]
    app = make_app(fake)
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        await pilot.press("2")
        runs = app.query_one(RunsPanel)
        await until(pilot, lambda: runs.populated)
        visible_rows = runs.table.scrollable_content_region.height - 1  # minus the header row
        assert visible_rows >= 5
        compute = app.query_one(ComputeLogsPanel).view
        assert compute.size.height >= (5 if size == SMALL else 25)
        assert compute.size.width >= (40 if size == SMALL else 100)


async def test_the_services_are_a_strip_on_a_short_terminal_and_open_while_focused() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await started(pilot)
        panel = app.services_panel
        assert panel.compact
        await pilot.press("2")
        await until(pilot, lambda: not panel.has_class("-expanded"))
        strip = panel.query_one(ServicesStrip)
        assert strip.display and not panel.table.display
        text = screen_text(app)
        assert "✖ user-code unhealthy ×3" in text and "dagster-webserver exited(137)" in text
        assert panel.size.height <= 2
        strip.focus()  # shift+tab / a click
        await until(pilot, lambda: isinstance(app.focused, ServicesTable) and panel.table.display)
        await pilot.press("2")
        await until(pilot, lambda: not panel.table.display)


async def test_a_large_terminal_shows_the_full_services_table() -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await started(pilot)
        await pilot.press("2")
        await until(pilot, lambda: inside(app.focused, app.query_one(RunsPanel)))
        assert not app.services_panel.compact and app.services_panel.table.display
        await wait_shown(pilot, "Last probe")


async def test_resizing_switches_between_strip_and_table() -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await started(pilot)
        await pilot.resize_terminal(*SMALL)
        await until(pilot, lambda: app.services_panel.compact)
        await pilot.resize_terminal(*LARGE)
        await until(pilot, lambda: not app.services_panel.compact)


async def test_the_header_is_one_line_at_80_columns_and_keeps_trouble_visible() -> None:
    app = make_app(FakeDagster(silent=True))  # the webserver state stays this test's own
    async with app.run_test(size=SMALL) as pilot:
        await started(pilot)
        app.set_backend_state("webserver", "error", "http://127.0.0.1:3000 · connection refused")
        await pilot.pause()
        header = app.query_one(BackendHeader)
        assert header.size.height == 1
        line = header.render().plain
        assert len(line) <= 78 and "✖ webserver http://127.0.0.1" in line and "○ daemon not checked" in line


@SIZES
async def test_m_maximizes_the_focused_panel_and_restores_it(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        await pilot.press("2")
        await until(
            pilot, lambda: isinstance(app.focused, Widget) and inside(app.focused, app.query_one(RunsPanel))
        )
        compute = app.query_one(ComputeLogsPanel)
        compute.view.lines_widget.focus()
        await until(pilot, lambda: inside(app.focused, compute))
        await pilot.press("m")
        await until(pilot, lambda: app.screen.maximized is compute)
        await pilot.pause()
        assert compute.outer_size == (size[0], size[1] - 1)  # all but the footer
        await pilot.press("m")
        await until(pilot, lambda: app.screen.maximized is None)
        assert inside(app.focused, compute)
        # The services panel too, from its table; and the container logs from their lines.
        app.services_panel.table.focus()
        await pilot.press("m")
        await until(pilot, lambda: app.screen.maximized is app.services_panel)
        await pilot.press("m", "1")
        logs = app.query_one(LogsPanel)
        await until(pilot, lambda: app.screen.maximized is None and inside(app.focused, logs))
        await pilot.press("m")
        await until(pilot, lambda: app.screen.maximized is logs)


async def test_home_end_g_and_shift_g_move_the_cursor_in_tables() -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await started(pilot)
        await pilot.press("2")
        runs = app.query_one(RunsPanel)
        await until(pilot, lambda: runs.populated and inside(app.focused, runs))
        for key, row in (("end", 3), ("home", 0), ("G", 3), ("g", 0)):
            await pilot.press(key)
            await until(pilot, lambda row=row: runs.table.cursor_row == row)
        services = app.services_panel.table
        services.focus()
        await pilot.press("G")
        await until(pilot, lambda: services.cursor_row == services.row_count - 1)


async def test_t_is_hidden_where_lines_have_no_timestamps() -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await started(pilot)
        await pilot.press("2")
        compute = app.query_one(ComputeLogsPanel).view
        compute.lines_widget.focus()
        await pilot.pause()
        assert "toggle_timestamps" not in {b.binding.action for b in app.screen.active_bindings.values()}
        # Keys are handled in order: once `w` has wrapped the lines, `t` before it has been handled too.
        await pilot.press("t", "w")
        await until(pilot, lambda: compute.lines_widget.wrap)
        assert not compute.lines_widget.show_timestamps
        # The container logs keep it.
        await pilot.press("1")
        container = app.query_one(LogsPanel).view
        await until(pilot, lambda: inside(app.focused, container))
        await pilot.press("t")
        await until(pilot, lambda: container.lines_widget.show_timestamps)
        assert isinstance(container, LogView) and container.has_timestamps


async def test_the_palette_offers_the_panels_on_screen_and_read_only_still_refuses() -> None:
    fake = FakeDagster(read_only=True)
    app = make_app(fake, read_only=True)
    async with app.run_test(size=SMALL) as pilot:
        await started(pilot)
        await pilot.press("2")
        runs = app.query_one(RunsPanel)
        await until(pilot, lambda: runs.populated)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Runs: Launch", "Runs: Terminate", "Runs: Re-execute", "Runs: Filter/find"} <= titles
        assert {"Compute logs: Search", "Compute logs: Filter", "Logs tab", "Maximize"} <= titles
        assert "Compute logs: Timestamps" not in titles  # hidden where it does not apply
        assert "Code locations: Reload location" not in titles  # that tab is not shown
        await pilot.press("ctrl+p")
        await pilot.press(*"runs: terminate")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(
            pilot, lambda: any("Read-only mode: terminate refused" in n.message for n in app._notifications)
        )
        assert not [c for c in fake.calls if c[0] == "terminate_run"]
