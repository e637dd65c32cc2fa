"""`make mutate`: break the guide on purpose, one fault at a time, and check that the
verification notices every one.

Each mutation changes one snippet, page or setting in a copy of the repository, then runs the
tests that cover it. A mutation is caught when those tests fail; the run prints a table and
`caught/total`, and fails unless every mutation was caught. Before any of it, the same tests
run on the unchanged copy and must pass, so a failure means the mutation, not the set-up.
The repository itself is never touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # the file it changes, relative to the repository
    old: str  # text found exactly once in that file
    new: str
    tests: tuple[str, ...]  # what `make test` runs that covers it


# The real-server slice's tests, named one by one: the whole file takes a while.
REAL_SERVER = "tests/test_real_server.py"
EVEN = "_even_when_the_commit_fails"
NOTHING = "_with_nothing_of_the_sql_sent"
TWICE = "_no_more_than_twice_the_cap"
ECHOES = "_that_echoes_nothing_it_cannot_encode"
BEFORE = "_is_refused_before_it_is_read"
PAGE = "_never_as_a_page"

MUTATIONS = [
    Mutation(
        "a returned value",
        "snippets/async_endpoint.py",
        '"This is an async response!"',
        '"This is an async reply!"',
        ("docs/async_endpoint.md",),
    ),
    Mutation(
        "a status code: a timeout answered 502, not 504",
        "snippets/upstream_errors.py",
        'raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "The upstream timed out.")',
        'raise HTTPException(status.HTTP_502_BAD_GATEWAY, "The upstream timed out.")',
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "a sleep duration",
        "snippets/parallel_tasks.py",
        "await asyncio.sleep(3)",
        "await asyncio.sleep(4)",
        ("docs/parallel_tasks.md",),
    ),
    Mutation(
        "a deadline",
        "snippets/timeouts.py",
        "DEADLINE = 2.0",
        "DEADLINE = 3.0",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "a concurrency limit",
        "snippets/fan_out.py",
        "IN_FLIGHT = 5",
        "IN_FLIGHT = 6",
        ("docs/fan_out.md",),
    ),
    Mutation(
        "a shown response",
        "docs/users.md",
        '{"id": 1, "name": "Leanne Graham", "username": "Bret", "email": "Sincere@april.biz"}\n```',
        '{"id": 1, "name": "Leanne Graham", "username": "Bret", "email": "leanne@april.biz"}\n```',
        ("docs/users.md",),
    ),
    Mutation(
        "a shown status line",
        "docs/upstream_errors.md",
        "HTTP/1.1 502 Bad Gateway\ncontent-type: application/json\n\n"
        '{"detail": "The upstream answered 404."}',
        "HTTP/1.1 503 Service Unavailable\ncontent-type: application/json\n\n"
        '{"detail": "The upstream answered 404."}',
        ("docs/upstream_errors.md",),
    ),
    Mutation(
        "a removed include",
        "docs/fetch_data.md",
        '```python title="snippets/fetch_data.py"\n--8<-- "fetch_data.py"\n```\n',
        "",
        ("docs/fetch_data.md", "tests/test_guards.py"),
    ),
    Mutation(
        "an include of a section that does not exist",
        "docs/users.md",
        '--8<-- "users_db.py:unavailable"',
        '--8<-- "users_db.py:unavailble"',
        ("docs/users.md", "tests/test_guards.py"),
    ),
    Mutation(
        "a skipped block without a reason",
        "docs/async_endpoint.md",
        '<!-- skip: next "serves until you stop it with Ctrl+C" -->',
        "<!-- skip: next -->",
        ("docs/async_endpoint.md",),
    ),
    Mutation(
        "a Python block the runner would not see",
        "docs/parallel_tasks.md",
        "```python\nfrom parallel_tasks import task_1, task_2\n",
        "```py\nfrom parallel_tasks import task_1, task_2\n",
        ("docs/parallel_tasks.md", "tests/test_guards.py"),
    ),
    Mutation(
        "a lifespan forgotten",
        "snippets/fetch_data.py",
        "app = FastAPI(lifespan=lifespan)",
        "app = FastAPI()",
        ("docs/fetch_data.md",),
    ),
    Mutation(
        "the upstream's words passed on",
        "snippets/upstream_errors.py",
        'detail = f"The upstream answered {response.status_code}."',
        'detail = f"The upstream answered {response.status_code}: {await response.aread()!r}."',
        ("tests/test_faults.py",),
    ),
    Mutation(
        "no cap on the body",
        "snippets/upstream_errors.py",
        "MAX_BODY = 1_048_576",
        "MAX_BODY = 8 * 1_048_576",
        ("docs/upstream_errors.md", "tests/test_faults.py"),
    ),
    Mutation(
        "no 503 for an unavailable database",
        "snippets/users_db.py",
        "@app.exception_handler(sqlite3.OperationalError)\n",
        "",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "ids too large for SQLite let through",
        "snippets/users_db.py",
        "Path(gt=0, le=2**63 - 1)",
        "Path(gt=0)",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "a claim in a table the code does not keep",
        "docs/upstream_errors.md",
        "| does not connect or answer in time | 504 Gateway Timeout |",
        "| does not connect or answer in time | 503 Service Unavailable |",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "a broken link",
        "docs/index.md",
        "[Async endpoints](async_endpoint.md)**",
        "[Async endpoints](async_endpoints.md)**",
        ("tests/test_site.py",),
    ),
    Mutation(
        "a commit after the response is sent",
        "snippets/dependencies.py",
        'Depends(transaction, scope="function")',
        "Depends(transaction)",
        ("docs/dependencies.md", f"{REAL_SERVER}::test_a_rename_answered_200_is_stored{EVEN}"),
    ),
    Mutation(
        "an upload read whole before its size is checked",
        "snippets/files.py",
        "app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY)\n",
        "",
        ("docs/files.md", f"{REAL_SERVER}::test_an_oversized_upload_is_refused_before_it_is_read"),
    ),
    Mutation(
        "one partial file shared by uploads of one name",
        "snippets/files.py",
        'partial = folder() / f".{name}.{uuid.uuid4().hex}"',
        'partial = folder() / f".{name}.partial"',
        (
            "docs/files.md",
            f"{REAL_SERVER}::test_uploads_of_one_name_at_once_never_mix_and_never_fail",
        ),
    ),
    Mutation(
        "a bug in SQL passed off as an outage",
        "snippets/users_db.py",
        "    if not is_an_outage(error):\n        raise error\n",
        "",
        ("docs/users.md", f"{REAL_SERVER}::test_a_bug_in_sql_or_schema_is_a_500_logged{NOTHING}"),
    ),
    Mutation(
        "an upstream body counted after httpx unzipped it",
        "snippets/upstream_errors.py",
        "async for chunk in response.aiter_raw():",
        "async for chunk in response.aiter_bytes():",
        ("docs/upstream_errors.md", f"{REAL_SERVER}::test_a_compressed_bomb_costs{TWICE}"),
    ),
    Mutation(
        "input that is not text echoed as it is",
        "snippets/client_input.py",
        "errors = printable(jsonable_encoder(error.errors(), custom_encoder=as_text))",
        "errors = jsonable_encoder(error.errors())",
        ("docs/client_input.md", f"{REAL_SERVER}::test_invalid_text_in_json_is_a_422{ECHOES}"),
    ),
    Mutation(
        "a JSON body held whole, whatever its size",
        "snippets/background.py",
        "app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_JSON_BODY)",
        "",
        ("docs/client_input.md", f"{REAL_SERVER}::test_a_json_body_over_the_limit{BEFORE}"),
    ),
    Mutation(
        "a status an endpoint answers, left out of its schema",
        "snippets/external_api.py",
        '@app.get("/external-api", responses=UPSTREAM_FAILED)',
        '@app.get("/external-api")',
        ("tests/test_faults.py",),
    ),
    Mutation(
        "a streaming claim proven only in-process",
        "docs/streaming.md",
        "async with local_server(app) as url, httpx.AsyncClient(base_url=url) as client:\n    seen",
        "async with app_client(app) as client:\n    seen",
        ("docs/streaming.md",),
    ),
    Mutation(
        "work carried on for a client that has gone",
        "snippets/timeouts_disconnect.py",
        "watcher = group.create_task(disconnect(request))",
        "watcher = group.create_task(asyncio.sleep(0))",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "the work's own 404 turned into a 500 by the task group",
        "snippets/timeouts_disconnect.py",
        "    except* Exception as failed:  # the work's own error, a 404 say: "
        "raised as it was\n        raise failed.exceptions[0] from None\n",
        "",
        ("docs/timeouts.md",),
    ),
    Mutation(
        "an abandoned upload logged as the server's error",
        "snippets/streaming.py",
        "@app.exception_handler(ClientDisconnect)\n",
        "",
        (f"{REAL_SERVER}::test_a_body_sent_slowly_and_abandoned_leaves_nothing_behind",),
    ),
    Mutation(
        "an uploaded page served as a page",
        "snippets/files.py",
        "return FileResponse(path, media_type=BYTES, filename=name, headers=nosniff)",
        "return FileResponse(path)",
        ("docs/files.md", f"{REAL_SERVER}::test_an_uploaded_file_is_served_as_a_download{PAGE}"),
    ),
    Mutation(
        "invalid text in a JSON key echoed as it is",
        "snippets/client_input.py",
        "return {printable(key): printable(item) for key, item in value.items()}",
        "return {key: printable(item) for key, item in value.items()}",
        (f"{REAL_SERVER}::test_invalid_text_in_json_is_a_422{ECHOES}",),
    ),
    Mutation(
        "gzip cut short, or followed by more, accepted",
        "snippets/upstream_errors.py",
        "            if gunzip and (not gunzip.eof or gunzip.unused_data):",
        "            if False:",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "exchanges checked in-process only",
        "docs_harness.py",
        "        OVER_A_SOCKET: page.server_runner.run("
        "send_over_a_socket(app, exchange.request)),\n",
        "",
        ("tests/test_harness.py",),
    ),
    Mutation(
        "an app that raises after its response, passed",
        "docs_harness.py",
        'may_raise = STATUS_LINE.fullmatch(exchange.response.first_line)["status"] == "500"',
        "may_raise = True",
        ("tests/test_harness.py",),
    ),
]


def copy_of_repository(into: Path) -> Path:
    """The tracked files, as they are in the working tree; nothing else (no .venv, no site)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def pytest(copy: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    # The set-up's commands first on PATH, as `make` runs them (the site tests call mkdocs).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PATH": path}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def first_failure(output: str) -> str:
    """The first test pytest reports failed or in error, from its short summary."""
    # One space, then the test: a captured log line ("ERROR    uvicorn.error:...") has several.
    match = re.search(r"^(?:FAILED|ERROR) (\S.*?)(?: - .*)?$", output, re.MULTILINE)
    return match[1] if match else "?"


def main(only: str = "") -> int:
    """Every mutation, or those whose name or file contains `only` (`python mutations.py
    files.py` tries one snippet's mutations while writing them)."""
    chosen = [m for m in MUTATIONS if only in m.name or only in m.path]
    if not chosen:
        print(f"no mutation's name or file contains {only!r}")
        return 1
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        baseline = copy_of_repository(Path(scratch) / "baseline")
        every_test = tuple(sorted({test for mutation in chosen for test in mutation.tests}))
        unchanged = pytest(baseline, every_test)
        if unchanged.returncode != 0:
            print(unchanged.stdout + unchanged.stderr)
            print("the unchanged copy fails: fix that before mutating it")
            return 1

        rows, caught = [], 0
        for number, mutation in enumerate(chosen, 1):
            copy = Path(scratch) / f"mutant-{number}"
            shutil.copytree(baseline, copy)
            target = copy / mutation.path
            text = target.read_text(encoding="utf-8")
            if text.count(mutation.old) != 1:
                print(
                    f"mutation {mutation.name!r} no longer applies: its text is not in "
                    f"{mutation.path} exactly once"
                )
                return 1
            target.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
            started = time.perf_counter()
            run = pytest(copy, mutation.tests)
            seconds = time.perf_counter() - started
            verdict = "caught" if run.returncode in (1, 2) else f"SURVIVED (exit {run.returncode})"
            caught += run.returncode in (1, 2)
            failure = first_failure(run.stdout) if run.returncode else "-"
            rows.append((mutation.name, mutation.path, verdict, failure, f"{seconds:.1f}"))
            shutil.rmtree(copy)

    print("| mutation | file | verdict | first test to fail | s |")
    print("| --- | --- | --- | --- | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\ncaught/total: {caught}/{len(chosen)}")
    return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
