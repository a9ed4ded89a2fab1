"""The code locations the platform serves, from the environment (stack/.env; docs/code-locations.md).

    EDP_CODE_LOCATIONS=etl_pipeline shop                  names, in order (space or comma separated)
    EDP_CODE_ROOT=/opt/dagster/app                        relative paths below resolve against it
    EDP_LOCATION_<KEY>_MODULE=etl_pipeline.definitions    a module defining a dagster.Definitions, or
    EDP_LOCATION_<KEY>_FILE=shop/definitions.py           a Python file defining one
    EDP_LOCATION_<KEY>_PYTHONPATH=etl_pipeline/src        folders put on sys.path for it (':'-separated)
    EDP_LOCATION_<KEY>_DBT_PROJECT=dbt_project            its dbt project (alone: the platform's dbt location)
    EDP_LOCATION_<KEY>_DBT_SCHEMA=shop                    dbt's target schema (default: the location's name)
    EDP_LOCATION_<KEY>_WATCH=more/code                    extra folders whose saves reload it (':'-separated)
    EDP_LOCATION_<KEY>_PORT=4001                          its code server's port (default 4000 + its index)

<KEY> is the name in upper case with every other character than a letter or digit made '_'. Nothing here
imports
dagster: the image's entrypoint builds the workspace from these settings before every webserver/daemon start.
Mistakes that leave no workspace to build (no location, a bad or repeated name, a location with nothing to
serve) raise SettingsError with a message that names the setting; paths are checked by the code server, which
shows a missing one as that location's load error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edp_platform.errors import PlatformError

LOCATIONS_VAR = "EDP_CODE_LOCATIONS"
CODE_ROOT_VAR = "EDP_CODE_ROOT"
BASE_PORT_VAR = "EDP_CODE_SERVER_BASE_PORT"
HOST_VAR = "EDP_CODE_SERVER_HOST"
DEFAULT_LOCATIONS = "etl_pipeline"
# The demo's settings: what an unset EDP_LOCATION_ETL_PIPELINE_* means (the repository's own layout).
DEMO_DEFAULTS = {
    "ETL_PIPELINE": {
        "MODULE": "etl_pipeline.definitions",
        "PYTHONPATH": "etl_pipeline/src",
        "DBT_PROJECT": "dbt_project",
    }
}
DEFAULT_BASE_PORT = 4000
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
FIELDS = ("MODULE", "FILE", "PYTHONPATH", "DBT_PROJECT", "DBT_SCHEMA", "WATCH", "PORT")


class SettingsError(PlatformError):
    """The code-location settings cannot describe a workspace."""


@dataclass(frozen=True)
class Location:
    name: str
    port: int
    module: str | None = None  # None: the platform's dbt-only location serves the dbt project
    python_path: tuple[Path, ...] = ()
    dbt_project: Path | None = None
    dbt_schema: str = ""
    watch: tuple[Path, ...] = field(default=())

    @property
    def key(self) -> str:
        return location_key(self.name)

    @property
    def served_module(self) -> str:
        return self.module or "edp_platform.dbt.location"

    def watched(self) -> tuple[Path, ...]:
        """Folders whose saves reload this location: its Python path, its dbt project, the extra ones."""
        found: list[Path] = []
        for path in (*self.python_path, *((self.dbt_project,) if self.dbt_project else ()), *self.watch):
            if path not in found:
                found.append(path)
        return tuple(found)

    def missing_paths(self) -> list[str]:
        """Lines naming each configured path that does not exist (checked where the code is: user-code)."""
        problems = []
        for label, paths in (
            ("PYTHONPATH", self.python_path),
            ("DBT_PROJECT", (self.dbt_project,) if self.dbt_project else ()),
            ("WATCH", self.watch),
        ):
            for path in paths:
                if not path.is_dir():
                    problems.append(f"EDP_LOCATION_{self.key}_{label}: {path} is not a folder")
        if self.dbt_project and self.dbt_project.is_dir():
            if not (self.dbt_project / "dbt_project.yml").is_file():
                problems.append(
                    f"EDP_LOCATION_{self.key}_DBT_PROJECT: {self.dbt_project} has no dbt_project.yml"
                )
        return problems


def location_key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _paths(value: str, root: Path) -> tuple[Path, ...]:
    return tuple(_path(p, root) for p in re.split(r"[:;]", value) if p.strip())


def _path(value: str, root: Path) -> Path:
    path = Path(value.strip())
    return path if path.is_absolute() else root / path


def code_root(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(CODE_ROOT_VAR) or os.getcwd())


def location_names(environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    raw = env.get(LOCATIONS_VAR)
    raw = DEFAULT_LOCATIONS if raw is None else raw
    return [n for n in re.split(r"[\s,]+", raw.strip()) if n]


def load_locations(environ: Mapping[str, str] | None = None) -> list[Location]:
    """Every configured location, validated as far as no code is needed; SettingsError says what is wrong."""
    env = os.environ if environ is None else environ
    names = location_names(env)
    if not names:
        raise SettingsError(f"{LOCATIONS_VAR} is empty: name at least one code location (e.g. etl_pipeline)")
    root = code_root(env)
    try:
        base_port = int(env.get(BASE_PORT_VAR) or DEFAULT_BASE_PORT)
    except ValueError:
        raise SettingsError(f"{BASE_PORT_VAR}={env.get(BASE_PORT_VAR)!r} is not a port number") from None
    seen: dict[str, str] = {}
    locations = []
    for index, name in enumerate(names):
        if not NAME.match(name):
            raise SettingsError(
                f"{LOCATIONS_VAR}: {name!r} is not a usable location name (a letter, then letters, digits, "
                "'_' or '-', at most 63 characters)"
            )
        key = location_key(name)
        if key in seen:
            same = (
                "twice" if seen[key] == name else f"as {seen[key]!r} and {name!r} (both EDP_LOCATION_{key}_*)"
            )
            raise SettingsError(f"{LOCATIONS_VAR} names the location {name!r} {same}: each name once")
        seen[key] = name
        locations.append(_location(name, key, index, base_port, root, env))
    ports = [loc.port for loc in locations]
    for loc in locations:
        if ports.count(loc.port) > 1:
            raise SettingsError(
                f"two code locations use port {loc.port}: give each its own EDP_LOCATION_*_PORT"
            )
    return locations


def _location(
    name: str, key: str, index: int, base_port: int, root: Path, env: Mapping[str, str]
) -> Location:
    own = {f: env.get(f"EDP_LOCATION_{key}_{f}", "").strip() for f in FIELDS}
    if not any(own[f] for f in ("MODULE", "FILE", "PYTHONPATH", "DBT_PROJECT")):
        own.update(DEMO_DEFAULTS.get(key, {}))
    prefix = f"EDP_LOCATION_{key}_"
    module, file = own["MODULE"] or None, own["FILE"] or None
    if module and file:
        raise SettingsError(f"{prefix}MODULE and {prefix}FILE are both set: a location serves one of them")
    if not (module or file or own["DBT_PROJECT"]):
        raise SettingsError(
            f"code location {name!r} has nothing to serve: set {prefix}MODULE (a Python module defining a "
            f"dagster.Definitions), {prefix}FILE (a Python file) or {prefix}DBT_PROJECT (a dbt project)"
        )
    if module and not MODULE.match(module):
        raise SettingsError(f"{prefix}MODULE={module!r} is not a Python module name")
    python_path = _paths(own["PYTHONPATH"], root)
    if file:
        path = _path(file, root)
        if path.suffix != ".py" or not MODULE.match(path.stem):
            raise SettingsError(f"{prefix}FILE={file!r} is not a Python file name (name.py)")
        # Served as the module named like the file, from its folder (what `dagster -f` does too).
        module, python_path = path.stem, (path.parent, *python_path)
    try:
        port = int(own["PORT"]) if own["PORT"] else base_port + index
    except ValueError:
        raise SettingsError(f"{prefix}PORT={own['PORT']!r} is not a port number") from None
    schema = own["DBT_SCHEMA"] or re.sub(r"[^a-z0-9_]", "_", name.lower())
    return Location(
        name=name,
        port=port,
        module=module,
        python_path=python_path,
        dbt_project=_path(own["DBT_PROJECT"], root) if own["DBT_PROJECT"] else None,
        dbt_schema=schema,
        watch=_paths(own["WATCH"], root),
    )


def find_location(name: str, environ: Mapping[str, str] | None = None) -> Location:
    for loc in load_locations(environ):
        if loc.name == name:
            return loc
    raise SettingsError(f"no code location named {name!r} in {LOCATIONS_VAR}")
