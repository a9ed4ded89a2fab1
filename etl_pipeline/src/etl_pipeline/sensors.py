"""landing_zone_sensor: a new file in LANDING_DIR launches ingestion_job.

A `*.json` file may hold ingestion settings (an object with any of customers, products, orders, seed); any
other file triggers an ingestion with the defaults. Files are never moved or changed.

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

from etl_pipeline.ingestion import IngestionConfig

DEFAULT_LANDING_DIR = "/opt/dagster/landing"
INGESTION_OP = "raw_retail_data"
# At most this many identities in the cursor (it is stored in the run database on every tick). Past it the
# oldest are forgotten and `floor_ns` rises above their modification times: an unremembered file older than
# the floor then counts as handled. Only a folder holding more files than this ever gets there.
MAX_REMEMBERED = 1000
ENTRY = struct.Struct(">q8s")  # modification time (ns), blake2b-64 of the identity
# A settings file holds a handful of integers: anything bigger is refused unread.
MAX_SETTINGS_BYTES = 64 * 1024


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


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR") or DEFAULT_LANDING_DIR)


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


def _ingestion_overrides(path: Path) -> dict[str, int]:
    """Settings from a landed JSON file; ValueError with the reason when they are unusable, OSError when the
    file cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("not valid JSON: nested too deeply") from exc
    allowed = set(IngestionConfig.model_fields)
    if not isinstance(data, dict) or not set(data) <= allowed:
        raise ValueError(f"expected an object with keys among {sorted(allowed)}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()):
        raise ValueError("every value must be an integer")
    IngestionConfig(**data).params()  # the generator's own checks (sizes at least 1): fail here, not in a run
    return data


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
        description="Launches ingestion_job for each new file in LANDING_DIR.",
    )
    def landing_zone_sensor(context: dg.SensorEvaluationContext):
        folder = landing_dir()
        if not folder.is_dir():
            return dg.SkipReason(f"landing folder {folder} does not exist")
        cursor = read_cursor(context.cursor)
        present = _listing(folder, context.log)
        # Remember only files still in the folder; the first cursor format's files become identities.
        handled = {i for i in present if is_handled(i, cursor)}
        requests, skipped, retry = [], [], []
        for identity in present:
            if identity in handled:
                continue
            config: dict[str, int] = {}
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
                    config = _ingestion_overrides(folder / identity.name)
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
                    run_config={"ops": {INGESTION_OP: {"config": config}}},
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
