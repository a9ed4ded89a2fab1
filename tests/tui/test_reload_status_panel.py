"""The Code locations tab's hot-reload panel: each location's reload state on a line of its own, and the
highlighted location's reloads with their phases, a pending failure and what its code warned about while
loading; outside text (names, files, triggers, watch states, warnings) shown literally."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster, loaded_location  # noqa: E402
from shell_fakes import FakeReloadStatus  # noqa: E402

from edp_tui.reload_status.models import ReloadStatus  # noqa: E402
from edp_tui.ui.widgets.dagster.locations import LocationsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.reload_status import ReloadStatusPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.tabs import LocationsTab  # noqa: E402
from tests.support.pilot import Host, screen_text, until, wait_shown

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures" / "reload"
WARNING = "the demo's analytics assets need marts.customer_lifetime_value [b]not markup[/b]\x1b[2J"


def status(name: str) -> ReloadStatus:
    return ReloadStatus.parse(json.loads((FIXTURES / name).read_text()))


def two_locations() -> dict[str, ReloadStatus]:
    """etl_pipeline serving with a load warning; analytics with a change not served."""
    analytics = replace(status("status-pending-failure.json"), location="analytics")
    served = replace(status("status.json"), warnings=(WARNING,))
    return {"etl_pipeline": served, "analytics": analytics}


async def test_the_panel_shows_a_pending_failure_and_follows_the_fix() -> None:
    source = FakeReloadStatus(status("status-pending-failure.json"))
    panel = ReloadStatusPanel(source)
    app = Host(panel)
    async with app.run_test(size=(160, 40)) as pilot:
        text = await wait_shown(pilot, "change not served")
        assert "dbt error in dbt_project/models/marts/fixture_probe.sql" in text
        assert "still serving the definitions loaded at 09:35:44" in text
        assert "#5" in text and "#4" in text and "checked +" in text
        # The fix is saved and served: the next poll shows it and the failure is gone.
        source.statuses = status("status.json")
        panel.wake()
        await until(pilot, lambda: "#7" in screen_text(app))
        text = screen_text(app)
        assert "change not served" not in text and "served" in text


async def test_without_a_supervisor_the_panel_says_so() -> None:
    panel = ReloadStatusPanel(FakeReloadStatus(None))
    async with Host(panel).run_test(size=(120, 20)) as pilot:
        await until(pilot, lambda: panel.polls >= 1)
        await wait_shown(pilot, "no status from the code server")


def locations_fake() -> FakeDagster:
    fake = FakeDagster()
    fake.locations_list = [loaded_location("analytics"), loaded_location("etl_pipeline")]
    return fake


async def test_every_location_has_a_line_and_the_highlighted_one_its_details() -> None:
    tab = LocationsTab(locations_fake(), FakeReloadStatus(two_locations()), read_only=False)
    app = Host(tab)
    async with app.run_test(size=(160, 45)) as pilot:
        # Side by side: both locations' states; analytics (the first row) with its failure in detail.
        text = await wait_shown(pilot, "▸ analytics  watching (native)", "  etl_pipeline  watching (native)")
        assert "analytics  watching (native) · last good load 09:35:44  ⚠ change not served" in text
        assert "etl_pipeline  watching (native) · last good load 09:36:12  1 load warning(s)" in text
        assert (
            "analytics: ⚠ change not served (dbt error in dbt_project/models/marts/fixture_probe.sql)" in text
        )
        assert "#5" in text and "Load warnings" not in text
        # etl_pipeline highlighted: its history and its warning (literally), not the other's failure.
        locations = tab.query_one(LocationsPanel)
        locations.query_one("#locations-table").focus()
        await pilot.press("down")
        text = await wait_shown(pilot, "etl_pipeline: Load warnings")
        assert "#7" in text and "analytics: ⚠" not in text
        assert "[b]not markup[/b]␛[2J" in text


async def test_a_location_that_published_no_status_yet_is_not_invented() -> None:
    source = FakeReloadStatus({"etl_pipeline": status("status.json")})
    tab = LocationsTab(locations_fake(), source, read_only=False)
    async with Host(tab).run_test(size=(160, 40)) as pilot:
        text = await wait_shown(pilot, "etl_pipeline  watching (native)")
        assert "analytics  watching" not in text
        # Highlighting a location without a status shows the one there is.
        assert tab.query_one(ReloadStatusPanel).status is source.statuses["etl_pipeline"]


def snapshot_of_two_locations(pilot_steps: int) -> Any:
    async def run_before(pilot: Any) -> None:
        tab = pilot.app.query_one(LocationsTab)
        reloads = tab.query_one(ReloadStatusPanel)
        await until(pilot, lambda: len(reloads.statuses) == 2 and reloads.selected == "analytics")
        await wait_shown(pilot, "etl_pipeline  watching (native)")
        tab.query_one("#locations-table").focus()
        for _ in range(pilot_steps):
            await pilot.press("down")
        if pilot_steps:
            await wait_shown(pilot, "etl_pipeline: Load warnings")

    return run_before


def test_two_locations_snapshot_80x24(snap_compare: Any) -> None:
    tab = LocationsTab(locations_fake(), FakeReloadStatus(two_locations()), read_only=False)
    assert snap_compare(Host(tab), terminal_size=(80, 24), run_before=snapshot_of_two_locations(0))


def test_two_locations_snapshot_200x60(snap_compare: Any) -> None:
    tab = LocationsTab(locations_fake(), FakeReloadStatus(two_locations()), read_only=False)
    assert snap_compare(Host(tab), terminal_size=(200, 60), run_before=snapshot_of_two_locations(1))
