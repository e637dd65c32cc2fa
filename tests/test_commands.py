"""The shell commands the pages show a reader: they run as shown."""

import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
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
