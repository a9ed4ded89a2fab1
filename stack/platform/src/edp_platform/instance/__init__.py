"""The Dagster instance's plugins that stack/dagster*.yaml name: storages, run coordinator, compute logs."""
