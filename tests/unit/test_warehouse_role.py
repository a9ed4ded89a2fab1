"""The warehouse role's settings (edp_platform.warehouse_role) are checked before anything is changed
(tests/integration/test_platform_warehouse_role.py applies them to a real server)."""

from __future__ import annotations

import pytest
from edp_platform.warehouse_role import WarehouseRole, WarehouseRoleError


def test_settings_are_checked_before_anything_changes() -> None:
    base = {"DAGSTER_PG_PASSWORD": "x"}
    assert WarehouseRole.from_env(base).user == "warehouse"
    for bad in (
        {"WAREHOUSE_USER": "a-b"},
        {"WAREHOUSE_STATEMENT_TIMEOUT": "30 minutes; drop"},
        {"WAREHOUSE_WORK_MEM": "lots"},
        {"WAREHOUSE_CONNECTION_LIMIT": "0"},
        {"DAGSTER_PG_PASSWORD": ""},
    ):
        with pytest.raises(WarehouseRoleError):
            WarehouseRole.from_env({**base, **bad})
