"""tests/support/shown_lines.py, the guard that every line a page shows from snippets/ runs:
its verdict on made-up measurements, and its list of lines that never run."""

import types
from pathlib import Path

import pytest

from tests.support.project import DOCS, ROOT, SNIPPETS
from tests.support.shown_lines import (
    NOT_RUN,
    ShownLinesGuard,
    judge,
    not_run_list,
    shown_lines,
)

SNIPPET = """\
def answer(ok: bool) -> int:
    if ok:
        return 1
    raise ValueError("never")
"""


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    path = tmp_path / "answer.py"
    path.write_text(SNIPPET, encoding="utf-8")
    return path


def test_a_shown_statement_that_never_ran_is_named_by_page_and_line(snippet: Path) -> None:
    shown = [("docs/page.md:12", snippet, range(1, 5))]
    verdict = judge(shown, {snippet: {1, 2, 3, 4}}, {snippet: {1, 2, 3}}, [])
    assert (verdict.shown, verdict.ran, verdict.listed) == (4, 3, 0)
    assert verdict.problems == [
        'docs/page.md:12 shows answer.py:4, which never ran: raise ValueError("never")'
    ]


def test_a_listed_line_passes_and_is_counted(snippet: Path) -> None:
    listed = [{"file": "answer.py", "line": ' raise ValueError("never") ', "reason": "a test"}]
    shown = [("docs/page.md:12", snippet, range(1, 5))]
    verdict = judge(shown, {snippet: {1, 2, 3, 4}}, {snippet: {1, 2, 3}}, listed)
    assert (verdict.ran, verdict.listed, verdict.problems) == (3, 1, [])


def test_a_listed_line_that_runs_or_is_not_shown_must_come_off_the_list(snippet: Path) -> None:
    listed = [{"file": "answer.py", "line": "return 1", "reason": "wrong: it runs"}]
    shown = [("docs/page.md:12", snippet, range(1, 4))]  # the raise is not shown
    verdict = judge(shown, {snippet: {1, 2, 3, 4}}, {snippet: {1, 2, 3}}, listed)
    assert verdict.problems == [
        f"{NOT_RUN.name} lists answer.py: 'return 1', which no page shows unrun: "
        "take it off the list"
    ]


def test_lines_that_are_not_statements_or_are_shown_twice_count_once(snippet: Path) -> None:
    shown = [("docs/a.md:1", snippet, range(1, 5)), ("docs/b.md:1", snippet, range(1, 3))]
    verdict = judge(shown, {snippet: {1, 2, 3}}, {snippet: {1, 2, 3}}, [])
    assert (verdict.shown, verdict.ran, verdict.problems) == (3, 3, [])


def test_every_entry_of_the_list_has_a_reason(tmp_path: Path) -> None:
    assert all(entry["reason"].strip() for entry in not_run_list())
    bad = tmp_path / "list.toml"
    bad.write_text('[[line]]\nfile = "a.py"\nline = "pass"\nreason = " "\n', encoding="utf-8")
    with pytest.raises(ValueError, match="needs a file, a line and a reason"):
        not_run_list(bad)


def test_the_shown_lines_are_the_included_ones() -> None:
    shown = list(shown_lines([DOCS / "streaming.md"]))
    whole = [lines for _, path, lines in shown if path == SNIPPETS / "local_server.py"]
    length = len((SNIPPETS / "local_server.py").read_text(encoding="utf-8").splitlines())
    assert whole == [range(1, length + 1)]  # the whole file, every line


def test_make_test_measures_the_whole_run_for_the_guard() -> None:
    """The guard runs where coverage measured the whole run: make test's, with the data's
    full path (servers started in other folders write there too)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "COVERAGE_FILE=$(CURDIR)/build/coverage/data" in recipe
    assert "--cov --cov-report=" in recipe
    assert "tests.support.shown_lines" in (ROOT / "conftest.py").read_text(encoding="utf-8")


def ended_run(guard: ShownLinesGuard) -> types.SimpleNamespace:
    """A run that has ended, as the guard's wrapper sees it once pytest's loop returns."""
    session = types.SimpleNamespace(testsfailed=0, shouldstop=False, shouldfail=False)
    loop = guard.pytest_runtestloop(session)  # type: ignore[arg-type]
    next(loop)
    with pytest.raises(StopIteration):
        loop.send(None)
    return session


def test_a_whole_run_that_left_shown_lines_unrun_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVERAGE_FILE", str(tmp_path / "nothing-measured"))
    guard = ShownLinesGuard()
    assert ended_run(guard).testsfailed == 1  # pytest then exits with status 1
    assert guard.lines[0].startswith("shown lines: 0 of the ")
    assert any("which never ran" in line for line in guard.lines[1:])


def test_part_of_the_suite_is_not_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVERAGE_FILE", str(tmp_path / "nothing-measured"))
    guard = ShownLinesGuard()
    guard.pytest_deselected([])  # -k and the like deselect what they leave out
    guard.deselected = 1
    assert ended_run(guard).testsfailed == 0
    assert guard.lines == ["shown lines: not checked, since only part of the suite ran"]
