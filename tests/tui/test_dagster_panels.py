"""The Dagster panels driven by an in-memory fake client: snapshots of each panel and their behaviour."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dagster_fake import FakeDagster, broken_location, loaded_location
from textual.app import App, ComposeResult
from textual.widgets import Input, Select, TextArea

from edp_tui.dagster.errors import RunConfigProblem
from edp_tui.dagster.models import LocationEvent
from edp_tui.dagster.run_config import parse_run_config
from edp_tui.dagster.tags import parse_tag_list
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.screens.reexecute import ReexecuteDialog
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.runs_tab import RunsTab
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from tests.support.pilot import Host, screen_text, until, wait_shown

SIZE = (130, 32)


# ---- code locations ----------------------------------------------------------------------------------------


def test_locations_snapshot_shows_the_load_error_text(snap_compare: Any) -> None:
    fake = FakeDagster()
    fake.locations_list.append(broken_location())
    panel = LocationsPanel(fake)

    async def select_broken(pilot: Any) -> None:
        await until(pilot, lambda: len(panel.locations) == 2)
        await pilot.press("down")
        await until(pilot, lambda: "invalid syntax" in screen_text(pilot.app))

    assert snap_compare(Host(panel), terminal_size=SIZE, run_before=select_broken)


async def test_reload_key_reloads_the_selected_location_and_shows_the_outcome() -> None:
    fake = FakeDagster()
    fake.reload_result = broken_location("etl_pipeline")
    app = Host(LocationsPanel(fake))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "loaded" in screen_text(app))
        await pilot.press("r")
        await until(pilot, lambda: "reloaded etl_pipeline" in screen_text(app))
        text = screen_text(app)
        assert ("reload_location", "etl_pipeline") in fake.calls
        assert "etl_pipeline failed to load" in text and "[bold]not markup[/bold]" in text


async def test_location_events_refresh_without_a_key() -> None:
    fake = FakeDagster()
    panel = LocationsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: fake.location_event_queue is not None and "loaded" in screen_text(app))
        fake.locations_list = [broken_location("etl_pipeline")]
        assert fake.location_event_queue is not None
        await fake.location_event_queue.put(
            LocationEvent("LOCATION_ERROR", "Unable to reconnect to server", "etl_pipeline")
        )
        # The poll interval is 5 s: only the pushed event can make this appear within 2 s.
        await until(pilot, lambda: "failed to load" in screen_text(app), timeout=2.0)
        assert "last event: etl_pipeline error: Unable to reconnect to server" in screen_text(app)


async def test_unreachable_webserver_is_shown_and_recovered_from() -> None:
    fake = FakeDagster()
    fake.down = True
    panel = LocationsPanel(fake)
    panel.poll_interval = 0.1
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "webserver unreachable" in screen_text(app))
        assert "Connection refused" in screen_text(app)
        fake.down = False
        await until(pilot, lambda: "webserver unreachable" not in screen_text(app), timeout=5)
        assert "loaded" in screen_text(app)


async def test_read_only_refuses_reload() -> None:
    fake = FakeDagster(read_only=True)
    app = Host(LocationsPanel(fake, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "loaded" in screen_text(app))
        await pilot.press("r")
        await until(pilot, lambda: "reload of etl_pipeline refused" in screen_text(app))
        assert not any(name == "reload_location" for name, _ in fake.calls)


# ---- schedules and sensors ---------------------------------------------------------------------------------


def test_schedules_snapshot(snap_compare: Any) -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)

    async def select_sensor(pilot: Any) -> None:
        await until(pilot, lambda: panel.populated)
        await pilot.press("down")
        await until(pilot, lambda: "last tick failed" in screen_text(pilot.app))

    assert snap_compare(Host(panel), terminal_size=SIZE, run_before=select_sensor)


async def test_toggle_key_starts_a_stopped_schedule() -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        await pilot.press("s")
        await until(pilot, lambda: panel.items and next(iter(panel.items.values())).running)
        assert ("set_running", ("daily_full_refresh_schedule", True)) in fake.calls


async def test_read_only_refuses_toggles() -> None:
    # A client that would accept the toggle: only the panel's own read-only check can stop it.
    fake = FakeDagster()
    panel = SchedulesPanel(fake, read_only=True)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        await pilot.press("s")
        # A positive sign that the key was handled, then: nothing reached the client.
        await until(pilot, lambda: any("Read-only mode" in n.message for n in app._notifications))
        assert not any(name in ("set_running", "refused:toggle") for name, _ in fake.calls)


async def test_schedules_of_a_broken_location_say_so() -> None:
    fake = FakeDagster()
    fake.locations_list = [loaded_location(), broken_location()]
    panel = SchedulesPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        await wait_shown(pilot, "scratch: not loaded (error)")


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
    assert parse_tag_list(" a=1, b = x=y ,") == {"a": "1", "b": "x=y"}
    try:
        parse_tag_list("novalue")
    except ValueError:
        pass
    else:
        raise AssertionError("tag without = accepted")


async def test_launch_dialog_hides_dunder_jobs_prefills_config_and_launches() -> None:
    fake = FakeDagster()
    app = LaunchHost(fake)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "limit: 100" in screen_text(app))
        dialog = app.screen
        assert isinstance(dialog, LaunchDialog)
        assert [j[2] for j in dialog.jobs] == ["ingestion_job", "dbt_build_job", "full_refresh_job"]
        await pilot.click("#tags")
        await pilot.press(*"who=test")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result != "pending")
        assert fake.launched == [
            ("ingestion_job", {"ops": {"extract": {"config": {"limit": 100}}}}, {"who": "test"})
        ]
        assert app.result.job_name == "ingestion_job"


async def test_launch_dialog_yaml_error_launches_nothing() -> None:
    fake = FakeDagster()
    app = LaunchHost(fake)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "limit: 100" in screen_text(app))
        app.screen.query_one("#run-config", TextArea).text = "ops: [unclosed"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not valid YAML" in screen_text(app))
        assert fake.launched == [] and app.result == "pending"


async def test_launch_dialog_checks_the_partition_and_sets_it_as_the_runs_tag() -> None:
    """dagster/partition is a reserved tag prefix: the partition field is the dialog's way to run a day."""
    fake = FakeDagster()
    app = LaunchHost(fake)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "limit: 100" in screen_text(app))
        dialog = app.screen
        assert isinstance(dialog, LaunchDialog)
        partition = dialog.query_one("#partition", Input)
        partition.value = "1999-01-01"
        await pilot.press("ctrl+s")
        await wait_shown(pilot, "'1999-01-01' is not a partition of retail_raw/orders")
        dbt_job = next(j for j in dialog.jobs if j[2] == "dbt_build_job")
        dialog.query_one("#job", Select).value = dbt_job
        await pilot.press("ctrl+s")
        await wait_shown(pilot, "job dbt_build_job is not partitioned")
        assert fake.launched == [] and app.result == "pending"
        dialog.query_one("#job", Select).value = next(j for j in dialog.jobs if j[2] == "ingestion_job")
        await until(pilot, lambda: "limit: 100" in dialog.query_one("#run-config", TextArea).text)
        partition.value = "2025-03-05"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result != "pending")
        assert fake.launched == [
            (
                "ingestion_job",
                {"ops": {"extract": {"config": {"limit": 100}}}},
                {"dagster/partition": "2025-03-05"},
            )
        ]


