"""`make test-latest`: the whole verification against the newest releases of the direct
dependencies, to see what the next `make lock` would break before it breaks.

A fresh `.venv-latest` gets `pyproject.toml`'s direct dependencies (and the setuptools that
builds the project) at their newest releases, the lock ignored (`--pre`: pre-releases too);
pip honours PIP_CONSTRAINT, a file of requirements, to hold a library back. Then the suite runs
there as `make test` runs it, and `make update-docs` runs in a copy of the repository, never in
the repository itself. `build/latest/report.md` (and `report.json`) says which versions differ
from requirements.lock, which pages and checks fail, with their first error line, and how every
shown response that changed would now read. The exit status is non-zero when any step
failed, the report written first."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mutations import copy_of_repository

ROOT = Path(__file__).resolve().parents[1]  # scripts/ sits in the repository root
VENV = ROOT / ".venv-latest"
OUT = ROOT / "build" / "latest"
PROJECT = "async-fastapi-tested"  # pyproject.toml's [project].name, installed editable
# A name, then its extras, before any version specifier, marker or URL (PEP 508).
REQUIREMENT = re.compile(r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)", re.MULTILINE)
# A page's tests: pytest's junit classname is the node id's path with "/" as "."
PAGE = re.compile(r"^docs\.(?P<page>.+\.md)$")
# A frame of pytest's traceback: `docs/changes.md:28: in <module>`, then the line's code.
FRAME = re.compile(r"^(?P<place>\S+:\d+): in \S+\n(?P<code>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    """One command of the run: what it ran, how it ended, how long it took, where its output is."""

    name: str
    command: list[str]
    returncode: int
    seconds: float
    log: str


@dataclass(frozen=True)
class Failure:
    """A test that failed or errored: where it belongs (a page, or "other checks"), its id,
    the first line of what went wrong and where (the first frame of its traceback, if any)."""

    group: str
    test: str
    first_line: str
    at: str = ""


@dataclass
class Report:
    """What build/latest/report.md and report.json hold: how the run went, step by step."""

    date: str
    python: str
    pre: bool
    constraint: str
    steps: list[Step] = field(default_factory=list)
    direct: list[tuple[str, str]] = field(default_factory=list)  # as installed
    differences: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    docs_diff: str = ""
    problems: list[str] = field(default_factory=list)  # what kept the run from its end

    @property
    def failed(self) -> bool:
        return bool(self.problems) or any(step.returncode for step in self.steps)


def unpinned(requirement: str) -> str:
    """A requirement without its version specifier or marker, extras kept:
    `"sqlalchemy[asyncio]==2.1.9"` is `"sqlalchemy[asyncio]"`."""
    match = REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    extras = (match["extras"] or "").replace(" ", "")
    return match["name"] + extras


def direct_dependencies(pyproject: str) -> list[str]:
    """`[project].dependencies` and `[build-system].requires`, unpinned, in their order."""
    settings = tomllib.loads(pyproject)
    listed = settings["project"]["dependencies"] + settings["build-system"]["requires"]
    return [unpinned(requirement) for requirement in listed]


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(lock: str) -> dict[str, str]:
    """Every `name==version` that requirements.lock pins, keyed by normalized name."""
    return {normalized(match["name"]): match["version"] for match in PIN.finditer(lock)}


def version_differences(
    locked: dict[str, str], installed: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(name, lock, installed) for each distribution whose installed version is not the lock's,
    sorted by name; "-" where one side has none. Both keyed by normalized name; the installer
    (pip) and the project itself, which no lock pins, are left out."""
    names = (set(locked) | set(installed)) - {"pip", PROJECT}
    return sorted(
        (name, locked.get(name, "-"), installed.get(name, "-"))
        for name in names
        if locked.get(name) != installed.get(name)
    )


def as_installed(newest: list[str], installed: dict[str, str]) -> list[tuple[str, str]]:
    """Each direct dependency and the version pip chose for it: the newest release, or the
    newest that its own dependencies and PIP_CONSTRAINT allowed."""
    names = [requirement.split("[")[0] for requirement in newest]  # unpinned: name[extras]
    return [(name, installed.get(normalized(name), "-")) for name in names]


def first_line(text: str) -> str:
    """The first line of `text` that holds anything."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def first_error(traceback: str) -> str:
    """pytest's first `E` line in a traceback, or else its first line."""
    errors = [line[1:].strip() for line in traceback.splitlines() if line.startswith("E ")]
    return errors[0] if errors else first_line(traceback)


