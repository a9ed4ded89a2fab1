"""The instance's compute log manager (edp_platform.instance.compute_logs): a run's log directory is watched
while someone subscribes to it and no longer after, where Dagster's own manager keeps watching for good."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dagster._core.storage.compute_log_manager import ComputeIOType
from dagster._core.storage.local_compute_log_manager import IO_TYPE_EXTENSION, LocalComputeLogManager
from edp_platform.instance.compute_logs import ReleasingComputeLogManager

from tests.support import waiting

TIMEOUT_S = 0.05
DEADLINE_S = 30.0


def wait_for(what: str, check: Callable[[], bool]) -> None:
    waiting.wait_for(what, check, DEADLINE_S, interval_s=0.01)


def emitters(manager: LocalComputeLogManager) -> int:
    observer = manager._subscription_manager._observer
    return len(observer.emitters) if observer is not None else 0


def write(manager: LocalComputeLogManager, key: list[str], text: str) -> None:
    path = Path(manager.get_captured_local_path(key, IO_TYPE_EXTENSION[ComputeIOType.STDOUT]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(text)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ReleasingComputeLogManager]:
    manager = ReleasingComputeLogManager(str(tmp_path), polling_timeout=TIMEOUT_S)
    yield manager
    manager.dispose()


def follow(manager: LocalComputeLogManager, key: list[str]) -> tuple[object, list[str]]:
    write(manager, key, "")  # a step's capture creates the file first; the watch pushes its modifications
    seen: list[str] = []
    subscription = manager.subscribe(key)
    subscription(lambda data: seen.append((data.stdout or b"").decode()))
    return subscription, seen


def test_a_watch_ends_with_its_last_subscription_and_comes_back(manager: ReleasingComputeLogManager) -> None:
    key = ["run-a", "compute_logs", "step"]
    first, seen_first = follow(manager, key)
    second, seen_second = follow(manager, key)
    assert emitters(manager) == 1
    write(manager, key, "one\n")
    wait_for("pushed to both", lambda: "one\n" in "".join(seen_first) and "one\n" in "".join(seen_second))

    first.dispose()
    assert emitters(manager) == 1  # the second still follows
    second.dispose()
    assert emitters(manager) == 0

    again, seen_again = follow(manager, key)
    assert emitters(manager) == 1
    write(manager, key, "two\n")
    wait_for("pushed after a new subscription", lambda: "two\n" in "".join(seen_again))
    again.dispose()
    assert emitters(manager) == 0


def test_keys_sharing_a_directory_share_its_watch(manager: ReleasingComputeLogManager) -> None:
    a, b = ["run-b", "compute_logs", "a"], ["run-b", "compute_logs", "b"]
    write(manager, b, "")  # before the directory's first snapshot, so the push below is a modification
    sub_a, _ = follow(manager, a)
    sub_b, seen_b = follow(manager, b)
    assert emitters(manager) == 1
    sub_a.dispose()
    write(manager, b, "still here\n")
    wait_for("b still pushed", lambda: "still here\n" in "".join(seen_b))
    sub_b.dispose()
    assert emitters(manager) == 0


def test_a_completed_log_releases_its_watch(manager: ReleasingComputeLogManager) -> None:
    key = ["run-c", "compute_logs", "step"]
    sub, _ = follow(manager, key)
    write(manager, key, "done\n")
    Path(manager.complete_artifact_path(key)).touch()
    wait_for("completed", lambda: sub.is_complete)
    sub.dispose()  # what the webserver does once the subscription's generator ends
    assert emitters(manager) == 0


def test_dagsters_own_manager_keeps_watching(tmp_path: Path) -> None:
    """Why the subclass exists; if this fails after an upgrade, Dagster releases watches itself."""
    manager = LocalComputeLogManager(str(tmp_path), polling_timeout=TIMEOUT_S)
    try:
        sub, _ = follow(manager, ["run-d", "compute_logs", "step"])
        sub.dispose()
        assert emitters(manager) == 1
    finally:
        manager.dispose()


def test_the_stack_configuration_builds_this_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both dagster.yaml files name the class, and Dagster's loader (rehydrate) builds that class."""
    import yaml
    from dagster._serdes.config_class import ConfigurableClassData

    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path))
    stack = Path(__file__).resolve().parents[2] / "stack"
    for name in ("dagster.yaml", "dagster.run-containers.yaml"):
        section = yaml.safe_load((stack / name).read_text())["compute_logs"]
        data = ConfigurableClassData(section["module"], section["class"], yaml.safe_dump(section["config"]))
        manager = data.rehydrate(as_type=LocalComputeLogManager)
        try:
            assert type(manager) is ReleasingComputeLogManager, name
            assert manager.polling_timeout == 0.2, name
        finally:
            manager.dispose()
