"""The one place where edp-tui's configuration is decided.

Precedence, highest first: command-line flags > environment (``EDP_TUI_*``) > config file (YAML) > defaults.
The defaults supervise this repository's own ``stack/`` compose project, so a bare ``edp-tui`` works.
Values that Compose knows better (project name, the webserver's published port) stay ``None`` here and are
filled in from Compose's own resolution of the file (see :mod:`edp_tui.compose`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edp_tui.errors import EdpError

ENV_PREFIX = "EDP_TUI_"
DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"


class ConfigError(EdpError):
    """The configuration (file, environment or flags) is invalid; the message says where and why."""

    title = "Configuration"


def repo_root() -> Path:
    """The repository that holds this package (src/edp_tui/config.py -> repo root).

    ``EDP_TUI_REPO_ROOT`` overrides it, e.g. for an installed (non-editable) copy.
    """
    override = os.environ.get(f"{ENV_PREFIX}REPO_ROOT")
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2]


def default_compose_file() -> Path:
    return repo_root() / "stack" / "docker-compose.yaml"


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "edp-tui" / "config.yaml"


def default_log_file(env: Mapping[str, str] | None = None) -> Path:
    """Where unexpected errors are logged: $XDG_STATE_HOME/edp-tui/edp-tui.log (~/.local/state by default)."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "edp-tui" / "edp-tui.log"


@dataclass(frozen=True)
class Config:
    compose_file: Path = field(default_factory=default_compose_file)
    env_file: Path | None = None
    # None: take the name Compose resolves (COMPOSE_PROJECT_NAME, `name:` in the file, or the directory).
    project: str | None = None
    # None: derived from the port the compose file publishes for the webserver, else DEFAULT_WEBSERVER_URL.
    webserver_url: str | None = None
    # None: DOCKER_HOST, then the current docker context, then the default socket (docker/endpoint.py).
    docker_host: str | None = None
    read_only: bool = False
    # Seconds without a daemon heartbeat before the header flags it stale (the scheduler gets 60 s more).
    daemon_stale_after_s: float = 90.0
    # Binding id -> comma-separated keys, handed to App.set_keymap.
    keymap: Mapping[str, str] = field(default_factory=dict)
    # The dashboard's log file: unexpected errors with their tracebacks (the screen only says what failed).
    log_file: Path = field(default_factory=default_log_file)
    config_path: Path | None = None


# name in file/env -> type used to parse it. Everything settable is listed here once.
_FIELDS: dict[str, type] = {
    "compose_file": Path,
    "env_file": Path,
    "project": str,
    "webserver_url": str,
    "docker_host": str,
    "read_only": bool,
    "daemon_stale_after_s": float,
    "keymap": dict,
    "log_file": Path,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(raw: object, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{where}: expected a boolean (true/false, 1/0, yes/no), got {raw!r}")


def _coerce(name: str, raw: object, where: str, base_dir: Path | None) -> object:
    kind = _FIELDS[name]
    if kind is bool:
        return _parse_bool(raw, where)
    if kind is float:
        try:
            number = float(str(raw).strip()) if not isinstance(raw, bool) else float("nan")
        except ValueError:
            number = float("nan")
        if not number > 0 or number == float("inf"):
            raise ConfigError(f"{where}: expected a positive number of seconds, got {raw!r}")
        return number
    if kind is dict:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping of binding id to keys, got {type(raw).__name__}")
        keymap: dict[str, str] = {}
        for key, value in raw.items():
            if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    f"{where}: entry {key!r}: {value!r} must map a binding id to keys (a string)"
                )
            keymap[key] = value.strip()
        return keymap
    if not isinstance(raw, str | int | float | os.PathLike) or isinstance(raw, bool):
        raise ConfigError(f"{where}: expected a string, got {type(raw).__name__}")
    text = os.fspath(raw) if isinstance(raw, os.PathLike) else str(raw)
    if not text.strip():
        raise ConfigError(f"{where}: must not be empty")
    if kind is Path:
        path = Path(text).expanduser()
        # Relative paths in a config file are relative to that file, elsewhere to the working directory.
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path.resolve()
    if name == "webserver_url" and not text.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: expected an http:// or https:// URL, got {text!r}")
    return text


def _read_file(path: Path, explicit: bool) -> dict[str, object]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    import yaml  # only with a config file: a start without one saves the import

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path}: expected a mapping at the top level, got {type(data).__name__}"
        )
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_FIELDS))}"
        )
    return {
        name: _coerce(name, raw, f"config file {path}: {name}", path.parent)
        for name, raw in data.items()
        if raw is not None
    }


def _read_env(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, kind in _FIELDS.items():
        if kind is dict:
            continue  # a keymap belongs in the config file
        var = ENV_PREFIX + name.upper()
        if var in env:
            values[name] = _coerce(name, env[var], f"environment variable {var}", None)
    # DOCKER_HOST is the Docker CLI's own variable: honour it like an EDP_TUI_ one, below it.
    if "docker_host" not in values and env.get("DOCKER_HOST"):
        values["docker_host"] = env["DOCKER_HOST"]
    return values


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Merge flags (``overrides``; None values mean "not given") > environment > config file > defaults.

    ``config_path`` (or ``EDP_TUI_CONFIG``) selects the file; a path given explicitly must exist, the default
    one (~/.config/edp-tui/config.yaml) may be absent. Raises :class:`ConfigError` with a clear message.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(flags) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")

    explicit = config_path is not None or bool(env.get(f"{ENV_PREFIX}CONFIG"))
    path = Path(config_path or env.get(f"{ENV_PREFIX}CONFIG") or default_config_path()).expanduser()
    merged: dict[str, object] = {}
    merged.update(_read_file(path, explicit))
    merged.update(_read_env(env))
    merged.update({k: _coerce(k, v, f"option --{k.replace('_', '-')}", None) for k, v in flags.items()})

    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {k: v for k, v in merged.items() if k in known}  # types checked by _coerce
    values.setdefault("log_file", default_log_file(env))
    config = Config(**values, config_path=path if path.exists() else None)
    if config.env_file is not None and not config.env_file.is_file():
        raise ConfigError(f"env file {config.env_file} does not exist")
    return config
