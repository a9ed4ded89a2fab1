"""Reload on save at realistic size: a saved dbt model -> served through GraphQL, at 100 and 1,000 models.

    .venv/bin/python bench/reload_scale.py [--sizes 100,1000] [--reps 3] [--timeout 180] [--no-daemon]
        [--workdir DIR] [--keep]

Generates its own dbt projects (bench/dbt_projects.py: N table models, every fifth tested) and serves each as
a dbt-only code location of the platform with reload on save (EDP_AUTO_RELOAD=1) on the process stack
(tests/support/process_stack.py: PostgreSQL, the platform's code servers, webserver and daemon as local
processes: the same code server, watcher and webserver as the compose stack). Per size and repetition:

1. body edited: one model's SQL gets a new column -> the asset's description (dagster-dbt puts the model's
   raw SQL there) shows it through the webserver's GraphQL (`assetNodeOrError`);
2. new model: a model file added -> its asset key answers through GraphQL (`assetNodeOrError`);

(each change is undone after it was measured, and that reload waited for, untimed). For each: the seconds
from the write to GraphQL, and where they went, from the code server's own reload status
(<status dir>/<location>.json: change_seen, checked = settings + dbt parse, loaded = the new server imported
the definitions, served = the proxy switched to it) and from this script's GraphQL polls (the webserver
answering the new server id: it has fetched and read the new definitions); the dbt parse the reload made
(skipped / parsed); the CPU seconds of the code server's process tree (supervisor, forkserver, dbt worker,
candidate servers), the webserver and the daemon from the write until GraphQL showed the change; and the load
average (1 min) at the write. A bench, not a test: every wait is bounded by --timeout and printed as such.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.dbt_projects import model_name, model_sql, test_count, write_project  # noqa: E402
from bench.harness import Stack, load_line, process_stack  # noqa: E402

POLL_S = 0.1
TICK = os.sysconf("SC_CLK_TCK")
SERVER_ID = """{ workspaceOrError { ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on RepositoryLocation { serverId } } } } } }"""
ASSET = """query($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) { __typename ... on AssetNode { description } } }"""
STEPS = ("change_seen", "checked", "loaded", "served", "webserver", "graphql")


# ---- CPU of process trees --------------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in (Path("/proc") / str(pid) / "task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process, the children it reaped and its live descendants (0 when it is gone)."""
    if pid is None or (fields := _stat(pid)) is None:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / TICK
    return own + sum(tree_cpu(child) for child in _children(pid))


def load1() -> float:
    return os.getloadavg()[0]


# ---- one measured change ---------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    models: int
    load: float
    total: float | None = None  # write -> GraphQL shows it (None: not within the timeout)
    steps: dict[str, float] = field(default_factory=dict)  # seconds after the write
    dbt_parse: str = "?"
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""


