"""The container commands of the config file: defaults, parsing with clear errors, the placeholders checked
before they are put in, and the `docker exec` argv."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edp_tui.config import ConfigError, load_config
from edp_tui.container_commands import (
    DEFAULT_COMMANDS,
    SHELL,
    CommandError,
    ContainerCommand,
    exec_argv,
    parse_commands,
)

RUN = "0123abcd-0000-4000-8000-00000000beef"


def test_the_defaults_are_there_without_a_config_file(tmp_path: Path) -> None:
    config = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    names = [c.name for c in config.commands]
    assert names == ["psql on the warehouse", "dbt debug", "dagster debug export RUN"]
    psql = config.commands[0]
    assert psql.service == "postgres" and psql.dangerous and not psql.wait
    assert config.commands[2].needs_run


def test_the_default_dbt_debug_names_no_code_location() -> None:
    """The platform's check of every location with a dbt project (tests/unit/test_platform_dbt_debug.py), so
    the default works for whatever locations the stack serves, not only the demo's."""
    debug = next(c for c in DEFAULT_COMMANDS if c.name == "dbt debug")
    assert debug.service == "user-code"
    assert debug.argv == ("python", "-m", "edp_platform.dbt", "--debug")
    assert not any("etl_pipeline" in arg for c in DEFAULT_COMMANDS for arg in c.argv)


def test_the_config_file_adds_commands_and_replaces_a_default_by_name(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "commands:\n"
        "  - {name: dbt ls, service: user-code, command: 'dbt ls', wait: true}\n"
        "  - {name: psql on the warehouse, service: postgres, command: [psql, -U, reader],\n"
        "     dangerous: false}\n"
    )
    commands = {c.name: c for c in load_config(config_path=path, env={}).commands}
    assert commands["dbt ls"].argv == ("sh", "-c", "dbt ls")  # a string: the container's shell runs it
    assert commands["psql on the warehouse"] == ContainerCommand(
        "psql on the warehouse", "postgres", ("psql", "-U", "reader"), dangerous=False
    )
    assert len(commands) == len(DEFAULT_COMMANDS) + 1


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("{name: x}", "expected a list"),
        ("[x]", "entry 1: expected a mapping"),
        ("[{name: x, service: s, command: c, colour: red}]", "unknown key(s) colour"),
        ("[{service: s, command: c}]", "name must be"),
        ("[{name: x, command: c}]", "service must be"),
        ("[{name: x, service: s, command: []}]", "command must be"),
        ("[{name: x, service: s, command: c, dangerous: yes please}]", "dangerous must be true or false"),
    ],
)
def test_a_bad_command_says_which_and_why(tmp_path: Path, entries: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"commands: {entries}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config_path=path, env={})
    assert "commands:" in str(raised.value) and message in str(raised.value)
    with pytest.raises(ValueError):
        parse_commands(yaml.safe_load(entries))


def test_placeholders_take_only_a_run_id_and_a_container_name() -> None:
    export = next(c for c in DEFAULT_COMMANDS if c.needs_run)
    argv = export.expand(container="edp-dagster-webserver-1", run_id=RUN)
    # Passed as the script's arguments ($1, $2), never spliced into the script itself.
    assert argv[-3:] == ["sh", RUN, "edp-dagster-webserver-1"]
    with pytest.raises(CommandError, match="select one in the Runs tab"):
        export.expand(container="edp-dagster-webserver-1")
    with pytest.raises(CommandError, match="unexpected run id"):
        export.expand(container="c", run_id="$(reboot)")
    with pytest.raises(CommandError, match="unexpected container name"):
        export.expand(container="c; reboot", run_id=RUN)


def test_exec_argv_is_docker_exec_with_a_terminal() -> None:
    assert exec_argv("edp-user-code-1", SHELL, docker="/usr/bin/docker") == [
        "/usr/bin/docker",
        "exec",
        "-it",
        "edp-user-code-1",
        *SHELL,
    ]
    with pytest.raises(CommandError, match="unexpected container name"):
        exec_argv("-u root", SHELL, docker="/usr/bin/docker")
