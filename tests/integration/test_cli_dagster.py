"""The Dagster CLI twins (status, reload, launch, runs, logs) against the real process stack.

Two real runs at most, started side by side: one that succeeds (default config, so the warehouse ends up as
any default ingestion leaves it) and one that fails inside its step (orders: 0 loads nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from edp_tui.cli import main
from tests.support.ports import free_port
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import DEMO_DAY

RUN_DEADLINE_S = 900.0  # a run process imports dagster and dbt: slow on 2 busy cores
JOBS = {"ingestion_job", "dbt_build_job", "daily_job", "full_refresh_job"}
# The demo's jobs are partitioned by day: a launch names the day.
DAY = ("--partition", DEMO_DAY)


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_TUI_")}
    env["XDG_CONFIG_HOME"] = str(tmp / "xdg")  # no developer config file
    env["PYTHONUNBUFFERED"] = "1"  # the run id must reach the pipe before the process ends
    return env


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("EDP_TUI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def cli(stack: ProcessStack | None, *args: str) -> Result:
    url = stack.webserver_url if stack else f"http://127.0.0.1:{free_port()}"
    return CliRunner().invoke(main, ["--webserver-url", url, *args], catch_exceptions=False)


def spawn(stack: ProcessStack, tmp: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edp_tui", "--webserver-url", stack.webserver_url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp),
    )


def run_count(stack: ProcessStack) -> int:
    data = stack.graphql("query { runsOrError { ... on Runs { count } } }")
    return int(data["runsOrError"]["count"])


@dataclass
class Finished:
    rc: int
    stdout: str
    stderr: str


@dataclass
class TwoRuns:
    tag: str
    success_id: str
    failure_id: str
    success: Finished
    failure: Finished
    follow: Finished


@pytest.fixture(scope="module")
def two_runs(process_stack: ProcessStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoRuns]:
    """`launch --wait` of a succeeding and a failing run, and `logs --follow` of the first, all at once."""
    tmp = tmp_path_factory.mktemp("cli-runs")
    failing = tmp / "failing.yaml"
    failing.write_text("ops:\n  raw_retail_data:\n    config:\n      orders: 0\n")
    tag = uuid.uuid4().hex[:12]
    procs: list[subprocess.Popen[str]] = []
    try:
        ok = spawn(process_stack, tmp, "launch", "ingestion_job", *DAY, "--tag", f"edp-test={tag}", "--wait")
        procs.append(ok)
        bad = spawn(process_stack, tmp, "launch", "ingestion_job", *DAY, "--config", str(failing), "--wait")
        procs.append(bad)
        assert ok.stdout is not None and bad.stdout is not None
        success_id = ok.stdout.readline().strip()  # printed right after the launch, before waiting
        failure_id = bad.stdout.readline().strip()
        assert success_id and failure_id, (ok.poll(), bad.poll())
        follow = spawn(process_stack, tmp, "logs", success_id, "--follow")
        procs.append(follow)
        results = []
        for proc in (ok, bad, follow):
            out, err = proc.communicate(timeout=RUN_DEADLINE_S)
            results.append(Finished(proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    yield TwoRuns(tag, success_id, failure_id, *results)


def test_status_of_the_healthy_stack(process_stack: ProcessStack) -> None:
    result = cli(process_stack, "status", "--no-docker", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report["problems"]
    assert report["healthy"] is True and report["problems"] == []
    assert report["webserver"] == {"url": process_stack.webserver_url, "reachable": True, "error": None}
    (location,) = report["locations"]
    assert location["name"] == "etl_pipeline" and location["state"] == "loaded"
    assert JOBS <= set(location["jobs"])
    assert report["daemon"]["state"] == "ok"
    daemons = {d["type"] for d in report["daemon"]["daemons"]}
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= daemons

    human = cli(process_stack, "status", "--no-docker")
    assert human.exit_code == 0
    assert "etl_pipeline  loaded" in human.stdout and human.stdout.rstrip().endswith("Overall: healthy")


def test_status_with_an_unreachable_engine_exits_2(process_stack: ProcessStack, tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(f"name: edp-cli-{uuid.uuid4().hex[:8]}\nservices:\n  db:\n    image: absent:1\n")
    dead_engine = f"tcp://127.0.0.1:{free_port()}"
    flags = ("--compose-file", str(compose), "--docker-host", dead_engine)
    result = cli(process_stack, *flags, "status", "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["docker"]["reachable"] is False and dead_engine in report["docker"]["error"]
    assert report["webserver"]["reachable"] is True  # Dagster is still checked and reported
    assert report["problems"][0].startswith("docker: ")


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--no-docker"),
        ("reload",),
        ("launch", "ingestion_job"),
        ("runs",),
        ("logs", "some-run"),
    ],
)
def test_unreachable_webserver_exits_2(args: tuple[str, ...]) -> None:
    result = cli(None, *args)
    assert result.exit_code == 2
    assert "unreachable at http://127.0.0.1:" in (result.stderr + result.stdout)


def test_launch_unknown_job_lists_the_known_ones(process_stack: ProcessStack) -> None:
    result = cli(process_stack, "launch", "no_such_job")
    assert result.exit_code == 2
    assert result.stderr.startswith("edp-tui: unknown job 'no_such_job'; known jobs: ")
    listed = set(result.stderr.split("known jobs: ")[1].strip().split(", "))
    assert JOBS <= listed


def test_launch_with_invalid_run_config_shows_paths_and_launches_nothing(
    process_stack: ProcessStack, tmp_path: Path
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  raw_retail_data:\n    config:\n      orders: many\n      bogus: 1\n")
    before = run_count(process_stack)
    result = cli(process_stack, "launch", "ingestion_job", "--config", str(config))
    assert result.exit_code == 2
    assert "Dagster rejected the run config for ingestion_job; nothing was launched" in result.stderr
    assert "root:ops:raw_retail_data:config:orders: " in result.stderr
    assert '"bogus"' in result.stderr
    assert run_count(process_stack) == before


def test_read_only_launch_is_refused_by_the_real_stack_path(process_stack: ProcessStack) -> None:
    before = run_count(process_stack)
    result = cli(process_stack, "--read-only", "launch", "ingestion_job")
    assert result.exit_code == 2 and "read-only mode: launch of ingestion_job refused" in result.stderr
    assert run_count(process_stack) == before


def test_launch_wait_exit_codes_follow_the_run(two_runs: TwoRuns) -> None:
    assert two_runs.success.rc == 0, two_runs.success.stderr
    assert f"run {two_runs.success_id} finished: SUCCESS" in two_runs.success.stderr
    assert "step raw_retail_data: SUCCESS" in two_runs.success.stderr  # step progress was shown
    assert two_runs.failure.rc == 1, two_runs.failure.stderr
    assert f"run {two_runs.failure_id} finished: FAILURE" in two_runs.failure.stderr
    assert f"edp-tui logs {two_runs.failure_id}" in two_runs.failure.stderr


def test_launch_tags_reach_the_run(process_stack: ProcessStack, two_runs: TwoRuns) -> None:
    data = process_stack.graphql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }",
        {"id": two_runs.success_id},
    )
    assert {"key": "edp-test", "value": two_runs.tag} in data["runOrError"]["tags"]


def test_launch_of_a_partition_sends_the_partitions_config_under_the_files(
    process_stack: ProcessStack, two_runs: TwoRuns
) -> None:
    """As Dagster's launchpad: the day's own run config (the job's default, the in-process executor) with
    the --config file's on top; given bare, the partitioned job's default would not apply."""
    data = process_stack.graphql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { runConfigYaml } } }",
        {"id": two_runs.failure_id},
    )
    sent = yaml.safe_load(data["runOrError"]["runConfigYaml"])
    assert sent["execution"] == {"config": {"in_process": {}}}
    assert sent["ops"]["raw_retail_data"]["config"]["orders"] == 0


def test_logs_follow_tails_until_the_run_ends(two_runs: TwoRuns) -> None:
    follow = two_runs.follow
    assert follow.rc == 0, follow.stderr
    assert "loaded the reference data with GeneratorParams(customers=500" in follow.stdout
    assert f"loaded {DEMO_DAY}: " in follow.stdout
    assert "STEP_SUCCESS" in follow.stdout  # the last lines of the step arrived before it stopped
    assert "\x1b" not in follow.stdout


def test_logs_of_a_failed_step(process_stack: ProcessStack, two_runs: TwoRuns) -> None:
    result = cli(process_stack, "logs", two_runs.failure_id, "--step", "raw_retail_data", "--stderr")
    assert result.exit_code == 0
    assert "ValueError: orders must be at least 1, got 0" in result.stdout
    assert "stderr| " not in result.stdout  # one stream: unprefixed

    both = cli(process_stack, "logs", two_runs.failure_id)
    assert "stderr| " in both.stdout and "STEP_FAILURE" in both.stdout

    unknown_step = cli(process_stack, "logs", two_runs.failure_id, "--step", "nope")
    assert unknown_step.exit_code == 2
    assert "has no step 'nope'; its steps: raw_reference_data, raw_retail_data" in unknown_step.stderr


def test_logs_of_an_unknown_run(process_stack: ProcessStack) -> None:
    result = cli(process_stack, "logs", "0000-not-a-run")
    assert result.exit_code == 2 and "no run with id '0000-not-a-run'" in result.stderr


def test_runs_lists_and_filters(process_stack: ProcessStack, two_runs: TwoRuns) -> None:
    ok = json.loads(cli(process_stack, "runs", "--json", "--status", "success", "--limit", "50").stdout)
    assert ok["schema"] == "edp-tui.runs/1"
    assert two_runs.success_id in {r["run_id"] for r in ok["runs"]}
    assert {r["status"] for r in ok["runs"]} == {"SUCCESS"}
    failed = json.loads(cli(process_stack, "runs", "--json", "--status", "FAILURE").stdout)["runs"]
    assert two_runs.failure_id in {r["run_id"] for r in failed}
    assert all(r["job"] == "ingestion_job" and r["duration_s"] is not None for r in failed)

    table = cli(process_stack, "runs", "--job", "ingestion_job", "--limit", "2")
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "RUN",
        "ID",
        "JOB",
        "LOCATION",
        "PARTITION",
        "STATUS",
        "STARTED",
        "(UTC)",
        "DURATION",
    ]
    assert len(lines) == 3  # header + the limit
    assert all(line.split()[2] == "etl_pipeline" for line in lines[1:])
    # Several locations are served: the location filter keeps the demo's runs and drops them for another.
    mine = json.loads(cli(process_stack, "runs", "--json", "--location", "etl_pipeline").stdout)["runs"]
    assert two_runs.failure_id in {r["run_id"] for r in mine}
    assert (
        cli(process_stack, "runs", "--location", "plain", "--job", "ingestion_job").stderr.strip()
        == "no runs match"
    )
    assert cli(process_stack, "runs", "--job", "no_such_job").stderr.strip() == "no runs match"


def test_status_lists_recent_runs(process_stack: ProcessStack, two_runs: TwoRuns) -> None:
    report = json.loads(cli(process_stack, "status", "--no-docker", "--json", "--runs", "100").stdout)
    assert {two_runs.success_id, two_runs.failure_id} <= {r["run_id"] for r in report["runs"]}
    # A failed run is history, not ill health: the stack itself is fine.
    assert report["healthy"] is True


def test_reload_all_and_one_location(process_stack: ProcessStack, two_runs: TwoRuns) -> None:
    # (after the runs: a reload restarts the code server's gRPC process)
    result = cli(process_stack, "reload")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("etl_pipeline: loaded in ")
    assert "reloading etl_pipeline" in result.stderr

    unknown = cli(process_stack, "reload", "nowhere")
    assert unknown.exit_code == 2
    assert "unknown code location 'nowhere'; known: etl_pipeline" in unknown.stderr

    refused = cli(process_stack, "--read-only", "reload", "etl_pipeline")
    assert refused.exit_code == 2 and "read-only mode: reload refused" in refused.stderr


def test_force_terminate_ends_a_run_that_no_worker_will_take(process_stack: ProcessStack) -> None:
    # Without the daemon nothing dequeues the run: it waits with no worker, like a run whose worker is gone.
    process_stack.stop_daemon()
    try:
        launched = cli(process_stack, "launch", "full_refresh_job", *DAY)
        assert launched.exit_code == 0, launched.output
        run_id = launched.stdout.strip()
        result = cli(process_stack, "terminate", "--force", "--timeout", "60", run_id)
        assert result.exit_code == 0, result.output
        # A queued run can still be stopped: --force asks first, and the queue cancels it; nothing is forced.
        assert result.stdout.strip() == f"{run_id} CANCELED" and "termination requested" in result.stderr
        assert "marked canceled" not in result.stderr
        data = process_stack.graphql(
            "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )
        assert data["runOrError"]["status"] == "CANCELED"
        again = cli(process_stack, "terminate", run_id)
        assert again.exit_code == 0 and "already ended: CANCELED" in again.stderr
    finally:
        process_stack.start_daemon()
