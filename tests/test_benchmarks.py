"""`make bench` keeps working, and the Benchmarks page shows exactly what it measured.

A tiny run checks the machinery (servers start and stop, every endpoint answers, every measure
is taken); it asserts no times, which belong to the published figures, not to a test."""

import json
import re
from itertools import compress
from pathlib import Path

import pytest

from benchmarks import (
    KINDS,
    RESULTS,
    SCHEMES,
    chart,
    chart_path,
    corpus_table,
    free_port,
    merged,
    proc_status,
    process_tree,
    run,
    server,
    table,
)
from tests.support.project import ROOT

PUBLISHED = json.loads((RESULTS / "results.json").read_text(encoding="utf-8"))


def test_a_tiny_run_measures_every_endpoint() -> None:
    report = run([20], sleep=0.01, limit_seconds=30)
    assert [(result["kind"], result["ok"]) for result in report["results"]] == [
        (kind, 20) for kind in KINDS
    ]
    for result in report["results"]:
        assert result["server_peak_threads"] >= 1
        assert result["server_peak_rss_mb"] > 0
        assert result["server_cpu_seconds"] >= 0
    assert report["machine"]["cores"] >= 1
    # Two workers are measured in every process: the supervisor's one thread, and each
    # worker's event loop and health-check thread, at the least.
    workers = next(r for r in report["results"] if r["kind"] == "async sleep, --workers 2")
    assert workers["server_peak_threads"] >= 1 + 2 * 2


def test_the_worker_kinds_run_one_process_and_a_supervisor_of_two() -> None:
    """What the worker kinds start, and what their figures add up: `--workers 1` is one
    process, no supervisor; `--workers 2` a supervisor and its two workers, spawned."""
    with server({}, free_port(), KINDS["async sleep, --workers 1"].options) as pid:
        assert process_tree(pid) == [pid]
    with server({}, free_port(), KINDS["async sleep, --workers 2"].options) as pid:
        tree = process_tree(pid)
        commands = [Path(f"/proc/{each}/cmdline").read_bytes() for each in tree]
        threads = [proc_status(each, "Threads") for each in tree]
    assert b"uvicorn" in commands[0]
    workers = [b"spawn_main" in command for command in commands]
    tracker = [b"resource_tracker" in command for command in commands]
    assert (sum(workers), sum(tracker), len(tree)) == (2, 1, 4)
    # Threads: the supervisor's one; each worker's loop and health check; the tracker's one.
    assert [threads[0], *compress(threads, workers), *compress(threads, tracker)] == [1, 2, 2, 1]


def test_a_subset_of_kinds_is_merged_into_the_published_results() -> None:
    """`--kinds` replaces those rows, keeps the others in KINDS' order, and refuses figures
    measured otherwise."""
    row = {"kind": "async sleep, --workers 2", "requests": 100, "ok": 1}
    measured = {**PUBLISHED, "results": [row], "skipped": []}
    report = merged(PUBLISHED, measured)
    kept = [r for r in PUBLISHED["results"] if r["kind"] != row["kind"]]
    assert [r for r in report["results"] if r["kind"] != row["kind"]] == kept
    assert row in report["results"]
    assert [r["kind"] for r in report["results"]] == sorted(
        (r["kind"] for r in report["results"]), key=list(KINDS).index
    )
    assert report["corpus"] == PUBLISHED["corpus"]
    assert row["kind"] in report["measured_apart"]
    with pytest.raises(SystemExit):
        merged(PUBLISHED, {**measured, "sleep_seconds": 0.1})


def test_the_page_shows_the_published_results() -> None:
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert table(PUBLISHED) in page
    assert corpus_table(PUBLISHED) in page


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_chart_is_drawn_from_the_published_results(tmp_path: Path, scheme: str) -> None:
    """`python scripts/benchmarks.py --charts-only` redraws what is committed, light and dark."""
    chart(PUBLISHED, tmp_path / "chart.svg", scheme)
    assert (tmp_path / "chart.svg").read_bytes() == chart_path(scheme).read_bytes()


def test_the_page_shows_each_chart_at_its_own_size() -> None:
    """One image for each colour scheme, each declaring the width and height its SVG has (in
    CSS pixels, 96 to the inch, so 4 to every 3 points), so the page keeps its place while it
    loads; and alt text that states what the chart shows."""
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    shown = re.findall(
        r"!\[(?P<alt>[^\]]+)\]\(benchmarks/(?P<file>[\w-]+\.svg)#only-(?P<scheme>light|dark)\)"
        r'\{ width="(?P<width>\d+)" height="(?P<height>\d+)" \}',
        page,
    )
    assert sorted(scheme for *_, scheme, _, _ in shown) == sorted(SCHEMES)
    for alt, file, scheme, width, height in shown:
        assert file == chart_path(scheme).name
        svg = chart_path(scheme).read_text(encoding="utf-8")
        size = re.search(r'<svg [^>]*width="([\d.]+)pt" height="([\d.]+)pt"', svg)
        assert size is not None
        assert (int(width), int(height)) == tuple(round(float(pt) * 4 / 3) for pt in size.groups())
        assert len(alt) > 100  # a finding, not a label such as "chart"
