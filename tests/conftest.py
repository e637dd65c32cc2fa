"""Fixtures for the tests under tests/: the same upstreams and database every page gets."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

from pytest_pages import figures
from tests.support import postgres
from tests.support.databases import seeded_database
from tests.support.project import DOCS, ROOT, SNIPPETS
from tests.support.upstreams import upstreams

# A documentation project of its own, which tests/test_sample_project.py runs in a pytest of its
# own: collected here, its conftest's page set-up would reach every page of the guide.
collect_ignore = ["sample_project"]

# What a site build reads; each engine builds from a copy of these, so nothing it writes (the
# site, Zensical's .cache) lands in the repository.
SITE_SOURCES = ("mkdocs.yml", "docs", "snippets", "overrides", "hooks")
BUILDS = {
    "mkdocs": ["mkdocs", "build", "--strict", "--site-dir", "site"],
    "zensical": ["zensical", "build", "--strict", "--config-file", "mkdocs.yml"],
}


@pytest.fixture(autouse=True)
def respx_mock() -> Iterator[respx.MockRouter]:
    """Consulted first; JSONPlaceholder's recordings answer the rest; anything else fails."""
    with upstreams() as router:
        yield router


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A freshly seeded SQLite database, handed to the app through DATABASE_URL."""
    url = seeded_database(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def postgres_cluster() -> postgres.Cluster:
    """This process's PostgreSQL cluster; the test skips where no server can start, and
    fails instead under REQUIRE_POSTGRES."""
    try:
        return postgres.cluster()
    except postgres.NoServer as error:
        if postgres.required():
            pytest.fail(f"no PostgreSQL server: {error} (REQUIRE_POSTGRES is set)")
        pytest.skip(f"no PostgreSQL server: {error}")


@pytest.fixture
def postgres_url(postgres_cluster: postgres.Cluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL database seeded like SQLite's, handed over through DATABASE_URL."""
    url = postgres.fresh_database()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def pages_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run's report, written by the engine as `make test` writes it, for the sites' stamps:
    each page with figures of its own (a stamp showing another page's is caught), but the
    first page not run at all, the second with a check failed, the third with two skips, the
    fourth with nothing but skips."""
    counted = figures.Figures()
    for number, page in enumerate(sorted(DOCS.rglob("*.md"))):
        name = page.relative_to(ROOT).as_posix()
        if number == 0:
            continue
        counted.count(name, "pages")
        if number == 3:
            counted.skip(name, 5, "no PostgreSQL server")
            continue
        counted.count(name, "python blocks passed", number)
        counted.count(name, "exchanges verified in process", number % 4)
        counted.count(name, "conversations verified over a socket", number % 3)
        counted.count(name, "outputs verified", number % 2)
        counted.count(name, "prose numbers verified", number % 5)
        if number == 1:
            counted.count_on_page_only(name, "checks failed", 1)
        if number == 2:
            counted.skip(name, 10, "no PostgreSQL server")
            counted.skip(name, 20, "no PostgreSQL server")
    path = tmp_path_factory.mktemp("report") / "pages-report.json"
    sources = figures.sources_digest([DOCS, SNIPPETS])
    figures.write_report(path, counted, ["fastapi", "starlette", "httpx"], 0, 1.0, ROOT, sources)
    return path


@pytest.fixture(scope="session")
def mkdocs_site(tmp_path_factory: pytest.TempPathFactory, pages_report: Path) -> Path:
    """MkDocs' build, the one `make build` writes and the workflow publishes. On its own, so
    that the browser test's worker does not build Zensical's too (about 4 s)."""
    return build_site("mkdocs", tmp_path_factory.mktemp("mkdocs"), pages_report)


@pytest.fixture(scope="session")
def sites(
    mkdocs_site: Path, tmp_path_factory: pytest.TempPathFactory, pages_report: Path
) -> dict[str, Path]:
    """The site built by each engine, from a copy of its sources; a warning fails the build."""
    others = [engine for engine in BUILDS if engine != "mkdocs"]
    return {
        "mkdocs": mkdocs_site,
        **{
            engine: build_site(engine, tmp_path_factory.mktemp(engine), pages_report)
            for engine in others
        },
    }


def build_site(engine: str, workdir: Path, report: Path) -> Path:
    for name in SITE_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name)
        else:
            shutil.copy2(source, workdir / name)
    command = [str(Path(sys.executable).parent / BUILDS[engine][0]), *BUILDS[engine][1:]]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PAGES_REPORT": str(report)}
    build = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    output = build.stdout + build.stderr
    assert build.returncode == 0, f"{engine} build failed:\n{output}"
    assert "WARNING" not in output, f"{engine} build warned:\n{output}"
    return workdir / "site"


@pytest.fixture(params=sorted(BUILDS))
def built_site(request: pytest.FixtureRequest, sites: dict[str, Path]) -> tuple[str, Path]:
    """Each engine's build in turn: a test that takes it runs once per engine."""
    return request.param, sites[request.param]


screenshot_folders: list[Path] = []


@pytest.fixture(scope="session")
def screenshots() -> Path | None:
    """Where test_browser.py saves a picture of each page, if anywhere: SCREENSHOTS_DIR (the
    publish workflow sets it and keeps the pictures). Unasked, it saves none: they are for
    people to look at, not a check, and cost some 20 s of CPU a run. The summary says where."""
    if not os.environ.get("SCREENSHOTS_DIR"):
        return None
    folder = Path(os.environ["SCREENSHOTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    screenshot_folders.append(folder)
    return folder


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: tell the main run
        session.config.workeroutput["screenshots"] = [str(path) for path in screenshot_folders]


# optionalhook: xdist's hook, unknown under `-p no:xdist`.
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any) -> None:
    screenshot_folders.extend(Path(path) for path in node.workeroutput.get("screenshots", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in dict.fromkeys(screenshot_folders):  # each once, however many workers
        count = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"browser: {count} page screenshots in {folder}")
