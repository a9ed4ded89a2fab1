"""The workspace the webserver and the daemon load: one gRPC server entry per configured code location.

    python -m edp_platform.workspace [--output PATH]      (default: $DAGSTER_HOME/workspace.yaml)

The image's entrypoint writes it before dagster-webserver and dagster-daemon start, so it always follows the
settings (edp_platform.settings); the code servers run in user-code at EDP_CODE_SERVER_HOST (compose:
user-code) on each location's port. A settings mistake prints the reason and exits 64 (EX_USAGE), before
Dagster starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from edp_platform.settings import HOST_VAR, Location, SettingsError, load_locations

DEFAULT_HOST = "user-code"


def workspace_text(locations: list[Location], host: str) -> str:
    """workspace.yaml for these locations. JSON is YAML: no YAML writer needed, and names need no quoting."""
    entries = [
        {"grpc_server": {"host": host, "port": loc.port, "location_name": loc.name}} for loc in locations
    ]
    header = "# Written by python -m edp_platform.workspace from EDP_CODE_LOCATIONS (stack/.env).\n"
    return header + json.dumps({"load_from": entries}, indent=2) + "\n"


def write_workspace(path: Path, environ: Mapping[str, str] | None = None) -> list[Location]:
    env = os.environ if environ is None else environ
    locations = load_locations(env)
    text = workspace_text(locations, env.get(HOST_VAR) or DEFAULT_HOST)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return locations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edp_platform.workspace", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    output = args.output or Path(os.environ.get("DAGSTER_HOME", ".")) / "workspace.yaml"
    try:
        locations = write_workspace(output)
    except SettingsError as exc:
        print(f"edp-platform: {exc}", file=sys.stderr)
        return 64
    names = ", ".join(f"{loc.name} (port {loc.port})" for loc in locations)
    print(f"edp-platform: workspace {output}: {names}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
