"""`dagster-daemon`, with the log lines that say a tick found nothing to do left out (the daemon's command).

    python -m edp_platform.daemon_run run -w workspace.yaml      (any `dagster-daemon` arguments)

Dagster's sensor daemon writes two INFO lines for every tick of every running sensor ("Checking for new runs
for sensor: X", then "No run requests returned for X, skipping" or "Sensor X skipped: <its reason>"), the
scheduler one for a schedule tick that requests nothing: at a tick every 30 s, four lines a minute in a stack
where nothing happens, which drown what does happen in the daemon's log (and in the dashboard's Logs tab).
This drops exactly those records (a skip's reason stays in the tick's history, in the UI and the dashboard);
a tick that launches a run or fails is logged as before, and every other line too.
Dagster has no setting for it (its --log-level would silence every INFO line, launches included).
"""

from __future__ import annotations

import logging
import re
import sys

# Dagster's daemon loggers (dagster/_daemon/daemon.py get_default_daemon_logger) and the messages of a tick
# that found nothing to do (dagster/_daemon/sensor.py, dagster/_scheduler/scheduler.py).
NOTHING_HAPPENED = {
    "dagster.daemon.SensorDaemon": re.compile(
        r"Checking for new runs for sensor: |No run requests returned for \S+, skipping$|Sensor \S+ skipped: "
    ),
    "dagster.daemon.SchedulerDaemon": re.compile(r"No run requests returned for \S+, skipping$"),
}


class NothingHappened(logging.Filter):
    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and self.pattern.match(record.getMessage()))


def quiet_idle_ticks() -> None:
    for name, pattern in NOTHING_HAPPENED.items():
        logging.getLogger(name).addFilter(NothingHappened(pattern))


def main(argv: list[str] | None = None) -> None:
    from dagster._daemon.cli import cli

    quiet_idle_ticks()
    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="dagster-daemon", obj={})


if __name__ == "__main__":
    main()
