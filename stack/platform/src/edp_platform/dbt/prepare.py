"""A location's dbt project made ready to load: the working copy, `dbt deps`, `dbt parse`, each when needed.

The manifest then always matches the files on disk when the code location loads (what
DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 asks for), and a `.py` save costs a hash of the project's files instead of
a second interpreter importing dbt (about 3 s on a quiet 2-core host):

- the working copy (workcopy.py) follows the user's project;
- `dbt deps` runs when packages.yml / dependencies.yml / package-lock.yml or dbt's version changed (or the
  packages folder is gone); its failure names the packages (offline, a hub package cannot be installed);
- `dbt parse` runs when anything dbt reads changed (inputs.py).

Both run in-process (dbt's dbtRunner, dbt imported once) under a file lock: dbt does not support concurrent
invocations in one process (callers serialise: the code server's reload lock), and the lock keeps two
processes
(a code server and a test, say) from writing one target folder at once. Every dbt command gets the platform's
profile (`--profile`, `--profiles-dir`: whatever profile name the project declares, the warehouse connection
is the platform's), so parse time and run time see the same connection settings and partial parsing holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from edp_platform.dbt import inputs, workcopy
from edp_platform.dbt.profile import PROFILE_NAME, profiles_dir

LOCK_FILE = ".edp_prepare.lock"
DEPS_HASH_FILE = ".edp_deps.sha256"
DEBUG_LEVELS = frozenset({"info", "warn", "error"})


@dataclass(frozen=True)
class PrepareOutcome:
    action: str  # "skipped" (inputs unchanged) | "parsed" | "failed"
    seconds: float
    message: str = ""  # dbt's own error text (with what the platform adds) when failed
    deps: str = "skipped"  # "skipped" | "installed" | "failed"


def common_args(copy: workcopy.WorkCopy) -> list[str]:
    return [
        "--project-dir",
        str(copy.project_dir),
        "--profiles-dir",
        str(profiles_dir()),
        "--profile",
        PROFILE_NAME,
        "--log-path",
        str(copy.log_dir),
        # No traffic to dbt Labs (and no .user.yml cookie written beside the profile).
        "--no-send-anonymous-usage-stats",
    ]


def parse_args(copy: workcopy.WorkCopy, target_dir: Path) -> list[str]:
    return ["parse", *common_args(copy), "--target-path", str(target_dir), "--quiet"]


def deps_args(copy: workcopy.WorkCopy) -> list[str]:
    return ["deps", *common_args(copy), "--quiet"]


def current_hash(copy: workcopy.WorkCopy, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return inputs.inputs_hash(
        copy.project_dir,
        profiles_dir(),
        environ=env,
        versions=inputs.dbt_versions(),
        # Where the manifest goes is part of the command line but not of its content.
        args=parse_args(copy, Path("<target>")),
        skip_dirs=[copy.target_dir, copy.log_dir, copy.project_dir / "target", copy.project_dir / "logs"],
    )


def deps_hash(copy: workcopy.WorkCopy) -> str | None:
    """A hash of what `dbt deps` installs from, or None when the project has no packages."""
    digest = hashlib.sha256()
    present = False
    for name in (*workcopy.PACKAGE_FILES, "package-lock.yml"):
        path = copy.source / name
        if path.is_file():
            present = present or name != "package-lock.yml"
            digest.update(f"{name}\0".encode() + path.read_bytes() + b"\0")
    if not present:
        return None
    for name, version in sorted(inputs.dbt_versions().items()):
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()


def run_dbt(args: list[str], levels: frozenset[str] = frozenset({"error"})) -> tuple[bool, str]:
    """dbt's in-process runner: (success, dbt's messages of these levels when it failed)."""
    from dbt.cli.main import dbtRunner

    errors: list[str] = []

    def keep_errors(event) -> None:  # dbt's EventMsg
        if event.info.level in levels and event.info.msg:
            errors.append(str(event.info.msg))

    result = dbtRunner(callbacks=[keep_errors]).invoke(args)
    if result.success:
        return True, ""
    if isinstance(result.exception, KeyboardInterrupt | SystemExit):
        raise result.exception  # dbtRunner catches everything: a SIGTERM (docker stop) must still stop us
    if result.exception is not None:
        return False, str(result.exception).strip()
    return False, "\n".join(errors).strip() or f"dbt {args[0]} failed without a message"


def package_names(source: Path) -> list[str]:
    """What packages.yml / dependencies.yml ask for, as people write them (for error messages)."""
    names: list[str] = []
    for file in workcopy.PACKAGE_FILES:
        try:
            doc = yaml.safe_load((source / file).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for entry in (doc.get("packages") or []) if isinstance(doc, dict) else []:
            if not isinstance(entry, dict):
                continue
            kind = next((k for k in ("package", "git", "local", "tarball", "private") if k in entry), "?")
            label = str(entry.get(kind))
            version = entry.get("version") or entry.get("revision")
            names.append(
                f"{label} {version}" if version else label if kind == "package" else f"{kind}: {label}"
            )
    return names


def _install_packages(copy: workcopy.WorkCopy) -> tuple[str, str]:
    """("skipped" | "installed" | "failed", message)."""
    wanted = deps_hash(copy)
    packages_dir = copy.project_dir / workcopy.packages_install_path(copy.source)
    stamp = copy.base / DEPS_HASH_FILE
    if wanted is None:
        return "skipped", ""
    if packages_dir.is_dir() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return "skipped", ""
    lock_file = copy.source / "package-lock.yml"
    if lock_file.is_file():  # dbt deps rewrites it: a copy of the user's, never a link to it
        own = copy.project_dir / "package-lock.yml"
        own.unlink(missing_ok=True)
        own.write_bytes(lock_file.read_bytes())
    ok, message = run_dbt(deps_args(copy))
    if not ok:
        stamp.unlink(missing_ok=True)
        names = ", ".join(package_names(copy.source)) or "(none named)"
        return "failed", (
            f"dbt deps could not install the packages of {copy.source.name} ({names}). Hub and git packages "
            f"need the network (on an offline host, use local packages or vendor them); dbt said:\n{message}"
        )
    stamp.write_text(wanted + "\n")
    return "installed", ""


def connection_problem(copy: workcopy.WorkCopy) -> str | None:
    """Why the platform's profile cannot reach the warehouse (`dbt debug --connection`), or None. Parsing
    needs no connection, so a bad connection is not a load error; the code server shows it as a warning."""
    # dbt debug says what failed at the info level, with its colours.
    ok, message = run_dbt(["debug", "--connection", "--no-use-colors", *common_args(copy)], DEBUG_LEVELS)
    if ok:
        return None
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    why = [line for line in lines if "fail" in line.lower() or "error" in line.lower()] or lines
    profile = f"the platform's profile {PROFILE_NAME!r}"
    return f"dbt cannot connect to the warehouse with {profile}: {' '.join(why)}"


def prepare(copy: workcopy.WorkCopy, *, parse: bool = True) -> PrepareOutcome:
    """The working copy synced, packages installed and the manifest parsed, each only when needed."""
    started = time.monotonic()
    copy.base.mkdir(parents=True, exist_ok=True)
    with open(copy.base / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        workcopy.sync(copy)
        deps, message = _install_packages(copy)
        if deps == "failed":
            return PrepareOutcome("failed", time.monotonic() - started, message, deps)
        if not parse:
            return PrepareOutcome("skipped", time.monotonic() - started, deps=deps)
        copy.target_dir.mkdir(parents=True, exist_ok=True)
        wanted = current_hash(copy)
        manifest = copy.target_dir / "manifest.json"
        if manifest.is_file() and inputs.read_stored_hash(copy.target_dir) == wanted:
            return PrepareOutcome("skipped", time.monotonic() - started, deps=deps)
        ok, message = run_dbt(parse_args(copy, copy.target_dir))
        if not ok:
            return PrepareOutcome("failed", time.monotonic() - started, message, deps)
        inputs.write_stored_hash(copy.target_dir, wanted)
        return PrepareOutcome("parsed", time.monotonic() - started, deps=deps)
