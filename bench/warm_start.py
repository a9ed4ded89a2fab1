"""`edp-tui launch full_refresh_job --wait` with warm run workers beside cold ones, on the process stack.

    .venv/bin/python bench/warm_start.py [--runs 5]

Serves the demo on the process stack (tests/support/process_stack.py, the repository's stack/dagster.yaml:
the platform's WarmRunLauncher) and times --runs `edp-tui launch full_refresh_job --wait` at the test size
(40 customers, 8 products, 300 orders) with warm workers, then the same with Dagster's DefaultRunLauncher
(the webserver and daemon restarted on that instance: a fresh Python process per run), then warm again, so
that a drift of the host's load shows. Each line: the command's seconds, and where the run's time went from
its own events: queued (launch -> STARTING), worker (STARTING -> "Started process for run", the process and
its imports), code (-> RUN_START: the location's code, the plan), steps (-> SUCCESS).

The compose stack's figure is bench/run_latency.py's (same command, the run-per-container mode too). The
load average is printed before and after: figures taken beside other work are noise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from bench.harness import DEMO_DAY, dagster_db, demo_config, process_stack  # noqa: E402
from bench.harness import Stack as ProcessStack  # noqa: E402

TEST_SIZE = {"customers": 40, "products": 8, "orders": 300, "seed": 7}
COLD = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def use_launcher(stack: ProcessStack, launcher: dict) -> None:
    stack.stop_daemon()
    stack.stop_webserver()
    path = stack.dagster_home / "dagster.yaml"
    instance = yaml.safe_load(path.read_text())
    instance["run_launcher"] = launcher
    path.write_text(yaml.safe_dump(instance))
    stack.start_webserver()
    stack.start_daemon()


def phases(stack: ProcessStack, run_id: str) -> str:
    db = dagster_db(stack)
    try:
        with db.cursor() as cur:
            cur.execute(
                "select dagster_event_type, timestamp, event from event_logs where run_id = %s order by id",
                (run_id,),
            )
            rows = cur.fetchall()
    finally:
        db.close()

    def at(kind: str, text: str = "") -> float | None:
        found = [ts.timestamp() for k, ts, event in rows if k == kind and text in event]
        return found[0] if found else None

    marks = [
        at("PIPELINE_ENQUEUED"),
        at("PIPELINE_STARTING"),
        at("ENGINE_EVENT", "Started process for run"),
        at("PIPELINE_START"),
        at("PIPELINE_SUCCESS"),
    ]
    names = ["queued", "worker", "code", "steps"]
    parts = [
        f"{name} {b - a:4.1f} s" if a is not None and b is not None else f"{name} ?"
        for name, a, b in zip(names, marks, marks[1:], strict=False)
    ]
    return ", ".join(parts)


def launch_wait(stack: ProcessStack, config: Path) -> tuple[float, str, str]:
    exe = Path(sys.executable).parent / "edp-tui"
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(exe), "--webserver-url", stack.webserver_url, "launch", "full_refresh_job"]
        + ["--config", str(config), "--partition", DEMO_DAY, "--wait"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - t0
    words = (proc.stdout + proc.stderr).split()
    run_id = next((w for w in words if len(w) == 36 and w.count("-") == 4), "")
    return seconds, f"exit {proc.returncode}", run_id


def block(stack: ProcessStack, label: str, runs: int, config: Path) -> list[float]:
    seconds = []
    for i in range(runs):
        took, outcome, run_id = launch_wait(stack, config)
        seconds.append(took)
        detail = phases(stack, run_id) if run_id else "no run id in the output"
        print(f"{label} {i + 1}: {took:5.1f} s ({outcome}); {detail}", flush=True)
    return seconds


# full_refresh_job's own config (what Dagster's launchpad and the dashboard's dialog start from) with the
# test size: a partitioned job's default config is not merged into a run config given at launch (its dbt
# steps would neither run in the run worker's process nor do a full refresh), so the bench sends all of it.
DBT_STEPS = ("retail_dbt_staging", "retail_daily_dbt_models", "retail_dbt_models")


def full_refresh_config() -> dict[str, Any]:
    config = demo_config(**TEST_SIZE)
    config["ops"].update({step: {"config": {"full_refresh": True}} for step in DBT_STEPS})
    return {**config, "execution": {"config": {"in_process": {}}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"before: load average {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="edp-warm-start-") as tmp:
        config = Path(tmp) / "run-config.yaml"
        config.write_text(json.dumps(full_refresh_config()))  # JSON is YAML
        with process_stack(Path(tmp) / "stack", auto_reload=False) as stack:
            block(stack, "warm (warmup)", 1, config)
            warm = block(stack, "warm", args.runs, config)
            use_launcher(stack, COLD)
            block(stack, "cold (warmup)", 1, config)
            cold = block(stack, "cold", args.runs, config)
            use_launcher(stack, {"module": "edp_platform.instance.run_launcher", "class": "WarmRunLauncher"})
            again = block(stack, "warm again", args.runs, config)
    print(f"after: load average {load()}")
    for label, values in (("warm", warm), ("cold", cold), ("warm again", again)):
        ordered = sorted(values)
        each = " / ".join(f"{v:.1f}" for v in values)
        print(f"{label:>10}: median {ordered[len(ordered) // 2]:.1f} s; {each}")


if __name__ == "__main__":
    main()
