"""Reload on save on a running compose stack, beside today's manual reload (GraphQL reloadRepositoryLocation).

    .venv/bin/python bench/reload_bench.py [--project edp] [--reps 5] [--idle-s 60] [--timeout 120]

It edits the files the stack's user-code container bind-mounts (found from the container's mounts, so the
stack may run from any checkout or copy) and restores every one of them at the end, also on Ctrl-C or error.
Figures (median, min-max over --reps):

1. peer: the GraphQL reloadRepositoryLocation mutation with nothing changed (mutation sent -> new server id
   served through GraphQL) - what a reload cost before reload on save, and still costs when asked for;
2. a .py save (a new asset appended to definitions.py) -> the asset served through GraphQL (goal <= 2.5 s);
3. a new dbt model, and a changed one (a new column, seen in the asset's SQL) -> served (goal <= 4 s);
4. a broken save (a syntax error) -> its error in the location's status file (goal <= 2.5 s), the location
   still serving;
5. 10 saves within 2 s -> reloads made (goal <= 2);
6. idle for --idle-s, CPU time as % of a core: the watcher's threads (named edp-reload-* and notify-rs* in
   the location's code server, `python -m edp_platform.code_server.supervisor --location etl_pipeline`;
   goal <= 0.5 %), all of that process (also the proxy answering the
   webserver's 1 s server-id poll and the daemon's sensor calls), the whole container; and the CPU seconds
   the whole container spends per reload, manual vs a .py save (cgroup CPU accounting).

Wall-clock figures need a quiet host: the script prints the load average and the other running containers
before and after so a busy run is recognisable. Every wait is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CODE_MOUNT = "/opt/dagster/app"  # the user's code (EDP_CODE_DIR), read-only; the demo's folders inside it
LOCATION = "etl_pipeline"  # the demo's code location
STATUS = f"/opt/dagster/reload/{LOCATION}.json"  # one status file per code location
ASSETS = "{ assetNodes { assetKey { path } } }"
SERVER = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on RepositoryLocation { serverId } } } } } }"""
DESCRIPTION = """query($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode { description } } }"""
RELOAD = """mutation { reloadRepositoryLocation(repositoryLocationName: "etl_pipeline") { __typename } }"""
PY_PROBE = """

@dg.asset(group_name="reload_bench")
def {name}() -> int:
    return 1


defs = dg.Definitions.merge(defs, dg.Definitions(assets=[{name}]))
"""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.container = self._container()
        mounts = {m["Destination"]: m["Source"] for m in self._inspect()["Mounts"]}
        self.src = Path(mounts[CODE_MOUNT]) / "etl_pipeline" / "src"
        self.dbt = Path(mounts[CODE_MOUNT]) / "dbt_project"
        self.url = args.url or self._url()
        self.http = httpx.Client(timeout=args.timeout)
        self.definitions = self.src / "etl_pipeline" / "definitions.py"
        self.customers = self.dbt / "models" / "staging" / "stg_customers.sql"
        self.originals = {p: p.read_text() for p in (self.definitions, self.customers)}
        self.created: list[Path] = []
        self.phase_log: dict[str, list[dict[str, float]]] = {}  # kind of change -> phases of its reloads

    # ---- plumbing ----------------------------------------------------------------------------------------
    def _container(self) -> str:
        out = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={self.args.project}",
             "--filter", "label=com.docker.compose.service=user-code"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.split()  # fmt: skip
        if not out:
            sys.exit(f"no running user-code container in compose project {self.args.project!r}")
        return out[0]

    def _inspect(self) -> dict[str, Any]:
        out = subprocess.run(
            ["docker", "inspect", self.container], capture_output=True, text=True, timeout=30
        )
        return dict(json.loads(out.stdout)[0])

    def _url(self) -> str:
        out = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={self.args.project}",
             "--filter", "label=com.docker.compose.service=dagster-webserver"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.split()  # fmt: skip
        info = json.loads(
            subprocess.run(["docker", "inspect", out[0]], capture_output=True, text=True).stdout
        )
        binding = info[0]["NetworkSettings"]["Ports"]["3000/tcp"][0]
        return f"http://{binding['HostIp'] or '127.0.0.1'}:{binding['HostPort']}"

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.http.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}
        ).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return dict(body["data"])

    def exec_out(self, *cmd: str) -> str:
        return subprocess.run(
            ["docker", "exec", self.container, *cmd], capture_output=True, text=True, timeout=60
        ).stdout

    def status(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.exec_out("cat", STATUS)))
        except ValueError:
            return {}

    def assets(self) -> set[str]:
        return {"/".join(n["assetKey"]["path"]) for n in self.gql(ASSETS)["assetNodes"]}

    def server_id(self) -> str | None:
        entries = self.gql(SERVER)["workspaceOrError"]["locationEntries"]
        loc = next(e for e in entries if e["name"] == "etl_pipeline")["locationOrLoadError"] or {}
        return loc.get("serverId")

    def until(self, what: str, check: Callable[[], Any], step: float = 0.05) -> float:
        started = time.monotonic()
        while time.monotonic() - started < self.args.timeout:
            if check():
                return time.monotonic() - started
            time.sleep(step)
        raise TimeoutError(f"{what}: not within {self.args.timeout:.0f} s")

    def settle(self) -> None:
        """Until no reload runs and GraphQL serves what the code server serves."""

        def ok() -> bool:
            doc = self.status()
            return doc.get("in_progress") is None and self.server_id() == (doc.get("serving") or {}).get(
                "server_id"
            )

        self.until("stack settled", ok, step=0.2)
        time.sleep(0.5)

    def last_id(self) -> int:
        reloads = self.status().get("reloads") or []
        return int(reloads[-1]["id"]) if reloads else 0

    def cpu_usec(self) -> int:
        """CPU time of every process in the container so far (cgroup v2 cpu.stat, else v1 cpuacct)."""
        text = self.exec_out("cat", "/sys/fs/cgroup/cpu.stat")
        for line in text.splitlines():
            if line.startswith("usage_usec"):
                return int(line.split()[1])
        nanos = self.exec_out("cat", "/sys/fs/cgroup/cpuacct/cpuacct.usage").strip()
        if not nanos.isdigit():
            raise RuntimeError("no cgroup CPU accounting readable in the container")
        return int(nanos) // 1000

    def restore(self) -> None:
        for path, text in self.originals.items():
            if path.read_text() != text:
                path.write_text(text)
        for path in self.created:
            path.unlink(missing_ok=True)

    # ---- measurements ------------------------------------------------------------------------------------
    def peer_reload(self) -> float:
        self.settle()
        before = self.server_id()
        started = time.monotonic()
        self.gql(RELOAD)
        self.until("new server id", lambda: self.server_id() not in (None, before))
        return time.monotonic() - started

    def py_save(self, i: int) -> float:
        self.settle()
        name = f"bench_probe_{os.getpid()}_{i}"
        started = time.monotonic()
        self.definitions.write_text(self.originals[self.definitions] + PY_PROBE.format(name=name))
        self.until(".py save served", lambda: name in self.assets())
        took = time.monotonic() - started
        self.phase_log.setdefault(".py save", []).append(self.last_phases())
        self.definitions.write_text(self.originals[self.definitions])
        self.until("restored", lambda: name not in self.assets(), step=0.2)
        return took

    def new_model(self, i: int) -> float:
        self.settle()
        name = f"bench_model_{os.getpid()}_{i}"
        path = self.dbt / "models" / "marts" / f"{name}.sql"
        self.created.append(path)
        started = time.monotonic()
        path.write_text(f"select {i} as bench\n")
        self.until("new model served", lambda: f"marts/{name}" in self.assets())
        took = time.monotonic() - started
        self.phase_log.setdefault("new dbt model", []).append(self.last_phases())
        path.unlink()
        self.until("model removed", lambda: f"marts/{name}" not in self.assets(), step=0.2)
        return took

    def changed_model(self, i: int) -> float:
        self.settle()
        marker = f"bench_marker_{os.getpid()}_{i}"
        original = self.originals[self.customers]
        edited = original.replace("    signup_date\n", f"    signup_date,\n    1 as {marker}\n")
        if edited == original:
            raise RuntimeError("stg_customers.sql no longer ends its select list with signup_date")
        key = {"path": ["staging", "stg_customers"]}

        def seen() -> bool:
            node = self.gql(DESCRIPTION, {"key": key})["assetNodeOrError"]
            return marker in (node.get("description") or "")

        started = time.monotonic()
        self.customers.write_text(edited)
        self.until("changed model served", seen)
        took = time.monotonic() - started
        self.phase_log.setdefault("changed dbt model", []).append(self.last_phases())
        self.customers.write_text(original)
        self.until("model restored", lambda: not seen(), step=0.2)
        return took

    def broken_save(self) -> float:
        self.settle()
        before_id, before_server = self.last_id(), self.server_id()
        started = time.monotonic()
        self.definitions.write_text(self.originals[self.definitions] + "\n\ndef broken(:\n    pass\n")

        def published() -> bool:
            pending = self.status().get("pending_failure") or {}
            return int(pending.get("reload_id") or 0) > before_id

        self.until("error published", published)
        took = time.monotonic() - started
        if self.server_id() != before_server:
            raise RuntimeError("a broken save replaced the serving definitions")
        self.definitions.write_text(self.originals[self.definitions])
        self.until("fix served", lambda: self.status().get("pending_failure") is None, step=0.2)
        return took

    def burst(self) -> int:
        self.settle()
        before = self.last_id()
        base = self.originals[self.definitions]
        for k in range(10):
            self.definitions.write_text(base + f"\n# bench save {k}\n")
            time.sleep(0.19)
        self.definitions.write_text(base)
        time.sleep(3.0)  # past the coalescer's max wait: the last batch has started
        self.settle()
        return sum(1 for r in self.status().get("reloads") or [] if r["id"] > before)

    def supervisor_pid(self) -> str:
        """The pid (in the container) of the location's checking code server, `python -m
        edp_platform.code_server.supervisor --location etl_pipeline`: the watcher runs in it, not in PID 1.
        (The bracket keeps the pattern from matching the shell and grep that search.)"""
        script = (
            'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null'
            f' | grep -q "code_server[.]supervisor --location {LOCATION} " && basename $p; done'
        )
        pids = self.exec_out("sh", "-c", script).split()
        if len(pids) != 1:
            raise RuntimeError(f"expected one code server process for {LOCATION}, found {pids}")
        return pids[0]

    def thread_cpu(self) -> dict[str, float]:
        """CPU seconds of the location's code server threads by OS name: the watcher's are edp-reload-* and
        notify-rs*."""
        tick = int(self.exec_out("getconf", "CLK_TCK").strip() or 100)
        pid = self.supervisor_pid()
        script = (
            f'for t in /proc/{pid}/task/*; do printf "%s\\t%s\\n" "$(cat $t/comm)" "$(cat $t/stat)"; done'
        )
        totals: dict[str, float] = {}
        for line in self.exec_out("sh", "-c", script).splitlines():
            name, _, stat = line.partition("\t")
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) > 12:
                totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        if not totals:
            raise RuntimeError(f"no threads read for the code server process {pid}")
        return totals

    def last_phases(self) -> dict[str, float]:
        """Seconds from the change seen to each phase (checked: the dbt parse and settings check; loaded: the
        new server imported the code; served) of the last reload in the status file."""
        reloads = self.status().get("reloads") or []
        if not reloads:
            return {}
        return {k: float(v["after_s"]) for k, v in reloads[-1].get("phases", {}).items() if "after_s" in v}

    def idle(self) -> tuple[float, float, float]:
        """% of a core over --idle-s with nothing changing: the watcher's threads, all of the location's code
        server (also the proxy answering the webserver's 1 s server-id poll and the daemon), the whole
        container."""
        self.settle()

        def watcher(t: dict[str, float]) -> float:
            return sum(v for k, v in t.items() if k.startswith(("edp-reload", "notify-rs")))

        a, c0, t0 = self.thread_cpu(), self.cpu_usec(), time.monotonic()
        time.sleep(self.args.idle_s)
        b, c1, t1 = self.thread_cpu(), self.cpu_usec(), time.monotonic()
        span = t1 - t0
        return (
            100 * (watcher(b) - watcher(a)) / span,
            100 * (sum(b.values()) - sum(a.values())) / span,
            100 * (c1 - c0) / 1e6 / span,
        )


