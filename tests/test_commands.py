"""The shell commands the pages show a reader: they run as shown. And the commands CI runs:
.ci/run on every change, and once a week its soak and the newest releases (make test-latest)."""

import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # mkdocs' dependency; no stubs installed
from uvicorn.importer import import_from_string

from tests.support.project import ROOT

PAGES = sorted((ROOT / "docs").glob("*.md"))
COMMANDS = [
    (page, line.strip())
    for page in PAGES
    # a backslash at the end of a line continues the command, as in the shell (the pages wrap
    # long commands to fit the code box)
    for line in page.read_text(encoding="utf-8").replace("\\\n", "").splitlines()
    if line.strip().startswith((".venv/bin/", "python -m pip"))
]
UVICORN = re.compile(r"uvicorn (?P<app>\w+:\w+) --app-dir snippets")


def test_the_pages_show_commands() -> None:
    assert len(COMMANDS) >= 5


@pytest.mark.parametrize(
    "command",
    [command for _, command in COMMANDS if UVICORN.search(command)],
)
def test_every_uvicorn_command_names_an_app_it_can_import(command: str) -> None:
    match = UVICORN.search(command)
    assert match is not None
    assert import_from_string(match["app"]) is not None  # snippets is on sys.path, as --app-dir


def test_the_seeding_command_creates_the_ten_users(tmp_path: Path) -> None:
    (seed,) = [command for _, command in COMMANDS if "executescript" in command]
    shutil.copytree(ROOT / "snippets", tmp_path / "snippets")
    arguments = shlex.split(seed)
    assert arguments[0] == ".venv/bin/python"
    subprocess.run([sys.executable, *arguments[1:]], cwd=tmp_path, check=True)
    with closing(sqlite3.connect(tmp_path / "test.db")) as database:
        assert database.execute("SELECT count(*) FROM users").fetchone() == (10,)


def timed_steps(script: str) -> list[str]:
    """The commands a part of .ci/run times, in order, without their comments."""
    return [
        line.split("#")[0].strip().removeprefix("timed ")
        for line in script.splitlines()
        if line.strip().startswith("timed ")
    ]


def test_ci_runs_make_test_and_make_mutate_whose_first_run_repeats_the_suite() -> None:
    """The quicker, for every change; the 20-run soak and the newest releases have workflows
    of their own."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, after_apt = script.split('if [ -n "$latest" ]; then\n', 1)
    latest, after_latest = after_apt.split("\nfi\n", 1)
    set_up, branches = after_latest.split('if [ -n "$soak" ]; then\n', 1)
    assert timed_steps(latest) == ["make test-latest"]  # not offline: it installs first
    soak, rest = branches.split("\nelse\n", 1)
    every_change, checks = rest.split("\nfi\n", 1)
    assert timed_steps(set_up) == ["make setup"]
    assert "unshare --map-root-user --net" in set_up  # what `offline` runs the steps in
    assert timed_steps(every_change) == [
        "offline make test",
        "offline make mutate",  # its first run repeats the suite in a new order
    ]
    assert timed_steps(soak) == ["offline make repeat RUNS=20"]
    assert 'if [ "$before" != "$after" ]' in checks  # the repository left as it was found


def test_the_soak_workflow_repeats_the_suite_20_times_weekly() -> None:
    workflows = ROOT / ".github" / "workflows"
    soak = yaml.safe_load((workflows / "soak.yml").read_text(encoding="utf-8"))
    test = yaml.safe_load((workflows / "publish.yml").read_text(encoding="utf-8"))["jobs"]["test"]
    triggers = soak[True]  # YAML 1.1, which PyYAML reads, takes the key `on` for true
    assert [entry["cron"] for entry in triggers["schedule"]] == ["17 3 * * 1"]
    assert "workflow_dispatch" in triggers
    (job,) = soak["jobs"].values()
    assert job["container"] == test["container"]  # the same Debian, privileged for unshare
    assert [step.get("run") for step in job["steps"]][-1] == "bash .ci/run soak"
    assert [step.get("run") for step in test["steps"]].count("bash .ci/run") == 1


def test_the_latest_workflow_runs_make_test_latest_weekly_and_keeps_its_report() -> None:
    workflows = ROOT / ".github" / "workflows"
    latest = yaml.safe_load((workflows / "latest.yml").read_text(encoding="utf-8"))
    test = yaml.safe_load((workflows / "publish.yml").read_text(encoding="utf-8"))["jobs"]["test"]
    triggers = latest[True]  # YAML 1.1's `on`, as above
    ((schedule,),) = [[entry["cron"] for entry in triggers["schedule"]]]
    _minute, _hour, day, month, weekday = schedule.split()
    assert (day, month) == ("*", "*")  # once a week:
    assert weekday.isdigit()  # on one day of it
    assert "workflow_dispatch" in triggers
    (job,) = latest["jobs"].values()
    assert job["container"] == test["container"]
    runs = [step.get("run") for step in job["steps"]]
    assert "bash .ci/run latest" in runs
    (keep,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload")]
    assert keep["if"] == "always()"  # the report above all when the run failed
    assert keep["with"]["path"].rstrip("/") == "build/latest"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\t$(PYTHON) scripts/latest.py $(if $(PRE),--pre)\n" in makefile
