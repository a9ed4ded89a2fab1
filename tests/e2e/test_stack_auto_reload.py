"""Reload on save on the real compose stack: saves in the stack's temporary repository copy (bind-mounted
into user-code) reload by themselves; a broken save keeps the location serving and is published in
status.json (read through the Docker API, as the dashboard will) and in the container log.

Every edit is reverted; the tests poll until a deadline (minutes: a busy 2-core host).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.support import auto_reload
from tests.support import stack_runs as sr
from tests.support.auto_reload import PY_PROBE
from tests.support.docker_engine import STACK_TIMINGS, ComposeStack

STATUS_PATH = "/opt/dagster/reload/etl_pipeline.json"  # one status file per code location
DEADLINE_S = 300.0
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } }
}"""


@pytest.fixture(scope="module")
def user_code(compose_stack: ComposeStack) -> Iterator[Any]:
    container_id = compose_stack.compose("ps", "-q", "user-code").stdout.strip()
    client = docker.from_env()
    try:
        yield client.containers.get(container_id)
    finally:
        client.close()


def read_status(container: Any) -> dict[str, Any]:
    """status.json through the Docker API's get_archive (a tar stream of one file)."""
    # The engine's archive can tear a file replaced while it is read (header size of one file, bytes of the
    # next): read again, as the dashboard's reader does.
    for attempt in range(4):
        try:
            stream, _ = container.get_archive(STATUS_PATH)
        except docker.errors.NotFound:
            return {}
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            raw = member.read() if member else b"{}"
        try:
            return dict(json.loads(raw))
        except json.JSONDecodeError:
            if attempt == 3:
                raise
            time.sleep(0.1)
    return {}


def location(stack: ComposeStack) -> dict[str, Any]:
    return auto_reload.location(stack.graphql, "etl_pipeline")


def wait_for(what: str, check: Callable[[], Any], deadline_s: float = DEADLINE_S) -> Any:
    return auto_reload.wait_for(what, check, deadline_s, interval_s=0.25)


def last_id(container: Any) -> int:
    reloads = read_status(container).get("reloads") or []
    return int(reloads[-1]["id"]) if reloads else 0


def reload_after(container: Any, after: int, outcome: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in read_status(container).get("reloads") or []
            if r["id"] > after and r["outcome"] == outcome
        ),
        None,
    )


def settled(stack: ComposeStack, container: Any) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        doc, now = read_status(container), location(stack)
        serving = doc.get("serving") or {}
        return (
            now
            if doc.get("in_progress") is None and now.get("server_id") == serving.get("server_id")
            else None
        )

    return dict(wait_for("webserver in step with the code server", check))


@pytest.fixture
def definitions(compose_stack: ComposeStack, user_code: Any) -> Iterator[Path]:
    path = compose_stack.repo / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
    original = path.read_text()
    yield path
    if path.read_text() != original:
        before = last_id(user_code)
        path.write_text(original)
        wait_for("original definitions served", lambda: reload_after(user_code, before, "served"))
        settled(compose_stack, user_code)


def test_status_document_is_readable_through_the_docker_api(
    compose_stack: ComposeStack, user_code: Any
) -> None:
    doc = wait_for(
        "status.json with a first load",
        lambda: read_status(user_code).get("serving") and read_status(user_code),
    )
    assert doc["schema"] == "edp-reload-status/1"
    assert doc["auto_reload"] is True and doc["watch"]["state"] == "watching"
    assert doc["watch"]["roots"] == ["dbt_project", "etl_pipeline/src"]
    now = settled(compose_stack, user_code)
    assert sorted(now["assets"]) == read_status(user_code)["serving"]["definitions"]["assets"]


def test_python_and_dbt_saves_reload_by_themselves(
    compose_stack: ComposeStack, user_code: Any, definitions: Path
) -> None:
    model = compose_stack.repo / "dbt_project" / "models" / "marts" / "auto_reload_probe.sql"
    settled(compose_stack, user_code)
    try:
        started = time.monotonic()
        definitions.write_text(definitions.read_text() + PY_PROBE.format(name="compose_py_probe"))
        wait_for(".py save served", lambda: "compose_py_probe" in location(compose_stack).get("assets", ()))
        STACK_TIMINGS["auto reload: .py save to served through GraphQL"] = time.monotonic() - started
        started = time.monotonic()
        model.write_text("select 1 as probe\n")
        wait_for(
            ".sql save served", lambda: "marts/auto_reload_probe" in location(compose_stack).get("assets", ())
        )
        STACK_TIMINGS["auto reload: new dbt model to served through GraphQL"] = time.monotonic() - started
    finally:
        before = last_id(user_code)
        model.unlink(missing_ok=True)
    wait_for("probe model removed", lambda: reload_after(user_code, before, "served"))
    logs = user_code.logs(tail=400).decode("utf-8", "replace")
    lines = [json.loads(x.split("edp-reload ", 1)[1]) for x in logs.splitlines() if "edp-reload {" in x]
    assert any(
        e.get("event") == "reload" and e.get("outcome") == "served" and e.get("trigger") == "watch"
        for e in lines
    )


