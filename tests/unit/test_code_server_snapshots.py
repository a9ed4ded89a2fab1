"""A candidate server computes a repository's snapshot once for all its clients (code_server/snapshots.py):
the webserver and the daemon both ask the new server for it after every reload."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from dagster._core.remote_origin import RemoteRepositoryOrigin
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.__generated__ import dagster_api_pb2
from dagster._grpc.server import DagsterApiServer
from dagster._serdes import deserialize_value, serialize_value
from edp_platform.code_server import snapshots

DEFINITIONS = """
import dagster as dg

@dg.asset
def one() -> int:
    return 1

@dg.asset
def two(one: int) -> int:
    return one + 1

defs = dg.Definitions(assets=[one, two], jobs=[dg.define_asset_job("both")])
"""


def test_callers_of_one_key_share_one_computation() -> None:
    cache = snapshots.SnapshotCache()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def compute() -> str:
        calls.append("x")
        started.set()
        release.wait(10)
        return "snap"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get(("repo", True), compute)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: results.append(cache.get(("repo", True), compute)))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert results == ["snap", "snap"]
    assert calls == ["x"]
    assert cache.get(("repo", True), lambda: "other") == "snap"
    # Another key (the full snapshots, or another repository) is its own computation.
    assert cache.get(("repo", False), lambda: "full") == "full"


def test_a_computation_that_raised_is_tried_again() -> None:
    cache = snapshots.SnapshotCache()

    def broken() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cache.get(("repo", True), broken)
    assert cache.get(("repo", True), lambda: "snap") == "snap"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DagsterApiServer:
    # install() replaces the method on Dagster's class: restored after the test.
    monkeypatch.setattr(
        DagsterApiServer,
        "_get_serialized_external_repository_data",
        DagsterApiServer._get_serialized_external_repository_data,
    )
    module = tmp_path / "location_defs.py"
    module.write_text(DEFINITIONS)
    termination = threading.Event()
    api = DagsterApiServer(
        server_termination_event=termination,
        logger=logging.getLogger("test"),
        server_threadpool_executor=FuturesAwareThreadPoolExecutor(max_workers=1),
        loadable_target_origin=LoadableTargetOrigin(python_file=str(module), working_directory=str(tmp_path)),
    )
    yield api
    termination.set()
    api.cleanup()


def request_for(server: DagsterApiServer, *, defer: bool) -> dagster_api_pb2.ExternalRepositoryRequest:
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin

    origin = RemoteRepositoryOrigin(
        GrpcServerCodeLocationOrigin(host="localhost", port=1, location_name="loc"), "__repository__"
    )
    return dagster_api_pb2.ExternalRepositoryRequest(
        serialized_repository_python_origin=serialize_value(origin), defer_snapshots=defer
    )


def test_the_server_answers_every_client_from_one_snapshot(
    server: DagsterApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_for(server, defer=True)
    unpatched = server._get_serialized_external_repository_data(request)
    assert deserialize_value(unpatched, RepositorySnap).name == "__repository__"

    made: list[bool] = []
    from_def = RepositorySnap.from_def

    def counting(*args, **kwargs):
        made.append(kwargs.get("defer_snapshots"))
        return from_def(*args, **kwargs)

    monkeypatch.setattr(RepositorySnap, "from_def", counting)
    snapshots.install(snapshots.SnapshotCache())
    answers = [server._get_serialized_external_repository_data(request) for _ in range(3)]
    assert answers == [unpatched] * 3  # what Dagster's own code answers, byte for byte
    assert made == [True]
    full = server._get_serialized_external_repository_data(request_for(server, defer=False))
    assert deserialize_value(full, RepositorySnap).job_datas is not None
    assert made == [True, False]


def test_a_primed_snapshot_is_the_one_the_server_answers(
    server: DagsterApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_for(server, defer=True)
    unpatched = server._get_serialized_external_repository_data(request)
    cache = snapshots.SnapshotCache()
    snapshots.install(cache)
    repository = server._loaded_repositories.definitions_by_name["__repository__"]  # type: ignore[union-attr]
    snapshots.prime(cache, repository).join(30)

    def not_again(*args, **kwargs):
        raise AssertionError("computed again after the prime")

    monkeypatch.setattr(RepositorySnap, "from_def", not_again)
    assert server._get_serialized_external_repository_data(request) == unpatched


def test_the_prime_waits_until_the_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot is computed once the server serves, not while it starts: the supervisor swaps only once
    the new server answers, and this computation would share the interpreter with that start."""
    import dagster._serdes

    made: list[str] = []
    monkeypatch.setattr(RepositorySnap, "from_def", lambda repository, defer_snapshots: made.append("snap"))
    monkeypatch.setattr(dagster._serdes, "serialize_value", lambda value: "serialized")
    serving, polled = threading.Event(), threading.Event()

    def answers() -> bool:
        polled.set()
        return serving.is_set()

    class Repository:
        name = "__repository__"

    cache = snapshots.SnapshotCache()
    thread = snapshots.prime(cache, Repository(), serving=answers)
    assert polled.wait(10)
    polled.clear()
    assert polled.wait(10)  # asked again: still waiting, nothing computed
    assert made == []
    serving.set()
    thread.join(10)
    assert made == ["snap"]
    assert cache.get(("__repository__", True), lambda: "again") == "serialized"
