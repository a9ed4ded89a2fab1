"""The platform's run launcher and the warm-worker choice the code server makes from it (no process started
here; tests/integration/test_platform_warm_workers.py runs real workers)."""

from __future__ import annotations

import threading

import yaml
from dagster._serdes.config_class import ConfigurableClassData
from edp_platform.instance.run_launcher import WarmRunLauncher, wants_warm_workers
from edp_platform.instance.warm_workers import ChoosingContext


def data(module: str, cls: str, config: dict | None = None) -> ConfigurableClassData:
    return ConfigurableClassData(module, cls, yaml.safe_dump(config or {}))


def test_only_the_platforms_launcher_asks_for_warm_workers() -> None:
    ours = "edp_platform.instance.run_launcher"
    assert wants_warm_workers(data(ours, "WarmRunLauncher"))
    assert wants_warm_workers(data(ours, "WarmRunLauncher", {"warm_workers": True}))
    assert not wants_warm_workers(data(ours, "WarmRunLauncher", {"warm_workers": False}))
    assert not wants_warm_workers(data("dagster._core.launcher", "DefaultRunLauncher"))
    assert not wants_warm_workers(data("dagster_docker", "DockerRunLauncher"))
    assert not wants_warm_workers(None)


def test_the_launcher_reads_its_config() -> None:
    inst = ConfigurableClassData("edp_platform.instance.run_launcher", "WarmRunLauncher", "{}")
    assert WarmRunLauncher.from_config_value(inst, {}).warm_workers is True
    assert WarmRunLauncher.from_config_value(inst, {"warm_workers": False}).warm_workers is False


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name

    def Queue(self) -> str:  # noqa: N802
        return f"{self.name} queue"

    def Event(self) -> str:  # noqa: N802
        return f"{self.name} event"

    def Process(self, target: object = None) -> str:  # noqa: N802
        return f"{self.name} process"


def test_the_context_is_warm_only_in_the_thread_that_asked() -> None:
    context = ChoosingContext(Recorder("cold"), Recorder("warm"))
    assert context.Process() == "cold process"
    context.choice.warm = True
    seen: list[str] = []
    other = threading.Thread(target=lambda: seen.append(context.Process()))
    other.start()
    other.join()
    made = [context.Queue(), context.Event(), context.Process()]
    assert made == ["warm queue", "warm event", "warm process"]
    assert seen == ["cold process"]
