"""Reload on save on the process stack running the compose stack's user-code entry point
(edp_platform.code_server.supervisor) over a temporary copy of the repository.

Every wait polls GraphQL or the supervisor's status document (status.json) until a deadline. Deadlines are
generous (a busy 2-core host); the figures that matter are in bench/reload_bench.py.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import copy_repository
from tests.support import auto_reload
from tests.support.auto_reload import PY_PROBE
from tests.support.process_stack import ProcessStack

DEADLINE_S = 180.0
# Past the supervisor's debounce (quiet 0.3 s, at most 2 s for a stream of saves) and a reload (about 1 s
# idle): a save that was going to reload has done so by then. Used only by the negative checks below.
NEGATIVE_WAIT_S = 8.0


def wait_for(what: str, check: Callable[[], Any], deadline_s: float = DEADLINE_S) -> Any:
    return auto_reload.wait_for(what, check, deadline_s)


def location(stack: ProcessStack) -> dict[str, Any]:
    return auto_reload.location(stack.graphql, stack.location_name)


def status(stack: ProcessStack) -> dict[str, Any]:
    try:
        return dict(json.loads(stack.reload_status_path.read_text()))
    except (OSError, ValueError):
        return {}


def last_reload_id(stack: ProcessStack) -> int:
    reloads = status(stack).get("reloads") or []
    return int(reloads[-1]["id"]) if reloads else 0


def reload_after(stack: ProcessStack, after_id: int, outcome: str | None = None) -> dict[str, Any] | None:
    for record in status(stack).get("reloads") or []:
        if record["id"] > after_id and (outcome is None or record["outcome"] == outcome):
            return dict(record)
    return None


def settled(stack: ProcessStack) -> dict[str, Any]:
    """The location once the webserver shows what the supervisor serves and no reload runs."""

    def check() -> dict[str, Any] | None:
        doc = status(stack)
        now = location(stack)
        serving = doc.get("serving") or {}
        if doc.get("in_progress") is None and now.get("server_id") == serving.get("server_id"):
            return now
        return None

    return dict(wait_for("webserver in step with the code server", check))


def has_assets(stack: ProcessStack, *keys: str) -> Callable[[], bool]:
    return lambda: set(keys) <= location(stack).get("assets", set())


@pytest.fixture(scope="module")
def auto_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    workdir = tmp_path_factory.mktemp("auto-reload")
    code_root = copy_repository(workdir / "repo")
    with ProcessStack(workdir / "run", code_root) as stack:
        wait_for("first load published", lambda: status(stack).get("serving"))
        yield stack


@pytest.fixture
def definitions(auto_stack: ProcessStack) -> Iterator[Path]:
    """definitions.py of the stack's copy, restored (and reloaded) after the test."""
    path = auto_stack.code_root / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
    original = path.read_text()
    yield path
    if path.read_text() != original:
        before = last_reload_id(auto_stack)
        path.write_text(original)
        wait_for("restored definitions served", lambda: reload_after(auto_stack, before, "served"))


def test_first_load_is_published(auto_stack: ProcessStack) -> None:
    doc = status(auto_stack)
    assert doc["schema"] == "edp-reload-status/1"
    assert doc["watch"]["state"] == "watching"
    assert doc["pending_failure"] is None
    served = doc["serving"]["definitions"]
    assert "ingestion_job" in served["jobs"] and "landing_zone_sensor" in served["sensors"]
    assert served["assets"] == sorted(location(auto_stack)["assets"])
    assert doc["serving"]["server_id"] == location(auto_stack)["server_id"]


def test_a_python_save_reloads_by_itself(auto_stack: ProcessStack, definitions: Path) -> None:
    before = last_reload_id(auto_stack)
    definitions.write_text(definitions.read_text() + PY_PROBE.format(name="py_probe"))
    wait_for("new asset served through GraphQL", has_assets(auto_stack, "py_probe"))
    record = wait_for("reload recorded", lambda: reload_after(auto_stack, before, "served"))
    assert record["trigger"] == "watch"
    assert "etl_pipeline/src/etl_pipeline/definitions.py" in record["files"]
    assert record["dbt_parse"] == "skipped"  # a .py save costs no dbt parse
    assert record["diff"]["assets"] == {"added": ["py_probe"], "removed": []}
    assert set(record["phases"]) == {"change_seen", "checked", "loaded", "served"}


