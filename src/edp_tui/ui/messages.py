"""Messages between the sources' threads, the panels and the shell (small, immutable payloads)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message
from textual.message_pump import MessagePump

from edp_tui.docker.models import EngineStatus, ServiceState
from edp_tui.docker.services import StatusSink


class DockerStatusChanged(Message):
    """The engine became reachable or unreachable (posted from the watcher thread)."""

    def __init__(self, status: EngineStatus) -> None:
        super().__init__()
        self.status = status


class ServiceStatesChanged(Message):
    """New states of some services (posted from the watcher thread or an action worker)."""

    def __init__(self, states: Sequence[ServiceState]) -> None:
        super().__init__()
        self.states = tuple(states)


class BackendStateChanged(Message):
    """A backend's state for the header: ``name`` "webserver" or "daemon", ``level`` ok/warn/error/unknown."""

    def __init__(self, name: str, level: str, text: str) -> None:
        super().__init__()
        self.name = name
        self.level = level
        self.text = text


class MessageSink(StatusSink):
    """Hands what the Docker watcher thread learns to the app as messages (post_message is thread-safe)."""

    def __init__(self, target: MessagePump) -> None:
        self._target = target

    def on_status(self, status: EngineStatus) -> None:
        self._target.post_message(DockerStatusChanged(status))

    def on_states(self, states: Sequence[ServiceState]) -> None:
        self._target.post_message(ServiceStatesChanged(states))
