"""A location's dbt project made ready to load: the working copy, `dbt deps`, `dbt parse`, each when needed.

The manifest then always matches the files on disk when the code location loads (what
DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 asks for), and a `.py` save costs a hash of the project's files instead of
a second interpreter importing dbt (about 3 s on a quiet 2-core host):

- the working copy (workcopy.py) follows the user's project;
- `dbt deps` runs when packages.yml / dependencies.yml / package-lock.yml or dbt's version changed (or the
  packages folder is gone); its failure names the packages (offline, a hub package cannot be installed);
- `dbt parse` runs when anything dbt reads changed (inputs.py).

Both run with dbt's dbtRunner under a file lock: dbt does not support concurrent invocations in one process
(callers serialise: the code server's reload lock), and the lock keeps two processes (a code server and a
test, say) from writing one target folder at once. The code server runs them in a child process with a
timeout (`prepare_in_child`, EDP_DBT_PREPARE_TIMEOUT_S): whatever a project makes dbt do (a Jinja loop, a
macro waiting on the network, a read that blocks) ends with the child, never with the code server's memory
or its reload lock, and the next save starts afresh. The child is kept warm between calls (one per code
server), so a save is parsed as fast as in the code server itself.

dbt parses into a folder of its own (PARSE_DIR, where its partial-parse state stays between parses); the
files it wrote are then copied into the target folder and renamed over the old ones, the manifest last, so a
run worker reading the manifest always reads a whole one, old or new. Every dbt command gets the platform's
profile (`--profile`, `--profiles-dir`: whatever profile name the project declares, the warehouse connection
is the platform's), so parse time and run time see the same connection settings and partial parsing holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edp_platform.dbt import inputs, workcopy
from edp_platform.dbt.profile import PROFILE_NAME, profiles_dir
from edp_platform.errors import PlatformError

LOCK_FILE = ".edp_prepare.lock"
PARSE_DIR = "parse"  # dbt parse's own target folder, beside the published one (copy.target_dir)
PREPARE_TIMEOUT_S = float(os.environ.get("EDP_DBT_PREPARE_TIMEOUT_S", "300"))
CONNECTION_TIMEOUT_S = 60.0
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
        data = inputs.read_regular(copy.source / name)
        if data is not None:
            present = present or name != "package-lock.yml"
            digest.update(f"{name}\0".encode() + data + b"\0")
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
        doc = workcopy.read_yaml(source / file)
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
    lock = inputs.read_regular(copy.source / "package-lock.yml")
    if lock is not None:  # dbt deps rewrites it: a copy of the user's, never a link to it
        own = copy.project_dir / "package-lock.yml"
        own.unlink(missing_ok=True)
        own.write_bytes(lock)
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
        staging = _parse_dir(copy)
        ok, message = run_dbt(parse_args(copy, staging))
        if not ok:
            return PrepareOutcome("failed", time.monotonic() - started, message, deps)
        _publish(staging, copy.target_dir)
        inputs.write_stored_hash(copy.target_dir, wanted)
        return PrepareOutcome("parsed", time.monotonic() - started, deps=deps)


def _parse_dir(copy: workcopy.WorkCopy) -> Path:
    """dbt parse's own target folder; its partial-parse state seeded from the published one (a target
    prepared before this folder existed, or by the image build) so the first parse here is partial too."""
    staging = copy.base / PARSE_DIR
    staging.mkdir(parents=True, exist_ok=True)
    state = "partial_parse.msgpack"
    if not (staging / state).exists() and (copy.target_dir / state).is_file():
        shutil.copyfile(copy.target_dir / state, staging / state)
    return staging


def _publish(staging: Path, target: Path) -> None:
    """Every file dbt parse wrote, copied beside its published name and renamed over it, the manifest last."""
    names = sorted(p.name for p in staging.iterdir() if p.is_file() and not p.name.startswith("."))
    for name in sorted(names, key=lambda n: n == "manifest.json"):
        tmp = target / f".{name}.{os.getpid()}.tmp"
        shutil.copyfile(staging / name, tmp)
        os.replace(tmp, target / name)


# ---- in a child process, with a timeout (the code server) --------------------------------------------------


def prepare_in_child(
    copy: workcopy.WorkCopy, *, parse: bool = True, timeout_s: float = PREPARE_TIMEOUT_S
) -> PrepareOutcome:
    """`prepare` in a child process ended after `timeout_s` (see the module's docstring)."""
    started = time.monotonic()
    try:
        return _in_child(prepare, (copy,), {"parse": parse}, timeout_s)
    except ChildTimeout:
        what = "dbt parse" if parse else "dbt deps"
        return PrepareOutcome(
            "failed",
            time.monotonic() - started,
            f"{what} of {copy.source.name} did not finish within {timeout_s:.0f} s "
            "(EDP_DBT_PREPARE_TIMEOUT_S) and was ended: something in the project keeps dbt busy (a Jinja "
            "loop, a macro waiting on a connection, a file that blocks). Fix it and save again.",
        )
    except ChildFailed as exc:
        return PrepareOutcome("failed", time.monotonic() - started, str(exc))


def connection_problem_in_child(
    copy: workcopy.WorkCopy, timeout_s: float = CONNECTION_TIMEOUT_S
) -> str | None:
    """`connection_problem` in a child process ended after `timeout_s`."""
    try:
        return _in_child(connection_problem, (copy,), {}, timeout_s)
    except ChildTimeout:
        return (
            f"dbt cannot connect to the warehouse with the platform's profile {PROFILE_NAME!r}: the "
            f"connection check did not answer within {timeout_s:.0f} s"
        )
    except ChildFailed as exc:
        return f"dbt cannot connect to the warehouse with the platform's profile {PROFILE_NAME!r}: {exc}"


class ChildTimeout(Exception):
    pass


class ChildFailed(Exception):
    pass


class _Worker:
    """One long-lived child (forked from the code server's warm forkserver, which has dbt imported) that runs
    the calls one after another: dbt stays initialised between parses (its adapter, its partial-parse state in
    memory), so a model saved is parsed as fast as in the code server itself, about 1.5 s sooner than in a
    fresh child each time. A call past its timeout ends the child's whole process group (dbt deps may start
    git) and the next call starts a fresh one; the child is also replaced after MAX_CALLS, so whatever dbt
    keeps between invocations stays bounded."""

    MAX_CALLS = 50

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Any = None  # a forkserver Process
        self._conn: Any = None  # our end of its duplex Pipe
        self._calls = 0

    def call(self, fn, args: tuple, kwargs: dict, timeout_s: float):
        with self._lock:
            if self._proc is None or not self._proc.is_alive() or self._calls >= self.MAX_CALLS:
                self._stop()
                self._start()
            assert self._conn is not None
            self._calls += 1
            try:
                self._conn.send((fn, args, kwargs))
                if not self._conn.poll(timeout_s):
                    self._stop()
                    raise ChildTimeout()
                ok, value = self._conn.recv()
            except (EOFError, OSError):
                code = self._stop()
                raise ChildFailed(
                    f"the dbt process ended without an answer (exit code {code}; -9 is a kill, e.g. by "
                    "the kernel's out-of-memory killer)"
                ) from None
        if not ok:
            raise ChildFailed(value)
        return value

    def _start(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        mine, theirs = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_serve, args=(theirs,), name="edp-dbt-prepare", daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn, self._calls = proc, mine, 0

    def _stop(self) -> int | None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        _kill_group(proc)
        return proc.exitcode


_WORKER = _Worker()


def _in_child(fn, args: tuple, kwargs: dict, timeout_s: float):
    """fn(*args, **kwargs) in the prepare worker (see _Worker), ended after `timeout_s`."""
    return _WORKER.call(fn, args, kwargs, timeout_s)


def _serve(conn) -> None:
    os.setsid()  # its own process group: a timeout ends dbt and whatever dbt started
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except EOFError:  # the code server closed its end: nothing more to do
            return
        try:
            result = (True, fn(*args, **kwargs))
        except PlatformError as exc:  # the platform's own words
            result = (False, str(exc))
        except BaseException as exc:  # reported to the code server, which says so in the reload's status
            result = (False, f"{type(exc).__name__}: {exc}")
        conn.send(result)


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.join(10)
