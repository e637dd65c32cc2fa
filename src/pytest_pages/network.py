"""The network guard: no test reaches beyond loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


class OutsideThisMachine(ConnectionRefusedError):
    """A test tried to reach a host that is not this machine."""


class NetworkGuard:
    """A pytest plugin: while it is registered, a connection or a name lookup for any host
    outside loopback raises OutsideThisMachine, and fails the test that tried it, naming the
    host, even if the code under test caught the error (an app that turns a failed upstream
    call into a 502 would otherwise pass). respx answers httpx before any socket is opened;
    this catches everything else. Registered for the whole run, pages or not, where the ini
    option `pages_guard_network` is true."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.patches = pytest.MonkeyPatch()

    def pytest_configure(self) -> None:
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            self.check_address(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            self.check_address(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if not (is_local(name) or is_address(name)):  # an address needs no DNS
                self.refuse(f"look up {name!r}")
            return getaddrinfo(host, *args, **kwargs)

        self.patches.setattr(socket.socket, "connect", guarded_connect)
        self.patches.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        self.patches.setattr(socket, "getaddrinfo", guarded_getaddrinfo)

    def pytest_unconfigure(self) -> None:
        self.patches.undo()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self) -> Iterator[None]:
        self.attempts.clear()
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self) -> Iterator[None]:
        try:
            return (yield)
        finally:  # whether or not the test failed by itself, say which host it tried
            self.fail_if_attempted()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self) -> Iterator[None]:
        try:
            return (yield)
        finally:
            self.fail_if_attempted()

    def check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
            self.refuse(f"connect to {address[0]} port {address[1]}")

    def refuse(self, attempt: str) -> None:
        self.attempts.append(attempt)
        raise OutsideThisMachine(f"tests may not reach outside this machine: {attempt}")

    def fail_if_attempted(self) -> None:
        if self.attempts:
            attempts, self.attempts = self.attempts, []
            pytest.fail(
                "tried to reach outside this machine (respx mocks httpx; only loopback is "
                "allowed): " + "; ".join(dict.fromkeys(attempts)),
                pytrace=False,
            )


def is_local(host: str | None) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name other than localhost
    return address.is_loopback or address.is_unspecified


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
