"""`python -m edp_platform.dbt --debug` (the dashboard's "dbt debug" command in user-code): dbt debug in the
working copy of every code location with a dbt project, with that location's schema, whatever the settings
name; real dbt against a closed port (no database), so each location's check runs and fails with dbt's own
connection error."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from edp_platform.dbt import __main__ as dbt_main
from edp_platform.dbt import workcopy
from edp_platform.dbt.project import work_copy
from edp_platform.settings import load_locations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_dbt_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Locations `shop` (its own schema) and `analytics` (dbt only), beside `plain` (Python, no dbt)."""
    root = tmp_path / "code"
    for name in ("shop_dbt", "shop_macros", "plain"):
        shutil.copytree(FIXTURES / name, root / name)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for key in [k for k in os.environ if k.startswith(("EDP_LOCATION_", "WAREHOUSE_", "EDP_DBT_"))]:
        monkeypatch.delenv(key)
    env = {
        "EDP_CODE_ROOT": str(root),
        "EDP_CODE_LOCATIONS": "plain shop analytics",
        "EDP_LOCATION_PLAIN_PYTHONPATH": "plain",
        "EDP_LOCATION_PLAIN_MODULE": "plain_defs",
        "EDP_LOCATION_SHOP_DBT_PROJECT": "shop_dbt",
        "EDP_LOCATION_SHOP_DBT_SCHEMA": "shop_schema",
        "EDP_LOCATION_ANALYTICS_DBT_PROJECT": "shop_macros",
        "EDP_DBT_WORK_DIR": str(tmp_path / "dbt"),
        "WAREHOUSE_HOST": "127.0.0.1",
        "WAREHOUSE_PORT": str(closed_port()),
        "WAREHOUSE_PASSWORD": "not-a-secret",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return root


def prepare_copies() -> None:
    for loc in load_locations():
        if loc.dbt_project:
            workcopy.sync(work_copy(loc))


def test_dbt_debug_checks_every_location_with_a_dbt_project_with_its_own_schema(
    two_dbt_locations: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    prepare_copies()
    assert dbt_main.main(["--debug"]) == 1  # no warehouse on that port: dbt's connection check fails
    out = capfd.readouterr().out
    assert "code location plain" not in out  # no dbt project there
    shop = out.index("== dbt debug: code location shop ")
    analytics = out.index("== dbt debug: code location analytics ")
    assert shop < analytics
    # dbt's own report of each, with the location's schema (EDP_LOCATION_<NAME>_DBT_SCHEMA, else its name).
    assert "schema: shop_schema" in out[shop:analytics]
    assert "schema: analytics" in out[analytics:]
    assert out.count("Connection test: ") == 2 and "ERROR" in out
    assert "dbt debug failed for shop, analytics" in out


def test_dbt_debug_of_one_location_and_of_a_name_without_a_dbt_project(
    two_dbt_locations: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    prepare_copies()
    assert dbt_main.main(["--debug", "analytics"]) == 1
    out = capfd.readouterr().out
    assert "code location analytics" in out and "code location shop" not in out
    assert dbt_main.main(["--debug", "plain"]) == 64
    err = capfd.readouterr().err
    assert "no code location with a dbt project named plain (those with one: shop, analytics)" in err


def test_dbt_debug_says_when_a_location_has_no_working_copy_yet(
    two_dbt_locations: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert dbt_main.main(["--debug", "shop"]) == 1
    out = capfd.readouterr().out
    assert "shop: no working copy at" in out and "the code server makes it" in out
    assert "dbt debug failed for shop" in out
