"""A candidate server's repository snapshot, computed once and shared by every client of that server.

Dagster's gRPC server computes a repository's snapshot (RepositorySnap.from_def, then serialize_value) again
at every ExternalRepository / StreamingExternalRepository call. After a reload the webserver and the daemon
both see the new server id within their 1 s watch and both ask for it, so the new server computed the same
snapshot twice, in threads sharing one interpreter lock: at 1,000 dbt models 0.6 s of CPU each
(bench/reload_phases.py), on the path from a save to the webserver serving it. A candidate serves one set of
definitions for its whole life (a reload is a new process, see supervisor.py), so the answer for a
repository never changes: `install` makes the server compute it once per (repository, defer_snapshots), and
child.py starts that computation as the server starts, while its clients still wait for their next watch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

PRIME_WAIT_S = 60.0
Key = tuple[str, bool]  # (repository name, defer_snapshots)


class SnapshotCache:
    """Serialized snapshots by key: the first caller computes, callers meanwhile wait for its result; a
    computation that raised is forgotten (the next caller tries again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Key, Future[str]] = {}

    def get(self, key: Key, compute: Callable[[], str]) -> str:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                with self._lock:
                    del self._futures[key]
                future.set_exception(exc)
        return future.result()


def install(cache: SnapshotCache) -> None:
    """Dagster's gRPC server, in this process, answers repository snapshots from `cache`.

    Private surface: DagsterApiServer._get_serialized_external_repository_data(request) is what both
    snapshot RPCs call (pinned in tests/unit/test_platform_contracts.py); a request whose origin cannot be
    read goes to Dagster's own code unchanged."""
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._grpc.server import DagsterApiServer
    from dagster._serdes import deserialize_value

    original = DagsterApiServer._get_serialized_external_repository_data

    def cached(self: Any, request: Any) -> str:
        try:
            origin = deserialize_value(request.serialized_repository_python_origin, RemoteRepositoryOrigin)
        except Exception:
            return original(self, request)
        return cache.get(
            (origin.repository_name, bool(request.defer_snapshots)), lambda: original(self, request)
        )

    DagsterApiServer._get_serialized_external_repository_data = cached  # type: ignore[method-assign]


def prime(
    cache: SnapshotCache, repository: Any, serving: Callable[[], bool] = lambda: True
) -> threading.Thread:
    """Compute `repository`'s snapshot as the webserver and the daemon ask for it (deferred job snapshots), in
    a thread of its own, once `serving()` (the server answers: its start, which the supervisor waits for
    before it swaps, is not slowed by this) or after PRIME_WAIT_S; returns the thread."""

    def compute() -> str:
        from dagster._core.remote_representation.external_data import RepositorySnap
        from dagster._serdes import serialize_value

        return serialize_value(RepositorySnap.from_def(repository, defer_snapshots=True))

    def run() -> None:
        deadline = time.monotonic() + PRIME_WAIT_S
        while not serving() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            cache.get((repository.name, True), compute)
        except Exception:  # the server's own call computes it again, and reports what fails
            pass

    thread = threading.Thread(target=run, name="edp-snapshot", daemon=True)
    thread.start()
    return thread
