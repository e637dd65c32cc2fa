"""The engine is reusable: tests/sample_project/, a documentation project with nothing of the
guide's (a page, a snippet, an app, its own page set-up), runs through the installed plugin in
a pytest of its own."""

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import pytest_pages
from tests.support.project import ROOT, SRC

SAMPLE = ROOT / "tests" / "sample_project"


def run_pytest(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """pytest in `folder`, with the installed plugins and nothing of the guide's on the path:
    the engine alone (this tree's) on PYTHONPATH, and the guide's folder neither the working
    directory nor an ancestor."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment["PYTHONPATH"] = str(SRC)
    environment["PYTEST_XDIST_AUTO_NUM_WORKERS"] = "2"  # what `-n auto` starts, on any machine
    return subprocess.run(
        [sys.executable, "-m", "pytest", *arguments],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))


#: Serially, and under every pytest-xdist mode that distributes: each keeps the page whole in
#: one worker, and the figures of both workers reach the summary and the report.
MODES = {
    "serial": (),
    "-n 2": ("-n", "2"),
    "-n auto": ("-n", "auto"),
    "--dist load": ("-n", "2", "--dist", "load"),
    "--dist loadfile": ("-n", "2", "--dist", "loadfile"),
    "--dist loadgroup": ("-n", "2", "--dist", "loadgroup"),
    "--dist worksteal": ("-n", "2", "--dist", "worksteal"),
}


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
def test_the_sample_project_runs_through_the_installed_plugin(
    sample: Path, mode: tuple[str, ...]
) -> None:
    run = run_pytest(sample, *mode, "-v", "--pages-report", "report.json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    totals = {
        "python blocks passed": 3,
        "outputs verified": 0,
        "prose numbers verified": 0,
        "exchanges verified in process": 2,
        "exchanges verified over a socket": 2,
        "conversations verified over a socket": 0,
        "pages": 2,
        # two seconds a wait: the block's and the exchanges', sent in-process on the page's loop
        "loop seconds": 6.0,
    }
    assert {name: round(value, 6) for name, value in report["totals"].items()} == totals
    greetings = report["pages"]["docs/greetings.md"]
    farewells = report["pages"]["docs/farewells.md"]
    assert (greetings["python blocks passed"], farewells["python blocks passed"]) == (2, 1)
    assert (round(greetings["loop seconds"], 6), round(farewells["loop seconds"], 6)) == (4, 2)
    assert report["skipped"] == []
    assert report["exit status"] == 0
    assert set(report["versions"]) == {"python", "fastapi", "httpx"}
    assert report["versions"]["fastapi"] == metadata.version("fastapi")
    assert "docs: 3 python blocks passed" in run.stdout
    if mode:  # each page whole in one worker, and the two pages in two: both workers' figures
        workers = {
            page: {
                line.split()[0]  # "[gw0] [ 20%] PASSED docs/greetings.md::line:9,column:1"
                for line in run.stdout.splitlines()
                if line.startswith("[gw") and page in line
            }
            for page in ("docs/greetings.md", "docs/farewells.md")
        }
        assert all(len(ran_in) == 1 for ran_in in workers.values()), workers
        assert workers["docs/greetings.md"] != workers["docs/farewells.md"], workers


def test_a_failing_set_up_closes_what_it_opened_and_says_why(sample: Path) -> None:
    with (sample / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write(
            "\n\n@pytest.hookimpl\n"
            "def pytest_pages_setup(page: Page) -> None:  # a second one, failing\n"
            "    page.resources.callback(open('closed.txt', 'w').close)\n"
            "    raise RuntimeError('no greeting today')\n"
        )
    run = run_pytest(sample, "--pages-report", "report.json")
    assert run.returncode == 1
    assert "RuntimeError: no greeting today" in run.stdout
    assert "AttributeError" not in run.stdout
    assert (sample / "closed.txt").exists()
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["pages"] == 0  # no page ran


@pytest.mark.parametrize("guarded", [True, False])
def test_the_network_guard_is_on_where_the_ini_says(sample: Path, guarded: bool) -> None:
    ini = (sample / "pytest.ini").read_text(encoding="utf-8")
    setting = f"pages_guard_network = {str(guarded).lower()}\n"
    (sample / "pytest.ini").write_text(
        ini.replace("pages_guard_network = true\n", setting), encoding="utf-8"
    )
    (sample / "test_guard.py").write_text(
        "def test_guard(pytestconfig):\n"
        "    plugins = pytestconfig.pluginmanager\n"
        f"    assert plugins.has_plugin('pages-network-guard') is {guarded}\n",
        encoding="utf-8",
    )
    run = run_pytest(sample, "test_guard.py")
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_sample_page_that_breaks_fails_naming_its_line(sample: Path) -> None:
    page = sample / "docs" / "greetings.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Grace!", "Ada!"), encoding="utf-8")
    run = run_pytest(sample, "--pages-report", "report.json")
    assert run.returncode == 1
    assert "docs/greetings.md:31: GET /greet/Grace HTTP/1.1 answered differently" in run.stdout
    # The report says which page failed (its verified stamp then says so), and which did not.
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    assert report["pages"]["docs/greetings.md"]["checks failed"] == 1
    assert "checks failed" not in report["pages"]["docs/farewells.md"]
    assert "checks failed" not in report["totals"]  # the summary's counts are what passed


def test_the_report_names_the_commit_it_verified(sample: Path) -> None:
    assert run_pytest(sample, "--pages-report", "report.json").returncode == 0
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    assert report["commit"] == "unknown"  # the sample's copy is no git repository
    subprocess.run(["git", "init", "-q"], cwd=sample, check=True)
    subprocess.run(["git", "add", "."], cwd=sample, check=True)
    author = ["-c", "user.name=Sample", "-c", "user.email=sample@example.invalid"]
    subprocess.run(["git", *author, "commit", "-qm", "sample"], cwd=sample, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=sample, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert run_pytest(sample, "--pages-report", "report.json").returncode == 0
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    assert report["commit"] == head


def test_without_the_ini_option_the_plugin_collects_nothing(sample: Path) -> None:
    ini = (sample / "pytest.ini").read_text(encoding="utf-8")
    (sample / "pytest.ini").write_text(ini.replace("pages = docs\n", ""), encoding="utf-8")
    run = run_pytest(sample)
    assert run.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, run.stdout + run.stderr


def test_the_engine_under_test_is_this_trees_own() -> None:
    """`make setup` installs src/pytest_pages editable; a copy of the tree (a mutant's) must run
    its own engine, which its PYTHONPATH puts first (scripts/mutations.py sets it)."""
    assert Path(pytest_pages.__file__).parent == SRC / "pytest_pages"
