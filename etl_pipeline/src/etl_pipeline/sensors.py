"""landing_zone_sensor: a new file in LANDING_DIR launches ingestion_job for the file's day.

A file's day is the first YYYY-MM-DD in its name, or else the day it arrived (etl_pipeline.landing); a day
outside the daily partitions (before the first, after today) is skipped with the reason. A `*.json` file may
hold ingestion settings (an object with any of customers, products, orders, seed), passed to the run it
launches; any other file triggers an ingestion of its day with the defaults. Files are never moved or changed.

The cursor remembers the identity (name, size, modification time) of every file in the folder that has
been handled, so any file not handled yet is picked up whatever its modification time (a file moved in with an
old one too), and a file that changes in place is picked up again. Entries of files that left the folder are
dropped, so the cursor stays as small as the folder. Dagster stores the cursor with every tick: each identity
is kept as 16 bytes (its modification time and an 8-byte hash of the identity), base64 in one string, at
most MAX_REMEMBERED of them (about 21 kB). A file that cannot be read is skipped with a logged
reason and retried on the next tick; a file with unusable settings is skipped with a logged reason and
recorded, so it is retried only once it changes. Neither blocks the other files. Dot files (partial uploads,
editor swap files) are ignored: write under a dot name and rename, or copy, so that a half-written file is
never seen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import NamedTuple

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from etl_pipeline.ingestion import DAILY
from etl_pipeline.landing import MAX_SETTINGS_BYTES, day_in_name, landing_dir, read_settings, run_config_for

# At most this many identities in the cursor (it is stored in the run database on every tick). Past it the
# oldest are forgotten and `floor_ns` rises above their modification times: an unremembered file older than
# the floor then counts as handled. Only a folder holding more files than this ever gets there.
MAX_REMEMBERED = 1000
ENTRY = struct.Struct(">q8s")  # modification time (ns), blake2b-64 of the identity


class FileIdentity(NamedTuple):
    name: str
    size: int
    mtime_ns: int


class Entry(NamedTuple):
    """A handled file as the cursor keeps it."""

    mtime_ns: int
    digest: bytes


def entry(identity: FileIdentity) -> Entry:
    key = f"{identity.name}\0{identity.size}\0{identity.mtime_ns}".encode("utf-8", "surrogateescape")
    return Entry(identity.mtime_ns, hashlib.blake2b(key, digest_size=8).digest())


class Cursor(NamedTuple):
    handled: frozenset[Entry]
    floor_ns: int  # unremembered files modified before this count as handled (see MAX_REMEMBERED)
    legacy_names: frozenset[str]  # the first cursor format's names at floor_ns, also handled
    legacy: bool = False  # read from the first format: its floor is used once, to convert it


def sensor_interval_seconds() -> int:
    return int(os.environ.get("LANDING_SENSOR_INTERVAL_SECONDS", "30"))


def read_cursor(raw: str | None) -> Cursor:
    if not raw:
        return Cursor(frozenset(), 0, frozenset())
    data = json.loads(raw)
    if "h" in data:  # this format
        packed = base64.b64decode(data["h"])
        handled = frozenset(Entry(*ENTRY.unpack_from(packed, i)) for i in range(0, len(packed), ENTRY.size))
        return Cursor(handled, int(data.get("f", 0)), frozenset())
    if "handled" not in data:  # the first format: the newest mtime seen and the names seen at it
        return Cursor(frozenset(), int(data["mtime_ns"]), frozenset(data["names"]), legacy=True)
    # The second: the identities in full.
    handled = frozenset(entry(FileIdentity(str(n), int(s), int(m))) for n, s, m in data["handled"])
    return Cursor(handled, int(data.get("floor_ns", 0)), frozenset())


def write_cursor(handled: set[FileIdentity] | set[Entry], floor_ns: int) -> str:
    entries = sorted(i if isinstance(i, Entry) else entry(i) for i in handled)
    if len(entries) > MAX_REMEMBERED:
        forgotten, entries = (
            entries[: len(entries) - MAX_REMEMBERED],
            entries[len(entries) - MAX_REMEMBERED :],
        )
        floor_ns = max(floor_ns, forgotten[-1].mtime_ns + 1)
    packed = b"".join(ENTRY.pack(e.mtime_ns, e.digest) for e in entries)
    return json.dumps({"h": base64.b64encode(packed).decode(), "f": floor_ns}, separators=(",", ":"))


def is_handled(identity: FileIdentity, cursor: Cursor) -> bool:
    return (
        entry(identity) in cursor.handled
        or identity.mtime_ns < cursor.floor_ns
        or (identity.mtime_ns == cursor.floor_ns and identity.name in cursor.legacy_names)
    )


def run_key(identity: FileIdentity) -> str:
    # Dagster never launches two runs with the same key for a sensor, even if the cursor were lost.
    return f"{identity.name}:{identity.size}:{identity.mtime_ns}"


def partition_for(identity: FileIdentity, newest: str) -> str:
    """The partition key of a file's day (ValueError with the reason when the day has no partition)."""
    day = day_in_name(identity.name)
    if day is None:
        return newest
    key = day.isoformat()
    if not DAILY.has_partition_key(key):
        raise ValueError(
            f"its day {key} is not one of the daily partitions ({DAILY.start:%Y-%m-%d} to {newest})"
        )
    return key


