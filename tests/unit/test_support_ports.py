"""tests/support/ports.py: the one free_port of the test suite hands out ports no one else can be given."""

from __future__ import annotations

import socket

from tests.support import ports


def test_ports_lie_below_the_ephemeral_range_and_never_repeat() -> None:
    low, _ = ports.ephemeral_range()
    handed = [ports.free_port() for _ in range(100)]
    assert len(set(handed)) == len(handed)
    # No outgoing connection on the machine can take one of them between hand-out and the server's bind.
    assert all(1024 <= port < low for port in handed)
    for port in handed[:10]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))  # free when handed out


def test_a_handed_out_port_is_reserved_against_every_other_caller() -> None:
    port = ports.free_port()
    # flock locks belong to one open file: a second opening, as another test session's would be, is refused.
    assert ports._lock(port) is None


def test_a_port_someone_listens_on_is_not_bindable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not ports._bindable(server.getsockname()[1])
