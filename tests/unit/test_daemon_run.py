"""The daemon's command (edp_platform.daemon_run): the lines of a tick that found nothing to do are left out
of the daemon's log, everything else is kept."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from edp_platform.daemon_run import quiet_idle_ticks


def test_idle_tick_lines_are_dropped_and_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    quiet_idle_ticks()
    sensor = logging.getLogger("dagster.daemon.SensorDaemon")
    scheduler = logging.getLogger("dagster.daemon.SchedulerDaemon")
    caplog.set_level(logging.INFO)
    sensor.info("Checking for new runs for sensor: landing_zone_sensor")
    sensor.info("No run requests returned for landing_zone_sensor, skipping")
    sensor.info("Sensor landing_zone_sensor skipped: no new files in /opt/dagster/landing")
    scheduler.info("No run requests returned for daily, skipping")
    sensor.info("Launching run for landing_zone_sensor")
    sensor.warning("Checking for new runs for sensor: x took long")
    sensor.error("Sensor daemon caught an error for sensor landing_zone_sensor")
    assert [r.getMessage() for r in caplog.records] == [
        "Launching run for landing_zone_sensor",
        "Checking for new runs for sensor: x took long",
        "Sensor daemon caught an error for sensor landing_zone_sensor",
    ]


def test_it_is_dagster_daemons_own_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "edp_platform.daemon_run", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "Usage: dagster-daemon run" in out.stdout
