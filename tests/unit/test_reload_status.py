"""The reload status document (etl_pipeline/reload/status.py) against the real one captured from the stack."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from edp_platform.code_server.status import SCHEMA, StatusBook, diff_names

FIXTURES = Path(__file__).parent / "fixtures" / "reload"
NAMES = {"assets": ["raw/orders"], "jobs": ["ingestion_job"], "schedules": [], "sensors": ["landing"]}


def keys(value: object) -> object:
    """The shape of a JSON value: dict keys recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value and isinstance(value[0], dict) else []
    return None


def test_the_captured_documents_follow_the_schema() -> None:
    doc = json.loads((FIXTURES / "status.json").read_text())
    pending = json.loads((FIXTURES / "status-pending-failure.json").read_text())
    assert doc["schema"] == pending["schema"] == SCHEMA
    outcomes = {r["outcome"] for r in doc["reloads"]}
    assert {"served", "failed"} <= outcomes
    kinds = {r["error"]["kind"] for r in doc["reloads"] if r["error"]}
    assert kinds == {"python", "dbt"}
    assert pending["pending_failure"]["message"].startswith("still serving the definitions loaded at ")
    lines = (FIXTURES / "log-lines.txt").read_text().splitlines()
    events = [json.loads(line.removeprefix("edp-reload ")) for line in lines]
    assert {e["event"] for e in events} == {"reload", "watch"}


def test_the_book_writes_the_same_shape_as_the_stack_did(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    book = StatusBook(path, "etl_pipeline", auto_reload=True)
    served = book.begin(
        "watch", ["etl_pipeline/src/etl_pipeline/definitions.py"], time.time(), time.monotonic()
    )
    for phase in ("checked", "loaded", "served"):
        served.phase(phase)
    book.finish_served(served, NAMES, "server-1")
    failed = book.begin("watch", ["dbt_project/models/x.sql"], time.time(), time.monotonic())
    failed.phase("checked")
    error = {"kind": "dbt", "file": "dbt_project/models/x.sql", "line": None, "text": "t", "detail": "t"}
    book.finish_failed(failed, error)
    ours = json.loads(path.read_text())
    captured = json.loads((FIXTURES / "status-pending-failure.json").read_text())
    ours_shape, captured_shape = keys(ours), keys(captured)
    assert isinstance(ours_shape, dict) and isinstance(captured_shape, dict)
    for top in ("watch",):  # set by the supervisor's watcher, not by this test
        ours_shape.pop(top), captured_shape.pop(top)
    assert ours_shape == captured_shape
    assert ours["pending_failure"]["reload_id"] == 2
    assert ours["serving"]["server_id"] == "server-1"
    assert [r["outcome"] for r in ours["reloads"]] == ["served", "failed"]
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed


def test_the_log_line_is_one_json_object_per_reload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = StatusBook(tmp_path / "s.json", "etl_pipeline", auto_reload=False)
    record = book.begin("grpc", [], time.time(), time.monotonic())
    record.phase("checked")
    error = {"kind": "python", "file": "a.py", "line": 3, "text": "SyntaxError", "detail": "long traceback"}
    book.finish_failed(record, error, serving_error=True)
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("edp-reload ")]
    assert len(lines) == 1
    event = json.loads(lines[0].removeprefix("edp-reload "))
    assert event["event"] == "reload" and event["outcome"] == "failed_serving_error"
    assert "detail" not in event["error"]
    assert event["message"].startswith("no definitions are loaded")


def test_diff_names() -> None:
    after = {**NAMES, "assets": ["raw/orders", "marts/new"], "sensors": []}
    diff = diff_names(NAMES, after)
    assert diff["assets"] == {"added": ["marts/new"], "removed": []}
    assert diff["sensors"] == {"added": [], "removed": ["landing"]}
    assert diff_names(None, NAMES)["jobs"] == {"added": ["ingestion_job"], "removed": []}


def test_a_first_load_whose_dbt_project_does_not_parse_serves_the_last_manifest(tmp_path: Path) -> None:
    book = StatusBook(tmp_path / "s.json", "etl_pipeline", auto_reload=True)
    record = book.begin("startup", [], time.time(), time.monotonic())
    error = {"kind": "dbt", "file": "dbt_project/models/x.sql", "line": None, "text": "t", "detail": "t"}
    book.finish_failed(record, error, served_stale=(NAMES, "server-0", []))
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["serving"]["server_id"] == "server-0" and doc["serving"]["definitions"] == NAMES
    assert doc["pending_failure"]["message"].startswith(
        "the dbt project does not parse: serving the definitions"
    )
    assert doc["reloads"][-1]["outcome"] == "failed"


def test_a_status_write_error_is_logged_once_and_never_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk: the reload and the watcher go on, the status file catches up once writing works again."""
    import errno
    import os

    path = tmp_path / "status.json"
    book = StatusBook(path, "etl_pipeline", auto_reload=True)
    real_replace = os.replace
    full = True

    def replace(src: object, dst: object) -> None:
        if full:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    caplog.set_level("WARNING", logger="edp.reload.status")
    record = book.begin("watch", ["dbt_project/models/x.sql"], time.time(), time.monotonic())
    book.set_watch(state="watching", error=None)
    book.finish_served(record, NAMES, "server-1")
    assert not path.exists()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "No space left on device" in warnings[0] and str(path) in warnings[0]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind on the full disk
    full = False
    second = book.begin("grpc", [], time.time(), time.monotonic())
    book.finish_served(second, NAMES, "server-2")
    assert json.loads(path.read_text())["serving"]["server_id"] == "server-2"
    assert caplog.records[-1].getMessage() == f"reload status {path}: writing again"
