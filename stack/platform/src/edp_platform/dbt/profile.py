"""The warehouse profile every dbt project of the platform runs with (profiles/profiles.yml).

One setting decides the connection for parse time, run time and the image build alike: dbt always gets
`--profile PROFILE_NAME --profiles-dir profiles_dir()`, so the profile a project declares in its
dbt_project.yml is never looked up (a project from elsewhere names its own, which this stack does not have).
EDP_DBT_PROFILES_DIR points at another profiles.yml holding a profile of that name (a warehouse on its own
server, docs/code-locations.md); TARGETS are the run config's choices of `target`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILE_NAME = "edp_warehouse"
TARGETS = ("prod", "dev")
PACKAGED = Path(__file__).resolve().parent / "profiles"


def profiles_dir() -> Path:
    return Path(os.environ.get("EDP_DBT_PROFILES_DIR") or PACKAGED)
