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
    run = run_pytest(sample, *mode, "--pages-report", "report.json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    report = json.loads((sample / "report.json").read_text(encoding="utf-8"))
    counts = {
        "python blocks passed": 2,
        "exchanges verified in process": 1,
        "exchanges verified over a socket": 1,
        "conversations verified over a socket": 0,
        "pages": 1,
        # the block's two seconds and the exchange's, sent in-process on the page's loop
        "loop seconds": 4.0,
    }
    assert {name: round(value, 6) for name, value in report["totals"].items()} == counts
    on_page = report["pages"]["docs/greetings.md"]
    assert on_page["python blocks passed"] == 2
    assert round(on_page["loop seconds"], 6) == 4.0
    assert report["skipped"] == []
    assert report["exit status"] == 0
    assert set(report["versions"]) == {"python", "fastapi", "httpx"}
    assert report["versions"]["fastapi"] == metadata.version("fastapi")
    assert "docs: 2 python blocks passed" in run.stdout


def test_a_sample_page_that_breaks_fails_naming_its_line(sample: Path) -> None:
    page = sample / "docs" / "greetings.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Grace!", "Ada!"), encoding="utf-8")
    run = run_pytest(sample)
    assert run.returncode == 1
    assert "docs/greetings.md:31: GET /greet/Grace HTTP/1.1 answered differently" in run.stdout


def test_without_the_ini_option_the_plugin_collects_nothing(sample: Path) -> None:
    ini = (sample / "pytest.ini").read_text(encoding="utf-8")
    (sample / "pytest.ini").write_text(ini.replace("pages = docs\n", ""), encoding="utf-8")
    run = run_pytest(sample)
    assert run.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, run.stdout + run.stderr


def test_the_engine_under_test_is_this_trees_own() -> None:
    """`make setup` installs src/pytest_pages editable; a copy of the tree (a mutant's) must run
    its own engine, which its PYTHONPATH puts first (mutations.py sets it)."""
    assert Path(pytest_pages.__file__).parent == SRC / "pytest_pages"
