"""Run containers beside the services: hidden while none, a row per container mapped to its run, its log."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from shell_fakes import FakeRunContainers  # noqa: E402
from textual.widgets import DataTable, Input  # noqa: E402

from edp_tui.docker.run_containers import RunContainer  # noqa: E402
from edp_tui.ui.screens.container_log import ContainerLogScreen  # noqa: E402
from edp_tui.ui.widgets.log_view import LogView  # noqa: E402
from edp_tui.ui.widgets.run_containers import RunContainersPanel  # noqa: E402
from tests.support.pilot import Host, screen_text, until, wait_shown

CONTAINER = RunContainer(
    "c0ffee",
    "edp-run-[red]x",
    "1234abcd-0000",
    "full_refresh_job",
    "running",
    "Up 3 s",
    37.5,
    300 << 20,
    8 << 30,
)


async def test_hidden_until_a_run_container_appears_then_mapped_to_its_run() -> None:
    source = FakeRunContainers()
    app = Host(RunContainersPanel(source))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(RunContainersPanel)
        # Hidden after polls that found nothing (the poll counter proves the loop ran).
        await until(pilot, lambda: panel.polls >= 2)
        assert not panel.has_class("-present") and not panel.display
        source.containers = [CONTAINER]
        panel.wake()
        await until(pilot, lambda: panel.has_class("-present") and panel.display)
        text = await wait_shown(pilot, "1234abcd", "full_refresh_job", "MiB")
        assert "edp-run-[red]x" in text and "1234abcd" in text and "full_refresh_job" in text
        assert "38%" in text or "37%" in text
        assert "300 MiB / 8G" in text
        panel.query_one("DataTable").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContainerLogScreen))
        await until(pilot, lambda: "log of c0ffee" in screen_text(app))
        assert "[bold]not markup[/bold]" in screen_text(app)


async def test_the_container_log_closes_with_escape_after_its_search_is_cleared() -> None:
    """The log view inside binds escape itself (clear the search): escape must still close the screen once
    there is nothing to clear (seen on the real stack: the screen stayed open)."""
    source = FakeRunContainers()
    source.containers = [CONTAINER]
    app = Host(RunContainersPanel(source))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(RunContainersPanel)
        await until(pilot, lambda: panel.has_class("-present"))
        panel.query_one("DataTable").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContainerLogScreen))
        view = app.screen.query_one(LogView)
        # While the search input is open, q is a letter and escape leaves the input, not the screen.
        await pilot.press("slash", "q")
        await until(pilot, lambda: view.query_one("#log-input", Input).value == "q")
        await pilot.press("escape")
        await until(pilot, lambda: view.input_mode is None)
        assert isinstance(app.screen, ContainerLogScreen)
        await pilot.press("slash", "m", "a", "r", "k", "u", "p", "enter")
        await until(pilot, lambda: bool(view.lines_widget.search) and view.input_mode is None)
        await pilot.press("escape")  # first: the search goes, the screen stays
        await until(pilot, lambda: not view.lines_widget.search)
        assert isinstance(app.screen, ContainerLogScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ContainerLogScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContainerLogScreen))
        await pilot.press("q")
        await until(pilot, lambda: not isinstance(app.screen, ContainerLogScreen))


async def test_the_highlighted_run_container_stays_highlighted_across_polls() -> None:
    """Every poll rebuilds the rows: the cursor must stay on the container the user chose, not jump to the
    first row every three seconds."""
    source = FakeRunContainers()
    second = RunContainer("beef", "edp-run-b", "5678efgh-0000", "ingestion_job", "running", "Up 1 s")
    source.containers = [CONTAINER, second]
    app = Host(RunContainersPanel(source))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(RunContainersPanel)
        await until(pilot, lambda: len(panel.containers) == 2)
        table = panel.query_one("DataTable", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("beef"))
        polls = panel.polls
        for more in (1, 2):  # two polls: the first may have been under way before the move
            panel.wake()
            await until(pilot, lambda more=more: panel.polls >= polls + more)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "beef"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContainerLogScreen))
        await wait_shown(pilot, "log of beef")
