"""`make bench` keeps working, and the Benchmarks page shows exactly what it measured.

A tiny run checks the machinery (servers start and stop, every endpoint answers, every measure
is taken); it asserts no times, which belong to the published figures, not to a test."""

import json
import re
from pathlib import Path

import pytest

from benchmarks import KINDS, RESULTS, SCHEMES, chart, chart_path, corpus_table, run, table
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


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_chart_is_drawn_from_the_published_results(tmp_path: Path, scheme: str) -> None:
    """`python benchmarks.py --charts-only` redraws what is committed, light and dark."""
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
