"""Figures for the data platform, measured on the process stack (PostgreSQL, code server, webserver, daemon).

    .venv/bin/python bench/platform_bench.py [--large-orders 90000] [--skip-large]

Prints, each beside a peer measured the same way:
- start-up: PostgreSQL, code server (spawn → port bound = definitions loaded, with a cold `dbt parse`),
  webserver, daemon; and a code-location reload through GraphQL (warm parse) beside a bare `dbt --version`;
- `dbt parse` cold (empty target) vs warm (partial_parse.msgpack kept);
- full_refresh_job for one day launched through GraphQL (launch → SUCCESS) at the test size and at a large
  size, beside the same work done directly (generator + COPY in this process, then `dbt build --full-refresh`
  on the CLI).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl_pipeline.generator import (  # noqa: E402
    GeneratorParams,
    Reference,
    generate,
    generate_day,
    generate_reference,
)
from harness import DEMO_DAY, Stack, demo_config, process_stack  # noqa: E402

TEST_SIZE = GeneratorParams(customers=40, products=8, orders=300, seed=7)
DAY = date.fromisoformat(DEMO_DAY)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.monotonic() - t0


def full_refresh_via_graphql(stack: Stack, params: GeneratorParams) -> float:
    t0 = time.monotonic()
    config = demo_config(params.customers, params.products, params.orders, params.seed)
    launched = stack.launch_run("full_refresh_job", config)  # for DEMO_DAY
    assert launched["__typename"] == "LaunchRunSuccess", launched
    status = stack.wait_for_run(launched["run"]["runId"], timeout=3600)
    assert status == "SUCCESS", status
    return time.monotonic() - t0


def full_refresh_direct(stack: Stack, params: GeneratorParams, target: Path) -> tuple[float, float]:
    """(load seconds, dbt build seconds) without Dagster."""
    import os

    saved = dict(os.environ)
    os.environ.update(stack.env)
    try:
        from etl_pipeline.warehouse import load_days, load_reference

        t0 = time.monotonic()
        reference = generate_reference(params)
        load_reference(reference)
        day = generate_day(DAY, orders=params.orders, seed=params.seed, reference=Reference.of(reference))
        load_days(day, [DAY])
        load_s = time.monotonic() - t0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    env = {**stack.env, "DBT_TARGET_PATH": str(target)}
    dbt = str(Path(sys.executable).parent / "dbt")
    build_s = timed([dbt, "build", "--full-refresh", "--quiet"], env, stack.code_root / "dbt_project")
    return load_s, build_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large-orders", type=int, default=90_000, help="orders of the day (at most 99,999)")
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    large = GeneratorParams(customers=args.large_orders // 10, products=500, orders=args.large_orders, seed=7)

    with tempfile.TemporaryDirectory(prefix="edp-bench-") as tmp, process_stack(Path(tmp) / "stack") as stack:
        t = stack.timings
        print("== start-up (spawn → ready) ==")
        print(f"postgres (initdb + start + create DBs)      {t['postgres']:6.1f} s")
        print(f"code server (cold dbt parse)               {t['code-server']:6.1f} s")
        print(f"webserver (/server_info 200)               {t['webserver']:6.1f} s")
        print(f"daemon (all heartbeats)                    {t['daemon']:6.1f} s")

        env = stack.env
        dbt = str(Path(sys.executable).parent / "dbt")
        project = stack.code_root / "dbt_project"
        version_s = timed([dbt, "--version"], env, project)
        reload_doc = (
            "mutation($n: String!) { reloadRepositoryLocation(repositoryLocationName: $n) "
            "{ __typename ... on WorkspaceLocationEntry { locationOrLoadError { __typename } } } }"
        )
        t0 = time.monotonic()
        stack.graphql(reload_doc, {"n": stack.location_name}, timeout=600)
        reload_s = time.monotonic() - t0
        print(
            f"reload via GraphQL (warm dbt parse)        {reload_s:6.1f} s   "
            f"peer: dbt --version {version_s:.1f} s"
        )

        print("== dbt parse ==")
        target = Path(tmp) / "parse-target"
        penv = {**env, "DBT_TARGET_PATH": str(target)}
        cold = timed([dbt, "parse", "--quiet"], penv, project)
        warm = timed([dbt, "parse", "--quiet"], penv, project)
        print(f"cold (empty target)                        {cold:6.1f} s")
        print(f"warm (partial_parse.msgpack kept)          {warm:6.1f} s")

        sizes = [("test size", TEST_SIZE)] + ([] if args.skip_large else [("large size", large)])
        print("== full_refresh_job (default executor), launch → SUCCESS ==")
        for label, params in sizes:
            rows = sum(generate(params, [DAY]).row_counts().values())
            via = full_refresh_via_graphql(stack, params)
            load_s, build_s = full_refresh_direct(stack, params, Path(tmp) / f"direct-{label}")
            print(
                f"{label:10} {params.orders:>7} orders, {rows:>8} raw rows: via Dagster {via:6.1f} s   "
                f"peer without Dagster: load {load_s:.1f} s + dbt build {build_s:.1f} s "
                f"= {load_s + build_s:.1f} s"
            )


if __name__ == "__main__":
    main()
