"""`dbt parse` only when the project's inputs changed, in-process (dbtRunner), under a file lock.

The manifest then always matches the files on disk when the code location loads (what
DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 asks for), and a `.py` save costs a hash of ~20 small files instead of a
second interpreter importing dbt (about 3 s on a quiet 2-core host). dbt does not support concurrent
invocations in one process: callers serialise (the supervisor's reload lock), and the file lock keeps two
processes (a code server and a test, say) from parsing into one target folder at once.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from etl_pipeline.reload import dbt_inputs

LOCK_FILE = ".edp_parse.lock"


@dataclass(frozen=True)
class ParseOutcome:
    action: str  # "skipped" (inputs unchanged) | "parsed" | "failed"
    seconds: float
    message: str = ""  # dbt's own error text when failed


def parse_args(project_dir: Path, profiles_dir: Path, target_dir: Path) -> list[str]:
    return [
        "parse",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_dir),
        "--quiet",
        # No traffic to dbt Labs (and no .user.yml cookie written into the project).
        "--no-send-anonymous-usage-stats",
    ]


def current_hash(
    project_dir: Path, profiles_dir: Path, target_dir: Path, environ: Mapping[str, str] | None = None
) -> str:
    env = os.environ if environ is None else environ
    log_dir = Path(env.get("DBT_LOG_PATH") or project_dir / "logs")
    return dbt_inputs.inputs_hash(
        project_dir,
        profiles_dir,
        environ=env,
        versions=dbt_inputs.dbt_versions(),
        # Where the manifest goes is part of the command line but not of its content.
        args=parse_args(project_dir, profiles_dir, Path("<target>")),
        skip_dirs=[target_dir, log_dir],
    )


def run_dbt_parse(project_dir: Path, profiles_dir: Path, target_dir: Path) -> tuple[bool, str]:
    """dbt's in-process runner: (success, dbt's error message)."""
    from dbt.cli.main import dbtRunner

    errors: list[str] = []

    def keep_errors(event) -> None:  # dbt's EventMsg
        if event.info.level == "error" and event.info.msg:
            errors.append(str(event.info.msg))

    result = dbtRunner(callbacks=[keep_errors]).invoke(parse_args(project_dir, profiles_dir, target_dir))
    if result.success:
        return True, ""
    if isinstance(result.exception, KeyboardInterrupt | SystemExit):
        raise result.exception  # dbtRunner catches everything: a SIGTERM (docker stop) must still stop us
    if result.exception is not None:
        return False, str(result.exception).strip()
    return False, "\n".join(errors).strip() or "dbt parse failed without a message"


def ensure_manifest(project_dir: Path, profiles_dir: Path, target_dir: Path) -> ParseOutcome:
    """Parse when the inputs' hash differs from the one stored with the manifest (or there is no manifest)."""
    started = time.monotonic()
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = current_hash(project_dir, profiles_dir, target_dir)
        manifest = target_dir / "manifest.json"
        if manifest.is_file() and dbt_inputs.read_stored_hash(target_dir) == wanted:
            return ParseOutcome("skipped", time.monotonic() - started)
        ok, message = run_dbt_parse(project_dir, profiles_dir, target_dir)
        if not ok:
            return ParseOutcome("failed", time.monotonic() - started, message)
        dbt_inputs.write_stored_hash(target_dir, wanted)
        return ParseOutcome("parsed", time.monotonic() - started)
