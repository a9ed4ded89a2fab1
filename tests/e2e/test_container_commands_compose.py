"""The default container commands (edp_tui/container_commands.py) as they run in the real compose stack's
containers, without a terminal (`docker exec -i`, stdin a script): psql answers on the warehouse, `dbt debug`
passes for every code location with a dbt project (the demo's and the fixture `shop`), `dagster debug export`
writes the export of a run and says how to fetch it."""

from __future__ import annotations

import re
import subprocess

from edp_tui.container_commands import DEFAULT_COMMANDS, ContainerCommand
from tests.support import stack_runs as sr
from tests.support.docker_engine import ComposeStack

FAILING = {"ops": {"raw_retail_data": {"config": {"orders": 0}}}}


def command(name: str) -> ContainerCommand:
    return next(c for c in DEFAULT_COMMANDS if c.name == name)


def container_of(stack: ComposeStack, service: str) -> str:
    names = stack.compose("ps", "--format", "{{.Name}}", service).stdout.split()
    assert len(names) == 1, names
    return names[0]


def run_in(stack: ComposeStack, cmd: ContainerCommand, stdin: str = "", run_id: str | None = None) -> str:
    container = container_of(stack, cmd.service)
    argv = cmd.expand(container=container, run_id=run_id)
    done = subprocess.run(
        ["docker", "exec", "-i", container, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=stack.env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_default_commands_work_in_the_stack(compose_stack: ComposeStack) -> None:
    psql = run_in(compose_stack, command("psql on the warehouse"), "select current_database(), 6 * 7;\n")
    assert "warehouse" in psql and "42" in psql, psql

    debug = re.sub(r"\x1b\[[0-9;]*m", "", run_in(compose_stack, command("dbt debug")))
    # The stack serves etl_pipeline and shop with dbt projects, plain without one (tests/e2e/conftest.py).
    headers = re.findall(r"^== dbt debug: code location (\S+) ", debug, re.MULTILINE)
    assert headers == ["etl_pipeline", "shop"], debug
    assert debug.count("Connection test: [OK connection ok]") == 2, debug
    assert "schema: shop" in debug, debug  # each location with its own schema

    run_id = sr.launch(compose_stack.graphql, "ingestion_job", FAILING)
    sr.wait_for_status(compose_stack.graphql, run_id, {"FAILURE"}, 600)
    export = run_in(compose_stack, command("dagster debug export RUN"), run_id=run_id)
    container = container_of(compose_stack, "dagster-webserver")
    assert f"docker cp {container}:/tmp/dagster-debug-{run_id}.gz ." in export, export
