"""The CLI twins without a stack: argument checks, read-only refusals, exit codes, and the Dagster paths
served with responses captured from a real webserver (httpx.MockTransport), e.g. a location that fails
to load."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from edp_tui.backends import DAEMON_ERRORS_FILE
from edp_tui.cli import common, main
from edp_tui.cli import launch as launch_cli
from edp_tui.cli import logs as logs_cli
from edp_tui.cli import stack as stack_cli
from edp_tui.cli import status as status_cli
from edp_tui.cli import terminate as terminate_cli
from edp_tui.config import repo_root
from edp_tui.dagster import reload as reloading
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.daemon_errors import DaemonErrorHistory
from edp_tui.dagster.errors import DagsterGraphQLError, DagsterUnreachable
from edp_tui.dagster.models import LogChunk, LogKey, RunDetail, RunSummary, StepStat

FIXTURES = Path(__file__).parent / "fixtures" / "dagster"
# Nothing listens on port 9 (discard) on a test machine: connection refused at once.
DEAD_URL = "http://127.0.0.1:9"
COMMANDS = ("status", "reload", "launch", "runs", "terminate", "logs", "up", "down")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(main, list(args), env={"EDP_TUI_CONFIG": "", **(env or {})}, catch_exceptions=False)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own ~/.config/edp-tui/config.yaml or EDP_TUI_* variables must not change the outcome.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    # The log file and what the daemons' heartbeats told (daemon-errors.json) live beside it.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("EDP_TUI_READ_ONLY", "EDP_TUI_WEBSERVER_URL", "EDP_TUI_CONFIG", "EDP_TUI_COMPOSE_FILE"):
        monkeypatch.delenv(var, raising=False)


def captured(name: str) -> tuple[int, Any]:
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    return raw["status"], raw["body"]


Answer = str | Callable[[], tuple[int, Any]]


def serve(monkeypatch: pytest.MonkeyPatch, responses: dict[str, Answer], seen: list[str]) -> None:
    """Make the commands talk to captured responses (operation name -> fixture name, or a function that
    answers (status, body))."""

    def handler(request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.content)["operationName"]
        seen.append(operation)
        answer = responses[operation]
        status, body = captured(answer) if isinstance(answer, str) else answer()
        return httpx.Response(status, json=body)

    def client(context: Any, timeout: float = 10.0) -> DagsterClient:
        url = "http://dagster.test/graphql"
        return DagsterClient(
            url,
            transport=httpx.MockTransport(handler),
            read_only=context.config.read_only,
            # As backends.dagster_client: what earlier processes saw of the daemons' errors, from the file.
            error_history=DaemonErrorHistory(url, context.config.log_file.parent / DAEMON_ERRORS_FILE),
        )

    monkeypatch.setattr(common.Context, "dagster_client", client)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Usage: main {command}" in result.output
    # The first docstring line is the summary the group's --help lists.
    summary = (main.commands[command].help or "").splitlines()[0]
    assert summary in " ".join(result.output.split())
    assert " ".join(summary.split()[:3]) in invoke("--help").output
    assert "--help" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("launch", "ingestion_job"),
        ("reload",),
        ("reload", "etl_pipeline"),
        ("up",),
        ("down", "--volumes"),
        ("terminate", "0123456789"),
        ("terminate", "--force", "0123456789"),
    ],
)
def test_read_only_refuses_every_mutation_before_contacting_anything(args: tuple[str, ...]) -> None:
    # A dead URL: if the command tried to talk to Dagster it would say "unreachable" instead.
    result = invoke("--read-only", "--webserver-url", DEAD_URL, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("edp-tui: read-only mode:")
    assert "refused" in result.stderr and "unreachable" not in result.stderr


def test_read_only_from_the_environment_refuses_too() -> None:
    result = invoke("--webserver-url", DEAD_URL, "launch", "x", env={"EDP_TUI_READ_ONLY": "yes"})
    assert result.exit_code == 2 and "read-only mode: launch of x refused" in result.stderr


def test_launch_rejects_invalid_yaml_before_connecting(tmp_path: Path) -> None:
    bad = tmp_path / "run.yaml"
    bad.write_text("ops:\n  raw_retail_data: [unclosed\n")
    result = invoke("--webserver-url", DEAD_URL, "launch", "ingestion_job", "--config", str(bad))
    assert result.exit_code == 2
    assert f"run config {bad}: not valid YAML" in result.stderr
    assert "line 2" in result.stderr  # PyYAML's position of the problem


def test_launch_rejects_a_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    listing = tmp_path / "run.yaml"
    listing.write_text("- a\n- b\n")
    result = invoke("--webserver-url", DEAD_URL, "launch", "j", "--config", str(listing))
    assert result.exit_code == 2 and "must be a mapping" in result.stderr and "got list" in result.stderr


def test_launch_rejects_a_missing_config_file(tmp_path: Path) -> None:
    result = invoke("--webserver-url", DEAD_URL, "launch", "j", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "cannot read run config" in result.stderr


def test_launch_rejects_a_tag_without_equals() -> None:
    result = invoke("--webserver-url", DEAD_URL, "launch", "j", "--tag", "team")
    assert result.exit_code == 2 and "'team' is not key=value" in result.stderr


def test_parse_tag_keeps_equals_in_values() -> None:
    assert launch_cli.tag_option(None, None, ["a=b=c", " k =v"]) == {"a": "b=c", "k": "v"}


def test_logs_rejects_both_stream_flags() -> None:
    result = invoke("--webserver-url", DEAD_URL, "logs", "abc", "--stdout", "--stderr")
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_runs_rejects_an_unknown_status() -> None:
    result = invoke("--webserver-url", DEAD_URL, "runs", "--status", "DONE")
    assert result.exit_code == 2 and "'DONE' is not one of" in result.stderr


def test_reload_prints_the_real_load_error_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(
        monkeypatch,
        {"Workspace": "workspace_load_error", "ReloadLocation": "reload_syntax_error"},
        seen,
    )
    result = invoke("reload", "probe_location")
    assert result.exit_code == 1, result.output
    assert "probe_location: FAILED to load (error)" in result.stdout
    # The user's SyntaxError with its file and line, not only Dagster's wrapper message.
    assert 'File "/tmp/dcap/app/definitions.py", line 78' in result.stdout
    assert "SyntaxError: invalid syntax" in result.stdout
    assert "reloading probe_location" in result.stderr
    assert seen == ["Workspace", "ReloadLocation", "Workspace"]


def test_reload_of_an_unknown_location_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(monkeypatch, {"Workspace": "workspace_loaded"}, seen)
    result = invoke("reload", "nope")
    assert result.exit_code == 2
    assert "unknown code location 'nope'; known: " in result.stderr
    assert seen == ["Workspace"]  # nothing reloaded


def test_status_json_of_a_broken_location(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(
        monkeypatch,
        {"Workspace": "workspace_load_error", "DaemonHealth": "daemon_health", "RunsLean": "runs_lean"},
        seen,
    )
    result = invoke("status", "--json", "--no-docker")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["schema"] == "edp-tui.status/1" and report["healthy"] is False
    assert report["docker"] == {"checked": False}
    (loc,) = report["locations"]
    assert loc["state"] == "error" and "SyntaxError: invalid syntax" in loc["error"]
    assert any(p.startswith("location probe_location: error") for p in report["problems"])
    assert report["runs"] and {"run_id", "job", "status", "started", "duration_s"} <= set(report["runs"][0])


PG_ERROR = "OperationalError: server closed the connection unexpectedly"


def daemon_health(heartbeat: float, *errors: str) -> tuple[int, Any]:
    """A DaemonHealth answer: the sensor daemon with ``errors`` in its last heartbeat, the scheduler fine."""
    statuses = [
        {
            "daemonType": daemon,
            "required": True,
            "healthy": not errs,
            "lastHeartbeatTime": heartbeat,
            "lastHeartbeatErrors": [{"message": e, "className": "OperationalError"} for e in errs],
        }
        for daemon, errs in (("SENSOR", errors), ("SCHEDULER", ()))
    ]
    return 200, {"data": {"instance": {"daemonHealth": {"allDaemonStatuses": statuses}}}}


def test_status_with_past_daemon_errors_is_healthy_and_shows_them_as_past(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Minutes after PostgreSQL came back, the sensor daemon's heartbeats still carry its error: a dashboard
    (or an earlier `status`) saw it in an earlier heartbeat, and no new error came since: history."""
    now = time.time()
    earlier = DaemonErrorHistory(
        "http://dagster.test/graphql", tmp_path / "state" / "edp-tui" / DAEMON_ERRORS_FILE
    )
    earlier.observe("SENSOR", now - 240, (PG_ERROR,))
    seen: list[str] = []
    answers: dict[str, Answer] = {
        "Workspace": "workspace_loaded",
        "DaemonHealth": lambda: daemon_health(now - 10, PG_ERROR),
        "RunsLean": "runs_lean",
    }
    serve(monkeypatch, answers, seen)
    result = invoke("status", "--no-docker")
    assert result.exit_code == 0, result.output
    assert "Daemon: ok (2 daemons heartbeating; past errors of SENSOR, none since " in result.stdout
    assert "SENSOR past error, none since " in result.stdout and PG_ERROR in result.stdout
    report = json.loads(invoke("status", "--no-docker", "--json").stdout)
    (sensor,) = [d for d in report["daemon"]["daemons"] if d["type"] == "SENSOR"]
    assert report["healthy"] and sensor["errors"] == [PG_ERROR] and sensor["errors_past"]
    assert sensor["no_new_error_since"] == pytest.approx(now - 240)


