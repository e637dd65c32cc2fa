"""The pytest plugin (entry point `pages`): options, and the hooks that wire the modules in.

Nothing happens unless the ini option `pages` names folders of Markdown pages."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pytest_pages import figures, hookspecs
from pytest_pages.collection import SNIPPETS, PageFile, keep_pages_whole, pages
from pytest_pages.network import NetworkGuard

PAGES = pytest.StashKey[list[Any]]()  # one Sybil per folder of pages
STARTED = pytest.StashKey[float]()  # when the session started, by time.perf_counter()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pages", "Markdown pages run as tests (pytest-pages)")
    group.addoption(
        "--update-docs",
        action="store_true",
        help="rewrite every shown response, conversation, output and prose number that differs",
    )
    group.addoption(
        "--pages-report",
        metavar="PATH",
        type=Path,
        help="write the run's figures (counts per page, skips, versions) to PATH as JSON",
    )
    parser.addini("pages", "folders of Markdown pages to run as tests (none: off)", "paths", [])
    parser.addini("pages_snippets", "the folder --8<-- includes read from", "string", "snippets")
    parser.addini("pages_versions", "distributions whose versions the report records", "args", [])
    parser.addini(
        "pages_guard_network",
        "fail every test (pages or not) that reaches beyond loopback, naming the host",
        "bool",
        False,
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getini("pages_guard_network"):
        config.pluginmanager.register(NetworkGuard(), "pages-network-guard")
    folders: list[Path] = config.getini("pages")
    if not folders:
        return
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise pytest.UsageError(f"pages: no such folder: {', '.join(missing)}")
    # Relative to the ini file, as `pages` (a `paths` option) is.
    snippets = (config.inipath.parent if config.inipath else config.rootpath) / config.getini(
        "pages_snippets"
    )
    config.stash[SNIPPETS] = snippets
    config.stash[PAGES] = [pages(config.rootpath, f, snippets, config) for f in folders]
    if config.pluginmanager.hasplugin("xdist"):  # under any --dist mode, pages stay whole
        from pytest_pages import scheduling  # it builds on xdist's schedulers

        config.pluginmanager.register(scheduling, "pages-scheduling")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PageFile | None:
    for sybil in parent.config.stash.get(PAGES, []):
        if sybil.should_parse(file_path):
            return PageFile.from_parent(parent, path=file_path, sybils=[sybil])
    return None


# pytest-randomly shuffles in a wrapper, before any plain implementation such as this one.
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    keep_pages_whole(items)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[STARTED] = time.perf_counter()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    counted = figures.of(config)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: report to the main process
        workeroutput["pages"] = counted.as_dict()
    elif config.getoption("pages_report") is not None:
        path = config.invocation_params.dir / config.getoption("pages_report")
        seconds = time.perf_counter() - config.stash[STARTED]
        distributions = config.getini("pages_versions")
        snippets = [config.stash[SNIPPETS]] if SNIPPETS in config.stash else []
        sources = figures.sources_digest([*config.getini("pages"), *snippets])
        figures.write_report(
            path, counted, distributions, int(exitstatus), seconds, config.rootpath, sources
        )


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's: a worker has finished
def pytest_testnodedown(node: Any) -> None:
    output = getattr(node, "workeroutput", {})  # a worker that crashed sent none
    if "pages" in output:
        figures.of(node.config).add(output["pages"])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counted = figures.of(terminalreporter.config)
    if counted.totals["pages"]:
        terminalreporter.write_sep("-", "the pages")
        for line in counted.summary():
            terminalreporter.write_line(line)
