"""`make bench`: the guide's endpoints under a real server, measured.

Each run starts uvicorn for snippets/benchmark_app.py on a free port of 127.0.0.1, sends N
requests at once from a raw asyncio HTTP client (light enough not to be the bottleneck, unlike
httpx), samples the server's threads and memory from /proc (every process of it, when it runs
several workers), and stops the server by its process id. Every run is capped in requests and in
seconds; traffic goes to loopback only.

`--kinds NAME [NAME ...]` measures only those endpoints and merges their rows into the published
results, keeping the other rows and the corpus figures as they are; without it every endpoint is
measured and the corpus too (`make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]  # scripts/ sits in the repository root
RESULTS = ROOT / "docs" / "benchmarks"
TICK = os.sysconf("SC_CLK_TCK")


class Kind(NamedTuple):
    """An endpoint, and the server it runs under: environment settings for the app, and
    uvicorn's command-line options (without `--workers`, uvicorn's default: one process)."""

    path: str
    settings: dict[str, str]
    options: tuple[str, ...] = ()

    @property
    def workers(self) -> int:
        """How many processes serve requests: `--workers N` runs N under a supervisor."""
        if "--workers" in self.options:
            return int(self.options[self.options.index("--workers") + 1])
        return 1


#: What each endpoint does while a request waits, and the server settings it runs with.
KINDS: dict[str, Kind] = {
    "async sleep": Kind("/async-sleep", {}),
    # The same endpoint and server, measured side by side in a run of their own
    "async sleep, --workers 1": Kind("/async-sleep", {}, ("--workers", "1")),
    "async sleep, --workers 2": Kind("/async-sleep", {}, ("--workers", "2")),
    "def, time.sleep (thread pool of 40)": Kind("/def-sleep", {}),
    "def, time.sleep (thread pool of 1000)": Kind("/def-sleep", {"BENCH_THREADS": "1000"}),
    "time.sleep in async def (blocked loop)": Kind("/blocking-sleep", {}),
    "upstream call, client per request": Kind("/upstream-per-request", {}),
    "upstream call, shared client": Kind("/upstream-shared", {}),
    "upstream call, shared client, queued in a semaphore": Kind("/upstream-shared-queued", {}),
}


@dataclass
class Result:
    kind: str
    requests: int
    ok: int
    wall_seconds: float
    p50_seconds: float
    p99_seconds: float
    server_cpu_seconds: float
    server_peak_rss_mb: float
    server_peak_threads: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def process_tree(pid: int) -> list[int]:
    """The process and every descendant, found by their parent ids in /proc: under `--workers`,
    uvicorn's supervisor, its workers, and the resource tracker multiprocessing starts."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [pid]
    for each in tree:  # grows as it goes: children, then theirs
        tree += sorted(child for child, parent in parents.items() if parent == each)
    return tree


def startups(log: Any) -> int:
    """How many of the server's processes have finished starting, from its log so far; read with
    pread, which leaves alone the file offset the server's processes share for their writes."""
    size = os.fstat(log.fileno()).st_size
    return os.pread(log.fileno(), size, 0).count(b"Application startup complete.")