class Bench:
    def __init__(self, stack: Stack, code: Path, timeout: float) -> None:
        self.stack = stack
        self.code = code
        self.timeout = timeout

    def server_id(self, location: str) -> str | None:
        try:
            entries = self.stack.graphql(SERVER_ID, timeout=30)["workspaceOrError"]["locationEntries"]
        except Exception:  # the webserver busy reloading: try again at the next poll
            return None
        entry = next((e for e in entries if e["name"] == location), None)
        loaded = (entry or {}).get("locationOrLoadError") or {}
        return loaded.get("serverId")

    def asset(self, key: str) -> dict[str, Any]:
        try:
            return dict(self.stack.graphql(ASSET, {"key": {"path": [key]}}, timeout=30)["assetNodeOrError"])
        except Exception:
            return {}

    def status(self, location: str) -> dict[str, Any]:
        try:
            return dict(json.loads(self.stack.reload_status_path_of(location).read_text()))
        except (OSError, ValueError):
            return {}

    def settle(self, location: str) -> bool:
        """Until no reload runs or is due and GraphQL serves what the code server serves."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            doc = self.status(location)
            serving = (doc.get("serving") or {}).get("server_id")
            if doc.get("in_progress") is None and serving and self.server_id(location) == serving:
                time.sleep(1.0)  # the watcher's quiet window: a late event of the last change would fire now
                if self.status(location).get("in_progress") is None:
                    return True
            time.sleep(0.2)
        return False

    def cpu(self) -> dict[str, float]:
        return {name: tree_cpu(self.stack.pid(name)) for name in ("code-server", "webserver", "daemon")}

    def measure(self, kind: str, location: str, models: int, write, visible) -> Sample:
        """`write()` changes the project; `visible()` is true once GraphQL shows the change."""
        if not self.settle(location):
            return Sample(kind, models, load1(), note="the stack never settled before the change")
        before_ids = {r["id"] for r in self.status(location).get("reloads") or []}
        old_server = self.server_id(location)
        sample = Sample(kind, models, load1())
        cpu0 = self.cpu()
        wall0, t0 = time.time(), time.monotonic()
        write()
        deadline = t0 + self.timeout
        while time.monotonic() < deadline:
            now = time.monotonic() - t0
            if "webserver" not in sample.steps and self.server_id(location) not in (None, old_server):
                sample.steps["webserver"] = now
            if visible():
                sample.total = sample.steps["graphql"] = time.monotonic() - t0
                # The new id and the change arrived between two polls: the webserver had both by now.
                sample.steps.setdefault("webserver", sample.total)
                break
            time.sleep(POLL_S)
        else:
            sample.note = f"not served within {self.timeout:.0f} s"
        cpu1 = self.cpu()
        sample.cpu = {name: cpu1[name] - cpu0[name] for name in cpu0}
        self.settle(location)  # the status file then holds the whole reload
        mine = [r for r in self.status(location).get("reloads") or [] if r["id"] not in before_ids]
        if mine:
            if len(mine) > 1:
                sample.note += f" {len(mine)} reloads for one save"
            record = mine[0]
            sample.dbt_parse = record.get("dbt_parse", "?")
            for name, phase in (record.get("phases") or {}).items():
                at = datetime.fromisoformat(phase["at"].replace("Z", "+00:00")).timestamp()
                sample.steps[name] = at - wall0
            if record.get("outcome") != "served":
                sample.note += f" reload {record.get('outcome')}: {(record.get('error') or {}).get('text')}"
        return sample

    def body_edit(self, name: str, models: int, rep: int) -> Sample:
        index = models // 2
        if models > 1 and index % 3 == 0:  # a model with one parent: the simplest body
            index += 1
        model = model_name(index)
        path = self.code / name / "models" / f"{model}.sql"
        original = model_sql(index)
        marker = f"bench_edit_{os.getpid()}_{rep}"
        edited = original.replace("select ", f"select {rep} as {marker}, ", 1)

        def visible() -> bool:
            return marker in (self.asset(model).get("description") or "")

        sample = self.measure("body edited", name, models, lambda: path.write_text(edited), visible)
        path.write_text(original)
        self.settle(name)
        return sample

    def new_model(self, name: str, models: int, rep: int) -> Sample:
        model = f"bench_new_{os.getpid()}_{rep}"
        path = self.code / name / "models" / f"{model}.sql"

        def visible() -> bool:
            return self.asset(model).get("__typename") == "AssetNode"

        sample = self.measure(
            "new model", name, models, lambda: path.write_text(f"select {rep} as id\n"), visible
        )
        path.unlink(missing_ok=True)
        self.settle(name)
        return sample


# ---- report ----------------------------------------------------------------------------------------------
def fmt_s(value: float | None) -> str:
    return f"{value:6.2f}" if value is not None else "     ?"


def print_sample(s: Sample) -> None:
    steps = "  ".join(f"{k} {fmt_s(s.steps.get(k))}" for k in STEPS)
    cpu = " ".join(f"{k} {v:5.1f}" for k, v in s.cpu.items())
    print(
        f"{s.models:5d} models  {s.kind:11s}  total {fmt_s(s.total)} s | {steps} | parse {s.dbt_parse} |"
        f" CPU s: {cpu} | load {s.load:.2f}{'  ' + s.note if s.note else ''}",
        flush=True,
    )


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def print_summary(samples: list[Sample]) -> None:
    print("\nmedians (seconds after the write; CPU seconds from the write until GraphQL showed it)")
    print(
        "models kind        |  total | "
        + " ".join(f"{k:>11s}" for k in STEPS)
        + " | code-server webserver daemon"
        " | load1 | n"
    )
    keys = sorted({(s.models, s.kind) for s in samples})
    for models, kind in keys:
        group = [s for s in samples if (s.models, s.kind) == (models, kind)]
        done = [s for s in group if s.total is not None]
        steps = " ".join(f"{fmt_s(median([s.steps[k] for s in done if k in s.steps])):>11s}" for k in STEPS)
        cpu = " ".join(
            f"{fmt_s(median([s.cpu.get(k, 0.0) for s in done])):>9s}"
            for k in ("code-server", "webserver", "daemon")
        )
        print(
            f"{models:6d} {kind:11s} | {fmt_s(median([s.total for s in done if s.total is not None]))} |"
            f" {steps} | {cpu} | {fmt_s(median([s.load for s in group]))} | {len(done)}/{len(group)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000", help="model counts, comma separated (default 100,1000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each change per size (default 3)")
    ap.add_argument(
        "--timeout", type=float, default=180.0, help="bound of every single wait, s (default 180)"
    )
    ap.add_argument(
        "--no-daemon", action="store_true", help="no dagster-daemon (it reloads the location too)"
    )
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the workdir (projects, logs, status files)")
    args = ap.parse_args()
    if args.reps < 1 or args.timeout <= 0:
        ap.error("--reps and --timeout must be positive")
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edp-reload-scale-"))
    code = workdir / "code"
    for n in sizes:
        write_project(code / f"m{n}", n)
    print(f"projects: {', '.join(f'm{n} ({n} models, {test_count(n)} tests)' for n in sizes)} in {code}")
    print(f"before: {load_line()}", flush=True)
    locations = {f"m{n}": {"DBT_PROJECT": f"m{n}"} for n in sizes}
    stack = process_stack(
        workdir / "stack",
        code_root=code,
        locations=locations,
        auto_reload=True,
        start_daemon=not args.no_daemon,
    )
    bench = Bench(stack, code, args.timeout)
    samples: list[Sample] = []
    try:
        stack.start()
        print(f"stack up: {', '.join(f'{k} {v:.1f} s' for k, v in stack.timings.items())}", flush=True)
        for n in sizes:
            for rep in range(args.reps):
                for measure in (bench.body_edit, bench.new_model):
                    sample = measure(f"m{n}", n, rep)
                    samples.append(sample)
                    print_sample(sample)
    finally:
        stack.stop()
        if args.keep or args.workdir is not None:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"after: {load_line()}")
    print_summary(samples)


if __name__ == "__main__":
    main()
