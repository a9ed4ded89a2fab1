"""Container logs of a compose project: `DockerLogSource` hands out `LogFollower`s (see follower.py)."""

from edp_tui.docker.logs.follower import LogFollower
from edp_tui.docker.logs.frames import ChunkedDecoder, FrameParser, body_blocks
from edp_tui.docker.logs.model import (
    BACKLOGS,
    DEFAULT_BACKLOG,
    Backlog,
    Follower,
    LogEvent,
    LogSource,
    backlog_by_key,
)
from edp_tui.docker.logs.source import DockerLogSource

__all__ = [
    "BACKLOGS",
    "DEFAULT_BACKLOG",
    "Backlog",
    "ChunkedDecoder",
    "DockerLogSource",
    "Follower",
    "FrameParser",
    "LogEvent",
    "LogFollower",
    "LogSource",
    "backlog_by_key",
    "body_blocks",
]
