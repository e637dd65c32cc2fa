"""The run's figures: what the pages did, counted per page, summed across pytest-xdist
workers, printed at the end and, with `--pages-report PATH`, written as JSON."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

#: The counts, in the order the summary prints them.
COUNTS = (
    "python blocks passed",
    "outputs verified",
    "prose numbers verified",
    "exchanges verified in process",
    "exchanges verified over a socket",
    "conversations verified over a socket",
    "pages",
    "loop seconds",
)


@dataclass
class Figures:
    """Counts for the whole run and for each page (keyed `docs/page.md`), and every skip."""

    totals: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0.0))
    pages: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def count(self, page: str, name: str, value: float = 1) -> None:
        self.totals[name] = self.totals.get(name, 0.0) + value
        self.count_on_page_only(page, name, value)

    @contextmanager
    def failures_on(self, page: str) -> Iterator[None]:
        """Count `checks failed` on `page` if the body raises (a skip is no failure): the page
        was not verified, and the report (its stamp, in the site) says so."""
        try:
            yield
        except pytest.skip.Exception:
            raise
        except BaseException:
            self.count_on_page_only(page, "checks failed", 1)
            raise

    def skip(self, page: str, line: int, reason: str) -> None:
        self.skipped.append({"page": page, "line": line, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for a worker's report to the main process and for the JSON report."""
        return {"totals": self.totals, "pages": self.pages, "skipped": self.skipped}

    def add(self, other: dict[str, Any]) -> None:
        """Add what another process (a pytest-xdist worker) counted."""
        for name, value in other["totals"].items():
            self.totals[name] = self.totals.get(name, 0.0) + value
        for page, counts in other["pages"].items():
            for name, value in counts.items():
                self.count_on_page_only(page, name, value)
        self.skipped.extend(other["skipped"])

    def count_on_page_only(self, page: str, name: str, value: float) -> None:
        on_page = self.pages.setdefault(page, {})
        on_page[name] = on_page.get(name, 0.0) + value

    def summary(self) -> list[str]:
        """The lines the terminal summary prints."""
        figures = ", ".join(f"{value:g} {name}" for name, value in self.totals.items())
        lines = [f"docs: {figures}, {len(self.skipped)} skipped"]
        lines += [f"  skipped {s['page']}:{s['line']}: {s['reason']}" for s in self.skipped]
        return lines


FIGURES = pytest.StashKey[Figures]()


def of(config: pytest.Config) -> Figures:
    """This process's figures, made on first use."""
    if FIGURES not in config.stash:
        config.stash[FIGURES] = Figures()
    return config.stash[FIGURES]


def versions(distributions: list[str]) -> dict[str, str]:
    """The installed version of each named distribution ("not installed" if absent)."""
    found = {"python": platform.python_version()}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def commit(root: Path) -> str:
    """The commit checked out at `root`, or "unknown" outside a git repository."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


#: What a digest of the sources covers: the pages, the snippets and the SQL they run.
SOURCES = (".md", ".py", ".sql")


def sources_digest(folders: Iterable[Path]) -> str:
    """One digest of every page and snippet in `folders` (each file's path within its folder,
    and its bytes): what a run verified, for a site build to compare with what it builds."""
    digest = hashlib.sha256()
    for folder in folders:
        files = (p for p in folder.rglob("*") if p.suffix in SOURCES and p.is_file())
        for path in sorted(f for f in files if "__pycache__" not in f.parts):
            digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_report(
    path: Path,
    figures: Figures,
    distributions: list[str],
    exitstatus: int,
    seconds: float,
    root: Path,
    sources: str,
) -> None:
    """The run's figures as JSON: totals, each page's counts (with `checks failed` on a page
    where any did), skips with their reasons, the versions of the libraries under test, the
    commit at `root`, the digest of the `sources` it verified, when the run ended, how, and
    how long it took."""
    report = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(root),
        "sources": sources,
        "exit status": exitstatus,
        "seconds": round(seconds, 2),
        "versions": versions(distributions),
        **figures.as_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
