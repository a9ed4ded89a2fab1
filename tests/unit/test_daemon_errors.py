"""A daemon's errors and their age, told from its heartbeats: Dagster keeps every error of the last five
minutes in each heartbeat, recovered or not, with no time; an error older than a heartbeat that brought no new
one is past (history), not a current problem."""

from __future__ import annotations

from pathlib import Path

from edp_tui.dagster.daemon_errors import DaemonErrorHistory, ErrorsSeen, observe
from edp_tui.dagster.models import DaemonHealth, DaemonStatus

PG = "OperationalError: server closed the connection unexpectedly"
T = 1_800_000_000.0


def test_errors_seen_first_are_current_with_an_unknown_age() -> None:
    seen = observe(None, T, (PG,))
    assert not seen.past and seen.first_seen == (T,) and not seen.age_known(0)


def test_a_heartbeat_with_no_new_error_makes_them_past() -> None:
    seen = observe(None, T, (PG,))
    seen = observe(seen, T, (PG,))  # the same heartbeat read again proves nothing
    assert not seen.past
    seen = observe(seen, T + 30, (PG,))
    assert seen.past and seen.quiet_since == T
    seen = observe(seen, T + 60, (PG,))
    assert seen.past and seen.quiet_since == T  # quiet since the first heartbeat that was not followed by one


def test_a_new_error_is_current_again_and_its_age_is_known() -> None:
    seen = observe(observe(None, T, (PG,)), T + 30, (PG,))
    seen = observe(seen, T + 60, ("KeyError: 'x'", PG))
    assert not seen.past and seen.quiet_since is None
    assert seen.first_seen == (T + 60, T) and seen.age_known(0) and not seen.age_known(1)


def test_errors_that_expire_from_the_end_are_no_new_ones() -> None:
    seen = observe(None, T, ("b", "a"))
    seen = observe(seen, T + 30, ("b",))  # "a" is older than Dagster's five minutes: it left the list
    assert seen.past and seen.errors == ("b",)
    seen = observe(seen, T + 60, ())
    assert not seen.errors and not seen.past


def test_a_full_unchanged_list_may_hide_a_new_error() -> None:
    full = ("e",) * 5
    seen = observe(observe(None, T, full), T + 30, full)
    assert not seen.past  # a sixth "e" would push the oldest out and look the same: still current


def test_a_daemon_started_again_starts_the_story_again() -> None:
    seen = observe(observe(None, T, (PG,)), T + 30, (PG,))
    assert observe(seen, T - 100, (PG,)) == observe(None, T - 100, (PG,))


def daemons(heartbeat: float, *errors: str) -> tuple[DaemonStatus, ...]:
    return (
        DaemonStatus("SENSOR", True, not errors, heartbeat, errors),
        DaemonStatus("SCHEDULER", True, True, heartbeat),
    )


def test_health_is_ok_with_past_errors_and_says_so() -> None:
    history = DaemonErrorHistory("http://x/graphql")

    def health(heartbeat: float, *errors: str) -> DaemonHealth:
        ds = daemons(heartbeat, *errors)
        seen = {d.daemon_type: history.observe(d.daemon_type, d.last_heartbeat, d.errors) for d in ds}
        return DaemonHealth.evaluate(ds, heartbeat + 1, seen=seen)

    first = health(T, PG)
    assert first.state == "errors" and first.detail == f"SENSOR: {PG}"
    # Four minutes of heartbeats later, every one still carrying the error: past since the first of them.
    later = health(T + 240, PG)
    assert later.state == "ok" and later.past_error_types == ("SENSOR",)
    assert later.detail.startswith("2 daemons heartbeating; past errors of SENSOR, none since ")
    # A new error: current again, with when it was first seen.
    again = health(T + 270, "KeyError: 'x'", PG)
    assert again.state == "errors" and again.detail.startswith("SENSOR: KeyError: 'x' (first seen ")


def test_the_history_is_shared_through_its_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "daemon-errors.json"
    dashboard = DaemonErrorHistory("http://x/graphql", path)
    dashboard.observe("SENSOR", T, (PG,))
    dashboard.observe("SENSOR", T + 30, (PG,))
    # A later `status` (a process of its own) starts from what the dashboard saw.
    cli = DaemonErrorHistory("http://x/graphql", path)
    assert cli.observe("SENSOR", T + 60, (PG,)).past
    # Another webserver's daemons are not these.
    assert not DaemonErrorHistory("http://y/graphql", path).observe("SENSOR", T + 60, (PG,)).past
    # A broken file is started afresh, not a crash.
    path.write_text("{not json")
    assert not DaemonErrorHistory("http://x/graphql", path).observe("SENSOR", T + 90, (PG,)).past


def test_nothing_is_written_while_no_daemon_has_errors(tmp_path: Path) -> None:
    path = tmp_path / "daemon-errors.json"
    history = DaemonErrorHistory("http://x/graphql", path)
    for beat in range(3):
        history.observe("SENSOR", T + 30 * beat, ())
    assert not path.exists()


def test_errors_seen_survive_json() -> None:
    seen = observe(observe(None, T, (PG,)), T + 30, (PG,))
    assert ErrorsSeen.from_json(seen.to_json()) == seen
