"""Alerts without a screen: what counts as an event, each told once, the rate limit, the config section,
the desktop escapes, the command, and `edp-tui watch` against an in-memory Dagster."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edp_tui.alerts import detect
from edp_tui.alerts.command import run_alert_command
from edp_tui.alerts.desktop import OSC9, OSC777, desktop_escape, desktop_protocols
from edp_tui.alerts.events import CHECK_FAILED, KINDS, RUN_FAILED, SERVICE_UNHEALTHY, AlertEvent
from edp_tui.alerts.feed import WINDOW_S, AlertFeed
from edp_tui.alerts.monitor import AlertMonitor
from edp_tui.alerts.settings import AlertSettings
from edp_tui.cli import common, main
from edp_tui.config import ConfigError, load_config
from edp_tui.dagster.assets import AssetCheck, AssetInfo
from edp_tui.dagster.models import DaemonHealth, DaemonStatus, RunSummary
from edp_tui.docker.models import Health, RunState, ServiceState
from edp_tui.reload_status.models import Phase, Reload, ReloadStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))
from dagster_fake import FakeDagster  # noqa: E402

START = 1_800_000_000.0


def failed_run(run_id: str, ended: float, status: str = "FAILURE") -> RunSummary:
    return RunSummary(run_id, "ingestion_job", status, ended - 10, ended - 9, ended, update_time=ended)


def event(n: int, kind: str = RUN_FAILED) -> AlertEvent:
    return AlertEvent(kind, f"{kind}:{n}", "t", f"event {n}", START + n, str(n))


# --- what counts as an event --------------------------------------------------------------------------------
def test_only_runs_that_failed_after_the_watch_began_are_events() -> None:
    runs = [
        failed_run("old", START - 1),
        failed_run("new", START + 5),
        failed_run("ok", START + 5, status="SUCCESS"),
    ]
    events = detect.failed_runs(runs, START)
    assert [e.id for e in events] == ["run_failed:new"]
    assert events[0].details["run_id"] == "new" and "ingestion_job" in events[0].text


def test_a_failed_check_is_an_event_once_per_execution() -> None:
    def asset(status: str, ts: float, run_id: str) -> AssetInfo:
        check = AssetCheck("not_null_orders_id", status, "ERROR", run_id, ts)
        return AssetInfo(("orders",), "g", "loc", "repo", True, checks=(check,))

    assert detect.failed_checks([asset("FAILED", START - 5, "r0")], START) == []
    assert detect.failed_checks([asset("SUCCEEDED", START + 5, "r1")], START) == []
    first = detect.failed_checks([asset("FAILED", START + 5, "r1")], START)
    again = detect.failed_checks([asset("FAILED", START + 5, "r1")], START)
    other = detect.failed_checks([asset("EXECUTION_FAILED", START + 9, "r2")], START)
    assert first == again and first[0].kind == CHECK_FAILED
    assert first[0].id != other[0].id


def test_a_refused_reload_after_the_start_is_an_event() -> None:
    def status(outcome: str, at: float) -> ReloadStatus:
        reload = Reload(3, "watch", ("a.py",), (Phase("changed", at, 0.0, None),), outcome, "-", None, None)
        return ReloadStatus("etl", True, "watching", "inotify", None, False, None, None, None, (reload,), at)

    assert detect.refused_reloads({"etl": status("failed", START - 1)}, START) == []
    assert detect.refused_reloads({"etl": status("served", START + 1)}, START) == []
    [refused] = detect.refused_reloads({"etl": status("failed", START + 1)}, START)
    assert refused.subject == "etl" and "change not served" in refused.text


def test_conditions_fire_when_they_turn_bad_and_not_for_what_was_bad_at_the_start() -> None:
    conditions = detect.Conditions()
    bad = ServiceState("db", RunState.RUNNING, Health.UNHEALTHY)
    good = ServiceState("web", RunState.RUNNING, Health.HEALTHY)
    assert conditions.service_states([bad, good], START) == []  # the baseline
    assert conditions.service_states([bad, good], START + 1) == []
    [turned] = conditions.service_states([ServiceState("web", RunState.EXITED, exit_code=137)], START + 2)
    assert turned.kind == SERVICE_UNHEALTHY and "exited (137)" in turned.text
    assert conditions.service_states([ServiceState("web", RunState.EXITED, exit_code=137)], START + 3) == []
    # Recovered, then bad again: a new episode, a new id.
    assert conditions.service_states([good], START + 4) == []
    [again] = conditions.service_states([ServiceState("web", RunState.RESTARTING)], START + 5)
    assert again.id != turned.id
    # A one-shot service that exited 0 did its job.
    assert detect.service_trouble(ServiceState("init", RunState.EXITED, exit_code=0)) is None


def test_a_daemon_that_turns_stale_is_an_event_once() -> None:
    conditions = detect.Conditions()

    def health(beat: float, now: float) -> DaemonHealth:
        return DaemonHealth.evaluate((DaemonStatus("SCHEDULER", True, True, beat),), now, stale_after=90)

    assert conditions.daemon_health(health(START, START + 1)) == []
    [stale] = conditions.daemon_health(health(START, START + 500))
    assert stale.subject == "SCHEDULER" and "stale" in stale.text
    assert conditions.daemon_health(health(START, START + 510)) == []


# --- the feed: once, per kind, rate limit -------------------------------------------------------------------
def test_the_feed_tells_each_id_once() -> None:
    feed = AlertFeed(AlertSettings())
    assert [e.id for e in feed.offer([event(1), event(2)]).shown] == ["run_failed:1", "run_failed:2"]
    offered = feed.offer([event(1), event(2), event(3)])
    assert [e.id for e in offered.new] == ["run_failed:3"]


def test_the_feed_drops_kinds_switched_off() -> None:
    feed = AlertFeed(AlertSettings(kinds=frozenset(KINDS) - {CHECK_FAILED}))
    assert feed.offer([event(1, CHECK_FAILED)]).new == []
    assert len(feed.offer([event(2, RUN_FAILED)]).shown) == 1


def test_the_rate_limit_counts_what_it_does_not_show_and_forgets_after_a_minute() -> None:
    now = [0.0]
    feed = AlertFeed(AlertSettings(max_per_minute=2), clock=lambda: now[0])
    offered = feed.offer([event(n) for n in range(5)])
    assert len(offered.shown) == 2 and len(offered.suppressed) == 3 and len(offered.new) == 5
    assert feed.suppressed_total == 3
    assert feed.offer([event(9)]).suppressed  # still within the minute
    now[0] = WINDOW_S
    assert [e.id for e in feed.offer([event(10)]).shown] == ["run_failed:10"]


# --- the config file's alerts: section ----------------------------------------------------------------------
def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_alert_settings_from_the_config_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "alerts:\n  kinds: {check_failed: false}\n  bell: false\n"
        "  command: [notify-send, edp-tui]\n  max_per_minute: 3\n",
    )
    alerts = load_config(config_path=path, env={}).alerts
    assert not alerts.enabled(CHECK_FAILED) and alerts.enabled(RUN_FAILED)
    assert alerts.bell is False and alerts.desktop is True
    assert alerts.command == ("notify-send", "edp-tui") and alerts.max_per_minute == 3
    assert (
        load_config(config_path=write_config(tmp_path, "read_only: true\n"), env={}).alerts == AlertSettings()
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("alerts: [1]", "expected a mapping"),
        ("alerts: {sound: true}", "unknown key(s) sound"),
        ("alerts: {kinds: {run_faild: false}}", "unknown kind 'run_faild'"),
        ("alerts: {kinds: {run_failed: maybe}}", "kinds: run_failed: expected true or false"),
        ("alerts: {command: 'curl -d @- x'}", "run without a shell"),
        ("alerts: {command: [curl, '']}", "list of non-empty strings"),
        ("alerts: {max_per_minute: 0}", "at least 1"),
        ("alerts: {bell: 1}", "bell: expected true or false"),
    ],
)
def test_a_bad_alerts_section_says_where_and_why(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config_path=write_config(tmp_path, section + "\n"), env={})
    assert "alerts:" in str(raised.value) and message in str(raised.value)


# --- desktop escapes and the command ------------------------------------------------------------------------
def test_desktop_escapes_only_where_the_terminal_is_known_to_show_them() -> None:
    assert desktop_protocols({"TERM": "xterm-256color"}) == ()
    assert desktop_protocols({"TERM_PROGRAM": "iTerm.app"}) == (OSC9,)
    assert desktop_protocols({"TERM": "foot"}) == (OSC777,)
    assert desktop_protocols({"TERM": "foot", "TMUX": "/tmp/tmux-1/default,1,0"}) == ()


def test_outside_text_cannot_end_a_desktop_escape() -> None:
    hostile = "job\x07\x1b]0;pwned\x07"
    for protocol in (OSC9, OSC777):
        escape = desktop_escape(protocol, "Run; failed", hostile)
        assert escape.count("\x07") == 1 and escape.endswith("\x07")
        assert escape.count("\x1b") == 1 and escape.startswith("\x1b]")
    assert desktop_escape(OSC777, "a;b", "x").startswith("\x1b]777;notify;a,b;x")


def test_the_command_gets_the_event_on_stdin_and_in_its_environment(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    script = (
        "import json, os, sys; "
        "seen = {'stdin': json.load(sys.stdin), 'kind': os.environ['EDP_ALERT_KIND']}; "
        f"json.dump(seen, open({str(out)!r}, 'w'))"
    )
    assert run_alert_command([sys.executable, "-c", script], event(1)) is None
    seen = json.loads(out.read_text())
    assert seen["kind"] == RUN_FAILED and seen["stdin"]["id"] == "run_failed:1"
    assert seen["stdin"]["schema"] == "edp-tui.alert/1"


def test_a_failing_command_says_why() -> None:
    assert "not found" in (run_alert_command(["/nonexistent/notify"], event(1)) or "")
    failing = [sys.executable, "-c", "import sys; sys.exit('no route')"]
    assert "exited with 1: no route" in (run_alert_command(failing, event(1)) or "")


# --- the monitor and `edp-tui watch` against an in-memory Dagster -------------------------------------------
async def test_the_monitor_reads_the_asset_graph_only_when_a_run_changed() -> None:
    fake = FakeDagster()
    monitor = AlertMonitor(fake, since=START)
    look = await monitor.look()
    assert look.errors == [] and look.events == []
    assert ("assets", None) not in fake.calls
    fake.runs_list.append(failed_run("f" * 36, START + 30))
    look = await monitor.look()
    assert [e.id for e in look.events] == [f"run_failed:{'f' * 36}"]
    assert any(name == "assets" for name, _ in fake.calls)


async def test_an_unreadable_source_is_said_and_the_others_are_read() -> None:
    fake = FakeDagster()
    fake.down = True
    look = await AlertMonitor(fake, since=START).look()
    assert look.events == [] and {e.split(":")[0] for e in look.errors} == {"runs", "checks"}


def serve_fake(monkeypatch: pytest.MonkeyPatch, fake: FakeDagster) -> None:
    class Client:
        async def __aenter__(self) -> FakeDagster:
            return fake

        async def __aexit__(self, *exc: Any) -> None:
            return None

    monkeypatch.setattr(common.Context, "dagster_client", lambda context, timeout=10.0: Client())


def test_watch_until_a_run_fails_prints_it_as_a_json_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    fake = FakeDagster()
    fake.runs_list = [failed_run("old-run", time.time() - 100)]  # history: never told
    real_runs = fake.runs

    async def runs(*args: Any, **kwargs: Any) -> list[RunSummary]:
        if len(fake.runs_requests) == 2:  # the second look: a run failed meanwhile
            import time

            fake.runs_list.append(failed_run("new-run", time.time() + 1))
        return await real_runs(*args, **kwargs)

    monkeypatch.setattr(fake, "runs", runs)
    serve_fake(monkeypatch, fake)
    monkeypatch.setattr("edp_tui.cli.watch.asyncio.sleep", _no_sleep)
    result = CliRunner().invoke(main, ["watch", "--no-docker", "--json", "--until", "run_failed"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["kind"], e["subject"]) for e in lines] == [("run_failed", "new-run")]
    assert "run_failed:" in result.stderr


def test_watch_gives_up_after_its_timeout_with_exit_code_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    serve_fake(monkeypatch, FakeDagster())
    monkeypatch.setattr("edp_tui.cli.watch.asyncio.sleep", _no_sleep)
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr("edp_tui.cli.watch.time.monotonic", lambda: float(next(clock)))
    result = CliRunner().invoke(main, ["watch", "--no-docker", "--until", "run_failed", "--timeout", "150"])
    assert result.exit_code == 3, result.output
    assert "no run_failed within 150s" in result.stderr and result.stdout == ""


async def _no_sleep(_: float) -> None:
    return None
