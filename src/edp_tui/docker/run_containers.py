"""Run containers of the run-per-container mode (docs/scaling.md): one container per Dagster run, created by
the daemon's DockerRunLauncher, labelled ``edp.project=<project>``, ``edp.role=run-worker`` and
``dagster/run_id``. Not Compose services, so they are listed by these labels, with CPU and memory from one
stats sample each. No Textual here; blocking calls, meant for a worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

import docker
import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint, LazyClient
from edp_tui.docker.errors import CONNECTION_ERRORS, EngineUnreachable, describe

PROJECT_LABEL = "edp.project"
ROLE_LABEL = "edp.role"
RUN_WORKER = "run-worker"
RUN_ID_LABEL = "dagster/run_id"
JOB_LABEL = "dagster/job_name"
LOG_TAIL = 200


@dataclass(frozen=True)
class RunContainer:
    container_id: str
    name: str
    run_id: str
    job: str
    state: str  # Docker's: created, running, exited, ...
    status: str  # Docker's human text, e.g. "Up 12 seconds"
    cpu_percent: float | None = None  # of one core
    memory_bytes: int | None = None
    memory_limit_bytes: int | None = None


def cpu_percent(stats: Mapping[str, Any]) -> float | None:
    """CPU use between the two samples one stats call returns, in percent of one core (as `docker stats`)."""
    try:
        cpu = stats["cpu_stats"]
        pre = stats["precpu_stats"]
        used = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
        cores = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or []) or 1
    except (KeyError, TypeError):
        return None
    if system <= 0 or used < 0:
        return None
    return used / system * cores * 100.0


def memory_bytes(stats: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(usage without the page cache, limit), as `docker stats` shows them."""
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None, memory.get("limit")
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    return max(int(usage) - int(cache or 0), 0), memory.get("limit")


class RunContainerSource(Protocol):
    def run_containers(self) -> list[RunContainer]: ...

    def logs(self, container_id: str, tail: int = LOG_TAIL) -> bytes: ...

    def close(self) -> None: ...


class DockerRunContainers:
    def __init__(self, project: str, endpoint: DockerEndpoint, *, with_stats: bool = True) -> None:
        self.project = project
        self.endpoint = endpoint
        self.with_stats = with_stats
        self._client = LazyClient(endpoint)

    def _api(self) -> docker.APIClient:
        return self._client.get()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            self.close()
            raise EngineUnreachable(f"{self.endpoint.base_url}: {what}: {describe(exc)}") from exc

    def run_containers(self) -> list[RunContainer]:
        api = self._api()
        labels = [f"{PROJECT_LABEL}={self.project}", f"{ROLE_LABEL}={RUN_WORKER}"]
        found = self._call("list run containers", api.containers, all=True, filters={"label": labels})
        result = []
        for summary in found:
            container = from_summary(summary)
            if self.with_stats and container.state == "running":
                try:
                    stats = self._call("stats", api.stats, container.container_id, stream=False)
                except docker.errors.NotFound:
                    continue  # finished (and removed) since the listing
                used, limit = memory_bytes(stats)
                container = replace(
                    container, cpu_percent=cpu_percent(stats), memory_bytes=used, memory_limit_bytes=limit
                )
            result.append(container)
        return sorted(result, key=lambda c: c.name)

    def logs(self, container_id: str, tail: int = LOG_TAIL) -> bytes:
        api = self._api()
        try:
            return bytes(self._call("logs", api.logs, container_id, tail=tail, timestamps=False))
        except docker.errors.NotFound:
            return b""

    def close(self) -> None:
        self._client.close()


def from_summary(summary: Mapping[str, Any]) -> RunContainer:
    labels = summary.get("Labels") or {}
    names = summary.get("Names") or [""]
    return RunContainer(
        container_id=str(summary.get("Id") or ""),
        name=str(names[0]).lstrip("/"),
        run_id=str(labels.get(RUN_ID_LABEL) or "?"),
        job=str(labels.get(JOB_LABEL) or "?"),
        state=str(summary.get("State") or "?"),
        status=str(summary.get("Status") or ""),
    )
