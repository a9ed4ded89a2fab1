"""One reload status per code location (``/opt/dagster/reload/<location>.json``), read in one get_archive of
the directory, as the dashboard and the CLI see them: several side by side, the old single ``status.json``
when it is the only one, load warnings, and every piece of outside text printed literally."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edp_tui.cli import hot_reload
from edp_tui.cli import status as status_cli
from edp_tui.reload_status.models import ReloadStatus
from edp_tui.reload_status.reader import (
    STATUS_DIR,
    ContainerReloadStatus,
    ReloadStatusError,
    TornDocument,
    parse_statuses,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reload"
HOSTILE = "[b]x[/b]\x1b]0;pwned\x07"


def document(name: str = "status.json", **changes: Any) -> dict[str, Any]:
    raw = json.loads((FIXTURES / name).read_text())
    raw.update(changes)
    return dict(raw)


def directory(files: dict[str, bytes | dict[str, Any]]) -> bytes:
    """What get_archive answers for /opt/dagster/reload: the folder, then its files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        folder = tarfile.TarInfo("reload")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, content in files.items():
            payload = content if isinstance(content, bytes) else json.dumps(content).encode()
            info = tarfile.TarInfo(f"reload/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def test_every_location_document_is_read_keyed_by_its_location() -> None:
    data = directory(
        {
            "etl_pipeline.json": document(),
            "analytics.json": document("status-pending-failure.json", location="analytics"),
            ".analytics.json.tmp-41": b'{"schema": "half a docum',  # being written beside its final name
            "README.txt": b"not a status",
        }
    )
    statuses = parse_statuses(data)
    assert sorted(statuses) == ["analytics", "etl_pipeline"]
    assert (
        statuses["analytics"].pending_failure is not None and statuses["etl_pipeline"].pending_failure is None
    )


def test_the_old_single_status_json_is_read_when_it_is_the_only_one() -> None:
    assert list(parse_statuses(directory({"status.json": document()}))) == ["etl_pipeline"]
    # Beside per-location documents it is a leftover of an older supervisor: stale, not read.
    stale = document("status-pending-failure.json")
    data = directory({"status.json": stale, "etl_pipeline.json": document()})
    assert parse_statuses(data)["etl_pipeline"].pending_failure is None
    assert parse_statuses(directory({})) == {}


def test_a_torn_member_is_read_again_and_a_bad_one_is_a_clear_error() -> None:
    with pytest.raises(TornDocument):
        parse_statuses(directory({"a.json": b'{"schema": "edp-reload'}))
    with pytest.raises(ReloadStatusError, match="expected schema"):
        parse_statuses(directory({"a.json": {"schema": "other/2"}}))


def test_load_warnings_come_from_serving() -> None:
    raw = document()
    raw["serving"] = {**raw["serving"], "warnings": ["needs marts.customer_lifetime_value", 7]}
    assert ReloadStatus.parse(raw).warnings == ("needs marts.customer_lifetime_value", "7")
    assert ReloadStatus.parse(document()).warnings == ()


class FakeEngine:
    """The docker APIClient calls the reader makes: the user-code container, and get_archive."""

    def __init__(self, archive: bytes) -> None:
        self.archive = archive
        self.paths: list[str] = []

    def containers(self, filters: dict[str, Any]) -> list[dict[str, str]]:
        return [{"Id": "c0de"}]

    def get_archive(self, container: str, path: str) -> tuple[list[bytes], dict[str, Any]]:
        self.paths.append(path)
        return [self.archive], {}


def test_the_reader_asks_the_engine_once_for_the_whole_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine(directory({"a.json": document(location="a"), "b.json": document(location="b")}))
    reader = ContainerReloadStatus("edp", None)  # type: ignore[arg-type]
    monkeypatch.setattr(reader, "_api", lambda: engine)
    assert sorted(reader.read()) == ["a", "b"]
    assert engine.paths == [STATUS_DIR]


def two_locations_report() -> dict[str, Any]:
    served = hot_reload.section(ReloadStatus.parse(document()), None)
    served["warnings"] = [f"needs marts.customer_lifetime_value {HOSTILE}"]
    pending = hot_reload.section(
        ReloadStatus.parse(document("status-pending-failure.json", location="analytics")), None
    )
    reloads = {"analytics": pending, "etl_pipeline": served}
    docker = {
        "checked": True,
        "reachable": True,
        "project": "edp",
        "endpoint": "unix:///s",
        "services": [],
        "reload_locations": reloads,
        "reload": pending,
    }
    locations = [
        {"name": name, "state": "loaded", "healthy": True, "error": None, "jobs": ["j"], "reload": section}
        | {"warnings": section.get("warnings") or []}
        for name, section in reloads.items()
    ]
    dagster = {"reachable": True, "locations": locations, "daemon": {"healthy": True}}
    return {"docker": docker, "dagster": dagster}


def test_status_shows_every_location_side_by_side_and_a_pending_failure_names_its_location() -> None:
    parts = two_locations_report()
    code, problems = status_cli.evaluate(parts["docker"], parts["dagster"])
    assert code == 1
    assert problems == [
        "hot reload: change not served: still serving the definitions loaded at 09:35:44 (analytics)"
    ]
    report = {
        "docker": parts["docker"],
        "webserver": {"url": "http://x", "reachable": True, "error": None},
        "locations": parts["dagster"]["locations"],
        "daemon": None,
        "runs": [],
        "healthy": False,
        "problems": problems,
    }
    lines = status_cli.render_status(report)
    text = "\n".join(lines)
    assert "  !!  analytics     loaded  change not served  1 jobs" in text
    assert "  ok  etl_pipeline  loaded  watching           1 jobs" in text
    assert "Hot reload analytics: watching (native) · last reload #5 (watch) failed" in text
    assert "Hot reload etl_pipeline: watching (native) · last reload #7 (watch) served" in text
    # The warning as the user's code wrote it: no markup read, no terminal control.
    assert "etl_pipeline load warning: needs marts.customer_lifetime_value [b]x[/b]␛]0;pwned␇" in text
    assert "\x1b" not in text and "\x07" not in text


def test_reload_lines_show_outside_text_literally() -> None:
    status = ReloadStatus.parse(document("status-pending-failure.json"))
    last = status.reloads[-1]
    hostile = replace(
        status,
        watch_state=f"watching{HOSTILE}",
        watch_mode=f"native{HOSTILE}",
        reloads=(replace(last, trigger=f"watch{HOSTILE}", files=(f"models/{HOSTILE}.sql",)),),
    )
    section = hot_reload.section(hostile, None)
    section["pending_failure"]["error"]["file"] = f"models/{HOSTILE}.sql"
    section["pending_failure"]["message"] = f"still serving {HOSTILE}"
    text = "\n".join(hot_reload.render(section, location=f"loc{HOSTILE}"))
    assert "\x1b" not in text and "\x07" not in text
    assert "Hot reload loc[b]x[/b]␛]0;pwned␇: watching[b]x[/b]␛]0;pwned␇ (native[b]x[/b]␛]0;pwned␇)" in text
    assert "(watch[b]x[/b]␛]0;pwned␇) failed" in text
    assert "(dbt error in models/[b]x[/b]␛]0;pwned␇.sql): still serving [b]x[/b]␛]0;pwned␇" in text


def test_reload_refusal_is_looked_for_in_the_reloaded_location(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = ReloadStatus.parse(document("status-pending-failure.json", location="analytics"))
    served = ReloadStatus.parse(document())
    last = failed.reloads[-1]
    refused = replace(failed, reloads=(*failed.reloads, replace(last, id=9, trigger="grpc")))

    class Source:
        def read(self) -> dict[str, ReloadStatus]:
            return {"analytics": refused, "etl_pipeline": served}

        def close(self) -> None:
            pass

    monkeypatch.setattr(hot_reload, "status_source", lambda context, same_webserver=False: Source())
    assert hot_reload.refused_since(None, "etl_pipeline", 7) is None  # type: ignore[arg-type]
    reload = hot_reload.refused_since(None, "analytics", 5)  # type: ignore[arg-type]
    assert reload is not None and reload.id == 9