def test_launch_dialog_validation_errors_snapshot(snap_compare: Any) -> None:
    fake = FakeDagster()
    fake.config_errors = (
        RunConfigProblem(
            'Received unexpected config entry "bogus" at path root:ops:extract:config.',
            "root:ops:extract:config",
        ),
        RunConfigProblem(
            "Invalid scalar at path root:ops:extract:config:limit.", "root:ops:extract:config:limit"
        ),
    )
    app = LaunchHost(fake)

    async def submit(pilot: Any) -> None:
        await until(pilot, lambda: "limit: 100" in screen_text(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "nothing launched" in screen_text(app))

    assert snap_compare(app, terminal_size=SIZE, run_before=submit)
    assert fake.launched == [] and app.result == "pending"


# ---- runs, run detail, compute logs ---

FAILED_RUN = "c3d4e5f6-0000-0000-0000-000000000003"


async def select_run(pilot: Any, panel: RunsPanel, run_id: str) -> None:
    await until(pilot, lambda: panel.populated)
    table = panel.table
    table.move_cursor(row=table.get_row_index(run_id))
    await until(pilot, lambda: panel.selected is not None and panel.selected.run_id == run_id)


def test_runs_tab_snapshot_with_detail_and_compute_logs(snap_compare: Any) -> None:
    fake = FakeDagster()
    tab = RunsTab(fake)

    async def select_failed(pilot: Any) -> None:
        await select_run(pilot, tab.query_one(RunsPanel), FAILED_RUN)
        await until(pilot, lambda: "end of compute log" in screen_text(pilot.app))

    assert snap_compare(Host(tab), terminal_size=(150, 40), run_before=select_failed)


async def test_compute_logs_are_shown_literally_and_tailing_stops_when_the_run_is_over() -> None:
    fake = FakeDagster()
    tab = RunsTab(fake)
    app = Host(tab)
    async with app.run_test(size=(150, 40)) as pilot:
        await select_run(pilot, tab.query_one(RunsPanel), FAILED_RUN)
        logs = tab.query_one(ComputeLogsPanel)
        await until(pilot, lambda: logs.done)
        text = await wait_shown(pilot, "cursor games", "write_raw_table")
        assert "[bold red]not markup[/bold red]" in text  # markup in user output is shown as typed
        assert "␛[2Jcursor games" in text  # an escape sequence is made visible, not executed
        assert "KeyError: 'amount'" in text and "caused by KeyError" in text
        assert "write_raw_table" in text and "FAILURE" in text
        # The detail stopped polling too: one terminal run, all events read.
        detail = tab.query_one(RunDetailPanel)
        await until(pilot, lambda: detail.finished)
        tail_reads = ("captured_logs", "run", "run_events")  # the runs list beside them keeps polling

        def reads() -> list[tuple[str, Any]]:
            return [c for c in fake.calls if c[0] in tail_reads]

        calls = reads()
        # Not "nothing happened during a pause" (true of a slow poll too): both loops are woken and seen to
        # run their poll again (the counter moves once a poll_once has returned), and that poll asked nothing.
        ticks = (logs.polls, detail.polls)
        for more in (1, 2):  # two: the first may be a poll that was still finishing
            logs.wake()
            detail.wake()
            await until(
                pilot, lambda more=more: logs.polls >= ticks[0] + more and detail.polls >= ticks[1] + more
            )
        assert reads() == calls  # no more reads of the log, the run or its events


async def test_runs_list_follows_status_changes() -> None:
    fake = FakeDagster()
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        queued = fake.runs_list[0]
        fake.runs_list[0] = replace(queued, status="STARTED", start_time=queued.creation_time)
        await until(pilot, lambda: "STARTED" in screen_text(app), timeout=2.0)


async def test_a_hidden_runs_list_polls_nothing_while_an_identical_one_on_screen_polls() -> None:
    """Off screen the loop parks. Not "no call during a pause" (true of a slow loop too): a witness panel
    of the same kind and cadence on the same event loop polls three times meanwhile, so the hidden one
    would have polled at least once in that span had it not parked."""
    hidden_fake, witness_fake = FakeDagster(), FakeDagster()
    hidden, witness = RunsPanel(hidden_fake), RunsPanel(witness_fake)
    for panel in (hidden, witness):
        panel.poll_interval = panel.quiet_interval = 0.05

    class TwoPanels(App[None]):
        def compose(self) -> ComposeResult:
            yield hidden
            yield witness

    async with TwoPanels().run_test(size=SIZE) as pilot:
        await until(pilot, lambda: hidden.populated and witness.populated)
        hidden.display = False
        # First span: a poll of the hidden panel that was under way ends and the loop parks.
        mark = witness.polls
        await until(pilot, lambda: witness.polls >= mark + 3)
        calls, polls = len(hidden_fake.calls), hidden.polls
        # Second span: nothing at all from the hidden panel's loop.
        mark = witness.polls
        await until(pilot, lambda: witness.polls >= mark + 3)
        assert (len(hidden_fake.calls), hidden.polls) == (calls, polls)
        assert len(witness_fake.calls) > 0
        hidden.display = True  # on screen again: it polls at once
        await until(pilot, lambda: hidden.polls > polls and len(hidden_fake.calls) > calls)


async def test_runs_are_paged_and_bounded() -> None:
    fake = FakeDagster()
    fake.runs_list = [
        replace(fake.runs_list[1], run_id=f"{i:08d}-0000-0000-0000-000000000000") for i in range(120)
    ]
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        assert len(panel.order) == 50 and all(
            limit == 50 for name, (limit, _) in [c for c in fake.calls if c[0] == "runs"]
        )
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: panel.order and panel.order[0].startswith("00000050"))
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: panel.order and panel.order[0].startswith("00000000"))


