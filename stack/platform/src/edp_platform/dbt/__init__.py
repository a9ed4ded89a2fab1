"""The platform's dbt integration, for any dbt project (assets.py says what a location gets).

    from edp_platform.dbt import dbt_definitions, build_dbt_assets, location_project

Names are loaded on first use: the code server's light modules (prepare, inputs, workcopy) live in this
package too, and must not pay for importing dagster-dbt.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DbtBuildConfig": "edp_platform.dbt.assets",
    "build_dbt_assets": "edp_platform.dbt.assets",
    "dbt_definitions": "edp_platform.dbt.assets",
    "dbt_resource": "edp_platform.dbt.assets",
    "DbtProjectError": "edp_platform.dbt.project",
    "location_project": "edp_platform.dbt.project",
    "PlatformDbtCliResource": "edp_platform.dbt.resource",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
