"""The compute-log panel follows a live run by the capturedLogs subscription (the fake's controllable stream),
falls back to polling when the subscription fails, and finishes with the query once the run is over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dagster_fake import T0, FakeDagster, run

from edp_tui.dagster.errors import DagsterGraphQLError, DagsterUnreachable
from edp_tui.dagster.models import LogKey, RunEvent
from edp_tui.dagster.tail import BULK_CHUNK_BYTES
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.runs_tab import RunsTab
from tests.support.pilot import Host, screen_text, until

SIZE = (150, 30)
LIVE = "e0000000-4444-4444-4444-444444444444"
LOAD = LogKey(LIVE, "loadkey1", ("load_landing_files",))
WRITE = LogKey(LIVE, "writekey", ("write_raw_table",))


def live_fake() -> FakeDagster:
    fake = FakeDagster()
    fake.runs_list.insert(0, run(LIVE, "ingestion_job", "STARTED", T0 - 10, T0 - 9, None))
    return fake


def shown(panel: ComputeLogsPanel) -> list[tuple[str | None, str]]:
    """The lines of the pane in order, as (tag, text)."""
    panel.view.flush_now()
    return [(line.service, line.text) for line in panel.view.buffer]


def title(panel: ComputeLogsPanel) -> str:
    return str(panel.query_one("#compute-title").render())


def polls(fake: FakeDagster) -> int:
    return sum(1 for c in fake.calls if c[0] == "captured_logs")


async def panel_loop_runs(pilot: Any, panel: ComputeLogsPanel, times: int = 3) -> None:
    """Wait until the panel's poll loop has gone round ``times`` more times (0.5 s each): a poll the panel
    would make (it used to poll the log on each) has had every chance to happen by then."""
    mark = panel.poller.iterations
    await until(pilot, lambda: panel.poller.iterations >= mark + times)


async def follow(pilot: Any, panel: ComputeLogsPanel, fake: FakeDagster, keys: tuple[LogKey, ...]) -> None:
    panel.show_run(fake.runs_list[0])
    panel.set_log_keys(LIVE, keys, finished=False)
    await until(pilot, lambda: bool(fake.log_streams))


async def test_a_live_log_is_pushed_and_never_polled() -> None:
    fake = live_fake()
    fake.write_log(LIVE, LOAD.file_key, out="before the panel looked\n")
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await follow(pilot, panel, fake, (LOAD,))
        await until(pilot, lambda: (None, "before the panel looked") in shown(panel))
        assert "tailing… · push" in title(panel)
        fake.write_log(LIVE, LOAD.file_key, out="second line\n", err="a warning\n")
        await until(pilot, lambda: (None, "second line") in shown(panel))
        await panel_loop_runs(pilot, panel)
        assert polls(fake) == 0 and panel.follow_state is not None and panel.follow_state.push
        assert [c for c in fake.calls if c[0] == "captured_logs_stream"] == [
            ("captured_logs_stream", (LOAD.file_key, None))
        ]
        assert shown(panel) == [
            (None, "before the panel looked"),
            (None, "second line"),
            ("stderr", "a warning"),
        ]


async def test_stdout_and_stderr_interleave_in_arrival_order() -> None:
    fake = live_fake()
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await follow(pilot, panel, fake, (LOAD,))
        # Three writes the webserver noticed one by one, then one write to both streams noticed at once.
        fake.write_log(LIVE, LOAD.file_key, out="out 1\n")
        fake.write_log(LIVE, LOAD.file_key, err="err 1\n")
        fake.write_log(LIVE, LOAD.file_key, out="out 2\nout 3 is ")
        fake.write_log(LIVE, LOAD.file_key, out="cut\n", err="err 2\n")
        await until(pilot, lambda: len(shown(panel)) == 5)
        assert shown(panel) == [
            (None, "out 1"),
            ("stderr", "err 1"),
            (None, "out 2"),
            (None, "out 3 is cut"),  # a line split across pushes is joined
            ("stderr", "err 2"),
        ]


async def test_the_run_finishing_ends_the_subscription_reads_the_rest_and_says_end() -> None:
    fake = live_fake()
    live = fake.runs_list[0]
    fake.events[LIVE] = [
        RunEvent(
            "LogsCapturedEvent",
            "LOGS_CAPTURED",
            "Capturing logs",
            T0 - 9,
            "DEBUG",
            None,
            LOAD.file_key,
            LOAD.step_keys,
        ),
    ]
    tab = RunsTab(fake)
    async with Host(tab).run_test(size=(150, 40)) as pilot:
        runs = tab.query_one(RunsPanel)
        await until(pilot, lambda: runs.populated)
        runs.table.move_cursor(row=runs.table.get_row_index(LIVE))
        panel = tab.query_one(ComputeLogsPanel)
        await until(pilot, lambda: bool(fake.log_streams))
        fake.write_log(LIVE, LOAD.file_key, out="working\n")
        await until(pilot, lambda: (None, "working") in shown(panel))
        # Written but never pushed (the run ended before the webserver's watcher looked), and a last partial
        # line: the final query finds both.
        out, err = fake.logs[f"{LIVE}/{LOAD.file_key}"]
        fake.logs[f"{LIVE}/{LOAD.file_key}"] = (out + "late line\nno newline", err)
        fake.runs_list[0] = replace(live, status="SUCCESS", end_time=T0, can_terminate=False)
        await until(pilot, lambda: panel.done, timeout=10)
        assert not fake.log_streams and panel.follower is None
        assert [t for _, t in shown(panel)] == [
            "working",
            "late line",
            "no newline",
            "— end of compute log —",
        ]
        assert "complete" in title(panel) and "end of compute log" in screen_text(pilot.app)
        # The final read is the bulk read, from the cursor the pushes left.
        assert fake.log_limits and set(fake.log_limits) == {BULK_CHUNK_BYTES}
        assert ("captured_logs", (LOAD.file_key, "8:0")) in fake.calls
        before = polls(fake)
        await panel_loop_runs(pilot, panel)
        assert polls(fake) == before and not fake.log_streams


async def test_a_finished_run_is_read_by_query_without_subscribing() -> None:
    fake = FakeDagster()
    done = fake.runs_list[2]
    fake.write_log(done.run_id, "abcdefgh", out="x" * 200 + "\n")
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        panel.show_run(done)
        panel.set_log_keys(done.run_id, (LogKey(done.run_id, "abcdefgh", ("load_landing_files",)),), True)
        await until(pilot, lambda: panel.done)
        assert not [c for c in fake.calls if c[0] == "captured_logs_stream"]
        assert fake.log_limits == [BULK_CHUNK_BYTES, BULK_CHUNK_BYTES]


async def test_switching_step_or_run_cancels_the_subscription() -> None:
    fake = live_fake()
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await follow(pilot, panel, fake, (LOAD, WRITE))
        first = panel.follower
        assert first is not None and [s.key for s in fake.log_streams] == [f"{LIVE}/{LOAD.file_key}"]
        panel.select_step(LIVE, "write_raw_table")
        await until(pilot, lambda: [s.key for s in fake.log_streams] == [f"{LIVE}/{WRITE.file_key}"])
        assert first.done() and first.cancelled()
        fake.write_log(LIVE, LOAD.file_key, out="old step\n")
        fake.write_log(LIVE, WRITE.file_key, out="new step\n")
        await until(pilot, lambda: (None, "new step") in shown(panel))
        assert (None, "old step") not in shown(panel)
        second = panel.follower
        panel.show_run(fake.runs_list[1])  # another run: nothing of this one stays open
        await until(pilot, lambda: not fake.log_streams)
        assert second is not None and second.done() and panel.follower is None


async def test_a_failing_subscription_falls_back_to_polling_and_push_comes_back() -> None:
    fake = live_fake()
    fake.stream_failure = DagsterUnreachable("ws://fake-dagster:3000/graphql", "Connection refused")
    panel = ComputeLogsPanel(fake)
    panel.push_retry = (0.3, 0.3)
    async with Host(panel).run_test(size=SIZE) as pilot:
        panel.show_run(fake.runs_list[0])
        panel.set_log_keys(LIVE, (LOAD,), finished=False)
        await until(pilot, lambda: "polling (push unavailable: Connection refused" in title(panel))
        fake.write_log(LIVE, LOAD.file_key, out="polled line\n")
        await until(pilot, lambda: (None, "polled line") in shown(panel))
        assert polls(fake) >= 1
        attempts = sum(1 for c in fake.calls if c[0] == "captured_logs_stream")
        await until(pilot, lambda: sum(1 for c in fake.calls if c[0] == "captured_logs_stream") > attempts)
        # Push comes back: the subscription resumes from the polled cursor, polling stops.
        fake.stream_failure = None
        await until(pilot, lambda: bool(fake.log_streams) and title(panel).endswith("· push"))
        assert ("captured_logs_stream", (LOAD.file_key, "12:0")) in fake.calls
        fake.write_log(LIVE, LOAD.file_key, err="pushed line\n")
        await until(pilot, lambda: ("stderr", "pushed line") in shown(panel))
        settled = polls(fake)
        await panel_loop_runs(pilot, panel)
        assert polls(fake) == settled
        # A bad frame mid-stream: polling again, with the reason in the title; then push again.
        fake.stream_failure = DagsterGraphQLError(["subscription frame is not JSON: <html>"])
        fake.end_log_streams(DagsterGraphQLError(["subscription frame is not JSON: <html>"]))
        await until(
            pilot, lambda: "push unavailable: GraphQL error: subscription frame is not JSON" in title(panel)
        )
        fake.write_log(LIVE, LOAD.file_key, out="polled again\n")
        await until(pilot, lambda: (None, "polled again") in shown(panel))
        fake.stream_failure = None
        await until(pilot, lambda: bool(fake.log_streams) and title(panel).endswith("· push"))
        assert [t for _, t in shown(panel)] == ["polled line", "pushed line", "polled again"]


async def test_a_webserver_down_altogether_shows_the_banner_and_the_log_resumes() -> None:
    fake = live_fake()
    panel = ComputeLogsPanel(fake)
    panel.push_retry = (0.3, 0.3)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await follow(pilot, panel, fake, (LOAD,))
        fake.down = True
        fake.end_log_streams(DagsterUnreachable("ws://fake-dagster:3000/graphql", "the webserver closed"))
        await until(pilot, lambda: "webserver unreachable" in screen_text(pilot.app))
        fake.write_log(LIVE, LOAD.file_key, out="while it was down\n")
        fake.down = False
        await until(pilot, lambda: (None, "while it was down") in shown(panel))
        await until(pilot, lambda: "webserver unreachable" not in screen_text(pilot.app))
        await until(pilot, lambda: bool(fake.log_streams) and title(panel).endswith("· push"))


async def test_a_hidden_panel_holds_no_subscription_and_resumes_from_the_cursor() -> None:
    fake = live_fake()
    panel = ComputeLogsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await follow(pilot, panel, fake, (LOAD,))
        fake.write_log(LIVE, LOAD.file_key, out="seen\n")
        await until(pilot, lambda: (None, "seen") in shown(panel))
        panel.display = False
        await until(pilot, lambda: not fake.log_streams)
        fake.write_log(LIVE, LOAD.file_key, out="written while hidden\n")
        panel.display = True
        await until(pilot, lambda: (None, "written while hidden") in shown(panel))
        assert [t for _, t in shown(panel)] == ["seen", "written while hidden"]
        assert ("captured_logs_stream", (LOAD.file_key, "5:0")) in fake.calls
