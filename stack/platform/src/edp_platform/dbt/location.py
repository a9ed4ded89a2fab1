"""The platform's own code location for a dbt project with no Python of its user: a location whose settings
name only EDP_LOCATION_<NAME>_DBT_PROJECT is served from this module (edp_platform.settings)."""

from edp_platform.dbt.assets import dbt_definitions

defs = dbt_definitions()
