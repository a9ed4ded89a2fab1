"""CPU and memory of containers over the last minutes, from Docker's own stats stream (``GET
/containers/{id}/stats``: one sample a second while the container runs, pushed by the engine).

`DockerResourceStats.follow` starts one reader thread per container that is not followed yet; a reader ends
by itself when its container stops (the engine ends the stream) or is removed, when it is no longer wanted
(`retain`), or at `close`. `ResourceHistory` keeps the last WINDOW_SAMPLES samples of at most MAX_CONTAINERS
containers: memory stays flat however long the dashboard runs. No Textual here.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint, LazyClient
from edp_tui.docker.errors import CONNECTION_ERRORS
from edp_tui.docker.models import parse_time
from edp_tui.docker.run_containers import cpu_percent, memory_bytes

log = logging.getLogger("edp_tui")

# Docker sends a sample a second: three minutes of history per container.
WINDOW_SAMPLES = 180
# Containers remembered at most (services and run containers); the one updated longest ago goes first.
MAX_CONTAINERS = 64


@dataclass(frozen=True)
class Sample:
    at: float  # the engine's clock, epoch seconds
    cpu_percent: float | None  # of one core, as `docker stats`
    memory_bytes: int | None  # without the page cache, as `docker stats`
    memory_limit: int | None


class ResourceHistory:
    """The last samples of each container; written by reader threads, read by the UI (a lock between)."""

    def __init__(self, window: int = WINDOW_SAMPLES, max_containers: int = MAX_CONTAINERS) -> None:
        self.window = window
        self.max_containers = max_containers
        self._samples: dict[str, deque[Sample]] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped on every sample: a reader redraws only when it moved

    def record(self, container_id: str, sample: Sample) -> None:
        with self._lock:
            samples = self._samples.pop(container_id, None)  # re-inserted last: the most recently updated
            if samples is None:
                samples = deque(maxlen=self.window)
                while len(self._samples) >= self.max_containers:
                    del self._samples[next(iter(self._samples))]
            samples.append(sample)
            self._samples[container_id] = samples
            self.version += 1

    def samples(self, container_id: str) -> list[Sample]:
        with self._lock:
            return list(self._samples.get(container_id, ()))

    def containers(self) -> list[str]:
        with self._lock:
            return list(self._samples)

    def forget(self, container_id: str) -> None:
        with self._lock:
            self._samples.pop(container_id, None)


def sample_of(stats: dict[str, Any]) -> Sample:
    read = parse_time(stats.get("read"))  # the engine's RFC 3339 with nanoseconds
    used, limit = memory_bytes(stats)
    return Sample(read.timestamp() if read else 0.0, cpu_percent(stats), used, limit)


class ResourceStatsSource(Protocol):
    history: ResourceHistory

    def follow(self, container_ids: Iterable[str]) -> None: ...

    def retain(self, container_ids: Iterable[str]) -> None: ...

    def followed(self) -> set[str]: ...

    def close(self) -> None: ...


StatsStream = Callable[[str], Iterator[dict[str, Any]]]


class DockerResourceStats:
    """One reader thread per followed container, each on Docker's stats stream of that container."""

    def __init__(self, endpoint: DockerEndpoint, *, stream: StatsStream | None = None) -> None:
        self.endpoint = endpoint
        self.history = ResourceHistory()
        self._client = LazyClient(endpoint)
        self._stream = stream or self._docker_stream
        self._readers: dict[str, threading.Event] = {}  # container id -> its stop flag
        self._lock = threading.Lock()
        self._closed = False

    def _docker_stream(self, container_id: str) -> Iterator[dict[str, Any]]:
        return self._client.get().stats(container_id, decode=True, stream=True)  # type: ignore[no-any-return]

    def follow(self, container_ids: Iterable[str]) -> None:
        with self._lock:
            if self._closed:
                return
            for container_id in container_ids:
                if container_id and container_id not in self._readers:
                    stop = threading.Event()
                    self._readers[container_id] = stop
                    thread = threading.Thread(
                        target=self._read, args=(container_id, stop), name="docker-stats", daemon=True
                    )
                    thread.start()

    def retain(self, container_ids: Iterable[str]) -> None:
        """Stop following the containers not named (gone, or no longer on screen); their history stays."""
        wanted = set(container_ids)
        with self._lock:
            for container_id, stop in list(self._readers.items()):
                if container_id not in wanted:
                    stop.set()
                    del self._readers[container_id]

    def followed(self) -> set[str]:
        with self._lock:
            return set(self._readers)

    def _read(self, container_id: str, stop: threading.Event) -> None:
        stream: Iterator[dict[str, Any]] | None = None
        try:
            stream = self._stream(container_id)
            for stats in stream:
                if stop.is_set():
                    break
                self.history.record(container_id, sample_of(stats))
        except docker.errors.NotFound:
            pass  # removed meanwhile
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            if not stop.is_set():
                log.info("stats stream of %s ended: %s", container_id[:12], exc)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                try:
                    close()  # a generator: closes the engine's response with it
                except Exception:  # noqa: BLE001 - closing a stream that already failed
                    pass
            with self._lock:
                if self._readers.get(container_id) is stop:
                    del self._readers[container_id]  # ended by itself: a later follow starts it again

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for stop in self._readers.values():
                stop.set()
            self._readers.clear()
        self._client.close()
