"""The platform's run launcher (named in stack/dagster.yaml): Dagster's DefaultRunLauncher whose run workers
start warm.

Dagster's DefaultRunLauncher asks the location's code server over gRPC (StartRun) to start a run; the code
server starts a fresh Python process for it (multiprocessing spawn, hard-coded in dagster/_grpc/server.py),
which imports dagster, dagster-postgres, dagster-dbt and dbt before it imports the location's code: about
2 s of CPU for every run, most of a small run's start (docs/scaling.md).

With this launcher the code server starts the worker from a warm process instead: a fork of the candidate
server made before it imported the location's code, holding the libraries its code server imported once
(edp_platform/instance/warm_workers.py, started by the candidate server, code_server/child.py). The worker is
a fork of it that then imports the location's code from disk, exactly as a spawned worker does: a warm process
never holds a user's code, so a saved file is what the next run executes, with or without a reload in between,
as before. Everything else is Dagster's: the same StartRun, the same worker function
(`start_run_in_subprocess`), the same "Started process for run (pid: N)" engine event that lost-worker
detection reads (the pid is the worker's own), termination through the same event, compute logs, run
monitoring.

The code server reads the choice from the instance each StartRun carries (the launching process's, with
this launcher's config): `warm_workers: false`, or Dagster's own DefaultRunLauncher in dagster.yaml, gives
every run a spawned worker as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from dagster import Field
from dagster._core.launcher import DefaultRunLauncher
from dagster._serdes.config_class import ConfigurableClassData

CLASS_NAME = "WarmRunLauncher"
MODULE_NAME = __name__


class WarmRunLauncher(DefaultRunLauncher):
    def __init__(self, inst_data: ConfigurableClassData | None = None, warm_workers: bool = True) -> None:
        super().__init__(inst_data=inst_data)
        self.warm_workers = warm_workers

    @classmethod
    def config_type(cls) -> Any:
        return {
            "warm_workers": Field(
                bool,
                is_required=False,
                default_value=True,
                description="start each run's worker from the code server's warm process (false: spawn a "
                "fresh Python process, as DefaultRunLauncher)",
            )
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, warm_workers=bool(config_value.get("warm_workers", True)))


def wants_warm_workers(launcher: ConfigurableClassData | None) -> bool:
    """Whether an instance whose run launcher is `launcher` asks for warm workers (read by the code server
    from the instance ref of each StartRun, without building the instance)."""
    if launcher is None or (launcher.module_name, launcher.class_name) != (MODULE_NAME, CLASS_NAME):
        return False
    import yaml

    config = yaml.safe_load(launcher.config_yaml or "") or {}
    return not (isinstance(config, dict) and config.get("warm_workers") is False)
