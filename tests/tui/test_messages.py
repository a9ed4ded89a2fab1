"""Which message a newer one makes stale (Textual drops the stale one when the newer is queued behind it)."""

from __future__ import annotations

from shell_fakes import running

from edp_tui.docker.models import EngineStatus
from edp_tui.ui.messages import BackendStateChanged, DockerStatusChanged, ServiceStatesChanged
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.services_panel import ServicesPanel


def test_service_states_are_stale_only_once_a_newer_message_covers_every_service() -> None:
    one = ServiceStatesChanged((running("postgres"),))
    both = ServiceStatesChanged((running("postgres"), running("user-code")))
    other = ServiceStatesChanged((running("user-code"),))
    assert one.can_replace(both) and one.can_replace(one)
    assert not both.can_replace(one)  # user-code's state would be lost
    assert not one.can_replace(other)


def test_header_states_are_stale_per_backend() -> None:
    web = BackendStateChanged("webserver", "ok", "up")
    assert web.can_replace(BackendStateChanged("webserver", "error", "down"))
    assert not web.can_replace(BackendStateChanged("daemon", "ok", "fine"))
    assert DockerStatusChanged(EngineStatus("unix:///x", True)).can_replace(
        DockerStatusChanged(EngineStatus("unix:///x", False, "gone"))
    )


def test_cursor_messages_keep_only_where_the_cursor_stopped() -> None:
    assert ServicesPanel.ServiceHighlighted("a").can_replace(ServicesPanel.ServiceHighlighted(None))
    assert not ServicesPanel.ServiceHighlighted("a").can_replace(ServicesPanel.DetailsRequested("a"))
    keys = RunDetailPanel.LogKeys("run-1", (), False)
    assert keys.can_replace(RunDetailPanel.LogKeys("run-1", (), True))
    assert not keys.can_replace(RunDetailPanel.LogKeys("run-2", (), True))
