"""The one parser of a YAML run config (the CLI's ``--config`` file, the launch dialog's editor)."""

from __future__ import annotations

from collections.abc import Mapping
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


def merge_run_config(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on ``base``, mappings merged key by key (an op's config keeps the keys it does not set); the
    executor (``execution``) is one choice and is replaced whole."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key != "execution" and isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = merge_run_config(old, value)
        else:
            out[key] = value
    return out