def test_a_new_dbt_model_reloads_by_itself(auto_stack: ProcessStack) -> None:
    model = auto_stack.code_root / "dbt_project" / "models" / "marts" / "auto_reload_probe.sql"
    before = last_reload_id(auto_stack)
    try:
        model.write_text("select 1 as probe\n")
        wait_for("new model served through GraphQL", has_assets(auto_stack, "marts/auto_reload_probe"))
        record = wait_for("reload recorded", lambda: reload_after(auto_stack, before, "served"))
        assert record["dbt_parse"] == "parsed"
    finally:
        before = last_reload_id(auto_stack)
        model.unlink(missing_ok=True)
        wait_for("model removed again", lambda: reload_after(auto_stack, before, "served"))


def test_a_broken_python_save_keeps_serving_and_the_fix_reloads(
    auto_stack: ProcessStack, definitions: Path
) -> None:
    served_before = settled(auto_stack)
    before = last_reload_id(auto_stack)
    good = definitions.read_text()
    definitions.write_text(good + "\n\ndef broken(:\n    pass\n")
    broken_line = len(good.splitlines()) + 3
    record = wait_for("failure published", lambda: reload_after(auto_stack, before, "failed"))
    error = record["error"]
    assert (error["kind"], error["file"], error["line"]) == (
        "python",
        "etl_pipeline/src/etl_pipeline/definitions.py",
        broken_line,
    )
    assert "SyntaxError" in error["text"]
    pending = status(auto_stack)["pending_failure"]
    assert pending["reload_id"] == record["id"]
    assert pending["message"].startswith("still serving the definitions loaded at ")
    # The old server still serves: same server id, same jobs and sensors, and a job can be launched.
    now = location(auto_stack)
    assert now["status"] == "LOADED" and now["server_id"] == served_before["server_id"]
    assert now["jobs"] == served_before["jobs"] and now["sensors"] == served_before["sensors"]
    launched = auto_stack.launch_run("ingestion_job")
    assert launched["__typename"] == "LaunchRunSuccess", launched

    before = last_reload_id(auto_stack)
    definitions.write_text(good + PY_PROBE.format(name="fixed_probe"))
    wait_for("fix served", has_assets(auto_stack, "fixed_probe"))
    assert reload_after(auto_stack, before, "served") is not None
    assert status(auto_stack)["pending_failure"] is None


def test_a_broken_dbt_ref_keeps_serving_runs_work_and_the_fix_reloads(auto_stack: ProcessStack) -> None:
    model = auto_stack.code_root / "dbt_project" / "models" / "marts" / "broken_probe.sql"
    served_before = settled(auto_stack)
    before = last_reload_id(auto_stack)
    try:
        model.write_text("select * from {{ ref('no_such_model') }}\n")
        record = wait_for("dbt failure published", lambda: reload_after(auto_stack, before, "failed"))
        error = record["error"]
        assert (error["kind"], error["file"]) == ("dbt", "dbt_project/models/marts/broken_probe.sql")
        assert "no_such_model" in error["text"] and "was not found" in error["text"]
        assert location(auto_stack)["server_id"] == served_before["server_id"]
        # Python is fine and dbt failed before replacing anything: an ingestion run goes through.
        run = auto_stack.launch_run("ingestion_job")
        assert run["__typename"] == "LaunchRunSuccess", run
        run_id = run["run"]["runId"]
        outcome = auto_stack.wait_for_run(run_id, timeout=DEADLINE_S)
        failures = [e for e in auto_stack.run_events(run_id) if "Failure" in e["__typename"]]
        assert outcome == "SUCCESS", failures
    finally:
        before = last_reload_id(auto_stack)
        model.write_text("select 1 as fixed\n")
    wait_for("fixed model served", has_assets(auto_stack, "marts/broken_probe"))
    assert status(auto_stack)["pending_failure"] is None
    before = last_reload_id(auto_stack)
    model.unlink()
    wait_for("probe model removed", lambda: reload_after(auto_stack, before, "served"))


