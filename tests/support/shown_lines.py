"""Every line a page shows from snippets/ runs. When a whole run is measured by coverage.py
(`make test` passes `--cov`, pytest-cov's option; pyproject.toml's [tool.coverage] says what
it measures), each statement that a page shows, from a whole file or a named section, must
have run in some page or test, or be listed in shown_lines_not_run.toml with the reason. Any
other fails the run, named by page and line; a listed line that now runs, or that no page
shows any more, fails it too, so the list stays true. The summary says how many shown
statements ran, and how much of snippets/ the run executed."""

from __future__ import annotations

import tomllib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_pages.includes import snippet_section
from tests.support.project import DOCS, ROOT, SNIPPETS, includes

NOT_RUN = Path(__file__).with_name("shown_lines_not_run.toml")


@dataclass(frozen=True)
class Verdict:
    shown: int  # statements the pages show
    ran: int  # of those, the ones that ran
    listed: int  # the ones that did not, listed with a reason
    problems: list[str]  # each a line of the failure


def shown_lines(pages: Iterable[Path]) -> Iterator[tuple[str, Path, range]]:
    """For each include on each page: where it is, the snippet, and the lines it shows."""
    for page in pages:
        for number, path, section in includes(page):
            source, first = snippet_section(path, section)
            lines = range(first, first + len(source.splitlines()))
            yield f"{page.relative_to(ROOT)}:{number}", path, lines


def judge(
    shown: Iterable[tuple[str, Path, range]],
    statements: dict[Path, set[int]],
    executed: dict[Path, set[int]],
    not_run: list[dict[str, str]],
) -> Verdict:
    """Which shown statements ran, which did not but are listed, and what is wrong: a shown
    statement that did not run unlisted, or a listed one that ran or is not shown."""
    ran, unlisted, listed_used = 0, [], set()
    listed = {(entry["file"], entry["line"].strip()): i for i, entry in enumerate(not_run)}
    seen: set[tuple[Path, int]] = set()
    texts: dict[Path, list[str]] = {}  # each snippet's lines, read once
    for place, path, lines in shown:
        for line in lines:
            if line not in statements.get(path, set()) or (path, line) in seen:
                continue
            seen.add((path, line))
            if line in executed.get(path, set()):
                ran += 1
                continue
            if path not in texts:
                texts[path] = path.read_text(encoding="utf-8").splitlines()
            text = texts[path][line - 1].strip()
            key = (path.name, text)
            if key in listed:
                listed_used.add(listed[key])
            else:
                unlisted.append(f"{place} shows {path.name}:{line}, which never ran: {text}")
    stale = [
        f"{NOT_RUN.name} lists {entry['file']}: {entry['line'].strip()!r}, which no page shows "
        "unrun: take it off the list"
        for i, entry in enumerate(not_run)
        if i not in listed_used
    ]
    return Verdict(len(seen), ran, len(listed_used), unlisted + stale)


def not_run_list(path: Path = NOT_RUN) -> list[dict[str, str]]:
    """The listed lines: each a snippet's file name, the line's text, and why it never runs."""
    entries: list[dict[str, str]] = tomllib.loads(path.read_text(encoding="utf-8"))["line"]
    for entry in entries:
        missing = {"file", "line", "reason"} - entry.keys()
        if missing or not entry["reason"].strip():
            raise ValueError(f"{path.name}: an entry needs a file, a line and a reason: {entry}")
    return entries


class ShownLinesGuard:
    """Registered for a whole run measured by coverage (see pytest_configure below)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.deselected = 0

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)  # -k, -m, --lf, --deselect: not the whole run

    # Outermost: pytest-cov saves the run's combined data when its own wrapper resumes, and a
    # failure counted here still sets the exit status, as pytest-cov's --cov-fail-under does.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        if self.deselected or session.shouldstop or session.shouldfail:
            self.lines = ["shown lines: not checked, since only part of the suite ran"]
            return result
        import coverage  # only here, where coverage runs

        measured = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
        measured.load()
        statements, executed, total, run = {}, {}, 0, 0
        for snippet in sorted(SNIPPETS.glob("*.py")):
            _, lines, _, missing, _ = measured.analysis2(str(snippet))
            statements[snippet], executed[snippet] = set(lines), set(lines) - set(missing)
            total, run = total + len(lines), run + len(lines) - len(missing)
        shown_by_pages = shown_lines(sorted(DOCS.rglob("*.md")))
        verdict = judge(shown_by_pages, statements, executed, not_run_list())
        self.lines = [
            f"shown lines: {verdict.ran} of the {verdict.shown} statements the pages show from "
            f"snippets/ ran, {verdict.listed} listed in {NOT_RUN.name} with a reason; "
            f"snippets/ as a whole: {run} of {total} statements ran ({100 * run / total:.1f}%)",
            *(f"  {problem}" for problem in verdict.problems),
        ]
        if verdict.problems:
            session.testsfailed += 1
        return result

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            failed = len(self.lines) > 1
            terminalreporter.write_sep("-", "every shown line runs", red=failed, bold=failed)
        for line in self.lines:
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    whole_run = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    option = config.option
    measured = bool(getattr(option, "cov_source", None)) and not getattr(option, "no_cov", False)
    worker = hasattr(config, "workerinput")
    if whole_run and measured and not worker:
        config.pluginmanager.register(ShownLinesGuard(), "shown-lines-guard")