def _listing(folder: Path, log) -> list[FileIdentity]:
    found = []
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue  # dot files: partial uploads, editor swap files
        try:
            if not path.is_file():
                continue
            st = path.stat()
        except FileNotFoundError:
            continue  # removed since the listing
        except OSError as exc:
            log.warning(f"skipping {path.name} for now: cannot stat it ({exc}); retried on the next tick")
            continue
        found.append(FileIdentity(path.name, st.st_size, st.st_mtime_ns))
    return sorted(found, key=lambda i: (i.mtime_ns, i.name))


def build_landing_zone_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_zone_sensor",
        job=job,
        minimum_interval_seconds=sensor_interval_seconds(),
        # RUNNING: dropping a file into the landing folder is how data arrives; it works without a click.
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launches ingestion_job for the day of each new file in LANDING_DIR.",
    )
    def landing_zone_sensor(context: dg.SensorEvaluationContext):
        folder = landing_dir()
        if not folder.is_dir():
            return dg.SkipReason(f"landing folder {folder} does not exist")
        cursor = read_cursor(context.cursor)
        newest = DAILY.get_last_partition_key()
        assert newest is not None  # the partitions start in the past
        present = _listing(folder, context.log)
        # Remember only files still in the folder; the first cursor format's files become identities.
        handled = {i for i in present if is_handled(i, cursor)}
        requests, skipped, retry = [], [], []
        for identity in present:
            if identity in handled:
                continue
            config: dict[str, int] = {}
            try:
                partition_key = partition_for(identity, newest)
            except ValueError as exc:
                context.log.warning(f"skipping {identity.name}: {exc} (retried once the file changes)")
                skipped.append(identity.name)
                handled.add(identity)
                continue
            if identity.name.endswith(".json"):
                if identity.size > MAX_SETTINGS_BYTES:
                    context.log.warning(
                        f"skipping {identity.name}: {identity.size:,} bytes, more than a settings file holds "
                        f"({MAX_SETTINGS_BYTES:,}); retried once the file changes"
                    )
                    skipped.append(identity.name)
                    handled.add(identity)
                    continue
                try:
                    config = read_settings(folder / identity.name)
                except FileNotFoundError:
                    continue  # removed since the listing
                except OSError as exc:
                    context.log.warning(f"cannot read {identity.name} ({exc}); retried on the next tick")
                    retry.append(identity.name)
                    continue
                except ValueError as exc:
                    context.log.warning(f"skipping {identity.name}: {exc} (retried once the file changes)")
                    skipped.append(identity.name)
                    handled.add(identity)
                    continue
            handled.add(identity)
            requests.append(
                dg.RunRequest(
                    run_key=run_key(identity),
                    run_config=run_config_for(config),
                    partition_key=partition_key,
                    tags={"landing_file": identity.name},
                )
            )
        new_cursor = write_cursor(handled, 0 if cursor.legacy else cursor.floor_ns)
        if not (requests or skipped or retry):
            return dg.SensorResult(skip_reason=f"no new files in {folder}", cursor=new_cursor)
        if requests:
            return dg.SensorResult(run_requests=requests, cursor=new_cursor)
        reasons = ([f"skipped {', '.join(skipped)}"] if skipped else []) + (
            [f"cannot read {', '.join(retry)} (retried)"] if retry else []
        )
        return dg.SensorResult(
            skip_reason=f"no usable new files in {folder}: {'; '.join(reasons)}", cursor=new_cursor
        )

    return landing_zone_sensor
