"""The Runs tab: the runs list on top, the highlighted run's detail and compute logs side by side below; it
routes the messages between them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from edp_tui.dagster.api import DagsterApi
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel


class RunsTab(Vertical):
    """Runs list on top; the highlighted run's detail and compute logs side by side below."""

    # The list keeps at least five rows (border, header, five runs) however short the terminal is.
    DEFAULT_CSS = """
    RunsTab { height: 1fr; }
    RunsTab > RunsPanel { height: 2fr; min-height: 8; }
    RunsTab > Horizontal { height: 3fr; }
    RunsTab RunDetailPanel { width: 2fr; }
    RunsTab ComputeLogsPanel { width: 3fr; }
    """

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield RunsPanel(self.client, read_only=self.read_only, id="runs")
        with Horizontal():
            yield RunDetailPanel(self.client, id="run-detail")
            yield ComputeLogsPanel(self.client, id="compute-logs")

    def on_runs_panel_run_selected(self, message: RunsPanel.RunSelected) -> None:
        message.stop()
        self.query_one(RunsPanel).selected_step = None
        self.query_one(RunDetailPanel).show_run(message.run)
        self.query_one(ComputeLogsPanel).show_run(message.run)

    def on_run_detail_panel_log_keys(self, message: RunDetailPanel.LogKeys) -> None:
        message.stop()
        self.query_one(ComputeLogsPanel).set_log_keys(message.run_id, message.keys, message.finished)

    def on_run_detail_panel_step_selected(self, message: RunDetailPanel.StepSelected) -> None:
        message.stop()
        runs = self.query_one(RunsPanel)
        runs.selected_step = message.step_key if runs.selected_id == message.run_id else None
        self.query_one(ComputeLogsPanel).select_step(message.run_id, message.step_key)
