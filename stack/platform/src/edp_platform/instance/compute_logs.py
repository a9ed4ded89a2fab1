"""The instance's compute log manager (stack/dagster*.yaml `compute_logs`): Dagster's LocalComputeLogManager
whose watch of a run's log directory ends with the last capturedLogs subscription on it.

Dagster 1.13.27 starts a watchdog emitter thread per watched directory on the first subscription and keeps it
until the webserver restarts: unsubscribing drops the subscription, never the watch. With the 0.2 s
`polling_timeout` every run ever followed live then costs the webserver a listdir + stat five times a second
for good (bench/compute_log_push.py: +0.06 % of a core per run, 50 runs +2.8 %). This manager unschedules
the directory's watch once no subscription on that key is left, so an idle webserver costs the same after a
day of following runs as after a restart.

It replaces Dagster's subscription manager with a subclass that overrides its bookkeeping (`_subscriptions`,
`_watchers`, `_observer`), which is why the Dagster family is pinned; tests/unit/test_compute_log_manager.py
fails if an upgrade changes it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from dagster._core.storage.compute_log_manager import CapturedLogSubscription
from dagster._core.storage.local_compute_log_manager import (
    LocalComputeLogManager,
    LocalComputeLogSubscriptionManager,
)
from dagster._serdes.config_class import ConfigurableClassData


class ReleasingSubscriptionManager(LocalComputeLogSubscriptionManager):
    """Drops a key's watch when its last subscription goes.

    Every subscription ends in `remove_subscription` (the webserver disposes of it when the client goes and
    when the log completes), so that is the one place a watch is released. `unwatch`, which Dagster calls from
    the observer's dispatch thread when the .complete marker appears, leaves the watch to the dispose that
    follows: the dispatch thread holds the observer's lock, and taking ours there could deadlock.
    """

    def __init__(self, manager: LocalComputeLogManager) -> None:
        super().__init__(manager)
        # A key subscribed again while its last subscription goes must keep (or get back) its watch.
        self._lock = threading.Lock()

    def add_subscription(self, subscription: CapturedLogSubscription) -> None:
        with self._lock:
            super().add_subscription(subscription)

    def remove_subscription(self, subscription: CapturedLogSubscription) -> None:
        with self._lock:
            super().remove_subscription(subscription)
            key = self._watch_key(self._log_key(subscription))
            if self._subscriptions.get(key) or key not in self._watchers:
                return
            watch = self._watchers.pop(key)
            # The steps of one run log into one directory and share its watch: keep it while another needs it.
            if self._observer is not None and watch not in self._watchers.values():
                self._observer.unschedule(watch)  # the directory's emitter thread stops

    def unwatch(self, log_key: Sequence[str], handler: Any) -> None:
        """Nothing here: the subscriptions' dispose releases the watch (see the class docstring)."""


class ReleasingComputeLogManager(LocalComputeLogManager):
    """LocalComputeLogManager (same config) that stops watching a directory nobody subscribes to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscription_manager = ReleasingSubscriptionManager(self)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> ReleasingComputeLogManager:
        # The parent's builds a LocalComputeLogManager by name, not `cls`.
        return cls(inst_data=inst_data, **config_value)
