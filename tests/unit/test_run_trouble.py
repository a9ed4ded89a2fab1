"""Runs in trouble: the lost-worker tag, CANCELING or STARTING for too long; healthy runs are not flagged."""

from __future__ import annotations

from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.trouble import LOST_WORKER_TAG, run_trouble

NOW = 10_000.0


def run(status: str, **kw: object) -> RunSummary:
    fields: dict[str, object] = {"run_id": "r1", "job_name": "j", "status": status, "creation_time": NOW - 30}
    fields.update(kw)
    return RunSummary(**fields)  # type: ignore[arg-type]


def test_a_lost_worker_is_flagged_with_the_sensor_s_reason() -> None:
    reason = "Run worker lost: worker pid 77 on host user-code is gone (no such process)"
    trouble = run_trouble(run("FAILURE", tags=((LOST_WORKER_TAG, reason),)), NOW)
    assert trouble is not None and trouble.label == "worker lost" and trouble.detail == reason
    assert not trouble.force_terminate  # it has ended already


def test_canceling_for_too_long_offers_force() -> None:
    assert run_trouble(run("CANCELING", update_time=NOW - 20), NOW) is None
    trouble = run_trouble(run("CANCELING", update_time=NOW - 200), NOW)
    assert trouble is not None and trouble.label == "canceling 3m" and trouble.force_terminate


def test_starting_for_too_long_is_flagged() -> None:
    assert run_trouble(run("STARTING", update_time=NOW - 10), NOW) is None
    trouble = run_trouble(run("STARTING", update_time=NOW - 600), NOW)
    assert trouble is not None and trouble.label == "starting 10m"


def test_healthy_runs_are_not_flagged() -> None:
    for status in ("QUEUED", "STARTED", "SUCCESS", "FAILURE", "CANCELED"):
        assert run_trouble(run(status, update_time=NOW - 10_000), NOW) is None


def test_the_list_answer_carries_tags_and_update_time() -> None:
    parsed = RunSummary.from_graphql(
        {"runId": "r", "status": "CANCELING", "updateTime": 5.5, "tags": [{"key": "a", "value": "b"}]}
    )
    assert parsed.update_time == 5.5 and parsed.tag("a") == "b" and parsed.tag("x") is None
