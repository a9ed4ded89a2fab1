"""Prepare the dbt projects of the configured code locations by hand or at image build time.

    python -m edp_platform.dbt [LOCATION...]      (default: every location with a dbt project)

The same preparation the code server runs before it loads a location (prepare.py: working copy, `dbt deps`,
`dbt parse`), with the same profile and paths, so the manifest the image ships is the one a load would write.
Exit 1 with dbt's message when a project is not ready.
"""

from __future__ import annotations

import sys

from edp_platform.dbt import prepare
from edp_platform.dbt.project import work_copy
from edp_platform.settings import SettingsError, load_locations


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    try:
        locations = [loc for loc in load_locations() if loc.dbt_project and (not names or loc.name in names)]
    except SettingsError as exc:
        print(f"edp-platform: {exc}", file=sys.stderr)
        return 64
    failed = 0
    for loc in locations:
        outcome = prepare.prepare(work_copy(loc))
        done = f"dbt deps {outcome.deps}, parse {outcome.action} in {outcome.seconds:.1f} s"
        print(f"edp-platform: {loc.name}: {done}")
        if outcome.action == "failed":
            print(outcome.message, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
