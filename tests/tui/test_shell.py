"""The shell driven by an in-memory Docker source: rows, live transitions, failure states, actions, help,
palette and keymap. What the screen shows is read back through the widgets."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

# The fakes sit beside this file; import them the same way whether or not tests/tui is a package.
sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster
from shell_fakes import NOW, FakeServices, fake_backends, fixed_now, probe, running  # noqa: E402
from textual.widgets import Static, TabbedContent

from edp_tui.config import Config
from edp_tui.docker.errors import ActionFailed, ContainerNotFound
from edp_tui.docker.models import Health, RunState
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.help import HelpScreen
from edp_tui.ui.screens.service_detail import ServiceDetailScreen
from edp_tui.ui.widgets.header import Level
from tests.support.pilot import screen_text, until

SIZE = (150, 40)


class RecordingLogs(Static):
    """Stands in for the logs panel: records which service it was asked to show."""

    HELP = "## Logs (test double)"

    def __init__(self) -> None:
        super().__init__("logs", id="logs-double")
        self.shown: list[str | None] = []

    def show_service(self, name: str | None) -> None:
        self.shown.append(name)


def make_app(source: FakeServices | None = None, **config: Any) -> EdpApp:
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml"), **config),
        # A Dagster backend that never answers: the header's webserver/daemon states stay this test's own.
        fake_backends(source or FakeServices(), FakeDagster(silent=True)),
        now=fixed_now,
        logs_panel_factory=RecordingLogs,
    )


def row(app: EdpApp, service: str) -> dict[str, str]:
    table = app.services_panel.table
    return {
        str(col.key.value): str(cell)
        for col, cell in zip(table.columns.values(), table.get_row(service), strict=True)
    }


def notifications(app: EdpApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_one_row_per_expected_service_including_missing() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        assert list(app.services_panel.table.rows) == [
            "postgres",
            "user-code",
            "dagster-webserver",
            "dagster-daemon",
        ]
        assert row(app, "postgres")["state"] == "running" and row(app, "postgres")["health"] == "healthy"
        assert row(app, "postgres")["ports"] == "127.0.0.1:5432->5432/tcp"
        assert row(app, "postgres")["uptime"] == "5m"
        unhealthy = row(app, "user-code")
        assert (
            unhealthy["health"] == "unhealthy" and unhealthy["streak"] == "3" and unhealthy["restarts"] == "2"
        )
        assert unhealthy["probe"] == "exit 1: connection refused"
        assert row(app, "dagster-webserver")["state"] == "exited(137)"
        assert row(app, "dagster-daemon")["state"] == "missing"
        header = str(app.header.render())
        assert "docker unix:///fake/docker.sock · engine 20.10.24" in header
        assert "webserver http://127.0.0.1:3000" in header and "project edp" in header


async def test_health_transitions_follow_events() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        failing = running(
            "postgres",
            health=Health.UNHEALTHY,
            failing_streak=2,
            probes=(probe(1, "pg_isready: no response"),),
        )
        source.push_states(failing)
        await until(pilot, lambda: row(app, "postgres")["health"] == "unhealthy")
        assert row(app, "postgres")["streak"] == "2"
        assert row(app, "postgres")["probe"] == "exit 1: pg_isready: no response"
        source.push_states(running("postgres"))
        await until(pilot, lambda: row(app, "postgres")["health"] == "healthy")
        assert row(app, "postgres")["streak"] == ""
        # A service the compose file does not know (left over, or scaled) still gets a row.
        source.push_states(running("extra-tool", health=Health.NONE))
        await until(pilot, lambda: "extra-tool" in app.services_panel.table.rows)


async def test_outside_text_is_shown_literally() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        source.push_states(running("postgres", probes=(probe(1, "[bold red]boom[/] \x1b[2J\x07"),)))
        await until(pilot, lambda: "boom" in row(app, "postgres")["probe"])
        cell = row(app, "postgres")["probe"]
        assert "[bold red]boom[/]" in cell  # markup kept as text
        assert "\x1b" not in cell and "\x07" not in cell  # control characters made visible


async def test_engine_unreachable_is_shown_and_recovered() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        source.go_down("Error while fetching server API version: connection refused")
        panel = app.services_panel
        await until(pilot, lambda: panel.has_class("-unreachable"))
        await pilot.pause()  # the class is set before the banner's new text is painted
        banner = screen_text(app)
        assert (
            "Docker engine unreachable at unix:///fake/docker.sock" in banner
            and "connection refused" in banner
        )
        assert "next in 2.0 s" in banner
        state = app.header.backend("docker")
        assert state is not None and state.level is Level.ERROR and "unreachable" in state.text
        assert any("unreachable" in n for n in notifications(app))
        # Keys still work while the engine is gone.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        source.come_back()
        await until(pilot, lambda: not panel.has_class("-unreachable"))
        assert app.header.backend("docker").level is Level.OK  # type: ignore[union-attr]
        assert any("reachable again" in n for n in notifications(app))


async def test_unreachable_at_start() -> None:
    source = FakeServices()
    source.connected_at_start = False
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.has_class("-unreachable"))
        assert not app.services_panel.populated
        assert row(app, "postgres")["state"] == "…"  # not known yet, not "missing"
        source.come_back()
        await until(pilot, lambda: row(app, "postgres")["state"] == "running")


async def test_restart_runs_in_a_worker_and_notifies() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("down")  # user-code
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any("user-code restarted" in n for n in notifications(app)))
        assert source.calls == [("restart", "user-code")]
        assert row(app, "user-code")["uptime"] == "0s"


async def test_stop_asks_first() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("S")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("S")
        await pilot.press("y")
        await until(pilot, lambda: any("postgres stopped" in n for n in notifications(app)))
        # Only the confirmed stop reached the engine (the declined one would be recorded first).
        assert source.calls == [("stop", "postgres")]
        await until(pilot, lambda: row(app, "postgres")["state"] == "exited(0)")


async def test_action_failures_are_notifications() -> None:
    source = FakeServices()
    source.failures["start"] = ContainerNotFound("service dagster-daemon has no container in project edp")
    source.failures["restart"] = ActionFailed("restart postgres failed: boom")
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("R", "y")
        await until(pilot, lambda: any("restart postgres failed: boom" in n for n in notifications(app)))
        await pilot.press("end", "u")
        await until(pilot, lambda: any("has no container" in n for n in notifications(app)))
        assert app.is_running


async def test_read_only_refuses_mutations() -> None:
    source = FakeServices()
    app = make_app(source, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        for key in ("R", "S", "u"):
            await pilot.press(key)
        # A positive sign that the three keys were handled, then: nothing reached the engine.
        await until(pilot, lambda: len([n for n in notifications(app) if "Read-only mode" in n]) == 3)
        assert source.calls == []
        assert not isinstance(app.screen, ConfirmScreen)
        refused = [n for n in notifications(app) if "Read-only mode" in n]
        assert len(refused) == 3 and "restart postgres refused" in refused[0]
        assert "READ-ONLY" in str(app.header.render())


async def test_detail_view_shows_health_log_and_follows_live() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, ServiceDetailScreen) and screen.service == "user-code"
        body = screen_text(app)
        assert (
            "failing streak  3" in body
            and "connection refused" in body
            and "gRPC connection successful" in body
        )
        source.push_states(running("user-code", failing_streak=0, probes=(probe(0, "recovered fine"),)))
        await until(pilot, lambda: "recovered fine" in screen_text(app))
        await pilot.press("escape")
        assert not isinstance(app.screen, ServiceDetailScreen)


async def test_help_explains_the_focused_panel() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "## Services" in help_screen.document and "Last probe" in help_screen.document
        assert "services.restart" in help_screen.document  # keys listed with their ids
        await pilot.press("escape")
        app.query_one(RecordingLogs).can_focus = True
        app.query_one(RecordingLogs).focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and "Logs (test double)" in app.screen.document


async def test_keymap_from_config_rebinds_actions() -> None:
    source = FakeServices()
    app = make_app(source, keymap={"services.restart": "x", "no.such.binding": "z"})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        # "R" is rebound: it does nothing now; "x" restarts (after the confirmation).
        await pilot.press("R")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any("postgres restarted" in n for n in notifications(app)))
        # Keys are handled in order: had "R" still restarted, its call would be recorded too.
        assert source.calls == [("restart", "postgres")]
        assert app.unknown_keymap_ids == ["no.such.binding"]
        assert any("unknown binding id(s) no.such.binding" in n for n in notifications(app))


async def test_palette_lists_every_action() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for service in source.services:
            for verb in ("Restart", "Stop", "Start", "Details:"):
                assert f"{verb} {service}" in titles
        assert {"Help", "Refresh services", "Logs of all services", "Quit"} <= titles
        # The panels' own keys, offered while the panel is on screen; the tab switches and maximize too.
        assert {"Services: Restart", "Services: Stop", "Runs tab", "Maximize"} <= titles
        assert "Runs: Terminate" not in titles  # the Runs tab is not shown
        await pilot.press("2")
        await until(
            pilot, lambda: "Runs: Terminate" in {c.title for c in app.get_system_commands(app.screen)}
        )
        await pilot.press("1")
        # Run one through the palette UI itself (restart asks first there too).
        await pilot.press("ctrl+p")
        await pilot.press(*"restart dagster-webserver")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: source.calls == [("restart", "dagster-webserver")])


async def test_selection_drives_the_logs_panel() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        logs = app.query_one(RecordingLogs)
        await until(pilot, lambda: logs.shown[-1:] == ["postgres"])
        await pilot.press("down")
        await until(pilot, lambda: logs.shown[-1:] == ["user-code"])
        await pilot.press("a")
        await until(pilot, lambda: logs.shown[-1:] == [None])


async def test_backend_state_api_for_other_panels() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.set_backend_state("daemon", Level.WARN, "heartbeat 95 s old [stale]")
        app.set_backend_state("webserver", "error", "http://127.0.0.1:3000 · connection refused")
        await pilot.pause()
        header = str(app.header.render())
        assert "daemon heartbeat 95 s old [stale]" in header
        assert app.header.backend("webserver").level is Level.ERROR  # type: ignore[union-attr]


@pytest.mark.parametrize("state", [RunState.RESTARTING, RunState.PAUSED, RunState.CREATED])
async def test_other_states_render(state: RunState) -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        source.push_states(replace(running("postgres"), state=state, started_at=NOW))
        await until(pilot, lambda: row(app, "postgres")["state"] == state.value)


async def test_quit_stops_the_watcher() -> None:
    source = FakeServices()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: source.watching.is_set())
        await pilot.press("q")
    assert source.closed


async def test_digit_keys_switch_tabs() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one("#main", TabbedContent)
        assert tabs.active == "tab-logs"
        keys = (("2", "tab-runs"), ("3", "tab-locations"), ("4", "tab-schedules"), ("1", "tab-logs"))
        for key, tab in keys:
            await pilot.press(key)
            await until(pilot, lambda tab=tab: tabs.active == tab)


async def test_at_rest_the_uptime_clock_sleeps_until_an_uptime_reads_differently() -> None:
    """Services up for minutes: their uptimes change once a minute, so the clock wakes once a minute (it
    used to wake every second); a service just started reads per second again."""
    source = FakeServices()
    app = make_app(source)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        panel = app.services_panel
        # Everything up exactly five minutes on the fake's fixed clock: the next change in 60 s.
        up_for_minutes = [s for s in source.states.values() if s.started_at is not None]
        assert up_for_minutes and panel.uptimes_due_in == pytest.approx(60.05)
        source.push_states(replace(source.states["postgres"], started_at=NOW))
        await until(pilot, lambda: panel.uptimes_due_in == pytest.approx(1.05))