def test_ten_saves_within_two_seconds_make_at_most_two_reloads(
    auto_stack: ProcessStack, definitions: Path
) -> None:
    good = definitions.read_text()
    settled(auto_stack)
    before = last_reload_id(auto_stack)
    started = time.monotonic()
    for i in range(10):
        definitions.write_text(good + f"\n# save {i}\n")
        time.sleep(0.18)
    assert time.monotonic() - started < 2.5
    definitions.write_text(good + PY_PROBE.format(name="burst_probe"))  # the 11th save marks the end
    wait_for("last save served", has_assets(auto_stack, "burst_probe"))
    wait_for("no reload in progress", lambda: status(auto_stack).get("in_progress") is None)
    reloads = [r for r in status(auto_stack)["reloads"] if r["id"] > before]
    # 11 saves over ~2 s: one batch at the max wait, the rest coalesced into at most one more.
    assert 1 <= len(reloads) <= 2, [(r["id"], r["files"], r["phases"]) for r in reloads]


def test_a_run_in_flight_across_an_automatic_reload_completes(
    auto_stack: ProcessStack, definitions: Path
) -> None:
    launched = auto_stack.launch_run("ingestion_job")
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    wait_for("run started", lambda: run_status(auto_stack, run_id) == "STARTED")
    before = last_reload_id(auto_stack)
    definitions.write_text(definitions.read_text() + PY_PROBE.format(name="in_flight_probe"))
    wait_for("reload served", lambda: reload_after(auto_stack, before, "served"))
    assert auto_stack.wait_for_run(run_id, timeout=DEADLINE_S) == "SUCCESS"


def run_status(stack: ProcessStack, run_id: str) -> str:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
    return str(stack.graphql(query, {"id": run_id})["runOrError"].get("status"))


def test_renaming_and_deleting_a_watched_folder_does_not_stop_the_watcher(
    auto_stack: ProcessStack, definitions: Path
) -> None:
    models = auto_stack.code_root / "dbt_project" / "models"
    before = last_reload_id(auto_stack)
    (models / "marts").rename(models / "marts_moved")
    (models / "marts_moved").rename(models / "marts")
    scratch = models / "scratch"
    scratch.mkdir()
    (scratch / "scratch_probe.sql").write_text("select 1 as s\n")
    wait_for("model in a new folder served", has_assets(auto_stack, "scratch_probe"))
    shutil.rmtree(scratch)
    wait_for("deleted folder's model gone", lambda: "scratch_probe" not in location(auto_stack)["assets"])
    assert reload_after(auto_stack, before, "served") is not None
    definitions.write_text(definitions.read_text() + PY_PROBE.format(name="after_rename_probe"))
    wait_for("still watching afterwards", has_assets(auto_stack, "after_rename_probe"))
    assert status(auto_stack)["watch"]["state"] == "watching"


def test_a_save_while_the_webserver_is_down_is_served_once_it_is_back(
    auto_stack: ProcessStack, definitions: Path
) -> None:
    before = last_reload_id(auto_stack)
    auto_stack.stop_webserver()
    try:
        definitions.write_text(definitions.read_text() + PY_PROBE.format(name="webserver_down_probe"))
        # The code server reloads on its own: nothing needs the webserver for that.
        wait_for("reload served without a webserver", lambda: reload_after(auto_stack, before, "served"))
    finally:
        auto_stack.start_webserver()
    wait_for(
        "served through GraphQL once the webserver is back", has_assets(auto_stack, "webserver_down_probe")
    )


def test_with_auto_reload_off_nothing_reloads_by_itself(tmp_path: Path) -> None:
    code_root = copy_repository(tmp_path / "repo")
    with ProcessStack(tmp_path / "run", code_root, auto_reload=False, start_daemon=False) as stack:
        wait_for("first load published", lambda: status(stack).get("serving"))
        assert status(stack)["watch"]["state"] == "off"
        definitions = code_root / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
        definitions.write_text(definitions.read_text() + PY_PROBE.format(name="off_probe"))
        # A negative check needs a wait: NEGATIVE_WAIT_S is well past the debounce and a reload, polled so a
        # reload that does happen fails the test at once.
        end = time.monotonic() + NEGATIVE_WAIT_S
        while time.monotonic() < end:
            assert len(status(stack)["reloads"]) == 1, status(stack)["reloads"]
            assert "off_probe" not in location(stack)["assets"]
            time.sleep(0.5)
        # Asking still reloads, through the same check.
        result = stack.graphql(
            'mutation { reloadRepositoryLocation(repositoryLocationName: "etl_pipeline") { __typename } }',
            timeout=DEADLINE_S,
        )
        assert result["reloadRepositoryLocation"]["__typename"] == "WorkspaceLocationEntry"
        wait_for("asked-for reload served", has_assets(stack, "off_probe"))
        assert status(stack)["reloads"][-1]["trigger"] == "grpc"
