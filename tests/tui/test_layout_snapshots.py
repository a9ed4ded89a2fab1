"""Every tab at the most common terminal size (80x24) and on a large screen (200x60), as a person sees it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from tests.support.pilot import screen_text, until

FAILED_RUN = "c3d4e5f6-0000-0000-0000-000000000003"
# (digit key, text that says the tab has its data)
TABS = {
    "logs": ("1", "last 1000 lines"),
    "runs": ("2", "end of compute log"),
    "locations": ("3", "etl_pipeline"),
    "schedules": ("4", "landing_zone_sensor"),
}


def make_app() -> EdpApp:
    # The real container-logs panel on a silent log source; Dagster and Docker from in-memory fakes.
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), FakeDagster()),
        now=fixed_now,
    )


def show(tab: str):  # type: ignore[no-untyped-def]
    key, ready = TABS[tab]

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press(key)
        if tab == "runs":
            panel = app.query_one(RunsPanel)
            await until(pilot, lambda: panel.populated)
            await pilot.press("down", "down")  # the failed run: steps, tags, events and compute logs
            await until(pilot, lambda: panel.selected is not None and panel.selected.run_id == FAILED_RUN)
        await until(pilot, lambda: ready in screen_text(app))
        app.clear_notifications()
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
@pytest.mark.parametrize("tab", list(TABS))
def test_tab(snap_compare: Any, tab: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=show(tab))
