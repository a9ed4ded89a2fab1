"""Reads sent before anyone asks: the dashboard's first queries, answered while Python imports the UI.

The dashboard spends its first few hundred milliseconds importing Textual and building the screen; its panels
ask the webserver only once the first frame is up, and then wait for the answers. `EarlyReads` sends those
first queries at once, from threads of its own on a blocking connection, so the webserver works while this
process imports. `DagsterClient.execute` takes an early answer for the same query and variables (once, while
fresh); a read that failed, or that nobody took in time, is asked again as if it had never been sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import httpx

# An answer older than this is not taken: the panel asks again (its data must be as fresh as its own read).
FRESH_S = 5.0

Read = tuple[str, Mapping[str, Any]]


def read_key(name: str, variables: Mapping[str, Any] | None) -> str:
    return name + json.dumps(dict(variables or {}), sort_keys=True, default=str)


class EarlyReads:
    """``reads`` posted now, each in a thread, with ``payload(name, variables)`` as the JSON body. A read
    listed twice is sent twice: two callers each take an answer of their own."""

    def __init__(
        self,
        url: str,
        reads: Sequence[Read],
        payload: Callable[[str, Mapping[str, Any]], dict[str, Any]],
        *,
        client: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._sent_at = clock()
        self._lock = threading.Lock()
        self._answers: dict[str, list[Future[httpx.Response]]] = {}
        self._client = client
        self._pending = len(reads)
        for name, variables in reads:
            answer: Future[httpx.Response] = Future()
            self._answers.setdefault(read_key(name, variables), []).append(answer)
            body = payload(name, variables)
            threading.Thread(
                target=self._post, args=(url, body, answer), name=f"early-{name}", daemon=True
            ).start()

    def _post(self, url: str, body: dict[str, Any], answer: Future[httpx.Response]) -> None:
        try:
            answer.set_result(self._client.post(url, json=body))
        except Exception as exc:  # noqa: BLE001 - any failure: the panel's own read asks again
            answer.set_exception(exc)
        finally:
            with self._lock:
                self._pending -= 1
                last = self._pending == 0
            if last:
                self._client.close()

    def take(self, name: str, variables: Mapping[str, Any] | None) -> Future[httpx.Response] | None:
        """An early answer of this read (each taken once); None when none is left, or they are too old."""
        with self._lock:
            answers = self._answers.get(read_key(name, variables))
            answer = answers.pop(0) if answers else None
        if answer is None or self._clock() - self._sent_at > FRESH_S:
            return None
        return answer
