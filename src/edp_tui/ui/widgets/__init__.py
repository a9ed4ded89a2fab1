"""The dashboard's widgets: header, services panel, logs (`LogView`), the poll loop, and `dagster/` panels."""
