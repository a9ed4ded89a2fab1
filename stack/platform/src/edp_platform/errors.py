"""The platform's error root: every failure the platform reports itself derives from PlatformError."""


class PlatformError(Exception):
    """A problem the platform explains in its own words (a setting, a dbt project, a code location)."""