def first_frame(traceback: str) -> str:
    """The traceback's first frame, where the test's own code stands: `file:line: code`."""
    frame = FRAME.search(traceback)
    return f"{frame['place']}: {frame['code'].strip()}" if frame else ""


def failures(junit: str) -> list[Failure]:
    """Every failed or errored test in pytest's junit XML, in the order it lists them: a page's
    under `docs/<page>.md`, every other under "other checks"."""
    found: list[Failure] = []
    for case in ElementTree.fromstring(junit).iter("testcase"):
        for outcome in (*case.findall("failure"), *case.findall("error")):
            classname, name = case.get("classname", ""), case.get("name", "")
            page = PAGE.match(classname)
            group = f"docs/{page['page']}" if page else "other checks"
            test = name if page else f"{classname}::{name}"
            reason = first_line(outcome.get("message", "")) or first_error(outcome.text or "")
            found.append(Failure(group, test, reason, first_frame(outcome.text or "")))
    return found


def grouped(found: list[Failure]) -> dict[str, list[Failure]]:
    """The failures by group: pages in alphabetical order, "other checks" last."""
    groups: dict[str, list[Failure]] = {}
    for failure in sorted(found, key=lambda f: (f.group == "other checks", f.group)):
        groups.setdefault(failure.group, []).append(failure)
    return groups


