"""The Dagster panels: runs (list, detail, compute logs), code locations, schedules & sensors, health."""