@contextmanager
def server(
    env: dict[str, str], port: int, options: tuple[str, ...] = (), limit_seconds: float = 30
) -> Iterator[int]:
    """uvicorn serving benchmark_app on 127.0.0.1:`port`, with extra `options`; yields its
    process id once every one of its workers has started (with `--workers`, the supervisor
    listens on the port before its workers can answer)."""
    workers = Kind("", {}, options).workers
    command = [sys.executable, "-m", "uvicorn", "benchmark_app:app", "--app-dir", "snippets"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--backlog", "8192"]
    # Start-up messages, to know when every worker has started; no line per request.
    command += ["--log-level", "info", "--no-access-log", *options]
    with tempfile.TemporaryFile() as log:  # the server's own output: errors under load
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + limit_seconds
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    if startups(log) < workers:
                        raise OSError("not every worker has started")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        output = log.read().decode(errors="replace")[-2000:]
                        raise RuntimeError(f"uvicorn did not start on {port}:\n{output}") from None
                    time.sleep(0.05)
            yield process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def one_request(port: int, path: str) -> tuple[int, float]:
    """A bare HTTP/1.1 GET with Connection: close; the status and the latency."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    response = await reader.read()
    writer.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0
    return status, time.perf_counter() - started


async def load(
    port: int, path: str, requests: int, limit_seconds: float
) -> list[tuple[int, float]]:
    """Send `requests` at once; each one's status and latency, (0, limit) for those that failed
    or were still unanswered when the limit came."""
    calls = [asyncio.create_task(one_request(port, path)) for _ in range(requests)]
    done, pending = await asyncio.wait(calls, timeout=limit_seconds)
    for call in pending:
        call.cancel()
    return [call.result() if not call.exception() else (0, limit_seconds) for call in done] + [
        (0, limit_seconds) for _ in pending
    ]


def threads(tree: list[int]) -> int:
    return sum(proc_status(pid, "Threads") for pid in tree)


def measure(kind: str, requests: int, sleep: float, limit_seconds: float) -> Result:
    """One run. The server's figures cover every process it runs: CPU seconds and threads are
    added up over them (threads at the same moment), and so are their memory peaks, which is
    an upper bound on the peak of the sum."""
    path, settings, options = KINDS[kind]
    upstream_port, port = free_port(), free_port()
    env = {"BENCH_SLEEP": str(sleep), "BENCH_UPSTREAM": f"http://127.0.0.1:{upstream_port}"}
    with server(env, upstream_port), server({**env, **settings}, port, options) as pid:
        tree = process_tree(pid)
        peak_threads = threads(tree)
        sampling = True

        def sample() -> None:
            nonlocal peak_threads
            while sampling:
                peak_threads = max(peak_threads, threads(tree))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        cpu_before = sum(cpu_seconds(each) for each in tree)
        sampler.start()
        started = time.perf_counter()
        outcomes = asyncio.run(load(port, path, requests, limit_seconds))
        wall = time.perf_counter() - started
        sampling = False
        sampler.join()
        if process_tree(pid) != tree:
            raise RuntimeError(f"{kind}: the server's processes changed during the run")
        cpu = sum(cpu_seconds(each) for each in tree) - cpu_before
        rss_mb = sum(proc_status(each, "VmHWM") for each in tree) / 1024
    latencies = sorted(latency for _, latency in outcomes)
    return Result(
        kind=kind,
        requests=requests,
        ok=sum(status == 200 for status, _ in outcomes),
        wall_seconds=round(wall, 3),
        p50_seconds=round(statistics.median(latencies), 3),
        p99_seconds=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3),
        server_cpu_seconds=round(cpu, 2),
        server_peak_rss_mb=round(rss_mb, 1),
        server_peak_threads=peak_threads,
    )


def expected_seconds(kind: str, requests: int, sleep: float) -> float:
    """A lower bound on a run's wall time, to skip runs that could not get far within the cap."""
    path, settings, _ = KINDS[kind]
    workers = KINDS[kind].workers
    if path == "/blocking-sleep":  # one request at a time in each worker
        return requests * sleep / workers
    if path == "/def-sleep":  # in waves, as many at a time as the pools have threads
        return -(-requests // (int(settings.get("BENCH_THREADS", "40")) * workers)) * sleep
    return sleep


def machine() -> dict[str, object]:
    libraries = ["fastapi", "starlette", "uvicorn", "httpx", "anyio"]
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **{name: version(name) for name in libraries},
    }


def run(
    sizes: list[int], sleep: float, limit_seconds: float, kinds: list[str] | None = None
) -> dict[str, Any]:
    """Every kind (or those of `kinds`) at every size."""
    results, skipped = [], []
    for kind in kinds or KINDS:
        for requests in sizes:
            if expected_seconds(kind, requests, sleep) > 2 * limit_seconds:  # not even halfway
                skipped.append({"kind": kind, "requests": requests})
                continue
            result = measure(kind, requests, sleep, limit_seconds)
            print(f"{kind:42} {requests:5} {result.wall_seconds:8.2f} s", flush=True)
            results.append(asdict(result))
    return {
        "sleep_seconds": sleep,
        "limit_seconds": limit_seconds,
        "machine": machine(),
        "results": results,
        "skipped": skipped,
    }


def corpus() -> dict[str, object]:
    """What verifying the guide costs: `make test` timed, with the figures of its JSON report
    (pytest-pages' `--pages-report`)."""
    report_path = Path(tempfile.mkdtemp()) / "pages.json"
    addopts = f"{os.environ.get('PYTEST_ADDOPTS', '')} --pages-report={report_path}".strip()
    environment = {**os.environ, "PYTEST_ADDOPTS": addopts}
    started = time.perf_counter()
    subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, env=environment, check=True)
    make_test = time.perf_counter() - started
    report = json.loads(report_path.read_text(encoding="utf-8"))
    pytest_seconds = report["seconds"]
    figures = report["totals"]
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            str(Path(tempfile.mkdtemp()) / "site"),
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return {
        "make_test_seconds": round(make_test, 1),
        "pytest_seconds": round(pytest_seconds, 1),
        "mkdocs_build_seconds": round(time.perf_counter() - started, 2),
        **figures,
    }


