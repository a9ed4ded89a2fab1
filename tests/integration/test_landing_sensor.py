"""The landing-zone sensor's cursor, tick by tick through Dagster's own build_sensor_context: no file is
lost (an old modification time, a file that cannot be read, a file with unusable settings), and none blocks
the others."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
from etl_pipeline.ingestion import raw_reference_data, raw_retail_data
from etl_pipeline.sensors import (
    MAX_REMEMBERED,
    MAX_SETTINGS_BYTES,
    FileIdentity,
    build_landing_zone_sensor,
    entry,
    read_cursor,
    write_cursor,
)

from tests.support.process_stack import REPO_ROOT

INGESTION = [raw_reference_data, raw_retail_data]
SENSOR = build_landing_zone_sensor(dg.define_asset_job("ingestion_job", selection=INGESTION))
# Partitioned run requests are resolved against the definitions holding their job.
DEFS = dg.Definitions(assets=INGESTION, sensors=[SENSOR])


def evaluate(landing: Path, cursor: str | None) -> tuple[list[str], str | None, str | None]:
    """(landed file names requested, new cursor, skip message) for one sensor tick."""
    os.environ["LANDING_DIR"] = str(landing)
    try:
        with dg.build_sensor_context(cursor=cursor, definitions=DEFS) as context:
            result = SENSOR.evaluate_tick(context)
    finally:
        del os.environ["LANDING_DIR"]
    names = [r.tags["landing_file"] for r in result.run_requests or []]
    return names, result.cursor, result.skip_message


def write(path: Path, text: str, mtime_ns: int | None = None) -> None:
    path.write_text(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_file_with_an_older_modification_time_is_still_picked_up(tmp_path: Path) -> None:
    write(tmp_path / "new.csv", "x")
    names, cursor, _ = evaluate(tmp_path, None)
    assert names == ["new.csv"]
    # Moved in from elsewhere with its old modification time (mv keeps it): still new to the sensor.
    old = (tmp_path / "new.csv").stat().st_mtime_ns - 3_600 * 10**9
    write(tmp_path / "moved-in.csv", "y", mtime_ns=old)
    names, cursor, _ = evaluate(tmp_path, cursor)
    assert names == ["moved-in.csv"]
    names, cursor, skip = evaluate(tmp_path, cursor)
    assert names == [] and skip is not None and "no new files" in skip
    # Rewritten in place (a new size and time): a new identity, ingested again.
    write(tmp_path / "moved-in.csv", "yy", mtime_ns=old + 1)
    names, _, _ = evaluate(tmp_path, cursor)
    assert names == ["moved-in.csv"]


def test_an_invalid_file_is_skipped_with_its_reason_and_blocks_nothing(tmp_path: Path) -> None:
    # Nested deeper than the JSON parser's recursion limit: it raised RecursionError on every tick.
    write(tmp_path / "deep.json", "[" * 200_000)
    write(tmp_path / "zero.json", json.dumps({"orders": 0}))
    write(tmp_path / "good.json", json.dumps({"orders": 9}))
    names, cursor, _ = evaluate(tmp_path, None)
    assert names == ["good.json"]
    names, cursor, skip = evaluate(tmp_path, cursor)
    assert names == [] and skip is not None and "no new files" in skip  # recorded: not retried unchanged
    write(tmp_path / "zero.json", json.dumps({"orders": 2}))  # fixed: picked up
    names, cursor, _ = evaluate(tmp_path, cursor)
    assert names == ["zero.json"]
    # Only invalid files new in a tick: the skip message says which and why nothing ran.
    write(tmp_path / "text.json", "not json")
    names, cursor, skip = evaluate(tmp_path, cursor)
    assert names == [] and skip is not None and "skipped text.json" in skip
    # A huge "settings" file is refused unread.
    write(tmp_path / "huge.json", " " * (MAX_SETTINGS_BYTES + 1) + "{}")
    names, _, skip = evaluate(tmp_path, cursor)
    assert names == [] and skip is not None and "skipped huge.json" in skip


def test_the_first_cursor_format_is_carried_over_without_relaunching(tmp_path: Path) -> None:
    write(tmp_path / "seen.csv", "x", mtime_ns=2_000)
    write(tmp_path / "same-time.csv", "x", mtime_ns=2_000)
    old_cursor = json.dumps({"mtime_ns": 2_000, "names": ["seen.csv"]})
    names, cursor, _ = evaluate(tmp_path, old_cursor)
    assert names == ["same-time.csv"]
    write(tmp_path / "older.csv", "x", mtime_ns=1_000)  # the first format could never see this one
    names, cursor, _ = evaluate(tmp_path, cursor)
    assert names == ["older.csv"]
    assert read_cursor(cursor).floor_ns == 0  # the old floor is gone once converted


def test_a_first_format_cursor_without_names_is_converted_too(tmp_path: Path) -> None:
    write(tmp_path / "seen.csv", "x", mtime_ns=2_000)
    names, cursor, _ = evaluate(tmp_path, json.dumps({"mtime_ns": 3_000, "names": []}))
    assert names == []
    write(tmp_path / "older.csv", "x", mtime_ns=1_000)
    names, _, _ = evaluate(tmp_path, cursor)
    assert names == ["older.csv"]


def test_the_cursor_forgets_files_that_left_and_stays_bounded(tmp_path: Path) -> None:
    for n in range(3):
        write(tmp_path / f"f{n}.csv", "x", mtime_ns=1_000 + n)
    names, cursor, _ = evaluate(tmp_path, None)
    assert names == ["f0.csv", "f1.csv", "f2.csv"]
    (tmp_path / "f0.csv").unlink()
    _, cursor, _ = evaluate(tmp_path, cursor)
    assert cursor is not None
    kept = read_cursor(cursor)
    assert kept.handled == {entry(FileIdentity(f"f{n}.csv", 1, 1_000 + n)) for n in (1, 2)}
    # Past the bound the oldest identities give way to a floor below which files count as handled.
    many = {FileIdentity(f"m{n}", 1, 10 + n) for n in range(MAX_REMEMBERED + 5)}
    bounded = read_cursor(write_cursor(many, 0))
    assert len(bounded.handled) == MAX_REMEMBERED and bounded.floor_ns == 15


def test_the_cursor_is_compact(tmp_path: Path) -> None:
    """Stored in the run database with every tick: a folder of a thousand landed files (names as a landing
    job writes them) costs at most 25 kB, a folder of three under 150 bytes."""
    names = [
        f"orders-2026-12-{d:02d}T{h:02d}-{n:04d}.csv"
        for d in range(1, 11)
        for h in range(10)
        for n in range(10)
    ]
    files = {FileIdentity(name, 123_456 + i, 1_796_620_000_000_000_000 + i) for i, name in enumerate(names)}
    assert len(files) == MAX_REMEMBERED
    assert len(write_cursor(files, 0)) <= 25_000
    assert len(write_cursor(set(sorted(files)[:3]), 0)) < 150


def test_the_previous_cursor_format_is_carried_over_without_relaunching(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "x", mtime_ns=5_000)
    write(tmp_path / "b.csv", "yy", mtime_ns=6_000)
    previous = json.dumps({"handled": [["a.csv", 1, 5_000], ["b.csv", 2, 6_000]], "floor_ns": 0})
    names, cursor, _ = evaluate(tmp_path, previous)
    assert names == []
    write(tmp_path / "c.csv", "z", mtime_ns=1_000)
    names, cursor, _ = evaluate(tmp_path, cursor)
    assert names == ["c.csv"]


def test_an_unreadable_file_is_retried_and_blocks_nothing(tmp_path: Path) -> None:
    """Mode 000; as root the ticks run without the capability that lets root read any file."""
    write(tmp_path / "locked.json", json.dumps({"orders": 3}))
    (tmp_path / "locked.json").chmod(0)
    write(tmp_path / "good.csv", "x")
    first = _evaluate_unprivileged(tmp_path, None)
    assert first["names"] == ["good.csv"]
    assert "cannot read locked.json" in first["logs"]
    second = _evaluate_unprivileged(tmp_path, first["cursor"])
    assert second["names"] == []
    assert "cannot read locked.json" in second["logs"]  # retried on every tick, not recorded
    (tmp_path / "locked.json").chmod(0o644)
    third = _evaluate_unprivileged(tmp_path, second["cursor"])
    assert third["names"] == ["locked.json"]


# One tick in a child process, printing what it requested, its cursor and its log lines as JSON.
CHILD = """
import json, logging, os
import dagster as dg
from etl_pipeline.ingestion import raw_reference_data, raw_retail_data
from etl_pipeline.sensors import build_landing_zone_sensor

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
ingestion = [raw_reference_data, raw_retail_data]
sensor = build_landing_zone_sensor(dg.define_asset_job("ingestion_job", selection=ingestion))
defs = dg.Definitions(assets=ingestion, sensors=[sensor])
with dg.build_sensor_context(cursor=os.environ.get("CURSOR") or None, definitions=defs) as context:
    context.log.addHandler(Keep())
    result = sensor.evaluate_tick(context)
names = [r.tags["landing_file"] for r in result.run_requests or []]
print(json.dumps({"names": names, "cursor": result.cursor, "logs": "\\n".join(records)}))
"""


def _evaluate_unprivileged(landing: Path, cursor: str | None) -> dict:
    command = [sys.executable, "-c", CHILD]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")  # util-linux: on every Debian
        assert setpriv, "setpriv (util-linux) is needed to drop root's file-read override"
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
    env = {**os.environ, "LANDING_DIR": str(landing), "CURSOR": cursor or "", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
