"""Every text from outside shown literally where it was not: a location name, a file name in a reload, a
reload's trigger and watch state, a compute-log file key, a schedule's name, a run id, a typed filter. One
test per place; each shows markup that would raise (``[/]``) and terminal control made visible (``␛``)."""

from __future__ import annotations

from dataclasses import replace

from dagster_fake import REPO, T0, FakeDagster, broken_location, loaded_location, run
from shell_fakes import FakeReloadStatus
from textual.widgets import Select

from edp_tui.dagster.models import LogKey
from edp_tui.reload_status.models import Reload, ReloadStatus
from edp_tui.text import printable
from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.reload_status import ReloadStatusPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from tests.support.pilot import Host, until, wait_shown

SIZE = (180, 40)
# Markup that raises when read as markup, and a terminal control sequence.
HOSTILE = "[/]x[b]\x1b[2J"
SHOWN = printable(HOSTILE)  # "[/]x[b]␛[2J"


async def test_a_typed_filter_in_the_runs_border() -> None:
    panel = RunsPanel(FakeDagster())
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        panel.table.focus()
        await pilot.press("f", *"job:[/]x", "enter")
        await until(pilot, lambda: panel.query_filter.job_name == "[/]x")
        await wait_shown(pilot, "job [/]x · page 1")
        assert app.is_running


async def test_a_run_id_in_the_run_detail_border() -> None:
    odd = run(f"{HOSTILE}-0000", "ingestion_job", "SUCCESS", T0 - 9, T0 - 8, T0 - 7)
    fake = FakeDagster()
    fake.runs_list.insert(0, odd)
    panel = RunDetailPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.is_mounted)
        panel.show_run(odd)
        await wait_shown(pilot, f"Run {SHOWN}-0000")


async def test_a_compute_log_file_key_in_its_title() -> None:
    fake = FakeDagster()
    done = fake.runs_list[2]
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.is_mounted)
        panel.show_run(done)
        panel.set_log_keys(done.run_id, (LogKey(done.run_id, HOSTILE, ("load",)),), True)
        await wait_shown(pilot, f"load · {SHOWN} · ")


async def test_a_location_name_over_its_load_error() -> None:
    fake = FakeDagster()
    fake.locations_list = [broken_location(HOSTILE)]
    panel = LocationsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await wait_shown(pilot, f"{SHOWN} failed to load:")


async def test_a_schedule_name_over_its_tick_error() -> None:
    fake = FakeDagster()
    fake.instigators_list = [replace(i, name=HOSTILE) for i in fake.instigators_list]
    panel = SchedulesPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        panel.table.focus()
        await pilot.press("down")
        await wait_shown(pilot, f"{SHOWN} last tick failed:")


async def test_location_names_in_the_launch_dialogs_picker() -> None:
    fake = FakeDagster()
    fake.locations_list = [loaded_location(HOSTILE), loaded_location("etl_pipeline")]
    app = Host(RunsPanel(fake))
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(LaunchDialog(fake))
        await until(pilot, lambda: isinstance(app.screen.query_one("#job", Select).value, tuple))
        app.screen.query_one("#job", Select).expanded = True
        await wait_shown(pilot, f"{SHOWN}: ingestion_job")
        assert app.screen.query_one("#job", Select).value == (HOSTILE, REPO, "ingestion_job")


def hostile_status() -> ReloadStatus:
    reload = Reload(3, f"watch{HOSTILE}", (f"models/{HOSTILE}.sql",), (), f"failed{HOSTILE}", "?", None, None)
    return ReloadStatus(
        location=f"loc{HOSTILE}",
        auto_reload=True,
        watch_state=f"watching{HOSTILE}",
        watch_mode=f"native{HOSTILE}",
        watch_error=None,
        in_progress=False,
        serving_server_id=None,
        last_good_load_at=None,
        pending_failure=None,
        reloads=(reload,),
        updated_at=None,
        warnings=(f"needs {HOSTILE}",),
    )


async def test_a_reloads_location_trigger_watch_state_files_and_warnings() -> None:
    status = hostile_status()
    panel = ReloadStatusPanel(FakeReloadStatus({status.location: status}))
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_shown(pilot, f"loc{SHOWN}  watching{SHOWN} (native{SHOWN})")
        assert f"watch{SHOWN} failed{SHOWN}" in text and f"models/{SHOWN}.sql" in text
        assert f"⚠ needs {SHOWN}" in text