def test_a_broken_save_keeps_serving_publishes_the_error_and_the_fix_reloads(
    compose_stack: ComposeStack, user_code: Any, definitions: Path
) -> None:
    served = settled(compose_stack, user_code)
    good = definitions.read_text()
    before = last_id(user_code)
    started = time.monotonic()
    definitions.write_text(good + "\n\ndef broken(:\n    pass\n")
    record = wait_for("failure published", lambda: reload_after(user_code, before, "failed"))
    STACK_TIMINGS["auto reload: broken save to error published"] = time.monotonic() - started
    assert record["error"]["kind"] == "python"
    assert record["error"]["file"] == "etl_pipeline/src/etl_pipeline/definitions.py"
    assert record["error"]["line"] == len(good.splitlines()) + 3
    assert "SyntaxError" in record["error"]["text"]
    assert read_status(user_code)["pending_failure"]["message"].startswith(
        "still serving the definitions loaded at"
    )
    now = location(compose_stack)
    assert now["server_id"] == served["server_id"] and now["jobs"] == served["jobs"]
    assert now["sensors"] == served["sensors"]
    # For a day of the partitioned demo: a run without one would fail its load step.
    params = {"selector": {"repositoryLocationName": "etl_pipeline", "repositoryName": "__repository__",
                           "jobName": "ingestion_job"},
              "executionMetadata": {"tags": [{"key": sr.PARTITION_TAG, "value": sr.DEMO_DAY}]}}  # fmt: skip
    assert compose_stack.graphql(LAUNCH, {"params": params})["launchRun"]["__typename"] == "LaunchRunSuccess"
    logs = user_code.logs(tail=200).decode("utf-8", "replace")
    assert any(
        "edp-reload {" in x and '"outcome":"failed"' in x and "still serving" in x for x in logs.splitlines()
    )

    before = last_id(user_code)
    definitions.write_text(good + PY_PROBE.format(name="compose_fixed_probe"))
    wait_for("fix served", lambda: "compose_fixed_probe" in location(compose_stack).get("assets", ()))
    assert reload_after(user_code, before, "served") is not None
    assert read_status(user_code)["pending_failure"] is None


def edp_tui(stack: ComposeStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI on this stack (its compose file, project and published port come from Compose)."""
    return subprocess.run(
        [sys.executable, "-m", "edp_tui", "--compose-file", str(stack.compose_file), *args],
        env={**stack.env, "EDP_TUI_CONFIG": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_cli_and_the_dashboard_reader_show_a_refused_change(
    compose_stack: ComposeStack, user_code: Any, definitions: Path
) -> None:
    from edp_tui.docker.endpoint import DockerEndpoint
    from edp_tui.reload_status.reader import ContainerReloadStatus

    settled(compose_stack, user_code)
    good = definitions.read_text()
    before = last_id(user_code)
    definitions.write_text(good + "\n\ndef broken(:\n    pass\n")
    wait_for("failure published", lambda: reload_after(user_code, before, "failed"))

    # The dashboard's reader (Docker API, the composition root's endpoint) sees the pending failure.
    reader = ContainerReloadStatus(compose_stack.project, DockerEndpoint.resolve(env=compose_stack.env))
    try:
        status = reader.read().get("etl_pipeline")
    finally:
        reader.close()
    assert status is not None and status.pending_failure is not None
    assert status.pending_failure.error is not None and status.pending_failure.error.kind == "python"

    report = edp_tui(compose_stack, "status")
    assert report.returncode == 1, report.stdout + report.stderr
    assert "change not served (python error in etl_pipeline/src/etl_pipeline/definitions.py:" in report.stdout
    assert "hot reload: change not served: still serving the definitions loaded at" in report.stdout

    asked = edp_tui(compose_stack, "reload", "etl_pipeline")
    assert asked.returncode == 1, asked.stdout + asked.stderr
    assert "etl_pipeline: FAILED to load; still serving the last good definitions" in asked.stdout
    assert "SyntaxError" in asked.stdout
