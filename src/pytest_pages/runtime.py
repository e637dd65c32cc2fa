"""What a page runs in: its namespace, its event loops and clock, its resources."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import looptime
import pytest

from pytest_pages._pytest_private import skip_at_item
from pytest_pages.markdown import CLOCKS, choice

# Where every page's clock starts. A real loop's clock starts wherever the machine's monotonic
# clock is, never at 0; from this start, most differences of whole and half seconds come out a
# hair short in floating point (513.31 - 510.31 == 2.9999999999999432), so a page that compares
# a raw difference exactly fails on every run, not once in a while when a thread or a socket
# has left the clock between microseconds. Pages round differences to the clock's microsecond.
CLOCK_START = 510.31

#: httpx reads these; a page must not depend on the machine's proxies, nor reach them.
NO_PROXIES: dict[str, str | None] = dict.fromkeys(
    name for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY") for name in (proxy, proxy.lower())
)


def new_loop() -> asyncio.AbstractEventLoop:
    """A looptime event loop, its clock at CLOCK_START. Before moving its clock to the next
    timer, it polls for I/O this many times: pages that talk to a real server on 127.0.0.1 need
    the bytes in flight through the kernel to arrive first (the default, 42, is not always
    enough on a busy machine)."""
    return looptime.new_event_loop(noop_cycles=1000, start=CLOCK_START)


def new_server_loop() -> asyncio.AbstractEventLoop:
    """The loop that serves a page's app for its exchanges' checks over a socket: looptime's
    default polling, since nothing there measures time, and a clock that moves on while bytes
    are in flight changes no answer (the client has no timeout)."""
    return looptime.new_event_loop()


class Page:
    """What a page runs against: its namespace, its event loop, and what the project's
    `pytest_pages_setup` gives it (see hookspecs.py for what that may set).

    A second event loop serves the page's `app` with uvicorn for each exchange's check over a
    socket; it runs only while the page's own loop does not, so those checks never move the
    page's clock (uvicorn's shutdown alone waits 0.1 s, and a page's `loop.time()` differences
    hold only while its clock moves by the page's own waits alone)."""

    def __init__(self, config: pytest.Config, namespace: dict[str, Any]) -> None:
        self.config = config
        self.namespace = namespace
        self.front_matter: dict[str, str] = namespace["__front_matter__"]
        self.clock = self.front_matter.get("clock", "virtual")
        self.update_docs: bool = config.getoption("update_docs", False)
        self.resources = ExitStack()
        self.environment: dict[str, str | None] = dict(NO_PROXIES)
        self.updates: list[tuple[tuple[int, int], str]] = []  # blocks, for `--update-docs`
        self.number_updates: list[tuple[tuple[int, int], str]] = []  # numbers in the prose
        self.unavailable: str | None = None  # why the page cannot run here, if it cannot
        self.required = False  # whether that is a failure rather than a skip
        self.opened = False  # whether the set-up ran and the loops exist
        self.workdir = Path(self.resources.enter_context(tempfile.TemporaryDirectory()))

    def open(self, hook: Any) -> None:
        """Run the project's set-up (`hook`, the pytest hook caller of the page's folder, so a
        conftest's implementation reaches the pages below it only), then make the loops. If
        anything fails, whatever was entered is closed again before the error goes on."""
        self.namespace["__page__"] = self
        try:
            hook.pytest_pages_setup(page=self)
            self.make_loops()
        except BaseException:
            self.resources.close()
            raise
        self.opened = True

    def make_loops(self) -> None:
        choice({"clock": self.clock}, "clock", "virtual", CLOCKS)  # the hook's, if it set one
        self.resources.enter_context(environment(**self.environment))
        # On the real clock, timers wait for real: a page whose code waits on a real server
        # (a connect timeout, a pool's timeout) would see every timer fire at once otherwise.
        real = self.clock == "real"
        self.runner = asyncio.Runner(loop_factory=asyncio.new_event_loop if real else new_loop)
        self.server_runner = asyncio.Runner(
            loop_factory=asyncio.new_event_loop if real else new_server_loop
        )
        self.clock_start = self.runner.get_loop().time() if real else CLOCK_START
        self.resources.callback(self.server_runner.close)
        self.resources.callback(self.runner.close)  # closed first: nothing runs after it

    def loop_seconds(self) -> float:
        return self.runner.get_loop().time() - self.clock_start

    def close(self) -> None:
        self.resources.close()

    def require_what_it_needs(self) -> None:
        """Skip a block whose page cannot run here, saying why; fail it instead where the
        project's set-up says the page is required."""
        __tracebackhide__ = True
        if self.unavailable is None:
            return
        if self.required:
            pytest.fail(self.unavailable, pytrace=False)
        raise skip_at_item(self.unavailable)  # at the page's line


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, for None, remove) environment variables for a while; then put back what was."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            set_variable(name, value)


def set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
