"""Keep every page whole under pytest-xdist, whatever `--dist` mode splits files.

A page's blocks share one namespace, top to bottom: block N needs what block N-1 defined, so
all of a page's blocks must run in one process, in page order. pytest-xdist's workers each
collect the whole suite on their own, and the controller, which decides who runs what, never
collects: it only sees the nodeids the workers send it (`docs/users.md::line:12,column:1`) and
hands them out by index. No worker-side hook can keep a page together, then; only the
controller's scheduler can, by treating a page as one unit of work.

`--dist load` (also what plain `-n 2` and `-n auto` choose), `loadgroup` and `worksteal` hand
out single tests, so they would split a page. For those, `pytest_xdist_make_scheduler` returns a
scheduler built on xdist's `LoadScopeScheduling`: it sends whole units and never takes one
back, so a page's blocks go to one worker, in collection order (the plugin's
`keep_pages_whole` has put each page's blocks in page order in every worker's collection).

- `load`: a page is one unit; every other test a unit of its own, as `load` would send it.
  `--maxschedchunk` (a `load`-only option) has no meaning here and is ignored.
- `loadgroup`: the same, and tests marked `xdist_group` share their group's unit, as xdist's own
  `LoadGroupScheduling` groups them: by the `@group` its workers append to their nodeids. (With
  pytest 9.2, xdist 3.8.0's workers append nothing, pytest-xdist#1386, so no group reaches the
  controller; no test here is marked `xdist_group`.)
- `worksteal`: taken over by the `load` scheduler above. xdist's work stealing takes the last
  tests of a busy worker's queue back and gives them to an idle one: half a page, mid-page.
  Only whole units may move, and `LoadScopeScheduling` already balances by handing out units
  as workers run low, so stealing would win little here.

`loadfile`, `loadscope` and `each` keep files whole already (`each` runs everything in every
worker), and `no` does not distribute: for those xdist's own scheduler is used.

A worker that crashes mid-page leaves the rest of that page to another worker, which then fails
it; the crash has failed the run already.
"""

import pytest

# pytest-xdist ships no type information (no py.typed): its classes are `Any` to mypy.
from xdist.remote import Producer  # type: ignore[import-untyped]
from xdist.scheduler import LoadGroupScheduling, LoadScopeScheduling  # type: ignore[import-untyped]

PAGE_SUFFIX = ".md"
SPLITTING_MODES = frozenset({"load", "loadgroup", "worksteal"})


def page_of(nodeid: str) -> str | None:
    """The page a nodeid belongs to (its file part, before the first `::`), or None."""
    file = nodeid.split("::", 1)[0]
    return file if file.endswith(PAGE_SUFFIX) else None


# `_split_scope(nodeid)` names the unit of work a test belongs to; overriding it is how xdist's
# own LoadFileScheduling and LoadGroupScheduling make their units out of LoadScopeScheduling.
class PagesWholeLoad(LoadScopeScheduling):  # type: ignore[misc]
    """`--dist load`, except that a page is one unit."""

    def _split_scope(self, nodeid: str) -> str:
        return page_of(nodeid) or nodeid


class PagesWholeLoadGroup(LoadGroupScheduling):  # type: ignore[misc]
    """`--dist loadgroup`, except that a page is one unit."""

    def _split_scope(self, nodeid: str) -> str:
        group: str = super()._split_scope(nodeid)
        return page_of(nodeid) or group


# optionalhook: the hook's spec is xdist's, and under `-p no:xdist` it is never added.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> object | None:
    dist = config.getvalue("dist")
    if dist not in SPLITTING_MODES:
        return None  # xdist's own scheduler (DSession's implementation, which runs last)
    if dist == "loadgroup":
        return PagesWholeLoadGroup(config, log)
    return PagesWholeLoad(config, log)