#: The endpoints' names as the page's tables and chart show them, short enough for a phone.
SHORT = {
    "async sleep": "async sleep",
    "async sleep, --workers 1": "async, 1 worker",
    "async sleep, --workers 2": "async, 2 workers",
    "def, time.sleep (thread pool of 40)": "def, 40 threads",
    "def, time.sleep (thread pool of 1000)": "def, 1000 threads",
    "time.sleep in async def (blocked loop)": "blocked loop",
    "upstream call, client per request": "client per request",
    "upstream call, shared client": "shared client",
    "upstream call, shared client, queued in a semaphore": "shared, semaphore",
}


def table(report: dict[str, Any]) -> str:
    """The results as the Benchmarks page shows them: times, then costs, each narrow enough
    for the page."""
    times = [
        "| endpoint | requests | ok | wall s | p50 s | p99 s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    costs = [
        "| endpoint | requests | server CPU s | peak RSS MB | peak threads |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report["results"]:
        name, requests = SHORT[r["kind"]], f"{r['requests']:,}"
        times.append(
            f"| {name} | {requests} | {r['ok']:,} | {r['wall_seconds']:.2f} "
            f"| {r['p50_seconds']:.2f} | {r['p99_seconds']:.2f} |"
        )
        costs.append(
            f"| {name} | {requests} | {r['server_cpu_seconds']:.2f} "
            f"| {r['server_peak_rss_mb']:.0f} | {r['server_peak_threads']} |"
        )
    return "\n".join([*times, "", "Each run's cost to the server:", "", *costs])


def corpus_table(report: dict[str, Any]) -> str:
    c = report["corpus"]
    exchanges = [name for name in c if name.startswith("exchanges verified")]  # each way
    return "\n".join(
        [
            "| measure | value |",
            "| --- | ---: |",
            f"| `make test`, wall | {c['make_test_seconds']:.1f} s |",
            f"| pytest alone | {c['pytest_seconds']:.1f} s |",
            f"| pages | {c['pages']:.0f} |",
            f"| Python blocks executed | {c['python blocks passed']:.0f} |",
            *(f"| {name} | {c[name]:.0f} |" for name in exchanges),
            f"| loop time covered | {c['loop seconds']:,.0f} s |",
            f"| `mkdocs build --strict` | {c['mkdocs_build_seconds']:.2f} s |",
        ]
    )


#: Okabe and Ito's eight colours, less the yellow or the vermillion, leave no eighth for a
#: scheme: a mid grey, as light as neither black nor white, stands out on both backgrounds.
GREY = "#999999"
#: The chart's two variants, for Material's light and dark schemes: text, lines and bars.
SCHEMES: dict[str, dict[str, Any]] = {
    "light": {
        "ink": "#1f1f1f",
        "grid": "#c8c8c8",
        # Okabe and Ito's palette, told apart with colour blindness too
        "bars": ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", GREY],
    },
    "dark": {
        "ink": "#e6e6e6",
        "grid": "#4a4a4a",
        "bars": ["#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#0072b2", "#ffffff", GREY],
    },
}
#: Each kind's bar: a colour of the scheme's palette, by its index, and a hatch. The 1- and
#: 2-worker runs share a colour, the second dotted, so that they read as a pair; "//" is kept
#: for runs that were not all answered.
BARS: dict[str, tuple[int, str]] = {
    "async sleep": (0, ""),
    "async sleep, --workers 1": (7, ""),
    "async sleep, --workers 2": (7, ".."),
    "def, time.sleep (thread pool of 40)": (1, ""),
    "def, time.sleep (thread pool of 1000)": (2, ""),
    "time.sleep in async def (blocked loop)": (3, ""),
    "upstream call, client per request": (4, ""),
    "upstream call, shared client": (5, ""),
    "upstream call, shared client, queued in a semaphore": (6, ""),
}
#: The chart's size in inches; the page declares it in pixels, at 96 per inch.
CHART_INCHES = (5.0, 5.4)


def chart_path(scheme: str) -> Path:
    return RESULTS / ("results.svg" if scheme == "light" else f"results-{scheme}.svg")


def chart(report: dict[str, Any], path: Path, scheme: str = "light") -> None:
    """Wall time per endpoint and request count, as an SVG that is the same for the same data.

    Narrow, with large type and the legend in two columns under the plot, so that it stays
    legible on a phone; transparent, so that it sits on the page's own background."""
    import matplotlib

    matplotlib.use("svg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    colours = SCHEMES[scheme]
    ink = colours["ink"]
    sizes = sorted({r["requests"] for r in report["results"]})
    with pyplot.rc_context(
        {
            "svg.hashsalt": "async-fastapi-tested",
            "font.size": 13,
            "text.color": ink,
            "axes.labelcolor": ink,
            "axes.edgecolor": ink,
            "xtick.color": ink,
            "ytick.color": ink,
            "hatch.color": ink,
            "hatch.linewidth": 1.0,
        }
    ):
        figure, axes = pyplot.subplots(figsize=CHART_INCHES, layout="constrained")
        width = 0.8 / len(KINDS)
        handles = []
        for index, kind in enumerate(KINDS):
            colour, hatch = colours["bars"][BARS[kind][0]], BARS[kind][1]
            runs = [r for r in report["results"] if r["kind"] == kind]
            positions = [sizes.index(r["requests"]) + index * width for r in runs]
            bars = axes.bar(
                positions, [r["wall_seconds"] for r in runs], width, color=colour, label=kind
            )
            for bar, run in zip(bars, runs, strict=True):
                cut_off = run["ok"] < run["requests"]  # or failed: not a time to finish
                if hatch or cut_off:
                    bar.set_hatch(hatch + "//" * cut_off)
                    bar.set_edgecolor(ink)
            if hatch:
                handles.append(
                    Patch(facecolor=colour, edgecolor=ink, hatch=hatch, label=SHORT[kind])
                )
            else:
                handles.append(Patch(color=colour, label=SHORT[kind]))
        handles.append(Patch(facecolor="none", edgecolor=ink, hatch="//", label="not all answered"))
        axes.set_xticks([n + 0.4 - width / 2 for n in range(len(sizes))], [f"{n:,}" for n in sizes])
        axes.set_yscale("log")
        ticks = [0.2, 0.5, 1, 2, 5, 10, 20, 50]
        axes.set_yticks(ticks, [f"{tick:g}" for tick in ticks])
        axes.minorticks_off()
        axes.set_ylim(0.2, 50)
        axes.yaxis.grid(True, color=colours["grid"], linewidth=0.5)
        axes.set_axisbelow(True)
        axes.set_xlabel("requests sent at once")
        axes.set_ylabel(f"wall seconds, each waiting {report['sleep_seconds']} s")
        figure.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
        figure.savefig(path, format="svg", metadata={"Date": None}, transparent=True)
        pyplot.close(figure)


def charts(report: dict[str, Any]) -> None:
    """Both variants of the chart, light and dark, from the same data."""
    for scheme in SCHEMES:
        chart(report, chart_path(scheme), scheme)


def publish(report: dict[str, Any], page: Path = ROOT / "docs" / "benchmarks.md") -> None:
    """Write the results, the chart, and the tables into the Benchmarks page between markers."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    charts(report)
    text = page.read_text(encoding="utf-8")
    for name, content in (("results", table(report)), ("corpus", corpus_table(report))):
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        before, rest = text.split(start, 1)
        text = f"{before}{start}\n{content}\n{end}{rest.split(end, 1)[1]}"
    page.write_text(text, encoding="utf-8")


def merged(published: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """The published report with the measured kinds' rows replaced, in KINDS' order.

    Refused unless both were measured alike, with the same cores, Python and libraries; the
    platform string may differ (a kernel rebuilt), and the merged report records the newer."""

    def alike(report: dict[str, Any]) -> list[object]:
        machine = {key: value for key, value in report["machine"].items() if key != "platform"}
        return [report["sleep_seconds"], report["limit_seconds"], machine]

    if alike(published) != alike(measured):
        raise SystemExit(
            f"not merged, measured otherwise than the published results: {alike(measured)} "
            f"against {alike(published)}; measure every kind instead"
        )
    kinds = {r["kind"] for r in measured["results"] + measured["skipped"]}

    def rows(key: str) -> list[dict[str, Any]]:
        kept = [r for r in published[key] if r["kind"] not in kinds]
        return sorted(
            kept + measured[key], key=lambda r: (list(KINDS).index(r["kind"]), r["requests"])
        )

    apart = sorted({*published.get("measured_apart", []), *kinds}, key=list(KINDS).index)
    return {
        **published,
        "machine": measured["machine"],
        "results": rows("results"),
        "skipped": rows("skipped"),
        "measured_apart": apart,  # in later runs than the rest, so the page can say so
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--limit-seconds", type=float, default=30)
    parser.add_argument(
        "--corpus-only",
        action="store_true",
        help="measure only what verifying the guide costs; keep the published endpoint results",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=KINDS,
        metavar="KIND",
        help="measure only these endpoints (names as in KINDS) and merge their rows into the "
        "published results; the other rows and the corpus figures stay as they are",
    )
    parser.add_argument(
        "--charts-only",
        action="store_true",
        help="redraw both charts from the published results; measure nothing",
    )
    arguments = parser.parse_args()
    if arguments.charts_only:
        charts(json.loads((RESULTS / "results.json").read_text(encoding="utf-8")))
        return
    if arguments.kinds:  # `make test` and the corpus are not rerun for a few rows
        published = json.loads((RESULTS / "results.json").read_text(encoding="utf-8"))
        measured = run(
            arguments.requests, arguments.sleep, arguments.limit_seconds, arguments.kinds
        )
        publish(merged(published, measured))
        return
    # First the corpus: `make test` checks the data published so far, so it runs before the
    # new data replaces it; then everything is published together, consistent.
    figures = corpus()
    if arguments.corpus_only:
        report = json.loads((RESULTS / "results.json").read_text(encoding="utf-8"))
    else:
        report = run(arguments.requests, arguments.sleep, arguments.limit_seconds)
    publish({**report, "corpus": figures})


if __name__ == "__main__":
    main()
