"""Commands run in a service's container from the dashboard: a shell (`E` on the services panel), and the
named commands of the config file's ``commands:`` list, with defaults for this stack (psql on the warehouse,
``dbt debug``, ``dagster debug export RUN``). No Textual here: the dashboard runs the argv this module builds
(`edp_tui.ui.container_shell`) with the app suspended.

Every argv is exec'd (``docker exec -it CONTAINER ARG...``), never through a shell on this host. ``{run_id}``
and ``{container}`` in an argument are the selected run and the service's container, checked against the
shapes of a run id and a container name before they are put in (so a ``sh -c`` script inside the container
cannot be handed anything but such a name).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edp_tui.errors import EdpError

# bash where the image has it, else sh: the one shell every image has.
SHELL = ("sh", "-c", "command -v bash >/dev/null && exec bash || exec sh")

RUN_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
CONTAINER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class CommandError(EdpError):
    title = "Command"


@dataclass(frozen=True)
class ContainerCommand:
    name: str
    service: str
    argv: tuple[str, ...]
    dangerous: bool = False  # asks first, refused in read-only mode
    wait: bool = True  # wait for Enter once it ends, so that its output can be read

    @property
    def needs_run(self) -> bool:
        return any("{run_id}" in arg for arg in self.argv)

    def expand(self, *, container: str, run_id: str | None = None) -> list[str]:
        if not CONTAINER.match(container):
            raise CommandError(f"{self.name}: unexpected container name {container!r}")
        if self.needs_run:
            if run_id is None:
                raise CommandError(f"{self.name} needs a run: select one in the Runs tab first")
            if not RUN_ID.match(run_id):
                raise CommandError(f"{self.name}: unexpected run id {run_id!r}")
        return [arg.replace("{container}", container).replace("{run_id}", run_id or "") for arg in self.argv]


DEFAULT_COMMANDS = (
    ContainerCommand(
        "psql on the warehouse",
        "postgres",
        ("sh", "-c", 'exec psql -U "$POSTGRES_USER" -d "${WAREHOUSE_DB:-warehouse}"'),
        dangerous=True,  # it can change the data
        wait=False,
    ),
    ContainerCommand(
        "dbt debug",
        "user-code",
        # The platform's own check (edp_platform.dbt --debug): `dbt debug --connection` in the working copy
        # of every code location with a dbt project, with that location's profile and schema, whatever
        # locations the stack's settings describe (docs/code-locations.md).
        ("python", "-m", "edp_platform.dbt", "--debug"),
    ),
    ContainerCommand(
        "dagster debug export RUN",
        "dagster-webserver",
        (
            "sh",
            "-c",
            'dagster debug export "$1" "/tmp/dagster-debug-$1.gz" && '
            'echo "written: docker cp $2:/tmp/dagster-debug-$1.gz ."',
            "sh",
            "{run_id}",
            "{container}",
        ),
    ),
)


ENTRY_KEYS = ("name", "service", "command", "dangerous", "wait")


def parse_commands(raw: object) -> tuple[ContainerCommand, ...]:
    """The defaults, then the config file's list (an entry named as a default replaces it). Raises
    `ValueError` saying which entry is wrong and why (the caller adds the file's name)."""
    if not isinstance(raw, list):
        raise ValueError(f"expected a list of commands (name, service, command), got {type(raw).__name__}")
    commands = {c.name: c for c in DEFAULT_COMMANDS}
    for i, entry in enumerate(raw, 1):
        where = f"entry {i}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a mapping (name, service, command), got {entry!r}")
        unknown = sorted(str(k) for k in entry if k not in ENTRY_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
        name, service, command = entry.get("name"), entry.get("service"), entry.get("command")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: name must be a non-empty string")
        if not isinstance(service, str) or not service.strip():
            raise ValueError(f"{where} ({name}): service must be a non-empty string")
        argv: tuple[str, ...]
        if isinstance(command, str) and command.strip():
            argv = ("sh", "-c", command)  # the container's shell, as `docker exec ... sh -c` would
        elif isinstance(command, list) and command and all(isinstance(a, str) and a for a in command):
            argv = tuple(command)
        else:
            raise ValueError(f"{where} ({name}): command must be a string or a list of non-empty strings")
        flags = {}
        for flag in ("dangerous", "wait"):
            if flag in entry:
                if not isinstance(entry[flag], bool):
                    raise ValueError(f"{where} ({name}): {flag} must be true or false")
                flags[flag] = entry[flag]
        commands[name.strip()] = ContainerCommand(name.strip(), service.strip(), argv, **flags)
    return tuple(commands.values())


def exec_argv(container: str, argv: Sequence[str], docker: str | None = None) -> list[str]:
    """``docker exec -it CONTAINER ARGV...``; raises `CommandError` without the docker CLI."""
    docker = docker or shutil.which("docker")
    if docker is None:
        raise CommandError("the docker CLI is not installed: it runs commands in containers")
    if not CONTAINER.match(container):
        raise CommandError(f"unexpected container name {container!r}")
    return [docker, "exec", "-it", container, *argv]
