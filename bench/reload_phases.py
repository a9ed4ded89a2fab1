"""Where one reload of a large dbt location goes, step by step, in one process (no stack, no gRPC).

    .venv/bin/python bench/reload_phases.py [--models 1000] [--reps 3] [--workdir DIR]

The peer of bench/reload_scale.py (which times the whole path on the process stack): the same generated
project (bench/dbt_projects.py) prepared by the platform's own code (edp_platform.dbt.prepare) in a working
copy of its own, then, per repetition, one model's body edited and each step of the reload path run and timed
here, wall and CPU seconds:

- code server, "checked": the working copy synced (workcopy.sync), the inputs hashed (prepare.current_hash),
  `dbt parse` with dbt's dbtRunner in this process (warm, as the code server's prepare worker is; whether dbt
  parsed partially, from its own events), the files published into the target folder;
- candidate server, "loaded": the manifest read (dagster-dbt's read_manifest_path), the dbt assets and the
  Definitions built (edp_platform.dbt.assets.dbt_definitions), the repository resolved (what child.py reports
  and Dagster's gRPC server loads: get_repository_def, load_all_definitions);
- webserver and daemon, after the server id changed: the repository snapshot the new server computes for each
  of them (RepositorySnap.from_def + serialize_value, deferred job snapshots as the webserver asks), and
  reading it back (deserialize_value).

The imports are done before anything is timed (the code server's forkserver preloads them). Figures beside
other work are noise: the load average is printed with each repetition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.dbt_projects import model_name, model_sql, write_project  # noqa: E402
from bench.harness import load_line  # noqa: E402


def timed(results: dict[str, list[tuple[float, float]]], name: str, fn: Callable[[], Any]) -> Any:
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    results.setdefault(name, []).append((time.perf_counter() - w0, time.process_time() - c0))
    return value


def parse_events(args: list[str]) -> tuple[bool, list[str]]:
    """dbt parse through dbtRunner: (success, the names of dbt's events about partial parsing)."""
    from dbt.cli.main import dbtRunner

    seen: list[str] = []

    def keep(event) -> None:
        name = event.info.name
        if "Partial" in name or "ParsingMode" in name or name.startswith("Unable"):
            seen.append(name)

    result = dbtRunner(callbacks=[keep]).invoke(args)
    return bool(result.success), seen


def one_reload(copy: Any, results: dict[str, list[tuple[float, float]]]) -> str:
    """The steps of one reload after a save, each timed into `results`; a line of what it found."""
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import deserialize_value, serialize_value
    from dagster_dbt.dbt_manifest import read_manifest_path
    from edp_platform.code_server.child import definition_names
    from edp_platform.dbt import prepare, workcopy
    from edp_platform.dbt.assets import dbt_definitions
    from edp_platform.dbt.project import _project

    load = os.getloadavg()[0]
    # ---- checked (the code server's prepare worker) ----
    timed(results, "checked: workcopy.sync", lambda: workcopy.sync(copy))
    timed(results, "checked: inputs hash", lambda: prepare.current_hash(copy))
    staging = prepare._parse_dir(copy)
    ok, events = timed(results, "checked: dbt parse", lambda: parse_events(prepare.parse_args(copy, staging)))
    size = (staging / "manifest.json").stat().st_size
    timed(results, "checked: publish", lambda: prepare._publish(staging, copy.target_dir))
    # ---- loaded (the candidate server) ----
    project = _project(copy.project_dir, copy.target_dir)
    read_manifest_path.cache_clear()  # a fresh candidate has read no manifest
    timed(results, "loaded: manifest read", lambda: read_manifest_path(project.manifest_path.resolve()))
    defs = timed(results, "loaded: dbt assets + Definitions", lambda: dbt_definitions(project))
    repo = timed(results, "loaded: get_repository_def", defs.get_repository_def)
    timed(results, "loaded: load_all_definitions", repo.load_all_definitions)
    module = types.ModuleType("bench_location")
    module.defs = defs  # type: ignore[attr-defined]
    timed(results, "loaded: definition_names (child.py)", lambda: definition_names(module))
    # ---- served: each client of the new server (webserver, daemon) fetches its snapshot ----
    snap = timed(
        results,
        "snapshot: RepositorySnap.from_def",
        lambda: RepositorySnap.from_def(repo, defer_snapshots=True),
    )
    text = timed(results, "snapshot: serialize_value", lambda: serialize_value(snap))
    timed(results, "snapshot: deserialize_value (webserver)", lambda: deserialize_value(text, RepositorySnap))
    return (
        f"load1 {load:.2f}; parse ok={ok} events={','.join(events) or '-'}; manifest {size / 1e6:.1f} MB;"
        f" snapshot {len(text) / 1e6:.1f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder, removed")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edp-reload-phases-"))
    name = f"m{args.models}"
    source = write_project(workdir / "code" / name, args.models)
    os.environ["EDP_DBT_SCHEMA"] = name
    os.environ.setdefault("WAREHOUSE_DB", "warehouse")
    # dagster-dbt's resource looks for the dbt executable, as in the stack: the one beside this Python.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

    # What the forkserver preloads (edp_platform.code_server.supervisor.PRELOAD), untimed.
    import dagster  # noqa: F401
    from edp_platform.dbt import prepare, workcopy

    copy = workcopy.WorkCopy(source=source, base=workdir / "dbt" / name, log_dir=workdir / "dbt" / "logs")
    print(f"{args.models} models in {source}; before: {load_line()}", flush=True)
    t0 = time.perf_counter()
    first = prepare.prepare(copy)
    print(f"first prepare (cold parse): {first.action} in {time.perf_counter() - t0:.1f} s", flush=True)

    results: dict[str, list[tuple[float, float]]] = {}
    index = args.models // 2 + (1 if (args.models // 2) % 3 == 0 else 0)
    path = source / "models" / f"{model_name(index)}.sql"
    for rep in range(args.reps):
        path.write_text(model_sql(index).replace("select ", f"select {rep} as edited_{rep}, ", 1))
        print(f"rep {rep}: {one_reload(copy, results)}", flush=True)
    path.write_text(model_sql(index))
    print(f"after: {load_line()}\n")
    width = max(len(k) for k in results)
    print(f"{'step'.ljust(width)}   wall median (min-max)      CPU median")
    for step, values in results.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"{step.ljust(width)}   {statistics.median(walls):6.3f} s ({min(walls):.3f}-{max(walls):.3f})"
            f"   {statistics.median(cpus):6.3f} s"
        )
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