async def test_terminate_asks_first_and_reexecute_selects_the_new_run() -> None:
    fake = FakeDagster()
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        queued = fake.runs_list[0].run_id
        # t is not terminate (any more): a viewer key elsewhere; nothing on the runs table binds it.
        bound = app.screen.active_bindings
        assert "t" not in bound or "terminate" not in bound["t"].binding.action
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: ("terminate_run", queued) in fake.calls)
        await until(pilot, lambda: panel.runs[queued].status == "CANCELED")
        await select_run(pilot, panel, FAILED_RUN)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReexecuteDialog))
        await pilot.press("enter")  # the first choice of a failed run: from failure
        await until(
            pilot, lambda: panel.selected is not None and panel.selected.run_id.startswith("f0000000")
        )
        assert fake.reexecutions == [(FAILED_RUN, "FROM_FAILURE", ())]


async def test_launch_from_runs_selects_the_new_run() -> None:
    fake = FakeDagster()
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchDialog) and "limit: 100" in screen_text(app))
        await pilot.press("ctrl+s")
        await until(
            pilot, lambda: panel.selected is not None and panel.selected.run_id.startswith("e0000000")
        )


async def test_read_only_refuses_launch_terminate_and_reexecute() -> None:
    # A client that would accept every mutation: only the panel's own read-only check can stop them.
    fake = FakeDagster()
    panel = RunsPanel(fake, read_only=True)
    app = Host(panel)

    def refusals() -> int:
        return sum("Read-only mode" in n.message for n in app._notifications)

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        for count, key in enumerate(("l", "X"), start=1):
            await pilot.press(key)
            await until(pilot, lambda n=count: refusals() == n)
            assert not isinstance(app.screen, (LaunchDialog, ConfirmScreen))
        await select_run(pilot, panel, FAILED_RUN)
        await pilot.press("e")
        await until(pilot, lambda: refusals() == 3)
        assert not isinstance(app.screen, ReexecuteDialog)
        mutations = {"launch_run", "terminate_run", "reexecute_run"}
        assert not [c for c in fake.calls if c[0] in mutations or c[0].startswith("refused:")]
