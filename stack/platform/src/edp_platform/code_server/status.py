"""The reload status document (<location>.json, schema in docs/hot-reload.md) and one log line per reload.

Written atomically (a temporary file in the same folder, then rename), so a reader (`docker cp`/get_archive or
`docker exec cat`) never sees half a document. Writing is best effort: an error (a full disk) is logged once
and never raised, so a reload, the file watcher and the gRPC server go on; the next write that works brings
the file up to date. Times are UTC ISO 8601 with milliseconds; `HH:MM:SS` in the
human message is UTC as well (the containers' clock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = "edp-reload-status/1"
KEEP_RELOADS = 20
LOG_PREFIX = "edp-reload "
PHASES = ("change_seen", "checked", "loaded", "served")
logger = logging.getLogger("edp.reload.status")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def diff_names(before: dict[str, list[str]] | None, after: dict[str, list[str]]) -> dict[str, Any]:
    before = before or {}
    out: dict[str, Any] = {}
    for kind in ("assets", "jobs", "schedules", "sensors"):
        old, new = set(before.get(kind, [])), set(after.get(kind, []))
        out[kind] = {"added": sorted(new - old), "removed": sorted(old - new)}
    return out


class Reload:
    """One reload being recorded: phases are stamped with wall-clock and monotonic time as they happen."""

    def __init__(self, reload_id: int, trigger: str, files: list[str], seen_wall: float, seen_mono: float):
        self.id = reload_id
        self.trigger = trigger
        self.files = files
        self._t0 = seen_mono
        self.phases: dict[str, dict[str, Any]] = {"change_seen": {"at": iso(seen_wall), "after_s": 0.0}}
        self._last = seen_mono
        self.outcome: str | None = None
        self.error: dict[str, Any] | None = None
        self.dbt_parse: str = "off"
        self.dbt_deps: str = "skipped"
        self.diff: dict[str, Any] | None = None
        self.server_id: str | None = None

    def phase(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = {
            "at": iso(time.time()),
            "after_s": round(now - self._t0, 3),
            "duration_s": round(now - self._last, 3),
        }
        self._last = now

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trigger": self.trigger,
            "files": self.files,
            "phases": self.phases,
            "outcome": self.outcome,
            "dbt_parse": self.dbt_parse,
            "dbt_deps": self.dbt_deps,
            "error": self.error,
            "diff": self.diff,
            "server_id": self.server_id,
        }


class StatusBook:
    def __init__(self, path: Path, location: str, *, auto_reload: bool) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._next_id = 1
        self.doc: dict[str, Any] = {
            "schema": SCHEMA,
            "location": location,
            "pid": os.getpid(),
            "started_at": iso(time.time()),
            "updated_at": iso(time.time()),
            "auto_reload": auto_reload,
            "watch": {
                "state": "off" if not auto_reload else "starting",
                "mode": None,
                "roots": [],
                "error": None,
            },
            "in_progress": None,
            "serving": None,
            "last_good_load_at": None,
            "pending_failure": None,
            "reloads": [],
        }
        self.names: dict[str, list[str]] | None = None
        self._write_failing = False

    def begin(self, trigger: str, files: list[str], seen_wall: float, seen_mono: float) -> Reload:
        with self._lock:
            record = Reload(self._next_id, trigger, files, seen_wall, seen_mono)
            self._next_id += 1
            self.doc["in_progress"] = {
                "id": record.id,
                "trigger": trigger,
                "files": files,
                "since": iso(seen_wall),
            }
            self._write()
        return record

    def finish_served(
        self, record: Reload, names: dict[str, list[str]], server_id: str, warnings: list[str] | None = None
    ) -> None:
        with self._lock:
            record.outcome = "served"
            self._serve(record, names, server_id, warnings or [])
            self.doc["pending_failure"] = None
            self._close(record)

    def finish_failed(
        self,
        record: Reload,
        error: dict[str, Any],
        *,
        serving_error: bool = False,
        served_stale: tuple[dict[str, list[str]], str, list[str]] | None = None,
    ) -> None:
        """A failed check; the previous definitions keep serving. `serving_error`: nothing good was serving,
        so the error itself is now served. `served_stale` (names, server id, warnings): nothing good was
        serving and the dbt project did not parse, so the code was loaded with the last manifest that did."""
        with self._lock:
            record.outcome = "failed_serving_error" if serving_error else "failed"
            record.error = error
            if served_stale is not None:
                self._serve(record, *served_stale)
                loaded = self.doc["serving"]["loaded_at"]
                message = (
                    "the dbt project does not parse: serving the definitions loaded at "
                    f"{hms(_parse_iso(loaded))} with the last manifest that parsed"
                )
            elif serving_error or not self.doc["last_good_load_at"]:
                message = "no definitions are loaded: the location shows this error until a save fixes it"
                self.doc["serving"] = None
                self.names = None
            else:
                loaded = (
                    self.doc["serving"]["loaded_at"] if self.doc["serving"] else self.doc["last_good_load_at"]
                )
                message = f"still serving the definitions loaded at {hms(_parse_iso(loaded))}"
            self.doc["pending_failure"] = {
                "reload_id": record.id,
                "since": iso(time.time()),
                "error": error,
                "message": message,
            }
            self._close(record)

    def _serve(
        self, record: Reload, names: dict[str, list[str]], server_id: str, warnings: list[str]
    ) -> None:
        record.server_id = server_id
        record.diff = diff_names(self.names, names)
        self.names = names
        now = time.time()
        self.doc["serving"] = {
            "server_id": server_id,
            "reload_id": record.id,
            "loaded_at": iso(now),
            "definitions": names,
            # What the location's code said with warnings.warn while it loaded (edp_platform child.py).
            "warnings": warnings,
        }
        self.doc["last_good_load_at"] = iso(now)

    def set_watch(self, **fields: Any) -> None:
        with self._lock:
            self.doc["watch"].update(fields)
            self._write()
        log_event({"event": "watch", "location": self.doc["location"], **self.doc["watch"]})

    def _close(self, record: Reload) -> None:
        self.doc["in_progress"] = None
        self.doc["reloads"] = (self.doc["reloads"] + [record.as_dict()])[-KEEP_RELOADS:]
        self._write()
        line = record.as_dict()
        if line["error"]:
            line["error"] = {k: v for k, v in line["error"].items() if k != "detail"}
        if self.doc["pending_failure"]:
            line["message"] = self.doc["pending_failure"]["message"]
        log_event({"event": "reload", "location": self.doc["location"], **line})

    def _write(self) -> None:
        self.doc["updated_at"] = iso(time.time())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.doc, indent=2) + "\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if not self._write_failing:
                logger.warning(
                    "reload status %s cannot be written (%s): retried at the next change", self.path, exc
                )
            self._write_failing = True
            return
        if self._write_failing:
            logger.warning("reload status %s: writing again", self.path)
        self._write_failing = False


def _parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def log_event(payload: dict[str, Any]) -> None:
    """One line on stdout: `edp-reload {json}` (the container log the dashboard tails)."""
    sys.stdout.write(LOG_PREFIX + json.dumps(payload, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()
