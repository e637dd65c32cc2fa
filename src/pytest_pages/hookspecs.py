"""The hook a project implements to give every page what its code needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pytest_pages.runtime import Page

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_pages_setup(page: Page) -> None:
    """Called as a page opens, before its first block runs; every implementation is called.

    An implementation may:

    - put names into the page's namespace (`page.namespace["respx_mock"] = router`);
    - enter context managers that last as long as the page (`page.resources.enter_context`),
      closed in reverse order after its last block;
    - set environment variables for the page's run (`page.environment["DATABASE_URL"] = url`),
      using `page.workdir`, a temporary folder of the page's own, for files;
    - move the page to the real clock (`page.clock = "real"`), for code whose timers must not
      jump, such as a client waiting on a real server;
    - read the page's front matter (`page.front_matter`, a dict of strings);
    - mark the page unavailable here (`page.unavailable = "no PostgreSQL server"`): its blocks
      are then skipped with that reason, or fail where `page.required` is set true.
    """
