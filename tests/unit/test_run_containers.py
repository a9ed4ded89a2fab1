"""Run containers (run-per-container mode): labels to runs, CPU and memory as `docker stats` computes them,
from a stats answer captured from the real engine."""

from __future__ import annotations

import json
from pathlib import Path

from edp_tui.docker.run_containers import cpu_percent, from_summary, memory_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "docker"


def test_cpu_and_memory_from_a_captured_stats_answer() -> None:
    stats = json.loads((FIXTURES / "stats_running.json").read_text())
    cpu = stats["cpu_stats"]
    pre = stats["precpu_stats"]
    expected = (
        (cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"])
        / (cpu["system_cpu_usage"] - pre["system_cpu_usage"])
        * cpu["online_cpus"]
        * 100
    )
    assert cpu_percent(stats) == expected and 0 <= expected <= 200
    used, limit = memory_bytes(stats)
    assert used is not None and limit is not None and 0 < used <= stats["memory_stats"]["usage"] <= limit


def test_missing_samples_give_no_figure() -> None:
    assert cpu_percent({}) is None
    assert (
        cpu_percent(
            {
                "cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 1},
                "precpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 1},
            }
        )
        is None
    )
    assert memory_bytes({}) == (None, None)


def test_a_container_is_mapped_to_its_run_by_label() -> None:
    summary = {
        "Id": "c0ffee",
        "Names": ["/edp-run-1234"],
        "State": "running",
        "Status": "Up 3 seconds",
        "Labels": {
            "edp.project": "edp",
            "edp.role": "run-worker",
            "dagster/run_id": "1234-abcd",
            "dagster/job_name": "full_refresh_job",
        },
    }
    container = from_summary(summary)
    assert (container.run_id, container.job, container.name, container.state) == (
        "1234-abcd",
        "full_refresh_job",
        "edp-run-1234",
        "running",
    )
