"""The whole idle stack's CPU (the four containers) beside the same stack with Dagster's defaults.

    .venv/bin/python bench/idle_stack_cpu.py --stack-dir STACK [--project edp] [--seconds 180] [--settle 90]
                                             [--variants platform,defaults] [--top 8]
                                             [--variant-file NAME=FILE ...]

STACK is the stack folder the project was brought up from (its docker-compose.yaml and .env: a copy of this
repository's stack/ works, as the e2e fixture makes one). For each variant the three Dagster services are
recreated with it (`docker compose up -d --wait`), left alone for --settle seconds (start-up is not rest),
then measured over --seconds with nothing happening:

- CPU of each container as % of one core (cgroup accounting, `docker stats`' numbers: healthchecks included,
  since Docker runs them inside the container), and of its busiest processes (/proc, by command line);
- the log lines each container wrote in that window (the daemon's log should be quiet at rest).

Variants:
- platform: the stack as stack/docker-compose.yaml and stack/dagster.yaml make it;
- defaults: the same stack with Dagster's own defaults where the platform chose settings
  (bench/compose/dagster-defaults.yaml: `dagster-webserver` and `dagster-daemon run` as the commands,
  Dagster's `grpc-health-check` and `liveness-check` as healthchecks at Docker's 30 s, and
  bench/compose/dagster-defaults.instance.yaml: Dagster's run coordinator and intervals);
- NAME (--variant-file NAME=FILE): the platform's stack with FILE added as a compose file
  (a setting under test).

The stack is left as the platform variant at the end. A figure taken while other stacks or test suites run is
noise: the load average and the other running containers are printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker

SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")
DAGSTER_SERVICES = SERVICES[1:]
HERE = Path(__file__).resolve().parent
DEFAULTS = HERE / "compose" / "dagster-defaults.yaml"


def compose(stack_dir: Path, project: str, files: list[Path], *args: str) -> None:
    cmd = ["docker", "compose", "-p", project]
    for f in files:
        cmd += ["-f", str(f)]
    env = {**os.environ, "EDP_BENCH_COMPOSE_DIR": str(HERE / "compose")}
    subprocess.run([*cmd, *args], cwd=stack_dir, env=env, check=True, timeout=1200)


def containers(client: docker.DockerClient, project: str) -> dict[str, Any]:
    found = {}
    for c in client.containers.list(filters={"label": f"com.docker.compose.project={project}"}):
        service = c.labels.get("com.docker.compose.service")
        if service in SERVICES:
            found[service] = c
    return found


def cpu_ns(container: Any) -> int:
    return int(container.stats(stream=False)["cpu_stats"]["cpu_usage"]["total_usage"])


def process_ticks(container: Any) -> dict[str, int]:
    """utime+stime clock ticks by command line, for every process in the container (exited ones are lost)."""
    script = (
        "for d in /proc/[0-9]*; do "
        "printf '%s\\t' \"$(tr '\\0' ' ' < $d/cmdline 2>/dev/null | cut -c1-90)\"; "
        "cut -d' ' -f14,15 $d/stat 2>/dev/null | tr ' ' '+' | sed 's/$/\\n/' ; done"
    )
    out = container.exec_run(["sh", "-c", script]).output.decode(errors="replace")
    ticks: dict[str, int] = {}
    for line in out.splitlines():
        name, _, value = line.rpartition("\t")
        if not value.strip():
            continue
        try:
            used = sum(int(part) for part in value.strip().split("+"))  # utime+stime
        except ValueError:
            continue
        ticks[name.strip() or "?"] = ticks.get(name.strip() or "?", 0) + used
    return ticks


def log_lines(container: Any, since: float, until: float) -> int:
    return len(container.logs(since=int(since), until=int(until) + 1).splitlines())


def measure(client: docker.DockerClient, project: str, seconds: float, top: int) -> dict[str, Any]:
    found = containers(client, project)
    missing = [s for s in SERVICES if s not in found]
    if missing:
        sys.exit(f"project {project}: no running {', '.join(missing)}")
    hz = os.sysconf("SC_CLK_TCK")
    ticks0 = {s: process_ticks(c) for s, c in found.items()}
    cpu0 = {s: cpu_ns(c) for s, c in found.items()}
    t0, wall0 = time.monotonic(), time.time()
    time.sleep(seconds)
    cpu1 = {s: cpu_ns(c) for s, c in found.items()}
    elapsed, wall1 = time.monotonic() - t0, time.time()
    ticks1 = {s: process_ticks(c) for s, c in found.items()}
    result: dict[str, Any] = {"elapsed": elapsed, "services": {}}
    for s, c in found.items():
        procs = {
            name: 100 * (ticks1[s].get(name, 0) - ticks0[s].get(name, 0)) / hz / elapsed
            for name in ticks1[s]
            if ticks1[s].get(name, 0) > ticks0[s].get(name, 0)
        }
        result["services"][s] = {
            "cpu": 100 * (cpu1[s] - cpu0[s]) / 1e9 / elapsed,
            "lines": log_lines(c, wall0, wall1),
            "procs": sorted(procs.items(), key=lambda kv: -kv[1])[:top],
        }
    return result


def context() -> str:
    load = os.getloadavg()
    others = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True, timeout=60
    ).stdout.split()
    loads = " ".join(f"{x:.1f}" for x in load)
    return f"load average {loads} on {os.cpu_count()} cores; {len(others)} containers running"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-dir", type=Path, required=True)
    parser.add_argument("--project", default="edp")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--settle", type=float, default=90.0)
    parser.add_argument("--variants", default="platform,defaults")
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument(
        "--variant-file",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="another variant: the stack with this compose file added (e.g. a setting under test)",
    )
    args = parser.parse_args(argv)
    stack = args.stack_dir.resolve()
    base = [stack / "docker-compose.yaml"]
    client = docker.from_env()
    results: dict[str, dict[str, Any]] = {}
    extra = dict(item.split("=", 1) for item in args.variant_file)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] + list(extra)
    try:
        for variant in variants:
            files = base + ([DEFAULTS] if variant == "defaults" else [])
            files += [Path(extra[variant]).resolve()] if variant in extra else []
            print(f"[{variant}] recreating {', '.join(DAGSTER_SERVICES)} ...", flush=True)
            compose(
                stack, args.project, files, "up", "-d", "--wait", "--wait-timeout", "900", *DAGSTER_SERVICES
            )
            time.sleep(args.settle)
            print(f"[{variant}] measuring {args.seconds:.0f} s ({context()})", flush=True)
            results[variant] = measure(client, args.project, args.seconds, args.top)
            results[variant]["context"] = context()
    finally:
        if variants != ["platform"]:
            compose(
                stack, args.project, base, "up", "-d", "--wait", "--wait-timeout", "900", *DAGSTER_SERVICES
            )
    print()
    header = f"{'container':<20}" + "".join(f"{v + ' CPU':>16}{'log lines':>11}" for v in results)
    print(f"idle CPU, % of one core, over {args.seconds:.0f} s each")
    print(header)
    for s in SERVICES:
        row = f"{s:<20}"
        for v in results:
            svc = results[v]["services"][s]
            row += f"{svc['cpu']:>15.2f}%{svc['lines']:>11}"
        print(row)
    total = f"{'all four':<20}"
    for v in results:
        total += f"{sum(x['cpu'] for x in results[v]['services'].values()):>15.2f}%{'':>11}"
    print(total)
    for v in results:
        print(f"\n[{v}] {results[v]['context']}; busiest processes:")
        for s in SERVICES:
            for name, pct in results[v]["services"][s]["procs"]:
                print(f"  {s:<18} {pct:6.2f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
