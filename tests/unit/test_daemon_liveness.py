"""The daemon container's liveness (edp_platform.daemon_liveness): Dagster's question asked in one
long-lived process beside the daemon, the healthcheck reading its answer, the daemon's exit and signals
passed through."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dagster._core.test_utils import instance_for_test
from dagster._daemon.types import DaemonHeartbeat
from edp_platform import daemon_liveness as dl

from tests.support import waiting

DEADLINE_S = 60.0


def wait_for(what: str, check: Callable[[], bool]) -> None:
    waiting.wait_for(what, check, DEADLINE_S, interval_s=0.02)


def test_no_answer_yet_is_unhealthy(tmp_path: Path) -> None:
    assert dl.read_status(tmp_path / "none.json") == (
        False,
        "no liveness answer yet (the daemon is starting)",
    )


def test_a_fresh_answer_is_the_health(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    dl.write_status(True, "Daemon live", path)
    assert dl.read_status(path) == (True, "Daemon live")
    dl.write_status(False, "Daemon(s) not running", path)
    assert dl.read_status(path) == (False, "Daemon(s) not running")


def test_a_stale_or_broken_answer_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    dl.write_status(True, "Daemon live", path)
    healthy, line = dl.read_status(path, now=time.time() + dl.STALE_AFTER_S + 5)
    assert not healthy and "s old (nothing asked since): Daemon live" in line
    path.write_text("{half")
    healthy, line = dl.read_status(path)
    assert not healthy and line.startswith("unreadable liveness answer")


def test_the_asker_writes_each_answer_and_a_failure_is_not_live(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    answers = iter([(True, "Daemon live")])

    def ask() -> tuple[bool, str]:
        try:
            return next(answers)
        except StopIteration:
            raise ConnectionError("database gone") from None

    asker = dl.Asker(every=0.05, ask=ask, path=path)
    asker.start()
    try:
        wait_for("a failed question written", lambda: path.exists() and not dl.read_status(path)[0])
    finally:
        asker.stopped.set()
        asker.join(5)
    assert dl.read_status(path) == (False, "liveness question failed: ConnectionError: database gone")


def test_dagsters_question_on_a_real_instance() -> None:
    """No heartbeats: not live. Every required daemon heartbeating now: live (as liveness-check says)."""
    with instance_for_test() as instance:
        question = dl.DagsterQuestion()
        question.instance = instance
        assert question() == (False, "Daemon(s) not running")
        for daemon_type in instance.get_required_daemon_types():
            instance.add_daemon_heartbeat(
                DaemonHeartbeat(time.time(), daemon_type, daemon_id="test", errors=[])
            )
        assert question() == (True, "Daemon live")


def test_check_reads_the_file_without_importing_dagster(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    dl.write_status(True, "Daemon live", path)
    probe = (
        "import sys, edp_platform.daemon_liveness as d; r = d.main(['check']); "
        "print('dagster' in sys.modules); sys.exit(r)"
    )
    env = {**os.environ, "EDP_DAEMON_LIVENESS_FILE": str(path)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert (proc.returncode, proc.stdout.split()) == (0, ["Daemon", "live", "False"])
    path.unlink()
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "no liveness answer yet" in proc.stdout


def wrapper(tmp_path: Path, child: str) -> subprocess.Popen[str]:
    env = {**os.environ, "EDP_DAEMON_LIVENESS_FILE": str(tmp_path / "status.json")}
    env.pop("DAGSTER_HOME", None)  # the question fails (no instance): the wrapper must not care
    return subprocess.Popen(
        [sys.executable, "-m", "edp_platform.daemon_liveness", "run", "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_the_daemons_exit_code_is_the_wrappers(tmp_path: Path) -> None:
    proc = wrapper(tmp_path, "import sys; sys.exit(3)")
    assert proc.wait(DEADLINE_S) == 3


def test_a_killed_daemon_exits_as_a_shell_reports_it(tmp_path: Path) -> None:
    proc = wrapper(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.wait(DEADLINE_S) == 128 + signal.SIGKILL


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_reaches_the_daemon(tmp_path: Path, sig: signal.Signals) -> None:
    child = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(8))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = wrapper(tmp_path, child)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    # The question is asked beside the running daemon (here it fails, no instance, and says so).
    status = tmp_path / "status.json"
    wait_for("an answer beside the daemon", status.exists)
    assert json.loads(status.read_text())["detail"].startswith("liveness question failed")
    proc.send_signal(sig)
    assert proc.wait(DEADLINE_S) == (7 if sig == signal.SIGTERM else 8)


def test_usage() -> None:
    assert dl.main([]) == 2
    assert dl.main(["run"]) == 2
    assert dl.main(["check", "extra"]) == 2


# ---- a hung daemon is restarted ----------------------------------------------------------------------------

HUNG_CHILD = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)  # hung: does not even stop when asked\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


def scripted(answers: list[bool | Exception]) -> Callable[[], tuple[bool, str]]:
    """A question answering from a script, then repeating its last answer."""
    script = list(answers)

    def ask() -> tuple[bool, str]:
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer, "Daemon live" if answer else "Daemon(s) not running"

    return ask


def test_a_daemon_not_live_for_a_bounded_number_of_answers_is_ended_and_the_container_restarted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asker = dl.Asker(every=0.01, ask=scripted([True, False]), path=tmp_path / "s.json", restart_after=5)
    started = time.monotonic()
    code = dl.run([sys.executable, "-c", HUNG_CHILD], asker, stop_timeout=1.0)
    assert code == dl.RESTART_EXIT_CODE  # not 0: the restart policy starts the container again
    assert asker.not_live_in_a_row >= 5
    err = capsys.readouterr().err
    assert "answered not live 5 times in a row" in err and "restarting" in err
    assert time.monotonic() - started < DEADLINE_S


def test_a_failing_question_or_a_starting_daemon_never_counts_towards_a_restart(tmp_path: Path) -> None:
    # The database away: the question fails (the daemon cannot be judged). Starting: not live yet, no live
    # answer seen and within the start grace. Neither restarts the daemon.
    for answers in ([ConnectionError("database gone")], [False]):
        asker = dl.Asker(
            every=0.01, ask=scripted(answers), path=tmp_path / "s.json", restart_after=3, start_grace_s=3600
        )
        asker.start()
        try:
            wait_for("answers", lambda a=asker: a.answers >= 20)  # type: ignore[misc]
            assert not asker.hung.is_set()
        finally:
            asker.stopped.set()
            asker.join(5)


def test_a_daemon_never_live_past_the_start_grace_counts(tmp_path: Path) -> None:
    asker = dl.Asker(
        every=0.01, ask=scripted([False]), path=tmp_path / "s.json", restart_after=3, start_grace_s=0.0
    )
    asker.start()
    try:
        wait_for("the daemon judged hung", asker.hung.is_set)
    finally:
        asker.stopped.set()
        asker.join(5)


def test_a_live_answer_resets_the_count(tmp_path: Path) -> None:
    asker = dl.Asker(
        every=0.01,
        ask=scripted([True, False, False, True, False, False, True]),
        path=tmp_path / "s.json",
        restart_after=3,
    )
    asker.start()
    try:
        wait_for("the script played", lambda: asker.answers >= 30)
        assert not asker.hung.is_set()
    finally:
        asker.stopped.set()
        asker.join(5)
