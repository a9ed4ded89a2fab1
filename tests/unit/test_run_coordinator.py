"""The instance's run coordinator (edp_platform.instance.run_coordinator): Dagster's queue, looked at every
0.5 s instead of Dagster's whole seconds, built as the daemon builds it from the stack's configuration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.test_utils import instance_for_test
from dagster._daemon.controller import create_daemon_of_type
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from edp_platform.instance.run_coordinator import PromptQueuedRunCoordinator

STACK = Path(__file__).resolve().parents[2] / "stack"


def section(name: str) -> dict[str, Any]:
    return yaml.safe_load((STACK / name).read_text())["run_coordinator"]


@contextmanager
def instance_with(coordinator: dict[str, Any]) -> Iterator[DagsterInstance]:
    with instance_for_test(overrides={"run_coordinator": coordinator}) as instance:
        yield instance


@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.run-containers.yaml"])
def test_the_stack_configuration_builds_a_daemon_that_looks_every_half_second(name: str) -> None:
    with instance_with(section(name)) as instance:
        coordinator = instance.run_coordinator
        assert type(coordinator) is PromptQueuedRunCoordinator
        assert coordinator.dequeue_interval_seconds == 0.5
        # Dagster's own settings still arrive: the queue's width and its launch threads.
        assert coordinator.get_run_queue_config().max_concurrent_runs == 3
        assert coordinator.dequeue_use_threads is True
        assert coordinator.dequeue_num_workers == 3
        # The controller reads the interval from the coordinator to build the queue daemon.
        daemon = create_daemon_of_type(QueuedRunCoordinatorDaemon.daemon_type(), instance)
        assert isinstance(daemon, QueuedRunCoordinatorDaemon)
        assert daemon.interval_seconds == 0.5


def test_whole_seconds_still_work_and_the_default_is_dagsters() -> None:
    config = {"module": "edp_platform.instance.run_coordinator", "class": "PromptQueuedRunCoordinator"}
    with instance_with({**config, "config": {"dequeue_interval_seconds": 2}}) as instance:
        assert instance.run_coordinator.dequeue_interval_seconds == 2.0
    with instance_with({**config, "config": {}}) as instance:
        dagsters = QueuedRunCoordinator().dequeue_interval_seconds
        assert instance.run_coordinator.dequeue_interval_seconds == dagsters


def test_an_interval_under_the_daemon_loops_step_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 0.5"):
        PromptQueuedRunCoordinator(dequeue_interval_seconds=0.1)


def test_a_non_number_is_a_config_error() -> None:
    config = {"module": "edp_platform.instance.run_coordinator", "class": "PromptQueuedRunCoordinator"}
    with pytest.raises(DagsterInvalidConfigError, match="dequeue_interval_seconds"):
        with instance_with({**config, "config": {"dequeue_interval_seconds": "soon"}}) as instance:
            instance.run_coordinator  # noqa: B018 (built on first use)
