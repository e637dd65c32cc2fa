"""How `make test`'s two workers share the browser test.

`make test` runs whole files (`--dist loadfile`), and a page of the guide is one file. The
browser test is one file too, and by far the longest (Chromium surveys 23 pages, some three
minutes of work), so one worker ran all of it while the other ran out of work. Its pages need
no file of their own to stay apart: each page's tests share that page's survey, and no page's
survey depends on another's. So under `loadfile`, each page's browser tests are a unit of
their own (`tests/test_browser.py[users.md]`), and both workers take pages. Every other file
stays whole. The browser test's module-scoped fixtures, Chromium and the site's server, then
start wherever a run of its units begins, in each worker: a few times a run, about a second
each. (On two cores the gain is small: Chromium's own processes kept the second core busy
anyway. It grows with the cores.)

A pytest plugin (root conftest.py's `pytest_plugins`): xdist's controller, which hands out
the work, collects nothing, so a hook in `tests/conftest.py` might never reach it.
"""

import pytest

# pytest-xdist ships no type information (no py.typed): its classes are `Any` to mypy.
from xdist.remote import Producer  # type: ignore[import-untyped]
from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

BROWSER_TEST = "tests/test_browser.py"


class BrowserPagesApart(LoadFileScheduling):  # type: ignore[misc]
    """`--dist loadfile`, except that each page's browser tests are a unit of their own."""

    def _split_scope(self, nodeid: str) -> str:
        file, _, test = nodeid.partition("::")
        page = test.rpartition("[")[2]
        if file == BROWSER_TEST and page.endswith(".md]"):
            return f"{file}[{page}"
        return file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> object | None:
    if config.getvalue("dist") != "loadfile":
        return None  # pytest-pages' scheduler, or else xdist's own
    return BrowserPagesApart(config, log)
