"""Runs in trouble: the lost-worker tag, CANCELING or STARTING for too long; healthy runs are not flagged."""

from __future__ import annotations

from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.trouble import LOST_WORKER_TAG, WORKER_TAG, run_trouble

NOW = 10_000.0


def run(status: str, **kw: object) -> RunSummary:
    fields: dict[str, object] = {"run_id": "r1", "job_name": "j", "status": status, "creation_time": NOW - 30}
    fields.update(kw)
    return RunSummary(**fields)  # type: ignore[arg-type]


REASON = "Run worker lost: worker pid 77 of run r1 on host user-code is gone (no such process)"
IDENTITY = '{"run_id":"r1","pid":77,"boot_id":"b","start_ticks":123}'


def test_a_lost_worker_is_flagged_with_the_platforms_reason() -> None:
    trouble = run_trouble(run("FAILURE", tags=((LOST_WORKER_TAG, REASON),)), NOW)
    assert trouble is not None and trouble.label == "worker lost" and trouble.detail == REASON
    assert not trouble.force_terminate  # it has ended already


def test_a_lost_worker_verdict_of_another_run_is_not_trusted() -> None:
    """Copied by a re-execution (Dagster copies the parent's tags) or forged: it names another run."""
    copied = REASON.replace("of run r1", "of run parent-run")
    assert run_trouble(run("STARTED", tags=((LOST_WORKER_TAG, copied),)), NOW) is None
    assert run_trouble(run("SUCCESS", tags=((LOST_WORKER_TAG, copied),)), NOW) is None
    assert run_trouble(run("STARTED", tags=((LOST_WORKER_TAG, "forged"),)), NOW) is None


def test_canceling_for_too_long_offers_force_only_when_no_worker_is_known_alive() -> None:
    assert run_trouble(run("CANCELING", update_time=NOW - 20), NOW) is None
    # No worker ever identified by the platform (none reported): marking it canceled is safe, a worker that
    # starts later refuses a canceled run.
    trouble = run_trouble(run("CANCELING", update_time=NOW - 200), NOW)
    assert trouble is not None and trouble.label == "canceling 3m" and trouble.force_terminate
    # The platform watches its worker (pid 77): it is alive, or the platform would have ended the run.
    alive = run_trouble(run("CANCELING", update_time=NOW - 200, tags=((WORKER_TAG, IDENTITY),)), NOW)
    assert alive is not None and alive.label == "canceling 3m" and not alive.force_terminate
    assert "pid 77" in alive.detail and "alive" in alive.detail
    # A run in a container of its own: Dagster's run monitoring judges its container.
    container = run_trouble(
        run("CANCELING", update_time=NOW - 200, tags=(("docker/container_id", "c"),)), NOW
    )
    assert container is not None and not container.force_terminate


def test_an_identity_copied_from_another_run_does_not_count() -> None:
    copied = IDENTITY.replace('"r1"', '"parent-run"')
    trouble = run_trouble(run("CANCELING", update_time=NOW - 200, tags=((WORKER_TAG, copied),)), NOW)
    assert trouble is not None and trouble.force_terminate


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
