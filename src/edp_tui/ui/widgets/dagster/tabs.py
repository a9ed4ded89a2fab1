"""The Dagster tabs of the dashboard (runs, code locations, schedules & sensors, assets) around one client."""

from __future__ import annotations

from textual.widgets import TabPane

from edp_tui.dagster.api import DagsterApi
from edp_tui.reload_status.reader import ReloadStatusSource
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from edp_tui.ui.widgets.dagster.backfills import BackfillsTab
from edp_tui.ui.widgets.dagster.health import DagsterHealthProbe
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.reload_status import ReloadStatusPanel
from edp_tui.ui.widgets.dagster.runs_tab import RunsTab
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel


def dagster_panes(
    client: DagsterApi, webserver_url: str, reload_status: ReloadStatusSource, *, read_only: bool = False
) -> list[TabPane]:
    """The tab panes for ``App.compose_main_panes``; the App owns (and closes) the backends."""
    probe = DagsterHealthProbe(client, webserver_label=webserver_url, id="dagster-health")
    return [
        TabPane("Runs", RunsTab(client, read_only=read_only, id="runs-tab"), probe, id="tab-runs"),
        TabPane(
            "Code locations",
            LocationsPanel(client, read_only=read_only, id="locations"),
            ReloadStatusPanel(reload_status, id="reload-status-panel"),
            id="tab-locations",
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
