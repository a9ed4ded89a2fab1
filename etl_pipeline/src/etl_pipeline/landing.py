"""The landing folder: files arrive there, each for a day, and JSON files carry ingestion settings.

A file's day is the first `YYYY-MM-DD` in its name (`orders-2024-03-05.csv`), or, without one, the day it
arrived (the newest partition). A JSON file holds settings: an object with any of customers, products (the
reference data), orders (of each day) and seed. The file named after a day alone, `<YYYY-MM-DD>.json`, is
that day's own settings file: the ingestion of the day reads it whenever the day is loaded (a sensor run, the
schedule, a backfill), so fixing it and loading the day again is how a bad day is repaired.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

DEFAULT_LANDING_DIR = "/opt/dagster/landing"
SETTINGS_KEYS = ("customers", "products", "orders", "seed")
REFERENCE_KEYS = ("customers", "products", "seed")
DAY_KEYS = ("orders", "seed")
# A settings file holds a handful of integers: anything bigger is refused unread.
MAX_SETTINGS_BYTES = 64 * 1024
_DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR") or DEFAULT_LANDING_DIR)


def day_in_name(name: str) -> date | None:
    """The first valid YYYY-MM-DD in a file name, if any."""
    for match in _DAY_IN_NAME.finditer(name):
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            continue
    return None


def day_settings_path(day: date) -> Path:
    return landing_dir() / f"{day.isoformat()}.json"


def read_settings(path: Path) -> dict[str, int]:
    """Settings from a landed JSON file; ValueError with the reason when they are unusable, OSError when the
    file cannot be read."""
    if path.stat().st_size > MAX_SETTINGS_BYTES:
        raise ValueError(f"more than a settings file holds ({MAX_SETTINGS_BYTES:,} bytes)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("not valid JSON: nested too deeply") from exc
    if not isinstance(data, dict) or not set(data) <= set(SETTINGS_KEYS):
        raise ValueError(f"expected an object with keys among {sorted(SETTINGS_KEYS)}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()):
        raise ValueError("every value must be an integer")
    from etl_pipeline.generator import GeneratorParams  # the generator's own checks: fail here, not in a run

    GeneratorParams(**data)
    return data


def run_config_for(settings: dict[str, int]) -> dict[str, object]:
    """The ingestion run config carrying landed settings: the reference data's to its step, the day's to
    its own."""
    ops: dict[str, object] = {}
    for op, keys in (("raw_reference_data", REFERENCE_KEYS), ("raw_retail_data", DAY_KEYS)):
        chosen = {k: settings[k] for k in keys if k in settings}
        if chosen:
            ops[op] = {"config": chosen}
    return {"ops": ops} if ops else {}
