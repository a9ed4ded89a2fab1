"""What the compose file declares, as Compose itself resolves it.

Runs ``docker compose -f FILE [--env-file F] [-p NAME] config --format json`` so that variable interpolation,
``.env`` files, profiles, ``name:`` and ``COMPOSE_PROJECT_NAME`` mean exactly what they mean to
Compose. Nothing here re-implements any of that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from edp_tui.errors import EdpError

WEBSERVER_SERVICE = "dagster-webserver"
WEBSERVER_PORT = 3000
# Where user-code mounts the user's code (EDP_CODE_ROOT): its bind source is the code folder on this host.
CODE_ROOT_IN_CONTAINER = "/opt/dagster/app"


class ComposeError(EdpError):
    """Compose could not resolve the project; the message is meant for a person."""

    title = "Compose"


class ComposeNotFound(ComposeError):
    """Neither ``docker compose`` (v2 plugin) nor ``docker-compose`` is installed."""


class ComposeFileError(ComposeError):
    """The compose file is missing, unreadable or rejected by Compose."""


@dataclass(frozen=True)
class PublishedPort:
    target: int
    published: str | None
    host_ip: str | None
    protocol: str = "tcp"

    def __str__(self) -> str:
        if not self.published:
            return f"{self.target}/{self.protocol}"
        host = f"{self.host_ip}:" if self.host_ip else ""
        return f"{host}{self.published}->{self.target}/{self.protocol}"


@dataclass(frozen=True)
class ComposeService:
    name: str
    image: str | None
    container_name: str | None
    ports: tuple[PublishedPort, ...]
    has_healthcheck: bool


@dataclass(frozen=True)
class ComposeProject:
    name: str
    compose_file: Path
    services: tuple[ComposeService, ...]
    # The code folder on this host (the bind source of CODE_ROOT_IN_CONTAINER), when a service mounts it.
    code_dir: Path | None = None

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.services)

    def service(self, name: str) -> ComposeService | None:
        return next((s for s in self.services if s.name == name), None)

    def webserver_url(self) -> str | None:
        """The URL the webserver is published on, if the file publishes Dagster's port 3000."""
        candidates = [s for s in self.services if s.name == WEBSERVER_SERVICE] + list(self.services)
        for service in candidates:
            for port in service.ports:
                if port.target == WEBSERVER_PORT and port.published:
                    host = (
                        port.host_ip
                        if port.host_ip and port.host_ip not in ("0.0.0.0", "::")
                        else "127.0.0.1"
                    )
                    if ":" in host:
                        host = f"[{host}]"
                    return f"http://{host}:{port.published}"
        return None


@lru_cache(maxsize=1)
def compose_command() -> tuple[str, ...]:
    """The Compose v2 CLI: the docker plugin if it answers, else a standalone ``docker-compose``."""
    docker = shutil.which("docker")
    if docker:
        try:
            probe = subprocess.run(
                [docker, "compose", "version"], capture_output=True, timeout=15, stdin=subprocess.DEVNULL
            )
            if probe.returncode == 0:
                return (docker, "compose")
        except (OSError, subprocess.TimeoutExpired):
            pass
    standalone = shutil.which("docker-compose")
    if standalone:
        return (standalone,)
    raise ComposeNotFound(
        "Docker Compose v2 is not installed: neither `docker compose` nor `docker-compose` works "
        "(run stack/scripts/ensure-engine.sh, or install the compose plugin)"
    )


def _parse_ports(raw: object) -> tuple[PublishedPort, ...]:
    ports: list[PublishedPort] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or "target" not in entry:
            continue
        published = entry.get("published")
        ports.append(
            PublishedPort(
                target=int(entry["target"]),
                published=str(published) if published not in (None, "") else None,
                host_ip=entry.get("host_ip") or None,
                protocol=str(entry.get("protocol") or "tcp"),
            )
        )
    return tuple(ports)


def parse_config(payload: Mapping[str, object], compose_file: Path) -> ComposeProject:
    """Build the model from the JSON that ``docker compose config --format json`` prints."""
    name = payload.get("name")
    services = payload.get("services")
    if not isinstance(name, str) or not isinstance(services, dict):
        raise ComposeFileError(f"{compose_file}: Compose's output has no project name or services")
    parsed = []
    code_dir: Path | None = None
    for service_name, spec in services.items():
        spec = spec if isinstance(spec, dict) else {}
        code_dir = code_dir or _code_dir(spec.get("volumes"))
        healthcheck = spec.get("healthcheck")
        parsed.append(
            ComposeService(
                name=str(service_name),
                image=spec.get("image"),
                container_name=spec.get("container_name"),
                ports=_parse_ports(spec.get("ports")),
                has_healthcheck=isinstance(healthcheck, dict) and not healthcheck.get("disable", False),
            )
        )
    return ComposeProject(name=name, compose_file=compose_file, services=tuple(parsed), code_dir=code_dir)


def _code_dir(volumes: object) -> Path | None:
    for volume in volumes if isinstance(volumes, list) else ():
        if isinstance(volume, dict) and volume.get("type") == "bind" and volume.get("source"):
            if volume.get("target") == CODE_ROOT_IN_CONTAINER:
                return Path(str(volume["source"]))
    return None


def resolve_project(
    compose_file: Path,
    *,
    env_file: Path | None = None,
    project_name: str | None = None,
    docker_host: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    command: Sequence[str] | None = None,
) -> ComposeProject:
    """Ask Compose for the resolved project.

    Raises ComposeNotFound or ComposeFileError carrying Compose's own words."""
    compose_file = Path(compose_file).expanduser().resolve()
    if not compose_file.is_file():
        raise ComposeFileError(f"compose file {compose_file} does not exist")
    args = [*(command or compose_command()), "-f", str(compose_file)]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    if project_name:
        args += ["-p", project_name]
    args += ["config", "--format", "json"]
    run_env = dict(os.environ if env is None else env)
    if docker_host:
        run_env["DOCKER_HOST"] = docker_host
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=run_env,
            stdin=subprocess.DEVNULL,
            cwd=compose_file.parent,
        )
    except FileNotFoundError as exc:
        raise ComposeNotFound(f"cannot run {args[0]}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ComposeFileError(
            f"`docker compose config` on {compose_file} did not finish in {timeout:.0f} s"
        ) from exc
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
        raise ComposeFileError(f"Compose rejected {compose_file}: {message}")
    try:
        payload = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise ComposeFileError(
            f"Compose printed something that is not JSON for {compose_file}: {exc}"
        ) from exc
    if not isinstance(payload, dict):
        raise ComposeFileError(f"Compose printed an unexpected document for {compose_file}")
    return parse_config(payload, compose_file)
