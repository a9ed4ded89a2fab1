"""Models parsed from responses captured from a real dagster-webserver 1.13.27 (fixtures/dagster)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edp_tui.dagster.client import expect
from edp_tui.dagster.errors import DagsterPythonError, DagsterRequestRejected, RunConfigInvalid
from edp_tui.dagster.models import (
    DaemonHealth,
    DaemonStatus,
    EventPage,
    InstigatorInfo,
    LocationInfo,
    LogChunk,
    RunDetail,
    RunSummary,
    log_keys_from_events,
)

FIXTURES = Path(__file__).parent / "fixtures" / "dagster"


def data(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())["body"]["data"]


def test_loaded_location_lists_jobs_and_hides_dunder_jobs() -> None:
    ws = expect(data("workspace_loaded")["workspaceOrError"], "Workspace")
    [loc] = [LocationInfo.from_graphql(e) for e in ws["locationEntries"]]
    assert loc.state == "loaded" and loc.error is None and loc.server_id
    assert loc.repositories[0].name == "__repository__"
    assert "__ASSET_JOB" in [j.name for j in loc.repositories[0].jobs]
    assert [j.name for _, j in loc.visible_jobs()] == ["assets_job", "chatty_job", "failing_job"]
    assert loc.repositories[0].schedules == ("chatty_schedule",)


def test_load_error_keeps_the_real_syntax_error_from_the_error_chain() -> None:
    ws = expect(data("workspace_load_error")["workspaceOrError"], "Workspace")
    loc = LocationInfo.from_graphql(ws["locationEntries"][0])
    assert loc.state == "error" and loc.repositories == ()
    assert loc.error is not None and loc.error.class_name == "DagsterUserCodeLoadError"
    assert "SyntaxError: invalid syntax" in loc.error.text
    assert "def broken(:" in loc.error.text


def test_reload_results() -> None:
    ok = LocationInfo.from_graphql(
        expect(data("reload_success")["reloadRepositoryLocation"], "WorkspaceLocationEntry")
    )
    assert ok.state == "loaded"
    bad = LocationInfo.from_graphql(data("reload_syntax_error")["reloadRepositoryLocation"])
    assert bad.state == "error" and bad.error is not None and "SyntaxError" in bad.error.text
    # A reload racing a code fix came back as HTTP 500 with an entry but no location: "unknown".
    race = LocationInfo.from_graphql(data("reload_race_500")["reloadRepositoryLocation"])
    assert race.state == "unknown"
    with pytest.raises(DagsterRequestRejected, match="Location nope does not exist"):
        expect(data("reload_not_found")["reloadRepositoryLocation"], "WorkspaceLocationEntry")


def test_runs_lean_and_durations() -> None:
    runs = [RunSummary.from_graphql(r) for r in expect(data("runs_lean")["runsOrError"], "Runs")["results"]]
    statuses = {r.job_name: r.status for r in runs}
    assert statuses == {"failing_job": "FAILURE", "chatty_job": "SUCCESS"}
    assert all(r.is_terminal and not r.can_terminate for r in runs)
    run = runs[1]
    assert run.start_time is not None and run.end_time is not None
    assert run.duration(now=0) == pytest.approx(run.end_time - run.start_time)
    queued = RunSummary.from_graphql(data("launch_success")["launchRun"]["run"])
    assert queued.status == "QUEUED" and queued.duration(now=1e10) is None and queued.can_terminate


def test_run_detail_has_steps_and_tags() -> None:
    ok = RunDetail.from_graphql(data("run_success")["runOrError"])
    assert [(s.step_key, s.status) for s in ok.steps] == [("chatty", "SUCCESS"), ("after_chatty", "SUCCESS")]
    failed = RunDetail.from_graphql(data("run_failure")["runOrError"])
    assert failed.run.status == "FAILURE" and ("dagster/failure_reason", "STEP_FAILURE") in failed.tags
    with pytest.raises(DagsterRequestRejected, match="could not be found"):
        expect(data("run_not_found")["runOrError"], "Run")


def test_event_page_and_log_keys_come_from_logs_captured_events() -> None:
    page = EventPage.from_graphql(data("run_events_success")["logsForRun"])
    assert not page.has_more and page.cursor
    assert page.events[-1].event_type == "ENGINE_EVENT" and page.events[0].event_type == "RUN_ENQUEUED"
    assert page.events[0].timestamp is not None and 1.7e9 < page.events[0].timestamp < 2e9  # ms -> s
    run_id = data("run_success")["runOrError"]["runId"]
    keys = log_keys_from_events(run_id, page.events)
    assert [k.step_keys for k in keys] == [("chatty",), ("after_chatty",)]
    assert keys[0].as_list() == [run_id, "compute_logs", keys[0].file_key] and len(keys[0].file_key) == 8
    first = EventPage.from_graphql(data("run_events_page1")["logsForRun"])
    assert first.has_more and len(first.events) == 5


def test_step_failure_event_carries_the_users_exception() -> None:
    page = EventPage.from_graphql(data("run_events_failure")["logsForRun"])
    failures = [e for e in page.events if e.event_type == "STEP_FAILURE"]
    assert failures and failures[0].error is not None
    assert "intentional failure from boom op" in failures[0].error


def test_captured_logs_chunk_and_cursor() -> None:
    chunk = LogChunk.from_graphql(data("captured_logs_full")["capturedLogs"])
    assert chunk.stdout.startswith("stdout line 0 [bold]markup[/bold]\n")
    assert "stderr line 19" in chunk.stderr
    out_bytes, err_bytes = (int(x) for x in chunk.cursor.split(":"))
    assert out_bytes == len(chunk.stdout.encode()) and err_bytes == len(chunk.stderr.encode())
    empty = LogChunk.from_graphql(data("captured_logs_nothing_new")["capturedLogs"])
    assert empty.stdout == "" and empty.stderr == "" and empty.cursor == "100000:100000"


def test_schedules_and_sensors() -> None:
    [stopped] = [
        InstigatorInfo.schedule_from_graphql(s, "probe_location", "__repository__")
        for s in data("schedules_stopped")["schedulesOrError"]["results"]
    ]
    assert (stopped.status, stopped.next_tick, stopped.last_tick) == ("STOPPED", None, None)
    assert stopped.cadence == "*/5 * * * * (UTC)" and stopped.targets == ("chatty_job",)
    assert stopped.state_id and stopped.state_id.endswith(stopped.selector_id or "?")
    [running] = [
        InstigatorInfo.schedule_from_graphql(s, "probe_location", "__repository__")
        for s in data("schedules_running")["schedulesOrError"]["results"]
    ]
    assert running.running and running.next_tick is not None
    [sensor] = [
        InstigatorInfo.sensor_from_graphql(s, "p", "r")
        for s in data("sensors_running")["sensorsOrError"]["results"]
    ]
    assert sensor.cadence == "every 30s" and sensor.running
    assert sensor.last_tick is not None and sensor.last_tick.status == "SKIPPED"
    assert sensor.last_tick.skip_reason == "nothing to do"


def test_python_error_while_location_broken_is_raised_with_class() -> None:
    with pytest.raises(DagsterPythonError, match="DagsterCodeLocationLoadError") as info:
        expect(data("schedules_location_broken_500")["schedulesOrError"], "Schedules")
    assert "SyntaxError" in str(info.value.message)


def test_run_config_errors_carry_paths_recovered_from_the_message() -> None:
    with pytest.raises(RunConfigInvalid) as info:
        expect(data("launch_config_invalid")["launchRun"], "LaunchRunSuccess")
    paths = [e.path for e in info.value.errors]
    assert paths == ["root:ops:chatty:config", "root:ops:chatty:config:lines"]
    assert info.value.errors[0].reason == "FIELD_NOT_DEFINED"


def test_daemon_staleness_is_judged_from_heartbeats_not_the_healthy_flag() -> None:
    statuses = data("daemon_health")["instance"]["daemonHealth"]["allDaemonStatuses"]
    daemons = tuple(DaemonStatus.from_graphql(d) for d in statuses)
    assert all(d.healthy for d in daemons)
    newest = max(d.last_heartbeat or 0 for d in daemons)
    oldest = min(d.last_heartbeat or 0 for d in daemons)
    assert DaemonHealth.evaluate(daemons, now=newest + 1).state == "ok"
    # 100 s after the last SENSOR heartbeat: stale, though GraphQL still says healthy.
    later = DaemonHealth.evaluate(daemons, now=oldest + 100)
    assert later.state == "stale" and "SENSOR" in later.stale_types and "SCHEDULER" not in later.stale_types
    assert DaemonHealth.evaluate(daemons, now=oldest + 10, stale_after=5).state == "stale"
    assert DaemonHealth.evaluate((), now=0).state == "missing"
