"""Messages between the sources' threads, the panels and the shell (small, immutable payloads).

The Docker watcher can post many in a burst (a restart is a handful of events): a message that a newer one of
the same kind makes stale says so (``can_replace``), and Textual drops it unhandled when the newer one is
already queued behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from edp_tui.docker.models import EngineStatus, ServiceState
from edp_tui.docker.services import StatusSink


@dataclass
class DockerStatusChanged(Message):
    """The engine became reachable or unreachable (posted from the watcher thread)."""

    status: EngineStatus

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DockerStatusChanged)


@dataclass
class ServiceStatesChanged(Message):
    """New states of some services (posted from the watcher thread or an action worker)."""

    states: tuple[ServiceState, ...]

    def can_replace(self, message: Message) -> bool:
        # Stale once a newer message carries every service this one does.
        return isinstance(message, ServiceStatesChanged) and {s.service for s in self.states} <= {
            s.service for s in message.states
        }


@dataclass
class BackendStateChanged(Message):
    """A backend's state for the header: ``name`` "webserver" or "daemon", ``level`` ok/warn/error/unknown."""

    name: str
    level: str
    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BackendStateChanged) and message.name == self.name


class MessageSink(StatusSink):
    """Hands what the Docker watcher thread learns to the app as messages (post_message is thread-safe)."""

    def __init__(self, target: MessagePump) -> None:
        self._target = target

    def on_status(self, status: EngineStatus) -> None:
        self._target.post_message(DockerStatusChanged(status))

    def on_states(self, states: Sequence[ServiceState]) -> None:
        self._target.post_message(ServiceStatesChanged(tuple(states)))
