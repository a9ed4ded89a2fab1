"""Configuration precedence (flags > env > file > defaults) and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edp_tui.cli import main
from edp_tui.compose import ComposeNotFound, compose_command
from edp_tui.config import Config, ConfigError, default_compose_file, load_config, repo_root


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_supervise_this_repository(tmp_path: Path) -> None:
    config = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.compose_file == repo_root() / "stack" / "docker-compose.yaml"
    assert (repo_root() / "pyproject.toml").is_file() and (repo_root() / "src" / "edp_tui").is_dir()
    assert config.project is None and config.webserver_url is None and config.docker_host is None
    assert config.read_only is False and dict(config.keymap) == {}
    assert config.config_path is None  # the default file is optional


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.yaml",
        "project: from-file\nwebserver_url: http://file:1\nread_only: true\ncompose_file: sub/compose.yaml\n"
        "keymap:\n  services.restart: ctrl+r\n",
    )
    env = {"EDP_TUI_PROJECT": "from-env", "EDP_TUI_WEBSERVER_URL": "http://env:2"}
    config = load_config({"project": "from-flag", "read_only": None}, config_path=cfg, env=env)
    assert config.project == "from-flag"  # flag beats env and file
    assert config.webserver_url == "http://env:2"  # env beats file
    assert config.read_only is True  # only the file sets it (None flag = not given)
    assert config.compose_file == (tmp_path / "sub" / "compose.yaml").resolve()  # relative to the file
    assert dict(config.keymap) == {"services.restart": "ctrl+r"}
    assert config.config_path == cfg


def test_config_path_from_env_and_docker_host_sources(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", "docker_host: unix:///from/file.sock\n")
    assert load_config(env={"EDP_TUI_CONFIG": str(cfg)}).docker_host == "unix:///from/file.sock"
    env = {"EDP_TUI_CONFIG": str(cfg), "DOCKER_HOST": "tcp://docker-host:2375"}
    assert load_config(env=env).docker_host == "tcp://docker-host:2375"
    env["EDP_TUI_DOCKER_HOST"] = "unix:///edp.sock"
    assert load_config(env=env).docker_host == "unix:///edp.sock"
    assert load_config({"docker_host": "unix:///flag.sock"}, env=env).docker_host == "unix:///flag.sock"


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("false", False), ("0", False)])
def test_read_only_from_env(raw: str, expected: bool, tmp_path: Path) -> None:
    config = load_config(env={"EDP_TUI_READ_ONLY": raw, "XDG_CONFIG_HOME": str(tmp_path)})
    assert config.read_only is expected


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("project: [unclosed", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("colour: blue\n", "unknown setting(s) colour"),
        ("read_only: maybe\n", "read_only: expected a boolean"),
        ("webserver_url: localhost:3000\n", "expected an http:// or https:// URL"),
        ("keymap: [r]\n", "keymap: expected a mapping"),
        ("keymap:\n  services.restart: 3\n", "must map a binding id to keys"),
        ("project: ''\n", "must not be empty"),
    ],
)
def test_bad_config_file_is_a_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    cfg = write(tmp_path / "bad.yaml", content)
    with pytest.raises(ConfigError) as info:
        load_config(config_path=cfg, env={})
    assert fragment in str(info.value)
    assert str(cfg) in str(info.value)


def test_explicit_missing_config_file_and_env_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(config_path=tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="env file .* does not exist"):
        load_config({"env_file": tmp_path / "missing.env"}, env={"XDG_CONFIG_HOME": str(tmp_path)})


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EDP_TUI_READ_ONLY"):
        load_config(env={"EDP_TUI_READ_ONLY": "perhaps", "XDG_CONFIG_HOME": str(tmp_path)})


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.read_only = True  # type: ignore[misc]
    assert config.compose_file == default_compose_file()


def test_cli_reports_config_errors_and_exits_non_zero(tmp_path: Path) -> None:
    cfg = write(tmp_path / "bad.yaml", "read_only: sometimes\n")
    before = cfg.read_text()
    result = CliRunner().invoke(main, ["--config", str(cfg)])
    assert result.exit_code == 2
    assert "edp-tui:" in result.output and "read_only: expected a boolean" in result.output
    assert cfg.read_text() == before  # nothing changed


def test_cli_reports_broken_compose_file(tmp_path: Path) -> None:
    try:
        compose_command()
    except ComposeNotFound:
        pytest.skip("Docker Compose v2 is not installed")
    compose = write(tmp_path / "compose.yaml", "services: [this is not a mapping\n")
    result = CliRunner().invoke(
        main, ["--compose-file", str(compose)], env={"XDG_CONFIG_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "edp-tui:" in result.output and str(compose) in result.output


def test_log_file_defaults_to_the_xdg_state_directory(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    assert load_config(env=env).log_file == tmp_path / "state" / "edp-tui" / "edp-tui.log"
    home = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)}).log_file
    assert home == Path.home() / ".local" / "state" / "edp-tui" / "edp-tui.log"


def test_log_file_from_the_environment_and_the_config_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "EDP_TUI_LOG_FILE": str(tmp_path / "x.log")}
    assert load_config(env=env).log_file == tmp_path / "x.log"
    config_file = tmp_path / "edp.yaml"
    config_file.write_text("log_file: logs/edp.log\n")
    loaded = load_config(config_path=config_file, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert loaded.log_file == (tmp_path / "logs" / "edp.log").resolve()
