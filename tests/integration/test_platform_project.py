"""How the platform makes a location's dbt project ready (edp_platform.dbt: real `dbt deps`, `dbt parse`, no
services needed): the working copy follows the user's read-only project, deps and parse run only when what
they read changed, the platform's profile is used whatever the project declares, and a process that loads the
location's code under a code server (whose environment names the prepared paths) never parses again.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from edp_platform import settings
from edp_platform.dbt import prepare, workcopy
from edp_platform.dbt.project import DbtProjectError, location_env, location_project, work_copy

from tests.support.process_stack import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "projects"
EXTRA_MODEL = "select 1 as one\n"


def models_in(manifest: Path) -> set[str]:
    nodes = json.loads(manifest.read_text())["nodes"]
    return {n["name"] for n in nodes.values() if n["resource_type"] == "model"}


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A read-only copy of the fixture projects as the user's code, the settings naming the shop project."""
    root = tmp_path / "code"
    for name in ("shop_dbt", "shop_macros"):
        shutil.copytree(FIXTURES / name, root / name)
    for var in [v for v in os.environ if v.startswith(("EDP_", "DBT_", "DAGSTER_DBT"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("EDP_CODE_ROOT", str(root))
    monkeypatch.setenv("EDP_CODE_LOCATIONS", "shop")
    monkeypatch.setenv("EDP_LOCATION_SHOP_DBT_PROJECT", "shop_dbt")
    monkeypatch.setenv("EDP_DBT_WORK_DIR", str(tmp_path / "dbt"))
    read_only(root, True)
    yield root
    read_only(root, False)


def read_only(root: Path, on: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        writable = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        path.chmod(mode & ~writable if on else mode | stat.S_IWUSR)


def shop() -> settings.Location:
    return settings.find_location("shop")


def test_a_read_only_project_with_a_local_package_is_prepared_in_the_working_copy(code: Path) -> None:
    copy = work_copy(shop())
    outcome = prepare.prepare(copy)
    assert (outcome.action, outcome.deps) == ("parsed", "installed"), outcome.message
    assert {"stg_shop_orders", "orders_enriched"} <= models_in(copy.target_dir / "manifest.json")
    # dbt wrote its packages and lock into the copy; the user's files are links, untouched.
    assert (copy.project_dir / "dbt_packages" / "shop_macros").exists()
    assert (copy.project_dir / "models" / "marts" / "orders_enriched.sql").is_symlink()
    assert not (code / "shop_dbt" / "dbt_packages").exists() and not (code / "shop_dbt" / "target").exists()
    # Nothing changed: neither deps nor parse runs again.
    again = prepare.prepare(copy)
    assert (again.action, again.deps) == ("skipped", "skipped")


def test_a_save_is_parsed_and_a_removed_file_leaves_the_copy(code: Path) -> None:
    copy = work_copy(shop())
    prepare.prepare(copy)
    read_only(code, False)
    extra = code / "shop_dbt" / "models" / "marts" / "extra_model.sql"
    extra.write_text(EXTRA_MODEL)
    assert prepare.prepare(copy).action == "parsed"
    assert "extra_model" in models_in(copy.target_dir / "manifest.json")
    extra.unlink()
    assert prepare.prepare(copy).action == "parsed"
    assert "extra_model" not in models_in(copy.target_dir / "manifest.json")
    assert not (copy.project_dir / "models" / "marts" / "extra_model.sql").exists()


def test_a_change_in_a_local_package_outside_the_project_is_an_input(code: Path) -> None:
    copy = work_copy(shop())
    prepare.prepare(copy)
    read_only(code, False)
    macro = code / "shop_macros" / "macros" / "cents.sql"
    macro.write_text(macro.read_text().replace("* 100", "* 100.0"))
    assert prepare.prepare(copy).action == "parsed"
    assert workcopy.outside_packages(code / "shop_dbt") == [(code / "shop_macros").resolve()]


def test_a_project_that_does_not_parse_says_where(code: Path) -> None:
    copy = work_copy(shop())
    read_only(code, False)
    (code / "shop_dbt" / "models" / "marts" / "broken.sql").write_text("select * from {{ ref('nope') }}\n")
    outcome = prepare.prepare(copy)
    assert outcome.action == "failed"
    assert "model.shop.broken" in outcome.message and "nope" in outcome.message


def test_the_location_env_names_the_prepared_project_and_nothing_parses_with_it(
    code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = work_copy(shop())
    prepare.prepare(copy)
    for key, value in location_env(shop()).items():
        monkeypatch.setenv(key, value)
    manifest = copy.target_dir / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    read_only(code, False)
    (code / "shop_dbt" / "models" / "marts" / "extra_model.sql").write_text(EXTRA_MODEL)
    project = location_project()  # as a run worker of that location does: reads, never parses
    assert project.manifest_path == manifest and manifest.stat().st_mtime_ns == stamp
    assert project.profile == "edp_warehouse"


def test_outside_a_code_server_the_location_is_prepared_here_or_says_why(
    code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert location_project().manifest_path.is_file()  # found in the settings, prepared in this process
    monkeypatch.setenv("EDP_LOCATION", "shop")
    monkeypatch.setenv("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "0")
    monkeypatch.setenv("EDP_DBT_WORK_DIR", str(code.parent / "empty"))
    # With parsing off and no prepared manifest, it still prepares once (nothing else could serve).
    assert location_project().manifest_path.is_file()
    monkeypatch.setenv("EDP_CODE_LOCATIONS", "other")
    monkeypatch.setenv("EDP_LOCATION_OTHER_FILE", "x.py")
    with pytest.raises(DbtProjectError, match="no dbt project for code location 'shop'"):
        location_project()
