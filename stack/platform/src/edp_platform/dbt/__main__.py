"""Prepare the dbt projects of the configured code locations by hand or at image build time, or check their
connection to the warehouse.

    python -m edp_platform.dbt [LOCATION...]          (default: every location with a dbt project)
    python -m edp_platform.dbt --debug [LOCATION...]

The first: the same preparation the code server runs before it loads a location (prepare.py: working copy,
`dbt deps`, `dbt parse`), with the same profile and paths, so the manifest the image ships is the one a load
would write. Exit 1 with dbt's message when a project is not ready.

--debug: `dbt debug --connection` in each location's working copy, with the profile, target schema and
environment the location's runs get (project.location_env), one location after the other, dbt's own output
under a line naming the location. What the dashboard's "dbt debug" command runs in user-code, whatever
locations the settings describe. Exit 1 when one fails, 64 when a named location has no dbt project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from edp_platform.dbt import prepare
from edp_platform.dbt.profile import PROFILE_NAME, profiles_dir
from edp_platform.dbt.project import location_env, work_copy
from edp_platform.settings import Location, SettingsError, load_locations

DEBUG_LOG_DIR = Path("/tmp/edp-dbt-debug")  # dbt debug's own log, kept out of the platform's dbt_logs volume


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    names = [a for a in args if a != "--debug"]
    try:
        dbt_locations = [loc for loc in load_locations() if loc.dbt_project]
    except SettingsError as exc:
        print(f"edp-platform: {exc}", file=sys.stderr)
        return 64
    locations = [loc for loc in dbt_locations if not names or loc.name in names]
    if debug:
        unknown = [n for n in names if n not in {loc.name for loc in dbt_locations}]
        if unknown:
            known = ", ".join(loc.name for loc in dbt_locations) or "none"
            print(
                f"edp-platform: no code location with a dbt project named {', '.join(unknown)} "
                f"(those with one: {known})",
                file=sys.stderr,
            )
            return 64
        return debug_locations(locations)
    failed = 0
    for loc in locations:
        outcome = prepare.prepare(work_copy(loc))
        done = f"dbt deps {outcome.deps}, parse {outcome.action} in {outcome.seconds:.1f} s"
        print(f"edp-platform: {loc.name}: {done}")
        if outcome.action == "failed":
            print(outcome.message, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def debug_argv(loc: Location) -> list[str]:
    copy = work_copy(loc)
    return [
        shutil.which("dbt") or "dbt",
        "debug",
        # The project's own checks include `git --help`, and the image has no git: the connection only.
        "--connection",
        "--project-dir",
        str(copy.project_dir),
        "--profiles-dir",
        str(profiles_dir()),
        "--profile",
        PROFILE_NAME,
        "--log-path",
        str(DEBUG_LOG_DIR / loc.name),
        "--no-send-anonymous-usage-stats",
    ]


def debug_locations(locations: list[Location]) -> int:
    if not locations:
        print("edp-platform: no code location has a dbt project")
        return 0
    failed = []
    for loc in locations:
        print(f"== dbt debug: code location {loc.name} ({loc.dbt_project}) ==", flush=True)
        copy = work_copy(loc)
        if not copy.project_dir.is_dir():
            print(
                f"edp-platform: {loc.name}: no working copy at {copy.project_dir} yet (the code server "
                "makes it when it loads the location: see the Code locations tab)",
                flush=True,
            )
            failed.append(loc.name)
            continue
        env = {**os.environ, **location_env(loc)}
        done = subprocess.run(debug_argv(loc), cwd=copy.project_dir, env=env, check=False)
        if done.returncode != 0:
            failed.append(loc.name)
    if failed:
        print(f"edp-platform: dbt debug failed for {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
