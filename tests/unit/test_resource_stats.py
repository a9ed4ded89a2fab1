"""Docker's stats stream read into a bounded history: a reader per followed container, ended by the stream's
end, by `retain` or by `close`; the samples as `docker stats` computes them."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from edp_tui.docker.endpoint import DockerEndpoint
from edp_tui.docker.resource_stats import DockerResourceStats, sample_of


def stats(i: int) -> dict[str, Any]:
    return {
        "read": f"2026-01-02T12:00:{i:02d}.123456789Z",
        "cpu_stats": {
            "cpu_usage": {"total_usage": 1000 + 500 * i},
            "system_cpu_usage": 10000 + 1000 * i,
            "online_cpus": 2,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 500 + 500 * i}, "system_cpu_usage": 9000 + 1000 * i},
        "memory_stats": {"usage": 300 << 20, "limit": 2 << 30, "stats": {"inactive_file": 100 << 20}},
    }


def wait(predicate: Any, what: str) -> None:
    end = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < end, what
        time.sleep(0.01)


def test_a_sample_is_what_docker_stats_shows() -> None:
    sample = sample_of(stats(3))
    assert sample.cpu_percent == 100.0  # 500 of 1000 system ticks on 2 cores
    assert sample.memory_bytes == 200 << 20 and sample.memory_limit == 2 << 30
    assert sample.at == 1767355203.123456


def test_readers_follow_until_the_stream_ends_or_they_are_not_wanted() -> None:
    feeds: dict[str, queue.Queue[dict[str, Any] | None]] = {"a": queue.Queue(), "b": queue.Queue()}
    opened: list[str] = []

    def stream(container_id: str) -> Iterator[dict[str, Any]]:
        opened.append(container_id)
        while (item := feeds[container_id].get()) is not None:
            yield item

    source = DockerResourceStats(DockerEndpoint("unix:///nonexistent.sock"), stream=stream)
    source.follow(["a", "b", "a"])
    assert source.followed() == {"a", "b"}
    for i in range(3):
        feeds["a"].put(stats(i))
    wait(lambda: len(source.history.samples("a")) == 3, "a's three samples")
    feeds["a"].put(None)  # the container stopped: the engine ends the stream
    wait(lambda: source.followed() == {"b"}, "a's reader ended by itself")
    source.retain([])  # b is no longer on screen: its reader ends at its next sample
    feeds["b"].put(stats(0))
    wait(lambda: not any(t.name == "docker-stats" for t in threading.enumerate()), "b's reader ended")
    assert source.history.samples("b") == []
    source.follow(["a"])  # followed again: a new stream
    wait(lambda: opened.count("a") == 2, "a's stream opened again")
    source.close()
    feeds["a"].put(None)
    source.follow(["b"])  # closed: nothing starts
    assert opened.count("b") == 1