class Rows(list[tuple[str, str, str]]):
    """Figures, each printed as soon as it is measured (a later failure keeps the earlier ones)."""

    def append(self, row: tuple[str, str, str]) -> None:
        super().append(row)
        print(f"  {row[0]}: {row[1]}  (goal {row[2]})", flush=True)


def host_load() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    names = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True
    ).stdout.split()
    return f"load average {load}; {len(names)} running containers: {' '.join(sorted(names))}"


def phase_medians(runs: list[dict[str, float]]) -> str:
    """checked / loaded / served: where a reload's time goes (the status file's own stamps)."""
    names = ("checked", "loaded", "served")
    return " / ".join(
        f"{name} {statistics.median(v):.2f}" if (v := [r[name] for r in runs if name in r]) else f"{name} ?"
        for name in names
    )


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):6.2f} s  ({min(values):.2f}-{max(values):.2f}, n={len(values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--project",
        default=os.environ.get("COMPOSE_PROJECT_NAME", "edp"),
        help="compose project of the running stack (default: $COMPOSE_PROJECT_NAME or edp)",
    )
    parser.add_argument("--url", help="webserver URL (default: the published port of dagster-webserver)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each timed figure (default 5)")
    parser.add_argument("--idle-s", type=float, default=60.0, help="idle CPU window in seconds (default 60)")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="bound of every single wait (default 120)"
    )
    args = parser.parse_args(argv)
    if args.reps < 1 or args.idle_s <= 0 or args.timeout <= 0:
        parser.error("--reps, --idle-s and --timeout must be positive")
    bench = Bench(args)
    if not (bench.status().get("auto_reload")):
        sys.exit(
            "this stack's user-code has auto reload off (EDP_AUTO_RELOAD=0) or no status file: "
            "nothing to bench"
        )
    print(f"stack {args.project}: {bench.url}, code {bench.src}, dbt {bench.dbt}")
    print(f"before: {host_load()}")
    rows = Rows()
    try:
        cpu0 = bench.cpu_usec()
        peer = [bench.peer_reload() for _ in range(args.reps)]
        cpu_peer = (bench.cpu_usec() - cpu0) / 1e6 / args.reps
        rows.append(("manual reload, nothing changed (peer)", fmt(peer), "-"))
        cpu0 = bench.cpu_usec()
        py = [bench.py_save(i) for i in range(args.reps)]
        cpu_py = (bench.cpu_usec() - cpu0) / 1e6 / args.reps / 2  # each rep is a save and its restore
        rows.append((".py save -> served (auto)", fmt(py), "<= 2.5 s"))
        rows.append(
            ("new dbt model -> served (auto)", fmt([bench.new_model(i) for i in range(args.reps)]), "<= 4 s")
        )
        rows.append(
            (
                "changed dbt model -> served (auto)",
                fmt([bench.changed_model(i) for i in range(args.reps)]),
                "<= 4 s",
            )
        )
        rows.append(
            (
                "broken save -> error published",
                fmt([bench.broken_save() for _ in range(args.reps)]),
                "<= 2.5 s",
            )
        )
        rows.append(("10 saves within 2 s -> reloads", str(bench.burst()), "<= 2"))
        for kind, runs in bench.phase_log.items():
            rows.append((f"{kind}: phases, median s after the change was seen", phase_medians(runs), "-"))
        watch, pid1, whole = bench.idle()
        rows.append((f"idle {args.idle_s:.0f} s: watcher threads", f"{watch:.3f} % of a core", "<= 0.5 %"))
        rows.append(
            (f"idle {args.idle_s:.0f} s: the location's code server process", f"{pid1:.3f} % of a core", "-")
        )
        rows.append((f"idle {args.idle_s:.0f} s: whole user-code container", f"{whole:.3f} % of a core", "-"))
        rows.append(("container CPU per reload: manual (peer) / .py save",
                     f"{cpu_peer:.2f} s / {cpu_py:.2f} s", "-"))  # fmt: skip
    finally:
        bench.restore()
    print(f"after:  {host_load()}")
    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure'.ljust(width)}  {'measured'.ljust(36)}  goal")
    for name, value, goal in rows:
        print(f"{name.ljust(width)}  {value.ljust(36)}  {goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
