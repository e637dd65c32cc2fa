"""`make bench` keeps working, and the Benchmarks page shows exactly what it measured.

A tiny run checks the machinery (servers start and stop, every endpoint answers, every measure
is taken); it asserts no times, which belong to the published figures, not to a test."""

import json
from pathlib import Path

from benchmarks import KINDS, RESULTS, chart, corpus_table, run, table
from docs_harness import ROOT

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


def test_the_page_shows_the_published_results() -> None:
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert table(PUBLISHED) in page
    assert corpus_table(PUBLISHED) in page


def test_the_chart_is_drawn_from_the_published_results(tmp_path: Path) -> None:
    chart(PUBLISHED, tmp_path / "chart.svg")
    assert (tmp_path / "chart.svg").read_bytes() == (RESULTS / "results.svg").read_bytes()
