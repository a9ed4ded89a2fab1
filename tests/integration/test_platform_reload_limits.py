"""Reloads that can never hang the code server, on the process stack over a copy of the repository.

What a user may save under a watched folder (a FIFO, a multi-GB seed, a link to /dev/zero, a file name that
is not UTF-8) is a reload like any other: it ends, and the location serves. A dbt project that keeps dbt busy
for ever is ended at EDP_DBT_PREPARE_TIMEOUT_S with a clear error while the last good definitions serve; gRPC
reloads asked meanwhile wait for that one reload (or are answered at once) instead of filling the gRPC
server's threads, so Ping still answers while it runs; the next save works.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster._grpc.client import DagsterGrpcClient

from tests.integration.conftest import copy_repository
from tests.integration.test_platform_auto_reload import last_reload_id, reload_after, status, wait_for
from tests.support.process_stack import ProcessStack

PREPARE_TIMEOUT_S = 40


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    workdir = tmp_path_factory.mktemp("reload-limits")
    code_root = copy_repository(workdir / "repo")
    env = {"EDP_DBT_PREPARE_TIMEOUT_S": str(PREPARE_TIMEOUT_S)}
    with ProcessStack(workdir / "run", code_root, start_daemon=False, extra_env=env) as stack:
        wait_for("first load published", lambda: status(stack).get("serving"))
        yield stack


def models(stack: ProcessStack) -> Path:
    return stack.code_root / "dbt_project" / "models"


def make_odd_file(kind: str, models_dir: Path) -> Path:
    """Saves one odd file under the demo's dbt project; returns its path."""
    if kind == "fifo":
        path = models_dir / "pipe.sql"
        os.mkfifo(path)
    elif kind == "multi-GB seed":  # sparse: 3 GB that cost no disk
        path = models_dir.parent / "seeds" / "huge.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(3 << 30)
    elif kind == "link to /dev/zero":
        path = models_dir / "zero.sql"
        path.symlink_to("/dev/zero")
    else:  # a Latin-1 name, not UTF-8
        path = Path(os.fsdecode(os.path.join(os.fsencode(models_dir), b"caf\xe9.sql")))
        path.write_bytes(b"select 1 as x\n")
    return path


ODD_FILES = ["fifo", "multi-GB seed", "link to /dev/zero", "non-UTF-8 name"]


@pytest.mark.parametrize("kind", ODD_FILES)
def test_an_odd_file_saved_is_a_reload_that_ends_and_serves(stack: ProcessStack, kind: str) -> None:
    before = last_reload_id(stack)
    path = make_odd_file(kind, models(stack))
    try:
        record = wait_for(f"a reload after the {kind}", lambda: reload_after(stack, before))
        if kind == "non-UTF-8 name":  # dbt cannot read it: a clear error, the last good load serves
            assert record["outcome"] == "failed", record
            assert "not UTF-8" in record["error"]["text"], record["error"]
        else:
            assert record["outcome"] == "served", record
        assert status(stack)["in_progress"] is None
    finally:
        after = last_reload_id(stack)
        path.unlink()
        removed = wait_for(f"a reload after the {kind} removed", lambda: reload_after(stack, after))
        assert removed["outcome"] == "served", removed


def test_a_parse_that_never_ends_is_ended_grpc_keeps_answering_and_the_next_save_works(
    stack: ProcessStack,
) -> None:
    before = last_reload_id(stack)
    endless = models(stack) / "endless.sql"
    endless.write_text("{% for i in modules.itertools.count() %}{% endfor %}\nselect 1 as x\n")
    wait_for(
        "the endless parse under way", lambda: (status(stack).get("in_progress") or {}).get("id", 0) > before
    )
    hung_id = status(stack)["in_progress"]["id"]

    # Twelve reloads asked over gRPC while it runs (the UI, edp-tui reload, scripts): none may take a thread
    # for a reload of its own.
    answers: list[Any] = []

    def ask_reload() -> None:
        client = DagsterGrpcClient(port=stack.code_server_port, host="127.0.0.1")
        try:
            answers.append(client.reload_code(timeout=PREPARE_TIMEOUT_S * 4))
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            answers.append(exc)

    threads = [threading.Thread(target=ask_reload, daemon=True) for _ in range(12)]
    for t in threads:
        t.start()
    # Past MAX_RELOAD_WAITERS (4) they are answered at once, while the endless reload still runs (before the
    # change, each queued a reload of its own behind it and none answered until they all had run).
    wait_for("the reloads past the waiters answered", lambda: len(answers) >= 8, PREPARE_TIMEOUT_S * 6)
    assert (status(stack).get("in_progress") or {}).get("id") == hung_id
    client = DagsterGrpcClient(port=stack.code_server_port, host="127.0.0.1")
    assert client.ping("still there")["echo"] == "still there"
    assert (status(stack).get("in_progress") or {}).get("id") == hung_id  # answered while it still runs

    record = wait_for("the endless reload ended", lambda: reload_after(stack, before), PREPARE_TIMEOUT_S * 6)
    assert record["id"] == hung_id and record["outcome"] == "failed"
    assert "did not finish within" in record["error"]["text"], record["error"]
    assert "EDP_DBT_PREPARE_TIMEOUT_S" in record["error"]["text"]
    assert status(stack)["pending_failure"]["message"].startswith("still serving the definitions loaded at ")
    for t in threads:
        t.join(PREPARE_TIMEOUT_S * 4)
    assert len(answers) == 12 and not [a for a in answers if isinstance(a, Exception)], answers
    # The gRPC reloads waited for the endless one or were answered at once: none ran a reload of its own
    # (the watcher's own next reload, for the deletion below, comes after).
    assert [r["id"] for r in status(stack)["reloads"] if r["id"] > before] == [hung_id]

    after = last_reload_id(stack)
    endless.unlink()
    fixed = wait_for("the next save served", lambda: reload_after(stack, after, "served"))
    assert fixed["outcome"] == "served"