def docs_diff(before: Path, after: Path) -> str:
    """A unified diff of every page under `before` that differs under `after`, as `docs/...`."""
    lines: list[str] = []
    for page in sorted(before.rglob("*.md")):
        name = f"docs/{page.relative_to(before).as_posix()}"
        rewritten = after / page.relative_to(before)
        lines += difflib.unified_diff(
            page.read_text(encoding="utf-8").splitlines(keepends=True),
            rewritten.read_text(encoding="utf-8").splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    return "".join(lines)


def at(failure: Failure) -> str:
    """Where a failure happened, as the report adds it after the error."""
    return f" (at `{failure.at}`)" if failure.at else ""


def markdown(report: Report) -> str:
    """The report, for a reader: the verdict, versions, failures, totals, the pages' diff."""
    verdict = "FAILED" if report.failed else "passed"
    lines = [
        f"# The verification against the newest releases: {verdict}",
        "",
        f"- date: {report.date}",
        f"- Python: {report.python}",
        f"- pre-releases: {'yes' if report.pre else 'no'}",
        f"- PIP_CONSTRAINT: {report.constraint or 'none'}",
        "",
    ]
    lines += [f"**{problem}**\n" for problem in report.problems]
    lines += ["## Steps", "", "| step | exit | s | log |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {s.name} | {s.returncode} | {s.seconds:.0f} | {s.log} |" for s in report.steps]
    for title, section in (
        ("The direct dependencies as installed", direct_section),
        ("Versions that differ from requirements.lock", versions_section),
        ("Failed and errored tests", failures_section),
        ("The pages report's totals", totals_section),
        ("What `make update-docs` would rewrite", docs_section),
    ):
        lines += ["", f"## {title}", "", *section(report)]
    return "\n".join(lines) + "\n"


def ran(report: Report, step: str) -> bool:
    return any(s.name == step for s in report.steps)


def direct_section(report: Report) -> list[str]:
    if not report.direct:
        return ["Not known: the install did not finish."]
    return [", ".join(f"{name} {version}" for name, version in report.direct)]


def versions_section(report: Report) -> list[str]:
    if not report.direct:
        return ["Not known: the install did not finish."]
    if not report.differences:
        return ["None: every installed version is the lock's."]
    header = ["| distribution | lock | installed |", "| --- | --- | --- |"]
    return header + [f"| {name} | {lock} | {now} |" for name, lock, now in report.differences]


def failures_section(report: Report) -> list[str]:
    if not ran(report, "test"):
        return ["Not run: the install failed."]
    lines = []
    for group, members in grouped(report.failures).items():
        lines += [f"### {group}", ""]
        lines += [f"- `{failure.test}`: {failure.first_line}" + at(failure) for failure in members]
        lines.append("")
    return lines[:-1] or ["None."]


def totals_section(report: Report) -> list[str]:
    lines = [f"- {name}: {value:g}" for name, value in report.totals.items()]
    return lines or ["No pages report: the suite did not get that far."]


def docs_section(report: Report) -> list[str]:
    if not ran(report, "update-docs"):
        return ["Not run: the install failed."]
    if not report.docs_diff:
        return ["Nothing: every shown response and conversation reads as the apps answer."]
    return ["```diff", report.docs_diff.rstrip("\n"), "```"]


def run(name: str, command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> Step:
    """`command`, its output into `log`, timed."""
    started = time.perf_counter()
    print(f"--- {name}: {' '.join(command)}", flush=True)
    with log.open("w", encoding="utf-8") as output:
        finished = subprocess.run(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - started
    print(f"--- {name} exited {finished.returncode} after {seconds:.0f} s", flush=True)
    return Step(name, command, finished.returncode, seconds, log.name)


def environment(venv: Path) -> dict[str, str]:
    """What the suite runs with, as `make test` (its TEST_ENV), `venv`'s commands first on PATH
    (the site tests call mkdocs)."""
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return {
        **os.environ,
        "PATH": path,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(venv / "pycache"),
    }


def install(report: Report, newest: list[str], pre: bool) -> bool:
    """A fresh `.venv-latest` with the newest direct dependencies, then the project, editable
    and without dependencies, as `make setup` installs it; whether that all went."""
    shutil.rmtree(VENV, ignore_errors=True)
    env = dict(os.environ)
    python = str(VENV / "bin" / "python")
    upgrade = ["--upgrade", *(["--pre"] if pre else [])]
    steps = [
        ("venv", [sys.executable, "-m", "venv", str(VENV)], "venv.log"),
        ("install", [python, "-m", "pip", "install", *upgrade, *newest], "install.log"),
        (
            "install the project",
            [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-e", "."],
            "install-project.log",
        ),
    ]
    for name, command, log in steps:
        step = run(name, command, ROOT, OUT / log, env)
        report.steps.append(step)
        if step.returncode:
            output = (OUT / log).read_text(encoding="utf-8").splitlines()
            error = next((line for line in output if line.startswith("ERROR")), f"see {log}")
            report.problems.append(f"{name} failed: {error}")
            return False
    return True


def installed_versions() -> dict[str, str]:
    """What `.venv-latest` holds, keyed by normalized name."""
    listed = subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {normalized(entry["name"]): entry["version"] for entry in json.loads(listed)}


def test(report: Report) -> None:
    """The whole suite, as `make test` runs it, with the pages report and junit XML kept."""
    command = [
        *(str(VENV / "bin" / "python"), "-m", "pytest", "-n", "2", "--dist", "loadfile"),
        *("--cov", "--cov-report=", "--pages-report", str(OUT / "pages-report.json")),
        *("--junitxml", str(OUT / "junit.xml")),
    ]
    (OUT / "coverage").mkdir(parents=True, exist_ok=True)
    env = {**environment(VENV), "COVERAGE_FILE": str(OUT / "coverage" / "data")}
    report.steps.append(run("test", command, ROOT, OUT / "test.log", env))
    # The shown-lines guard (tests/support/shown_lines.py) fails the run outside any test.
    log = (OUT / "test.log").read_text(encoding="utf-8", errors="replace").splitlines()
    report.problems += [line.strip() for line in log if " which never ran: " in line]
    junit = OUT / "junit.xml"
    if junit.exists():
        report.failures = failures(junit.read_text(encoding="utf-8"))
    else:
        report.problems.append("the suite wrote no junit XML: see test.log")
    pages = OUT / "pages-report.json"
    if pages.exists():
        report.totals = json.loads(pages.read_text(encoding="utf-8"))["totals"]


def update_docs(report: Report) -> None:
    """`make update-docs` in a copy of the repository, and the diff it made to the pages."""
    command = [str(VENV / "bin" / "python"), "-m", "pytest", "docs", "-q", "--update-docs"]
    with tempfile.TemporaryDirectory(prefix="latest-") as scratch:
        copy = copy_of_repository(Path(scratch))
        step = run("update-docs", command, copy, OUT / "update-docs.log", environment(VENV))
        report.steps.append(step)
        report.docs_diff = docs_diff(ROOT / "docs", copy / "docs")


def main(pre: bool = False) -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    report = Report(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        python=platform.python_version(),
        pre=pre,
        constraint=os.environ.get("PIP_CONSTRAINT", ""),
    )
    newest = direct_dependencies((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if install(report, newest, pre):
        locked = lock_pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
        installed = installed_versions()
        report.direct = as_installed(newest, installed)
        report.differences = version_differences(locked, installed)
        test(report)
        update_docs(report)
    write(report)
    print(f"report: {(OUT / 'report.md').relative_to(ROOT)}")
    return 1 if report.failed else 0


def write(report: Report) -> None:
    """report.md for a reader, report.json for a program."""
    (OUT / "report.md").write_text(markdown(report), encoding="utf-8")
    data: dict[str, Any] = {**asdict(report), "failed": report.failed}
    (OUT / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pre", action="store_true", help="pre-releases too (make: PRE=1)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(arguments(sys.argv[1:]).pre))