def test_status_waits_for_the_next_heartbeat_of_errors_of_unknown_age(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    now = time.time()
    reads: list[float] = []

    def health() -> tuple[int, Any]:
        # The next heartbeat is due a few seconds from now; from the second read on it has come, with no
        # new error.
        reads.append(time.time())
        return daemon_health(now - 28 if len(reads) == 1 else now + 1, PG_ERROR)

    answers: dict[str, Answer] = {
        "Workspace": "workspace_loaded",
        "DaemonHealth": health,
        "RunsLean": "runs_lean",
    }
    serve(monkeypatch, answers, [])
    result = invoke("status", "--no-docker")
    assert result.exit_code == 0, result.output
    assert "daemon SENSOR: errors of unknown age; waiting for the next heartbeat" in result.stderr
    assert len(reads) >= 2 and "past errors of SENSOR" in result.stdout
    # Nobody saw them before and no wait: errors of unknown age count as current.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "fresh-state"))
    reads.clear()
    result = invoke("status", "--no-docker", "--heartbeat-wait", "0")
    assert result.exit_code == 1 and len(reads) == 1
    assert f"daemon: errors (SENSOR: {PG_ERROR})" in result.stdout
    assert f"SENSOR error (age unknown): {PG_ERROR}" in result.stdout


def loaded_sections(**docker: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    service = {"service": "postgres", "state": "running", "health": "healthy", "healthy": True}
    docker_section = {"checked": True, "reachable": True, "services": [service], **docker}
    dagster = {
        "reachable": True,
        "locations": [{"name": "etl", "state": "loaded", "healthy": True, "error": None}],
        "daemon": {"state": "ok", "healthy": True, "detail": "3 daemons heartbeating"},
    }
    return docker_section, dagster


def test_evaluate_healthy_unhealthy_unreachable() -> None:
    docker, dagster = loaded_sections()
    assert status_cli.evaluate(docker, dagster) == (0, [])

    docker["services"][0].update(health="starting", healthy=False)
    code, problems = status_cli.evaluate(docker, dagster)
    assert code == 1 and problems == ["service postgres: running, starting"]

    docker, dagster = loaded_sections()
    dagster["daemon"] = {"state": "stale", "healthy": False, "detail": "SCHEDULER stale"}
    assert status_cli.evaluate(docker, dagster) == (1, ["daemon: stale (SCHEDULER stale)"])

    docker, dagster = loaded_sections(reachable=False, error="no socket", services=[])
    assert status_cli.evaluate(docker, dagster) == (2, ["docker: no socket"])

    docker, dagster = loaded_sections()
    dagster = {"reachable": False, "error": "refused"}
    assert status_cli.evaluate(docker, dagster) == (2, ["webserver: refused"])


def test_rendered_status_shows_outside_text_inertly() -> None:
    docker, dagster = loaded_sections()
    hostile = "boom\x1b]0;pwned\x07\x1b[2J"
    report = {
        "docker": {**docker, "project": "p", "endpoint": "unix:///s", "engine_version": "1"},
        "webserver": {"url": "http://x", "reachable": True, "error": None},
        "locations": [{"name": "etl", "state": "error", "healthy": False, "error": hostile, "jobs": []}],
        "daemon": dagster["daemon"],
        "runs": [],
        "healthy": False,
        "problems": [f"location etl: error: {hostile}"],
    }
    report["docker"]["services"][0].update(
        exit_code=None, uptime_s=65.0, restart_count=0, last_probe_output=None, error=None
    )
    text = "\n".join(status_cli.render_status(report))
    assert "\x1b" not in text and "\x07" not in text
    assert "boom␛]0;pwned␇␛[2J" in text
    assert "postgres" in text and "1m" in text


class FakeLogs:
    """captured_logs answering from a list of chunks, then "nothing new" forever."""

    def __init__(self, chunks: list[LogChunk]) -> None:
        self.chunks = chunks
        self.cursors: list[str | None] = []

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 0) -> LogChunk:
        self.cursors.append(cursor)
        if self.chunks:
            return self.chunks.pop(0)
        return LogChunk("", "", cursor or "0:0")


async def test_log_printer_sanitizes_and_rejoins_partial_lines(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeLogs(
        [
            LogChunk("plain\nhalf a ", "", "14:0"),
            LogChunk("line\n\x1b[31mred\x1b[0m \x1b[2J\x1b]8;;http://x\x07", "warn\n", "60:5"),
        ]
    )
    printer = logs_cli.LogPrinter(LogKey("run", "key", ("step",)), ["stdout", "stderr"], tag_stderr=True)
    assert await printer.poll(fake) is True  # type: ignore[arg-type]
    printer.flush()
    out = capsys.readouterr().out.splitlines()
    assert out == ["plain", "half a line", "stderr| warn", "red ␛[2J␛]8;;http://x␇"]
    assert fake.cursors == [None, "14:0", "60:5"]  # resumed from the byte cursor each time
    assert await printer.poll(fake) is False  # type: ignore[arg-type]


async def test_log_printer_prints_one_stream_unprefixed(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeLogs([LogChunk("out\n", "err\n", "4:4")])
    printer = logs_cli.LogPrinter(LogKey("run", "key"), ["stderr"], tag_stderr=False)
    await printer.poll(fake)  # type: ignore[arg-type]
    assert capsys.readouterr().out == "err\n"


def test_table_aligns_columns() -> None:
    lines = common.table(["A", "LONGER"], [["xyz", "1"], ["q", "22"]])
    assert lines == ["  A    LONGER", "  xyz  1", "  q    22"]


def test_reload_without_an_answer_reads_the_outcome_from_the_workspace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The webserver answers the reload mutation only when loading is over; a read timeout must not be
    # reported as "unreachable": the command waits until the entry's update time moves on.
    status, before = captured("workspace_loaded")
    entry = before["data"]["workspaceOrError"]["locationEntries"][0]
    loading = json.loads(json.dumps(before))
    loading["data"]["workspaceOrError"]["locationEntries"][0].update(
        loadStatus="LOADING", updatedTimestamp=entry["updatedTimestamp"] + 1
    )
    reloaded = json.loads(json.dumps(before))
    reloaded["data"]["workspaceOrError"]["locationEntries"][0]["updatedTimestamp"] += 5
    answers = iter([before, before, loading, reloaded])  # the first read after the timeout is still old
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.content)["operationName"]
        seen.append(operation)
        if operation == "ReloadLocation":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(status, json=next(answers))

    def client(context: Any, timeout: float = 10.0) -> DagsterClient:
        return DagsterClient("http://dagster.test/graphql", transport=httpx.MockTransport(handler))

    monkeypatch.setattr(common.Context, "dagster_client", client)
    monkeypatch.setattr(reloading, "POLL_S", 0.01)
    result = invoke("reload", entry["name"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{entry['name']}: loaded in ")
    assert "waiting for the outcome" in result.stderr
    assert seen == ["Workspace", "ReloadLocation", "Workspace", "Workspace", "Workspace"]


class FlakyRuns:
    """client.run() failing like a webserver whose database restarts, then answering."""

    def __init__(self, failures: list[Exception], answers: list[RunDetail]) -> None:
        self.failures = failures
        self.answers = answers
        self.calls = 0

    async def run(self, run_id: str) -> RunDetail:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.answers.pop(0)


def detail(status: str, step_status: str | None) -> RunDetail:
    summary = RunSummary("0123456789", "ingestion_job", status, 1.0, 2.0, 5.0 if step_status else None)
    return RunDetail(summary, (StepStat("raw_retail_data", step_status, 2.0, 4.0),))


async def test_waiting_rides_out_transient_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(common, "RETRY_BASE_S", 0.001)
    monkeypatch.setattr(launch_cli, "POLL_S", 0.001)
    sql = "(psycopg2.OperationalError) server closed the connection unexpectedly\n[SQL: SELECT " + "x" * 5000
    fake = FlakyRuns(
        [DagsterGraphQLError([sql]), DagsterUnreachable("http://w/graphql", "ReadTimeout")],
        [detail("STARTED", "IN_PROGRESS"), detail("SUCCESS", "SUCCESS")],
    )
    result = await launch_cli.follow_run(fake, "0123456789", timeout=None)  # type: ignore[arg-type]
    assert result.run.status == "SUCCESS" and fake.calls == 4
    err = capsys.readouterr().err
    assert err.count("could not read run 01234567") == 2
    assert "more characters)" in err and "\n[SQL" not in err  # one shortened line per failure
    assert "step raw_retail_data: SUCCESS in 2.0s" in err


async def test_waiting_gives_up_after_the_failure_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "RETRY_BASE_S", 0.001)
    errors: list[Exception] = [DagsterUnreachable("http://w", "refused") for _ in range(20)]
    fake = FlakyRuns(errors, [])
    with pytest.raises(DagsterUnreachable):
        await launch_cli.follow_run(fake, "0123456789", timeout=None)  # type: ignore[arg-type]
    assert fake.calls == common.MAX_CONSECUTIVE_FAILURES + 1


def run_answer(status: str, can_terminate: bool) -> dict[str, Any]:
    run = {
        "__typename": "Run",
        "runId": "0123456789",
        "jobName": "full_refresh_job",
        "status": status,
        "creationTime": 1.0,
        "startTime": 2.0,
        "endTime": None,
        "canTerminate": can_terminate,
        "stepStats": [],
        "tags": [],
    }
    return {"data": {"runOrError": run}}


def serve_terminate(
    monkeypatch: pytest.MonkeyPatch, statuses: list[tuple[str, bool]], sent: list[dict[str, Any]]
) -> None:
    """Run answers in order (the last one repeats) and the terminate mutations received."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["operationName"] == "TerminateRun":
            sent.append(body["variables"])
            ok = {"__typename": "TerminateRunSuccess", "run": {"runId": "0123456789", "status": "CANCELING"}}
            return httpx.Response(200, json={"data": {"terminateRun": ok}})
        status, can = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return httpx.Response(200, json=run_answer(status, can))

    def client(context: Any, timeout: float = 10.0) -> DagsterClient:
        return DagsterClient("http://dagster.test/graphql", transport=httpx.MockTransport(handler))

    monkeypatch.setattr(common.Context, "dagster_client", client)
    monkeypatch.setattr(terminate_cli, "POLL_S", 0.01)


def test_force_terminate_marks_a_stuck_run_canceled(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    serve_terminate(monkeypatch, [("CANCELING", False), ("CANCELED", False)], sent)
    result = invoke("terminate", "--force", "0123456789")
    assert result.exit_code == 0, result.output
    assert sent == [{"runId": "0123456789", "terminatePolicy": "MARK_AS_CANCELED_IMMEDIATELY"}]
    assert result.stdout == "0123456789 CANCELED\n" and "marked canceled" in result.stderr


def test_a_run_stuck_in_canceling_points_at_force(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    serve_terminate(monkeypatch, [("STARTED", True), ("CANCELING", False)], sent)
    result = invoke("terminate", "--timeout", "0.2", "0123456789")
    assert result.exit_code == 1
    assert sent == [{"runId": "0123456789", "terminatePolicy": "SAFE_TERMINATE"}]
    assert "still CANCELING" in result.stderr and "terminate --force" in result.stderr


def test_terminating_an_ended_run_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    serve_terminate(monkeypatch, [("SUCCESS", False)], sent)
    result = invoke("terminate", "--force", "0123456789")
    assert result.exit_code == 0 and sent == [] and "already ended: SUCCESS" in result.stderr


@pytest.mark.parametrize(
    ("args", "script_call", "compose_tail"),
    [
        (
            ("up", "--no-build", "--wait-timeout", "120"),
            ["bring-up.sh", "--timeout", "120", "--no-build"],
            ["up", "--detach", "--wait", "--wait-timeout", "120", "--no-build"],
        ),
        (("down", "--volumes"), ["tear-down.sh", "--volumes"], ["down", "--remove-orphans", "--volumes"]),
    ],
)
def test_up_and_down_run_the_own_scripts_for_the_own_stack_and_compose_for_another(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: tuple[str, ...],
    script_call: list[str],
    compose_tail: list[str],
) -> None:
    calls: list[tuple[list[str], str, Path]] = []

    def record(command: Any, what: str, cwd: Path) -> int:
        calls.append((list(command), what, cwd))
        return 0

    monkeypatch.setattr(stack_cli, "run_streaming", record)
    monkeypatch.setattr(stack_cli, "compose_command", lambda: ("docker", "compose"))
    # The repository's own compose file: its script (engine check, air-gapped images, stack/.env).
    assert invoke(*args).exit_code == 0
    command, what, cwd = calls.pop()
    assert command[0] == "bash" and Path(command[1]).name == script_call[0]
    assert command[2:] == script_call[1:] and what == script_call[0].removesuffix(".sh")
    assert cwd == repo_root()
    # Another compose file: Compose itself on it, in its folder.
    other = tmp_path / "other" / "compose.yaml"
    other.parent.mkdir()
    other.write_text("services: {}\n")
    assert invoke("--compose-file", str(other), "--project", "p1", *args).exit_code == 0
    command, what, cwd = calls.pop()
    assert command == ["docker", "compose", "-f", str(other.resolve()), "-p", "p1", *compose_tail]
    assert what == f"compose {args[0]}" and cwd == other.parent.resolve()
    # A compose file that is not there: a clear message, nothing run.
    result = invoke("--compose-file", str(tmp_path / "missing.yaml"), *args)
    assert result.exit_code == 2 and "does not exist" in result.stderr and calls == []
