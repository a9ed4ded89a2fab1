"""Models built from payloads captured from a real engine (tests/unit/fixtures/docker/capture.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edp_tui.docker.models import (
    WATCHED_ACTIONS,
    EngineEvent,
    EngineStatus,
    Health,
    RunState,
    ServiceState,
    parse_time,
    pick_container,
    state_from_inspect,
)
from edp_tui.util import fmt

FIXTURES = Path(__file__).parent / "fixtures" / "docker"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_healthy_running_container() -> None:
    state = state_from_inspect(load("inspect_healthy.json"))
    assert state.service == "flappy"
    assert state.state is RunState.RUNNING
    assert state.health is Health.HEALTHY
    assert state.failing_streak == 0
    assert state.exit_code is None
    assert state.last_probe is not None and state.last_probe.passed
    # The probe printed Rich markup: it is kept as plain data.
    assert "[bold]probe ok[/bold]" in state.last_probe.output
    assert state.image == "edp-local/debian:bookworm"
    assert state.container_name is not None and state.container_name.endswith("flappy-1")
    assert [str(p) for p in state.ports] == ["127.0.0.1:32768->8080/tcp"]
    assert state.started_at is not None and state.started_at.tzinfo is not None


def test_unhealthy_container_has_streak_and_failing_probe_output() -> None:
    state = state_from_inspect(load("inspect_unhealthy.json"))
    assert state.health is Health.UNHEALTHY
    assert state.failing_streak >= 2
    probe = state.last_probe
    assert probe is not None and probe.exit_code == 1 and not probe.passed
    assert "probe failed: no /tmp/healthy" in probe.output
    assert probe.end is not None and probe.start is not None and probe.end >= probe.start
    # Docker keeps its log oldest first; the model keeps that order.
    ends = [p.end for p in state.probes if p.end]
    assert ends == sorted(ends)


def test_exited_container_reports_exit_code() -> None:
    state = state_from_inspect(load("inspect_exited.json"))
    assert state.state is RunState.EXITED
    assert state.exit_code == 3
    assert state.state_label == "exited(3)"
    assert state.health is Health.NONE
    assert state.uptime(datetime.now(UTC)) is None
    assert state.finished_at is not None


def test_created_container_never_started() -> None:
    state = state_from_inspect(load("inspect_created.json"))
    assert state.state is RunState.CREATED
    assert state.started_at is None  # "0001-01-01T00:00:00Z" means never
    assert state.exit_code is None


def test_restarted_container_is_starting_with_a_new_start_time() -> None:
    before = state_from_inspect(load("inspect_healthy.json"))
    after = state_from_inspect(load("inspect_restarted_starting.json"))
    assert after.container_id == before.container_id
    assert after.health is Health.STARTING
    assert after.started_at is not None and before.started_at is not None
    assert after.started_at > before.started_at


def test_missing_service_model() -> None:
    state = ServiceState.missing("dagster-daemon")
    assert state.state is RunState.MISSING and state.state_label == "missing"
    assert state.container_id is None and state.last_probe is None


def test_uptime_counts_from_start() -> None:
    state = state_from_inspect(load("inspect_healthy.json"))
    assert state.started_at is not None
    assert state.uptime(state.started_at + timedelta(minutes=90)) == timedelta(minutes=90)
    # A clock slightly behind the engine's never shows a negative uptime.
    assert state.uptime(state.started_at - timedelta(seconds=3)) == timedelta(0)


def test_pick_container_prefers_running_then_newest() -> None:
    summaries = load("containers_list.json")
    chosen = pick_container(summaries)
    assert chosen is not None and chosen["State"] == "running"
    exited = [s for s in summaries if s["State"] != "running"]
    assert pick_container(exited) is not None
    newer = dict(exited[0], Id="newer", Created=exited[0]["Created"] + 10)
    assert pick_container([exited[0], newer])["Id"] == "newer"  # type: ignore[index]
    assert pick_container([]) is None
    oneoff = dict(exited[0], Labels={**exited[0]["Labels"], "com.docker.compose.oneoff": "True"})
    assert pick_container([oneoff]) is None  # `docker compose run` containers are not the service


def test_events_from_captured_stream() -> None:
    events = [EngineEvent.from_payload(p) for p in load("events.json")]
    parsed = [e for e in events if e is not None]
    assert len(parsed) == len(load("events.json"))
    health = [e for e in parsed if e.action == "health_status"]
    assert [e.detail for e in health] == ["healthy", "unhealthy", "healthy"]
    assert {e.service for e in health} == {"flappy"}
    assert all(e.project and e.project.startswith("edpcap") for e in parsed)
    dies = [e for e in parsed if e.action == "die"]
    assert any(e.service == "crasher" and e.detail == "3" for e in dies)
    assert all(e.time is not None and e.time.year >= 2024 for e in parsed)
    actions = {e.action for e in parsed}
    # Healthcheck execs are events too; the watcher ignores them (and filters them at the engine).
    assert "exec_start" in actions and "exec_start" not in WATCHED_ACTIONS
    assert {"create", "start", "die", "restart", "destroy", "health_status", "kill", "stop"} <= actions


def test_non_container_events_are_ignored() -> None:
    assert EngineEvent.from_payload({"Type": "network", "Action": "connect", "Actor": {"ID": "x"}}) is None
    assert EngineEvent.from_payload({"Type": "container", "Action": "", "Actor": {"ID": "x"}}) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-25T18:45:07.036180041Z", datetime(2026, 11, 25, 18, 45, 7, 36180, tzinfo=UTC)),
        ("2026-11-25T18:45:07Z", datetime(2026, 11, 25, 18, 45, 7, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    assert parse_time(raw) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h00m"),
        (3 * 3600 + 5 * 60, "3h05m"),
        (50 * 3600, "2d02h"),
    ],
)
def test_coarse_duration_of_an_uptime(seconds: int, text: str) -> None:
    assert fmt.duration(timedelta(seconds=seconds), coarse=True) == text


def test_engine_status_summary() -> None:
    assert EngineStatus("unix:///x", True, version="20.10").summary == "engine 20.10"
    down = EngineStatus("unix:///x", False, "connection refused", retry_in=4, attempt=3)
    assert down.summary == "unreachable: connection refused; retrying in 4 s"


def test_stopped_container_has_no_health_verdict_but_keeps_its_probe_log() -> None:
    payload = load("inspect_unhealthy.json")
    payload["State"] = dict(payload["State"], Status="exited", Running=False, ExitCode=137)
    state = state_from_inspect(payload)
    assert state.state_label == "exited(137)"
    assert state.health is Health.NONE  # the engine still says "unhealthy": no probe runs on a dead container
    assert state.probes and state.last_probe is not None and not state.last_probe.passed
