"""Which changed paths start a reload (etl_pipeline/reload/ignore.py)."""

from __future__ import annotations

import pytest
import watchfiles
from edp_platform.code_server.ignore import ReloadFilter, is_ignored

ROOT = "/opt/dagster/app/dbt_project"


@pytest.mark.parametrize(
    "path",
    [
        "models/marts/daily_revenue.sql",
        "models/_marts.yml",
        "dbt_project.yml",
        "profiles.yml",
        "macros/generate_schema_name.sql",
        "etl_pipeline/definitions.py",
        "etl_pipeline/reload/watcher.py",
        "seeds/countries.csv",
    ],
)
def test_sources_reload(path: str) -> None:
    assert not is_ignored(f"{ROOT}/{path}", ROOT)


@pytest.mark.parametrize(
    "path",
    [
        "target/manifest.json",
        "target/retail_dbt_models-1234/run_results.json",
        "logs/dbt.log",
        "etl_pipeline/__pycache__/definitions.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        "etl_pipeline/.definitions.py.swp",
        "etl_pipeline/.definitions.py.swx",
        "etl_pipeline/definitions.py~",
        "etl_pipeline/.#definitions.py",
        "etl_pipeline/#definitions.py#",
        "etl_pipeline/4913",
        "models/daily_revenue.sql___jb_tmp___",
        "etl_pipeline.egg-info/PKG-INFO",
        ".git/index",
        "models/.DS_Store",
        "target",
    ],
)
def test_output_caches_and_editor_files_are_ignored(path: str) -> None:
    assert is_ignored(f"{ROOT}/{path}", ROOT)


def test_only_parts_below_the_root_are_judged() -> None:
    # A checkout that happens to live under a folder named `logs` or `target` still reloads.
    assert not is_ignored("/home/me/logs/repo/dbt_project/models/a.sql", "/home/me/logs/repo/dbt_project")
    assert is_ignored("/home/me/logs/repo/dbt_project/logs/dbt.log", "/home/me/logs/repo/dbt_project")


def test_watchfiles_filter_uses_the_longest_matching_root() -> None:
    keep = ReloadFilter(["/w/src", "/w/src/pkg/target"])
    # Inside the nested root, its own parts are judged: a file at its top is not "under target/".
    assert keep(watchfiles.Change.modified, "/w/src/pkg/target/model.sql")
    assert not keep(watchfiles.Change.added, "/w/src/pkg/__pycache__/x.pyc")
    assert keep(watchfiles.Change.deleted, "/w/src/pkg/assets.py")
