"""The code server's reload status (documents captured from the compose stack) as the dashboard and the CLI
read it: typed models, the tar stream get_archive answers, the CLI lines, and bad documents refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from edp_tui.cli import hot_reload
from edp_tui.reload_status.models import ReloadStatus, ReloadStatusError
from edp_tui.reload_status.reader import parse_archive

FIXTURES = Path(__file__).parent / "fixtures" / "reload"


def captured(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def archive(payload: bytes, name: str = "status.json") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def test_a_served_history_parses_with_phases_and_diffs() -> None:
    status = ReloadStatus.parse(captured("status.json"))
    assert status.location == "etl_pipeline" and status.auto_reload and status.watch_state == "watching"
    assert status.pending_failure is None and status.last is not None and status.last.served
    assert [r.id for r in status.reloads] == list(range(1, 8))
    first = status.reloads[0]
    assert [p.name for p in first.phases] == ["change_seen", "checked", "loaded", "served"]
    assert first.took_s == first.phases[-1].after_s and first.diff is not None
    assert "+15 assets" in first.diff.summary()
    failed = [r for r in status.reloads if not r.served]
    assert failed and all(r.error is not None and "served" not in [p.name for p in r.phases] for r in failed)


def test_a_pending_failure_names_file_and_the_last_good_load() -> None:
    status = ReloadStatus.parse(captured("status-pending-failure.json"))
    pending = status.pending_failure
    assert pending is not None and pending.error is not None
    assert pending.error.kind == "dbt" and pending.error.where == "dbt_project/models/marts/fixture_probe.sql"
    assert pending.message.startswith("still serving the definitions loaded at ")
    python_failure = next(r for r in status.reloads if r.error is not None and r.error.kind == "python")
    assert python_failure.error is not None and python_failure.error.line is not None


def test_the_archive_get_archive_answers_is_read() -> None:
    payload = (FIXTURES / "status.json").read_bytes()
    assert parse_archive(archive(payload)).location == "etl_pipeline"


@pytest.mark.parametrize(
    "payload",
    [b"not json", json.dumps({"schema": "other/9"}).encode(), json.dumps([1, 2]).encode(), b"\xff\xfe"],
)
def test_a_bad_document_is_a_clear_error(payload: bytes) -> None:
    with pytest.raises(ReloadStatusError):
        parse_archive(archive(payload))


def test_a_broken_archive_is_a_clear_error() -> None:
    with pytest.raises(ReloadStatusError, match="unreadable archive"):
        parse_archive(b"definitely not a tar stream" * 10)


def test_status_lines_show_the_pending_failure_and_its_error_text() -> None:
    status = ReloadStatus.parse(captured("status-pending-failure.json"))
    lines = hot_reload.render(hot_reload.section(status, None))
    assert lines[0].startswith("Hot reload: watching (native) · last reload #5 (watch) failed")
    text = "\n".join(lines)
    assert "!! change not served (dbt error in dbt_project/models/marts/fixture_probe.sql)" in text
    assert "depends on a node named 'no_such_model'" in text and "still serving the definitions" in text


def test_status_section_without_a_supervisor() -> None:
    assert hot_reload.section(None, None) == {"available": False, "error": None}
    assert hot_reload.render(hot_reload.section(None, None)) == []
    assert hot_reload.render(hot_reload.section(None, "engine gone")) == [
        "Hot reload: status unavailable: engine gone"
    ]


def test_a_pending_failure_makes_the_stack_unhealthy() -> None:
    from edp_tui.cli.status import evaluate

    status = ReloadStatus.parse(captured("status-pending-failure.json"))
    docker = {"checked": True, "reachable": True, "services": [], "reload": hot_reload.section(status, None)}
    dagster = {
        "reachable": True,
        "locations": [{"name": "etl_pipeline", "healthy": True, "state": "loaded", "error": None}],
        "daemon": {"healthy": True},
    }
    code, problems = evaluate(docker, dagster)
    assert code == 1 and problems == [f"hot reload: change not served: {status.pending_failure.message}"]  # type: ignore[union-attr]
