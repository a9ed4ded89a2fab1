"""The one parser of a YAML run config (the CLI's ``--config`` file, the launch dialog's editor)."""

from __future__ import annotations

from typing import Any

from edp_tui.errors import EdpError


class RunConfigSyntaxError(EdpError, ValueError):
    """The text is not YAML, or not a mapping: nothing is sent to Dagster."""

    title = "Run config"


def parse_run_config(text: str) -> dict[str, Any]:
    """The YAML run config as a mapping; an empty document is ``{}``."""
    import yaml  # when a run config is read: not at every start of the dashboard and the CLI

    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise RunConfigSyntaxError(f"not valid YAML: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RunConfigSyntaxError(f"must be a mapping (e.g. `ops: ...`), got {type(value).__name__}")
    return value
