"""landing_zone_sensor: a new file in LANDING_DIR launches ingestion_job.

A `*.json` file may hold ingestion settings (an object with any of customers, products, orders, seed); any
other file triggers an ingestion with the defaults. Files are never moved or changed: the cursor remembers the
newest modification time seen and the names seen at that time, so each file triggers once. A file moved in
with an older modification time than the newest one seen is not noticed (`touch` it); write-then-rename
inside the folder, or a copy, is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from etl_pipeline.ingestion import IngestionConfig

DEFAULT_LANDING_DIR = "/opt/dagster/landing"
INGESTION_OP = "raw_retail_data"


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR") or DEFAULT_LANDING_DIR)


def sensor_interval_seconds() -> int:
    return int(os.environ.get("LANDING_SENSOR_INTERVAL_SECONDS", "30"))


def _read_cursor(raw: str | None) -> tuple[int, set[str]]:
    if not raw:
        return 0, set()
    data = json.loads(raw)
    return int(data["mtime_ns"]), set(data["names"])


def _ingestion_overrides(path: Path) -> dict[str, int]:
    """Settings from a landed JSON file; ValueError with the reason when they are unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    allowed = set(IngestionConfig.model_fields)
    if not isinstance(data, dict) or not set(data) <= allowed:
        raise ValueError(f"expected an object with keys among {sorted(allowed)}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()):
        raise ValueError("every value must be an integer")
    IngestionConfig(**data).params()  # the generator's own checks (sizes at least 1): fail here, not in a run
    return data


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
        last_mtime, names_at_last = _read_cursor(context.cursor)
        new = []
        for path in folder.iterdir():
            if not path.is_file() or path.name.startswith("."):
                continue  # dot files: partial uploads, editor swap files
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue  # removed since the listing
            if mtime > last_mtime or (mtime == last_mtime and path.name not in names_at_last):
                new.append((mtime, path))
        if not new:
            return dg.SkipReason(f"no new files in {folder}")
        new.sort()
        requests = []
        for mtime, path in new:
            config: dict[str, int] = {}
            if path.suffix == ".json":
                try:
                    config = _ingestion_overrides(path)
                except ValueError as exc:
                    context.log.warning(f"skipping {path.name}: {exc}")
                    continue
            requests.append(
                dg.RunRequest(
                    run_key=f"{path.name}:{mtime}",
                    run_config={"ops": {INGESTION_OP: {"config": config}}},
                    tags={"landing_file": path.name},
                )
            )
        newest = new[-1][0]
        names = {p.name for m, p in new if m == newest} | (names_at_last if newest == last_mtime else set())
        context.update_cursor(json.dumps({"mtime_ns": newest, "names": sorted(names)}))
        return requests or dg.SkipReason(f"no usable new files in {folder}")

    return landing_zone_sensor
