"""The Enterprise Data Platform's Dagster code location: retail ingestion, dbt models, analytics."""
