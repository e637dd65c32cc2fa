"""Pages under pytest-xdist (issue 15): in every `--dist` mode, each page's blocks run in one
worker, in page order. Shown on a sample project of its own, run in a pytest of its own: pages
whose lines share a namespace, as the real pages' blocks do (line N needs line N-1's `x`, in
the same process), and plain tests beside them."""

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from xdist.remote import Producer  # type: ignore[import-untyped]

from pytest_pages.scheduling import PagesWholeLoad, PagesWholeLoadGroup, pytest_xdist_make_scheduler
from tests.support.scheduling import BrowserPagesApart
from tests.support.scheduling import pytest_xdist_make_scheduler as make_projects_scheduler

SRC = Path(__file__).parents[1] / "src"  # where pytest_pages lives

SAMPLE_CONFTEST = '''
import os
from pathlib import Path

import pytest

RAN = Path(__file__).parent / "ran.txt"


def record(file: str, index: int) -> None:
    """One line per test run: its file, its index there, and the worker that ran it."""
    with RAN.open("a") as ran:  # one short append per line: whole lines, even from two workers
        ran.write(f"{file} {index} {os.environ['PYTEST_XDIST_WORKER']}/{os.getpid()}\\n")


class Page(pytest.File):
    """Each line of a .md file is a test; the lines share one namespace, like a page's blocks."""

    def collect(self):
        self.namespace = {}
        for index, line in enumerate(self.path.read_text().splitlines()):
            yield Line.from_parent(self, name=f"line:{index}", index=index, source=line)


class Line(pytest.Item):
    def __init__(self, *, index, source, **kwargs):
        super().__init__(**kwargs)
        self.index, self.source = index, source

    def runtest(self):
        exec(self.source, self.parent.namespace)
        record(self.path.name, self.index)

    def reportinfo(self):
        return self.path, self.index, self.name


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".md":
        return Page.from_parent(parent, path=file_path)
'''

SAMPLE_TESTS = """
import pytest
from conftest import record


@pytest.mark.parametrize("index", range(7))
def test_alone(index):
    record("test_alone", index)


# Not grouped by xdist 3.8.0 under pytest 9.2 (pytest-xdist#1386); here, it runs beside the pages.
@pytest.mark.xdist_group("trio")
@pytest.mark.parametrize("index", range(3))
def test_grouped(index):
    record("test_grouped", index)
"""

# Six lines a page: the last fails unless the five before ran first, in order, in its process.
PAGE = "x = 0\n" + "x = x + 1\n" * 4 + "assert x == 4\n"
PAGES = ("alpha.md", "beta.md", "gamma.md", "delta.md")
TESTS = len(PAGES) * 6 + 7 + 3


@pytest.fixture
def sample(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(SAMPLE_CONFTEST)
    pytester.makepyfile(test_plain=SAMPLE_TESTS)
    for name in PAGES:
        (pytester.path / name).write_text(PAGE)
    monkeypatch.setenv("PYTHONPATH", str(SRC))
    # Only the plugins each run names: no installed plugin's order (pytest-randomly) or hooks,
    # and pytest_pages is never there by its entry point when a run leaves it out.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # `-n auto` counts this machine's cores; two workers, whatever it has.
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "2")
    return pytester


def ran(sample: pytest.Pytester) -> dict[str, list[tuple[int, str]]]:
    """Each file's tests, in the order they ran: (index, worker)."""
    runs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in (sample.path / "ran.txt").read_text().splitlines():
        file, index, worker = line.split()
        runs[file].append((int(index), worker))
    return runs


