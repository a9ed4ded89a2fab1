"""The Dagster tabs of the dashboard (runs, code locations, schedules & sensors, assets) around one client."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabPane

from edp_tui.dagster.api import DagsterApi
from edp_tui.reload_status.reader import ReloadStatusSource
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from edp_tui.ui.widgets.dagster.backfills import BackfillsTab
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.reload_status import ReloadStatusPanel
from edp_tui.ui.widgets.dagster.runs_tab import RunsTab
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel


class LocationsTab(Vertical):
    """The code locations above the hot-reload panel, which shows the details of the highlighted location."""

    DEFAULT_CSS = "LocationsTab { height: 1fr; }"

    def __init__(self, client: DagsterApi, reload_status: ReloadStatusSource, *, read_only: bool) -> None:
        super().__init__(id="locations-tab")
        self.client = client
        self.reload_status = reload_status
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield LocationsPanel(self.client, read_only=self.read_only, id="locations")
        yield ReloadStatusPanel(self.reload_status, id="reload-status-panel")

    def on_locations_panel_location_selected(self, message: LocationsPanel.LocationSelected) -> None:
        message.stop()
        self.query_one(ReloadStatusPanel).select_location(message.name)


def dagster_panes(
    client: DagsterApi, reload_status: ReloadStatusSource, *, read_only: bool = False
) -> list[TabPane]:
    """The tab panes for ``App.compose_main_panes``; the App owns (and closes) the backends."""
    return [
        TabPane("Runs", RunsTab(client, read_only=read_only, id="runs-tab"), id="tab-runs"),
        TabPane(
            "Code locations", LocationsTab(client, reload_status, read_only=read_only), id="tab-locations"
        ),
        TabPane(
            "Schedules & sensors",
            SchedulesPanel(client, read_only=read_only, id="schedules"),
            id="tab-schedules",
        ),
        TabPane("Assets", AssetsPanel(client, read_only=read_only, id="assets"), id="tab-assets"),
        TabPane(
            "Backfills", BackfillsTab(client, read_only=read_only, id="backfills-tab"), id="tab-backfills"
        ),
    ]
