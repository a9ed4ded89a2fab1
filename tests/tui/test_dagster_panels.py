"""The Dagster panels driven by an in-memory fake client: snapshots of each panel and their behaviour."""

from __future__ import annotations

from typing import Any

from dagster_fake import FakeDagster, broken_location, loaded_location, screen_text, wait_for
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import TextArea

from edp_tui.dagster.errors import ConfigError
from edp_tui.dagster.models import LocationEvent
from edp_tui.ui.launch_dialog import LaunchDialog, parse_run_config, parse_tags
from edp_tui.ui.locations_panel import LocationsPanel
from edp_tui.ui.schedules_panel import SchedulesPanel

SIZE = (130, 32)


class Host(App[None]):
    """Hosts one panel, as the dashboard's tab would."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


# ---- code locations ----------------------------------------------------------------------------------------


def test_locations_snapshot_shows_the_load_error_text(snap_compare: Any) -> None:
    fake = FakeDagster()
    fake.locations_list.append(broken_location())
    panel = LocationsPanel(fake)

    async def select_broken(pilot: Any) -> None:
        await wait_for(pilot, lambda: len(panel.locations) == 2)
        await pilot.press("down")
        await wait_for(pilot, lambda: "invalid syntax" in screen_text(pilot.app))

    assert snap_compare(Host(panel), terminal_size=SIZE, run_before=select_broken)


async def test_reload_key_reloads_the_selected_location_and_shows_the_outcome() -> None:
    fake = FakeDagster()
    fake.reload_result = broken_location("etl_pipeline")
    app = Host(LocationsPanel(fake))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "loaded" in screen_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: "reloaded etl_pipeline" in screen_text(app))
        text = screen_text(app)
        assert ("reload_location", "etl_pipeline") in fake.calls
        assert "etl_pipeline failed to load" in text and "[bold]not markup[/bold]" in text


async def test_location_events_refresh_without_a_key() -> None:
    fake = FakeDagster()
    panel = LocationsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fake.location_event_queue is not None and "loaded" in screen_text(app))
        fake.locations_list = [broken_location("etl_pipeline")]
        assert fake.location_event_queue is not None
        await fake.location_event_queue.put(
            LocationEvent("LOCATION_ERROR", "Unable to reconnect to server", "etl_pipeline")
        )
        # The poll interval is 5 s: only the pushed event can make this appear within 2 s.
        await wait_for(pilot, lambda: "failed to load" in screen_text(app), timeout=2.0)
        assert "location_error" in screen_text(app)


async def test_unreachable_webserver_is_shown_and_recovered_from() -> None:
    fake = FakeDagster()
    fake.down = True
    panel = LocationsPanel(fake)
    panel.poll_interval = 0.1
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "webserver unreachable" in screen_text(app))
        assert "Connection refused" in screen_text(app)
        fake.down = False
        await wait_for(pilot, lambda: "webserver unreachable" not in screen_text(app), timeout=5)
        assert "loaded" in screen_text(app)


async def test_read_only_refuses_reload() -> None:
    fake = FakeDagster(read_only=True)
    app = Host(LocationsPanel(fake, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "loaded" in screen_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: "reload of etl_pipeline refused" in screen_text(app))
        assert not any(name == "reload_location" for name, _ in fake.calls)


# ---- schedules and sensors ---------------------------------------------------------------------------------


def test_schedules_snapshot(snap_compare: Any) -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)

    async def select_sensor(pilot: Any) -> None:
        await wait_for(pilot, lambda: panel.populated)
        await pilot.press("down")
        await wait_for(pilot, lambda: "last tick failed" in screen_text(pilot.app))

    assert snap_compare(Host(panel), terminal_size=SIZE, run_before=select_sensor)


async def test_toggle_key_starts_a_stopped_schedule() -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: panel.populated)
        await pilot.press("s")
        await wait_for(pilot, lambda: panel.items and next(iter(panel.items.values())).running)
        assert ("set_running", ("daily_full_refresh_schedule", True)) in fake.calls


async def test_read_only_refuses_toggles() -> None:
    fake = FakeDagster(read_only=True)
    panel = SchedulesPanel(fake, read_only=True)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: panel.populated)
        await pilot.press("s")
        await pilot.pause(0.2)
        assert not any(name == "set_running" for name, _ in fake.calls)


async def test_schedules_of_a_broken_location_say_so() -> None:
    fake = FakeDagster()
    fake.locations_list = [loaded_location(), broken_location()]
    panel = SchedulesPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: panel.populated)
        assert "scratch: not loaded (error)" in screen_text(app)


# ---- launch dialog -----------------------------------------------------------------------------------------


class LaunchHost(App[None]):
    def __init__(self, fake: FakeDagster) -> None:
        super().__init__()
        self.fake = fake
        self.result: Any = "pending"

    def on_mount(self) -> None:
        def done(run: Any) -> None:
            self.result = run

        self.push_screen(LaunchDialog(self.fake), done)  # type: ignore[arg-type]


def test_parse_run_config_and_tags() -> None:
    assert parse_run_config("") == {} and parse_run_config("a: 1") == {"a": 1}
    for bad in ("a: [1", "- 1\n- 2", "just text"):
        try:
            parse_run_config(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
    assert parse_tags(" a=1, b = x=y ,") == {"a": "1", "b": "x=y"}
    try:
        parse_tags("novalue")
    except ValueError:
        pass
    else:
        raise AssertionError("tag without = accepted")


async def test_launch_dialog_hides_dunder_jobs_prefills_config_and_launches() -> None:
    fake = FakeDagster()
    app = LaunchHost(fake)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "limit: 100" in screen_text(app))
        dialog = app.screen
        assert isinstance(dialog, LaunchDialog)
        assert [j[2] for j in dialog.jobs] == ["ingestion_job", "dbt_build_job", "full_refresh_job"]
        await pilot.click("#tags")
        await pilot.press(*"who=test")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.result != "pending")
        assert fake.launched == [
            ("ingestion_job", {"ops": {"extract": {"config": {"limit": 100}}}}, {"who": "test"})
        ]
        assert app.result.job_name == "ingestion_job"


async def test_launch_dialog_yaml_error_launches_nothing() -> None:
    fake = FakeDagster()
    app = LaunchHost(fake)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "limit: 100" in screen_text(app))
        app.screen.query_one("#run-config", TextArea).text = "ops: [unclosed"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "YAML error" in screen_text(app))
        assert fake.launched == [] and app.result == "pending"


def test_launch_dialog_validation_errors_snapshot(snap_compare: Any) -> None:
    fake = FakeDagster()
    fake.config_errors = (
        ConfigError(
            'Received unexpected config entry "bogus" at path root:ops:extract:config.',
            "root:ops:extract:config",
        ),
        ConfigError("Invalid scalar at path root:ops:extract:config:limit.", "root:ops:extract:config:limit"),
    )
    app = LaunchHost(fake)

    async def submit(pilot: Any) -> None:
        await wait_for(pilot, lambda: "limit: 100" in screen_text(app))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing launched" in screen_text(app))

    assert snap_compare(app, terminal_size=SIZE, run_before=submit)
    assert fake.launched == [] and app.result == "pending"