MODES = {
    "-n 2": ["-n", "2"],
    "-n auto": ["-n", "auto"],  # plain -n means --dist load
    "--dist load": ["-n", "2", "--dist", "load"],
    "--dist loadfile": ["-n", "2", "--dist", "loadfile"],
    "--dist loadgroup": ["-n", "2", "--dist", "loadgroup"],
    "--dist worksteal": ["-n", "2", "--dist", "worksteal"],
    # load's one-test-at-a-time sending; the pages' scheduler sends whole units, and ignores it
    "--maxschedchunk 1": ["-n", "2", "--maxschedchunk", "1"],
}


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
def test_each_page_runs_whole_in_one_worker_in_page_order(
    sample: pytest.Pytester, mode: list[str]
) -> None:
    result = sample.runpytest_subprocess(
        "-p", "xdist.plugin", "-p", "pytest_pages.scheduling", *mode
    )
    result.assert_outcomes(passed=TESTS)
    runs = ran(sample)
    for page in PAGES:
        assert [index for index, _ in runs[page]] == list(range(6)), page
        assert len({worker for _, worker in runs[page]}) == 1, runs[page]
    # Still two workers sharing the run, not one doing everything.
    assert len({worker for tests in runs.values() for _, worker in tests}) == 2, runs


@pytest.mark.parametrize("dist", ["load", "worksteal"])
def test_without_the_plugin_xdist_splits_a_page(sample: pytest.Pytester, dist: str) -> None:
    # The defect the plugin mends: a page's later lines sent to the other worker, which never
    # ran the earlier ones.
    result = sample.runpytest_subprocess("-p", "xdist.plugin", "-n", "2", "--dist", dist)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*NameError: name 'x' is not defined*"])


SCHEDULERS = {
    "load": PagesWholeLoad,
    "loadgroup": PagesWholeLoadGroup,
    "worksteal": PagesWholeLoad,  # stealing would take half a page back
    "loadfile": None,  # xdist's own: these keep files whole already, or do not distribute
    "loadscope": None,
    "each": None,
    "no": None,
}


@pytest.mark.parametrize(("dist", "scheduler"), SCHEDULERS.items())
def test_each_mode_gets_its_scheduler(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dist: str, scheduler: type | None
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # xdist alone: a quick start
    config = pytester.parseconfig("-p", "xdist.plugin", "--dist", dist, "--tx", "2*popen")
    made = pytest_xdist_make_scheduler(config, Producer("test"))
    assert type(made) is scheduler if scheduler else made is None


def test_loadgroup_keeps_pages_and_groups_whole() -> None:
    # xdist's workers label a test marked xdist_group("trio") `...@trio` (with pytest 9.2 they
    # do not, pytest-xdist#1386; hence this test on nodeids, and none on a run).
    scheduler = PagesWholeLoadGroup.__new__(PagesWholeLoadGroup)  # _split_scope reads no state
    assert scheduler._split_scope("docs/users.md::line:12,column:1") == "docs/users.md"
    assert scheduler._split_scope("test_plain.py::test_grouped[0]@trio") == "trio"
    assert scheduler._split_scope("test_plain.py::test_alone[0]") == "test_plain.py::test_alone[0]"


def test_make_tests_workers_share_the_browser_tests_pages(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This project's own scheduler for `--dist loadfile` (tests/support/scheduling.py): files
    # whole, but each page's browser tests a unit of their own; other modes are not its business.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    for dist, expected in [("loadfile", BrowserPagesApart), ("load", None), ("no", None)]:
        config = pytester.parseconfig("-p", "xdist.plugin", "--dist", dist, "--tx", "2*popen")
        made = make_projects_scheduler(config, Producer("test"))
        assert type(made) is expected if expected else made is None
    scheduler = BrowserPagesApart.__new__(BrowserPagesApart)  # _split_scope reads no state
    units = {
        "tests/test_browser.py::test_every_page_is_accessible[users.md]": "[users.md]",
        "tests/test_browser.py::test_every_code_block_fits_its_box[users.md]": "[users.md]",
        "tests/test_browser.py::test_linked_tabs_switch_together": "",
        "tests/test_site.py::test_every_page_is_built[users.md]": None,
        "docs/users.md::line:12,column:1": None,
    }
    for nodeid, unit in units.items():
        file = nodeid.split("::")[0]
        assert scheduler._split_scope(nodeid) == (file if unit is None else file + unit)


def test_the_suite_runs_without_xdist() -> None:
    # `-p no:xdist` leaves xdist's hooks unknown: a hook of theirs implemented here must say
    # it is optional, or pytest refuses the conftest before it collects anything.
    root = Path(__file__).parents[1]
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "--co", "tests/test_commands.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
