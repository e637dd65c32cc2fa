"""`make mutate`: what each mutant is made of, and how they run."""

import os
import subprocess
import threading
from pathlib import Path

import pytest

import mutations


def test_a_mutant_links_the_npm_set_up_rather_than_copying_it(tmp_path: Path) -> None:
    """node_modules is large: copied for each of some 150 mutants, it took about ten seconds
    each, a third of `make mutate`."""
    present = [name for name in mutations.NPM_SET_UP if (mutations.ROOT / name).exists()]
    if not present:
        pytest.skip("no npm set-up here: `make setup` installs it")
    baseline = mutations.link_npm_set_up(tmp_path / "baseline")
    (baseline / "mutations.py").write_text("MUTATIONS = []\n")
    mutant = mutations.copy_of_mutant(baseline, tmp_path / "mutant")
    for name in present:
        assert (mutant / name).is_symlink(), name
        assert (mutant / name).resolve() == (mutations.ROOT / name).resolve()
    assert (mutant / "mutations.py").read_bytes() == (baseline / "mutations.py").read_bytes()
    assert not (mutant / "mutations.py").is_symlink()


def test_mutants_run_at_the_same_time_each_in_its_own_copy(tmp_path: Path) -> None:
    """Two jobs: both mutants' tests run at once (one after the other, the first would wait at
    the barrier for a second that never comes), each in a copy holding its mutation only; rows
    come back in the mutations' order."""
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "app.py").write_text("A = 1\nB = 2\n")
    chosen = [
        mutations.Mutation("A changed", "app.py", "A = 1", "A = 10", ("a",)),
        mutations.Mutation("B changed", "app.py", "B = 2", "B = 20", ("b",)),
    ]
    both_running = threading.Barrier(2, timeout=5)
    seen: dict[str, str] = {}

    def run(copy: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        seen[tests[0]] = (copy / "app.py").read_text()
        both_running.wait()
        return subprocess.CompletedProcess([], 1, f"FAILED test_{tests[0]}\n", "")

    results = mutations.try_mutants(chosen, baseline, jobs=2, run=run)
    assert seen == {"a": "A = 10\nB = 2\n", "b": "A = 1\nB = 20\n"}
    assert [(row[0], row[2], row[3], caught) for row, caught in results] == [
        ("A changed", "caught", "test_a", True),
        ("B changed", "caught", "test_b", True),
    ]
    assert (baseline / "app.py").read_text() == "A = 1\nB = 2\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["baseline"]  # copies removed


def test_mutate_jobs_sets_how_many_mutants_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUTATE_JOBS", "3")
    assert mutations.default_jobs() == 3
    monkeypatch.delenv("MUTATE_JOBS")
    assert mutations.default_jobs() == len(os.sched_getaffinity(0))


def test_a_mutant_runs_its_own_engine_and_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy's src/ comes first, so a mutation of the engine is what its tests run. And no
    bytecode: some tests start pytests that import the installed engine, the repository's (a
    run that let mutants write bytecode left src/pytest_pages/__pycache__ in the repository)."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as `make mutate` runs
    # As the publish workflow sets it: a mutant's pictures of a broken site are not the site's.
    monkeypatch.setenv("SCREENSHOTS_DIR", str(tmp_path / "screenshots"))
    env = mutations.environment(tmp_path)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "src")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "SCREENSHOTS_DIR" not in env


def test_the_unchanged_copy_runs_make_repeats_tests_in_a_new_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The baseline: what `make repeat` runs, the browser test aside, plus the browser tests
    the mutations name; in a random order (CI's repeat), where each mutant's run is in order."""
    root = mutations.ROOT
    tests = mutations.baseline_tests(root, mutations.MUTATIONS)
    modules = {path.relative_to(root).as_posix() for path in (root / "tests").glob("test_*.py")}
    assert f"--ignore {mutations.BROWSER}" in (root / "Makefile").read_text(encoding="utf-8")
    assert {test for test in tests if "::" not in test} == {"docs", "snippets"} | (
        modules - {mutations.BROWSER}
    )
    named = {test for mutation in mutations.MUTATIONS for test in mutation.tests}
    assert {test for test in tests if "::" in test} == {
        test for test in named if test.startswith(mutations.BROWSER)
    }
    commands = []

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    mutations.pytest(root, ("docs",), workers=2)
    mutations.pytest(root, ("docs",))
    baseline, mutant = commands
    assert "no:randomly" not in baseline
    assert mutant[mutant.index("-p") + 1] == "no:randomly"
