"""``edp-tui up`` / ``edp-tui down``: bring the stack up (healthy) or down, passing the progress through."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from edp_tui.cli.common import Context, context_of, die, note, refuse_if_read_only, with_failures
from edp_tui.compose import ComposeError, compose_command
from edp_tui.config import default_compose_file, repo_root
from edp_tui.text import sanitize


def stack_script(name: str) -> Path | None:
    script = repo_root() / "stack" / "scripts" / name
    return script if script.is_file() else None


def compose_args(context: Context) -> list[str]:
    config = context.config
    args = [*compose_command(), "-f", str(config.compose_file)]
    if config.env_file is not None:
        args += ["--env-file", str(config.env_file)]
    if config.project:
        args += ["-p", config.project]
    return args


def run_streaming(args: Sequence[str], what: str, cwd: Path) -> int:
    """Run a command, passing its output (the progress) through to stderr line by line, timing it."""
    note(f"{what}: {' '.join(args)}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        die(f"cannot run {args[0]}: {exc}")
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            # Compose and the scripts are ours, but image build output is not: keep it inert.
            note(sanitize(raw.decode("utf-8", "replace").rstrip("\r\n"), ansi=False)[0])
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        die(f"{what} interrupted", 130)
    took = time.monotonic() - started
    if rc == 0:
        note(f"{what}: done in {took:.0f}s")
    else:
        note(f"edp-tui: {what} failed after {took:.0f}s (exit code {rc})")
    return rc


def uses_own_stack(context: Context) -> bool:
    """The repository's own compose file with default project/env: its bring-up scripts apply."""
    config = context.config
    return config.compose_file.resolve() == default_compose_file().resolve() and config.env_file is None


def apply_docker_host(context: Context) -> None:
    # The scripts and Compose read DOCKER_HOST; the configured endpoint must reach them too.
    if context.config.docker_host:
        os.environ["DOCKER_HOST"] = context.config.docker_host


def run_stack_action(
    context: Context, action: str, script_name: str, script_args: list[str], compose_tail: list[str]
) -> int:
    """Run `up` or `down`: the repository's own script (stack/scripts/<script_name> <script_args>) for its
    own stack, else `docker compose <compose_tail>` on the configured compose file. Returns the exit code."""
    refuse_if_read_only(context, action)
    apply_docker_host(context)
    if not context.config.compose_file.is_file():
        die(f"compose file {context.config.compose_file} does not exist")
    script = stack_script(script_name)
    if uses_own_stack(context) and script is not None and not context.config.project:
        return run_streaming(["bash", str(script), *script_args], script.stem, repo_root())
    try:
        args = compose_args(context)
    except ComposeError as exc:
        die(str(exc))
    return run_streaming([*args, *compose_tail], f"compose {action}", context.config.compose_file.parent)


@click.command()
@click.option(
    "--wait-timeout",
    type=click.IntRange(10, 7200),
    default=600,
    show_default=True,
    help="Seconds Compose waits for every service to be healthy.",
)
@click.option("--no-build", is_flag=True, help="Do not build the stack's image (use the one already built).")
@click.pass_context
@with_failures
def up(ctx: click.Context, wait_timeout: int, no_build: bool) -> None:
    """Bring the stack up and wait until every service is healthy, showing progress.

    For this repository's own stack it runs stack/scripts/bring-up.sh (engine check, images built air-gapped
    when no registry answers, stack/.env, `docker compose up --wait`); for another compose file
    (--compose-file) it runs `docker compose up --detach --wait` on it. Exit code: Compose's, 2 for
    configuration problems.
    """
    no_build_arg = ["--no-build"] if no_build else []
    rc = run_stack_action(
        context_of(ctx),
        "up",
        "bring-up.sh",
        ["--timeout", str(wait_timeout), *no_build_arg],
        ["up", "--detach", "--wait", "--wait-timeout", str(wait_timeout), *no_build_arg],
    )
    if rc == 0:
        note("stack is up; check it with `edp-tui status` or open the dashboard with `edp-tui`")
    sys.exit(rc)


@click.command()
@click.option("--volumes", is_flag=True, help="Also delete the named volumes (the database!).")
@click.pass_context
@with_failures
def down(ctx: click.Context, volumes: bool) -> None:
    """Stop and remove the stack's containers (and with --volumes its data), showing progress."""
    volumes_arg = ["--volumes"] if volumes else []
    sys.exit(
        run_stack_action(
            context_of(ctx),
            "down",
            "tear-down.sh",
            volumes_arg,
            ["down", "--remove-orphans", *volumes_arg],
        )
    )
